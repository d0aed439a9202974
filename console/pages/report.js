// One report: the reported message with its context, the reporter and the sender (with how many reports name
// the sender), the reason, and the actions: dismiss, delete the message, warn the sender, ban the sender for a
// while or for good. Each action is the server API's POST /v1/reports/resolve.

import { call, seg } from "../api.js";
import { conversationLink, h, panel, plural, titleOf, userLink, when } from "../dom.js";
import { act, banLengthSelect, resultLine } from "./actions.js";

function contextView(messages) {
  return h("ol", { class: "context", "data-testid": "context" }, messages.map((m) => h("li", {
    class: m.reported ? "message reported" : "message", "data-testid": m.reported ? "reported-message" : "context-message",
  },
  h("span", { class: "meta" }, `#${m.seq} ${when(m.sentAt)} `, userLink(m.senderId)),
  h("span", { class: "text" }, m.deleted ? h("em", {}, "(deleted)") : (m.text ?? h("em", {}, "(no text)"))))));
}

function actionsView(detail) {
  const report = detail.report;
  const result = resultLine();
  if (report.status !== "open") {
    return panel("Resolved",
      h("p", { "data-testid": "resolution" }, `${report.resolution} by ${report.resolvedBy} at ${when(report.resolvedAt)}`,
        report.note ? ` (${report.note})` : ""));
  }
  const resolve = (resolution, extra = {}) => call("POST", "/v1/reports/resolve", {
    body: { conversationId: report.conversationId, seq: report.seq, reporterId: report.reporterId, resolution, ...extra },
  });
  const note = h("input", { name: "note", maxlength: 500, placeholder: "note (optional; the warning's or ban's reason)",
    "data-testid": "resolve-note" });
  const noteValue = () => (note.value.trim() ? { note: note.value.trim() } : {});
  const length = banLengthSelect("ban-length");
  const alsoDelete = h("input", { type: "checkbox", "data-testid": "ban-delete-message" });
  const button = (testId, label, action, danger = false) => {
    const node = h("button", { type: "button", "data-testid": testId, class: danger ? "danger" : undefined }, label);
    node.addEventListener("click", () => act(node, result, action));
    return node;
  };
  const closeAll = (answer) => ` Closed ${answer.connectionsClosed ?? 0} of the sender's connections.`;
  return panel("Actions",
    h("div", { class: "actions" }, note),
    h("div", { class: "actions" },
      button("dismiss", "Dismiss", async () => {
        await resolve("dismissed", noteValue());
        return "Dismissed.";
      }),
      button("delete-message", "Delete the message", async () => {
        await resolve("message_deleted", noteValue());
        return "The message is deleted for everyone.";
      }, true),
      button("warn", "Warn the sender", async () => {
        await resolve("warned", noteValue());
        return `${report.reportedUserId} is warned (in their ban history).`;
      })),
    h("div", { class: "actions" }, "Ban the sender for ", length,
      h("label", { class: "check" }, alsoDelete, " and delete the message"),
      button("ban", "Ban", async () => {
        const seconds = length.value ? { banSeconds: Number(length.value) } : {};
        const answer = await resolve("banned", { ...noteValue(), ...seconds, deleteMessage: alsoDelete.checked });
        const span = length.value ? `for ${length.selectedOptions[0].textContent}` : "for good";
        return `${report.reportedUserId} is banned ${span}.${closeAll(answer)}`;
      }, true)),
    result.node);
}

export async function reportPage(reportId) {
  const detail = await call("GET", `/v1/reports/${seg(reportId)}`);
  const report = detail.report;
  return h("div", { "data-testid": "report-page" },
    titleOf("Report"),
    h("dl", { class: "facts" },
      h("dt", {}, "Reason"), h("dd", { "data-testid": "report-reason" }, report.reason ?? "-"),
      h("dt", {}, "Reported"), h("dd", {}, when(report.reportedAt)),
      h("dt", {}, "Sender"), h("dd", { "data-testid": "report-sender" }, userLink(report.reportedUserId),
        ` (${plural(detail.senderReportsReceived, "report")} received)`),
      h("dt", {}, "Reporter"), h("dd", { "data-testid": "report-reporter" }, userLink(report.reporterId),
        ` (${plural(detail.reporterReportsMade, "report")} made)`),
      h("dt", {}, "Conversation"), h("dd", {}, conversationLink(report.conversationId), ` message #${report.seq}`),
      h("dt", {}, "Status"), h("dd", { "data-testid": "report-status" }, report.status)),
    panel("The message and its context", contextView(detail.context ?? [])),
    actionsView(detail));
}
