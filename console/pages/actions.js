// The controls the report and user pages share: a ban's length, and a result line that says what was done.

import { h } from "../dom.js";

export const BAN_LENGTHS = [
  ["3600", "1 hour"],
  ["86400", "1 day"],
  ["604800", "7 days"],
  ["2592000", "30 days"],
  ["", "permanent"],
];

export function banLengthSelect(testId) {
  return h("select", { name: "length", "data-testid": testId, "aria-label": "Ban length" },
    BAN_LENGTHS.map(([seconds, label]) => h("option", { value: seconds, selected: seconds === "86400" }, label)));
}

/** A line under the actions that says what the last one did, or why it was refused. */
export function resultLine() {
  const line = h("p", { class: "result", role: "status", "data-testid": "action-result" });
  return {
    node: line,
    done(text) {
      line.className = "result done";
      line.textContent = text;
    },
    failed(error) {
      line.className = "result error";
      line.textContent = `${error.message}${error.code ? ` (${error.code})` : ""}`;
      line.dataset.code = error.code ?? "";
    },
  };
}

/** Runs an action with its button disabled, and reports how it went. */
export async function act(button, result, action) {
  button.disabled = true;
  try {
    result.done(await action());
  } catch (error) {
    result.failed(error);
  } finally {
    button.disabled = false;
  }
}
