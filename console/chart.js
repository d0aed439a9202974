// The overview's message-rate chart: an inline SVG drawn here (no chart library): one bar per bucket, the
// highest count on the axis, the first and last bucket's time under it.

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const hour = (ms) => new Date(ms).toISOString().slice(11, 16);
const dayAndHour = (ms) => new Date(ms).toISOString().slice(5, 16).replace("T", " ");

/** series: [{ t: epoch ms, count }], oldest first. */
export function rateChart(series, { width = 720, height = 200 } = {}) {
  const left = 44;
  const bottom = 22;
  const top = 10;
  const plotWidth = width - left - 8;
  const plotHeight = height - top - bottom;
  const highest = Math.max(1, ...series.map((point) => point.count));
  const total = series.reduce((sum, point) => sum + point.count, 0);
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "data-testid": "rate-chart",
    "aria-label": `Messages sent per hour: ${total} in ${series.length} hours, at most ${highest} in one`,
  });
  chart.append(svg("line", { x1: left, y1: top + plotHeight, x2: width - 8, y2: top + plotHeight, class: "axis" }));
  chart.append(svg("text", { x: left - 6, y: top + 10, class: "label end" }, String(highest)));
  chart.append(svg("text", { x: left - 6, y: top + plotHeight, class: "label end" }, "0"));
  const step = series.length ? plotWidth / series.length : plotWidth;
  series.forEach((point, index) => {
    const barHeight = Math.round((point.count / highest) * plotHeight);
    const bar = svg("rect", {
      x: (left + index * step + 1).toFixed(1), y: top + plotHeight - barHeight,
      width: Math.max(1, step - 2).toFixed(1), height: barHeight, class: "bar", "data-count": point.count,
    });
    bar.append(svg("title", {}, `${hour(point.t)} UTC: ${point.count}`));
    chart.append(bar);
  });
  if (series.length) {
    chart.append(svg("text", { x: left, y: height - 6, class: "label" }, `${dayAndHour(series[0].t)} UTC`));
    chart.append(svg("text", { x: width - 8, y: height - 6, class: "label end" },
      `${dayAndHour(series[series.length - 1].t)} UTC`));
  }
  return chart;
}
