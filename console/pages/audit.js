// The audit log: every call to the server API, the console's operators' included (their caller is
// console:<name>), newest first, filtered by operator, by target or by time. The filters live in the location
// (#/audit?caller=...&target=...&from=...&to=...), so a filtered view can be linked to.

import { call } from "../api.js";
import { h, show, table, titleOf, when } from "../dom.js";

const toMs = (local) => (local ? Date.parse(`${local}Z`) : undefined); // the inputs are UTC
const toInput = (ms) => (ms ? new Date(Number(ms)).toISOString().slice(0, 16) : "");

export async function auditPage() {
  const filters = new URLSearchParams(window.location.hash.split("?")[1] ?? "");
  const form = h("form", { class: "filters", "data-testid": "audit-filters" },
    h("label", {}, "Operator ", h("input", { name: "caller", value: filters.get("caller") ?? "",
      placeholder: "console:alice or an IAM ARN", "data-testid": "filter-caller" })),
    h("label", {}, "Target ", h("input", { name: "target", value: filters.get("target") ?? "",
      placeholder: "user:mallory", "data-testid": "filter-target" })),
    h("label", {}, "From (UTC) ", h("input", { type: "datetime-local", name: "from",
      value: toInput(filters.get("from")), "data-testid": "filter-from" })),
    h("label", {}, "To (UTC) ", h("input", { type: "datetime-local", name: "to",
      value: toInput(filters.get("to")), "data-testid": "filter-to" })),
    h("button", { type: "submit", "data-testid": "filter-apply" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const name of ["caller", "target"]) {
      const value = form.elements[name].value.trim();
      if (value) chosen.set(name, value);
    }
    for (const name of ["from", "to"]) {
      const ms = toMs(form.elements[name].value);
      if (ms) chosen.set(name, String(ms));
    }
    window.location.hash = `#/audit${chosen.toString() ? `?${chosen}` : ""}`;
  });

  const list = h("div", {});
  const more = h("button", { type: "button", "data-testid": "audit-more", hidden: true }, "More");
  const entries = [];
  let cursor = null;
  const columns = [
    ["when", (e) => when(e.at)],
    ["operator", (e) => h("span", { "data-testid": "audit-caller" }, e.caller)],
    ["what", (e) => h("code", { "data-testid": "audit-operation" }, e.operation)],
    ["status", (e) => h("span", { class: e.status >= 400 ? "bad" : "ok" }, String(e.status))],
    ["targets", (e) => h("span", { "data-testid": "audit-targets" }, (e.targets ?? []).join(" "))],
  ];
  async function load() {
    const query = Object.fromEntries(["caller", "target", "from", "to"].map((name) => [name, filters.get(name)]));
    const page = await call("GET", "/v1/audit", { query: { ...query, limit: 50, cursor } });
    entries.push(...(page.entries ?? []));
    cursor = page.cursor ?? null;
    show(list, table("audit", columns, entries, "No entries match."));
    more.hidden = !cursor;
  }
  more.addEventListener("click", () => load());
  await load();
  return h("div", { "data-testid": "audit-page" }, titleOf("Audit log"), form, list, more);
}
