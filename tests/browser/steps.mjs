// What the browser tests share: a step's line on stdout, and waiting for the page to show something (a named
// condition, so a failure says what was not seen; a page with a `user` names it too).
export const WAIT_MS = 30_000; // generous: the machine may be busy with other tests

export function step(name) {
  console.log(`- ${name}`);
}

export async function waitFor(page, what, predicate, arg) {
  try {
    await page.waitForFunction(predicate, arg, { timeout: WAIT_MS });
  } catch (error) {
    throw new Error(`${page.user ? `${page.user}: ` : ""}${what} (not within ${WAIT_MS} ms)`, { cause: error });
  }
}

// Some element with this data-testid contains the text.
export const textOf = (page, testId, text) => waitFor(page, `[data-testid=${testId}] shows "${text}"`,
  ([id, expected]) => [...document.querySelectorAll(`[data-testid="${id}"]`)]
    .some((node) => node.textContent.includes(expected)), [testId, text]);
