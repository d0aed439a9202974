// The reports queue: open reports, newest reported first (or the resolved ones), a page at a time.

import { call } from "../api.js";
import { h, show, table, titleOf, userLink, when } from "../dom.js";

export const reportIdOf = (report) => report.reportId ?? `${report.conversationId}.${report.seq}.${report.reporterId}`;

function excerpt(report) {
  if (report.messageDeleted) return h("span", { class: "muted" }, "(deleted)");
  const text = report.text ?? "";
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

export async function reportsPage() {
  const status = new URLSearchParams(window.location.hash.split("?")[1] ?? "").get("status") ?? "open";
  const list = h("div", {});
  const more = h("button", { type: "button", "data-testid": "reports-more", hidden: true }, "More");
  let cursor = null;
  const reports = [];

  const columns = [
    ["reported", (r) => h("a", { href: `#/reports/${encodeURIComponent(reportIdOf(r))}`, "data-testid": "report-link" },
      when(r.reportedAt))],
    ["sender", (r) => userLink(r.reportedUserId)],
    ["reporter", (r) => userLink(r.reporterId)],
    ["reason", (r) => r.reason ?? "-"],
    ["message", excerpt],
    ...(status === "resolved" ? [["resolution", (r) => `${r.resolution} by ${r.resolvedBy}`]] : []),
  ];

  async function load() {
    const page = await call("GET", "/v1/reports", { query: { status, limit: 50, cursor } });
    reports.push(...page.reports);
    cursor = page.cursor ?? null;
    show(list, table("reports", columns, reports, status === "open" ? "No open reports." : "No resolved reports."));
    more.hidden = !cursor;
  }
  more.addEventListener("click", () => load());
  await load();
  return h("div", { "data-testid": "reports-page" },
    titleOf(status === "open" ? "Reports: open" : "Reports: resolved"),
    h("p", {}, status === "open"
      ? h("a", { href: "#/reports?status=resolved" }, "Show the resolved reports")
      : h("a", { href: "#/reports" }, "Show the open reports")),
    list, more);
}
