// A user as an operator sees them: status (invisible shown as such, here only), devices, conversation count,
// blocks both ways, reports made and received, the ban in force and the ban history; and the actions ban,
// unban, erase (typed confirmation: the user's id) and export.

import { call, seg } from "../api.js";
import { conversationLink, h, panel, table, titleOf, userLink, when } from "../dom.js";
import { act, banLengthSelect, resultLine } from "./actions.js";

const EXPORT_POLL_MS = 1500;
const EXPORT_POLLS = 40;

function reportsView(testId, reports) {
  return h("div", {},
    h("p", {}, h("strong", { "data-testid": `${testId}-count` }, String(reports?.count ?? 0)), " in all; the newest:"),
    table(testId, [
      ["reported", (r) => h("a", { href: `#/reports/${encodeURIComponent(r.reportId)}` }, when(r.reportedAt))],
      ["sender", (r) => userLink(r.reportedUserId)],
      ["reporter", (r) => userLink(r.reporterId)],
      ["reason", (r) => r.reason ?? "-"],
      ["conversation", (r) => conversationLink(r.conversationId)],
    ], reports?.recent ?? [], "None."));
}

const banText = (ban) => (ban ? `banned ${ban.until ? `until ${when(ban.until)}` : "for good"} (since ${when(ban.bannedAt)}`
  + `${ban.reason ? `, ${ban.reason}` : ""}, by ${ban.by})` : "not banned");

function actionsView(user) {
  const result = resultLine();
  const button = (testId, label, action, danger = false) => {
    const node = h("button", { type: "button", "data-testid": testId, class: danger ? "danger" : undefined }, label);
    node.addEventListener("click", () => act(node, result, action));
    return node;
  };
  const length = banLengthSelect("user-ban-length");
  const reason = h("input", { maxlength: 500, placeholder: "reason (optional)", "data-testid": "user-ban-reason" });
  const confirmation = h("input", { placeholder: `type ${user.userId} to erase`, "data-testid": "erase-confirm",
    autocomplete: "off" });
  const erase = button("erase", "Erase everything", async () => {
    if (confirmation.value !== user.userId) throw new Error(`Type the user's id, ${user.userId}, to erase them.`);
    const job = await call("POST", `/v1/users/${seg(user.userId)}/erasure`);
    confirmation.value = "";
    erase.disabled = true;
    return `Erasure started (job ${job.jobId}, ${job.phase ?? job.status}).`;
  }, true);
  erase.disabled = true;
  confirmation.addEventListener("input", () => {
    erase.disabled = confirmation.value !== user.userId;
  });
  const link = h("p", { "data-testid": "export-link" });
  return panel("Actions",
    h("div", { class: "actions" }, "Ban for ", length, reason,
      button("user-ban", "Ban", async () => {
        const body = { userId: user.userId, ...(length.value ? { durationSeconds: Number(length.value) } : {}),
          ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) };
        const answer = await call("POST", "/v1/bans", { body });
        document.querySelector("[data-testid=user-ban]").textContent = banText(answer.ban);
        return `${banText(answer.ban)}. Closed ${answer.connectionsClosed} connections.`;
      }, true),
      button("unban", "Unban", async () => {
        const answer = await call("DELETE", `/v1/bans/${seg(user.userId)}`);
        document.querySelector("[data-testid=user-ban]").textContent = banText(null);
        return answer.unbanned ? `${user.userId} is no longer banned.` : `${user.userId} was not banned.`;
      })),
    h("div", { class: "actions" }, confirmation, erase),
    h("div", { class: "actions" },
      button("export", "Export", async () => {
        let job = await call("POST", `/v1/users/${seg(user.userId)}/export`);
        for (let poll = 0; job.status !== "done" && poll < EXPORT_POLLS; poll += 1) {
          await new Promise((resolve) => { setTimeout(resolve, EXPORT_POLL_MS); });
          job = await call("GET", `/v1/users/${seg(user.userId)}/export`);
        }
        if (job.status !== "done") return `The export is still running (${job.phase}); press Export again later.`;
        link.replaceChildren(h("a", { href: job.downloadUrl, rel: "noopener noreferrer", target: "_blank" },
          "Download the export"), ` (the link works until ${when(job.urlExpiresAt)})`);
        return "The export is ready.";
      })),
    link,
    result.node);
}

export async function userPage(userId) {
  const user = await call("GET", `/v1/users/${seg(userId)}/overview`);
  return h("div", { "data-testid": "user-page" },
    titleOf(`User ${user.userId}`),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, h("span", { class: `status ${user.status}`, "data-testid": "user-status" },
        user.status), user.status === "invisible" ? " (connected, shown offline to everyone but operators)" : ""),
      h("dt", {}, "Last seen"), h("dd", {}, when(user.lastSeen)),
      h("dt", {}, "First seen"), h("dd", {}, when(user.firstSeen)),
      h("dt", {}, "Conversations"), h("dd", { "data-testid": "user-conversations" }, String(user.conversationCount)),
      h("dt", {}, "Ban"), h("dd", { "data-testid": "user-ban" }, banText(user.ban))),
    panel("Devices", table("devices", [
      ["platform", (d) => d.platform], ["registered", (d) => when(d.registeredAt)],
    ], user.devices ?? [], "No devices registered.")),
    panel("Blocks",
      h("p", {}, "Blocks: ", (user.blocking ?? []).length ? (user.blocking).flatMap((u) => [userLink(u), " "]) : "nobody"),
      h("p", {}, "Blocked by: ", (user.blockedBy ?? []).length ? (user.blockedBy).flatMap((u) => [userLink(u), " "])
        : "nobody")),
    panel("Reports received", reportsView("reports-received", user.reportsReceived)),
    panel("Reports made", reportsView("reports-made", user.reportsMade)),
    panel("Ban history", table("ban-history", [
      ["when", (e) => when(e.at)], ["what", (e) => e.action], ["by", (e) => e.by],
      ["until", (e) => (e.action === "banned" ? (e.until ? when(e.until) : "for good") : "")],
      ["reason", (e) => e.reason ?? ""],
    ], user.banHistory ?? [], "No bans or warnings.")),
    actionsView(user));
}
