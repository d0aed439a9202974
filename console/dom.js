// Building the page's DOM without innerHTML: every text the API returns (user ids, reasons, message text) is
// set as text, never parsed as markup.

/** An element: h("a", { href: "#/x", "data-testid": "link" }, "text", child, ...). */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace what an element shows. */
export function show(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** Epoch milliseconds as UTC, to the second. */
export function when(ms) {
  if (ms === undefined || ms === null) return "-";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function userLink(userId) {
  if (!userId) return "-";
  return h("a", { href: `#/users/${encodeURIComponent(userId)}`, "data-testid": "user-link" }, userId);
}

export function conversationLink(conversationId) {
  if (!conversationId) return "-";
  return h("a", { href: `#/conversations/${encodeURIComponent(conversationId)}`, "data-testid": "conversation-link" },
    conversationId);
}

/** A table: columns are [heading, (row) => cell]. */
export function table(testId, columns, rows, empty = "Nothing here.") {
  if (!rows.length) return h("p", { class: "muted", "data-testid": `${testId}-empty` }, empty);
  return h("table", { "data-testid": testId },
    h("thead", {}, h("tr", {}, columns.map(([heading]) => h("th", {}, heading)))),
    h("tbody", {}, rows.map((row) => h("tr", { "data-testid": `${testId}-row` },
      columns.map(([, cell]) => h("td", {}, cell(row)))))));
}

/** A titled panel. */
export function panel(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/** What the server answered when it refused, in words. */
export function problem(error) {
  const code = error?.code ? ` (${error.code})` : "";
  return h("p", { class: "error", role: "alert", "data-testid": "error", "data-code": error?.code ?? "" },
    `${error?.message ?? String(error)}${code}`);
}

export function titleOf(text) {
  document.title = `${text} - Parley console`;
  return h("h1", {}, text);
}

/** "1 report", "3 reports". */
export const plural = (count, noun) => `${count ?? 0} ${noun}${count === 1 ? "" : "s"}`;
