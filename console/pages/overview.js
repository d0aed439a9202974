// The overview: the service's figures now and over the last 24 hours, where each comes from, and the message
// rate as a chart.

import { call } from "../api.js";
import { rateChart } from "../chart.js";
import { h, panel, table, titleOf, when } from "../dom.js";

const FIGURES = [
  ["connectionsOpen", "Connections open"],
  ["activeUsers", "Active users"],
  ["messagesSent", "Messages sent"],
  ["pushesSent", "Pushes sent"],
  ["pushesFailed", "Pushes failed"],
  ["deadLettered", "Dead-lettered events"],
];

const errorTotal = (figures) => Object.values(figures?.errorFrames ?? {}).reduce((sum, n) => sum + n, 0);

export async function overviewPage() {
  const data = await call("GET", "/v1/console/overview");
  const sources = data.sources ?? {};
  const rows = [...FIGURES.map(([key, label]) => ({ key, label, now: data.now?.[key], day: data.last24h?.[key] })),
    { key: "errorFrames", label: "Error frames", now: errorTotal(data.now), day: errorTotal(data.last24h) }];
  const codes = Object.keys({ ...data.now?.errorFrames, ...data.last24h?.errorFrames }).sort();
  return h("div", { "data-testid": "overview" },
    titleOf("Overview"),
    h("p", { class: "muted" }, `Read at ${when(data.at)}. "Now" is the last 5 minutes (gauges: their latest value).`),
    h("div", { class: "cards" }, rows.map((row) => h("div", { class: "card", "data-testid": `figure-${row.key}` },
      h("div", { class: "card-label" }, row.label),
      h("div", { class: "card-value", "data-testid": "figure-now" }, String(row.now ?? "-")),
      h("div", { class: "card-day" }, `24 h: ${row.day ?? "-"}`),
      h("div", { class: "card-source", "data-testid": "figure-source" }, sources[row.key] ?? "")))),
    panel("Messages sent per hour, last 24 hours", rateChart(data.messageRate ?? []),
      h("p", { class: "card-source" }, sources.messageRate ?? sources.messagesSent ?? "")),
    panel("Error frames by code",
      table("error-frames", [
        ["code", (code) => h("code", {}, code)],
        ["now", (code) => data.now?.errorFrames?.[code] ?? 0],
        ["24 h", (code) => data.last24h?.errorFrames?.[code] ?? 0],
      ], codes, "No error frames.")));
}
