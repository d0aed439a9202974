// A conversation as an operator sees it: members and roles, the message count and the recent activity. Message
// text is shown only for reported messages, unless the deployment turned on full access (the server decides,
// and records each read in the audit log).

import { call, seg } from "../api.js";
import { h, panel, table, titleOf, userLink, when } from "../dom.js";

export async function conversationPage(conversationId) {
  const c = await call("GET", `/v1/conversations/${seg(conversationId)}/overview`);
  return h("div", { "data-testid": "conversation-page" },
    titleOf(c.kind === "group" ? `Group ${c.name ?? c.conversationId}` : `Conversation ${c.conversationId}`),
    h("dl", { class: "facts" },
      h("dt", {}, "Kind"), h("dd", {}, c.kind),
      h("dt", {}, "Created"), h("dd", {}, when(c.createdAt), " by ", userLink(c.createdBy)),
      h("dt", {}, "Messages"), h("dd", { "data-testid": "message-count" }, String(c.messageCount)),
      h("dt", {}, "Text shown"), h("dd", { "data-testid": "text-access" }, c.fullAccess
        ? "every message's (this deployment turned on full access; each read is in the audit log)"
        : "reported messages' only")),
    panel("Members", table("members", [
      ["member", (m) => userLink(m.userId)], ["role", (m) => m.role ?? "-"],
    ], c.members ?? [])),
    panel("Recent activity", table("activity", [
      ["#", (e) => e.seq], ["when", (e) => when(e.sentAt)], ["from", (e) => userLink(e.senderId)],
      ["what", (e) => (e.reported ? `${e.kind} (reported)` : e.kind)],
      ["text", (e) => (e.text ?? h("span", { class: "muted" }, e.kind === "deleted" ? "(deleted)" : "(not shown)"))],
    ], c.recentActivity ?? [], "No activity.")));
}
