// The SDK's shared scenarios (clients/js/test/scenarios.mjs) in headless Chromium: the browser's own WebSocket,
// fetch and localStorage, the SDK's browser build as the web chat serves it (/sdk/index.js), tokens from the web
// chat's POST /token. The same scenarios run in Node (clients/js/test/shared.test.mjs). Run by
// tests/e2e/test_js_sdk.py, which starts the local stack and passes:
//   PARLEY_WEB_URL   the web chat's URL (the page's origin: 127.0.0.1, as the stack)
//   PARLEY_CHROMIUM  the browser to drive (Debian's chromium; playwright-core downloads none)
// It prints one line per scenario and exits 0 when every one passed, else 1.
import { readFile } from "node:fs/promises";
import { chromium } from "playwright-core";

const { PARLEY_WEB_URL: url, PARLEY_CHROMIUM: executablePath } = process.env;
const source = await readFile(new URL("../../clients/js/test/scenarios.mjs", import.meta.url), "utf8");

const browser = await chromium.launch({ executablePath, headless: true });
let failed = 0;
try {
  // The page's CSP allows scripts from its own origin only; the scenarios module is loaded from a blob URL.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.log(`page error: ${error.message}`));
  await page.goto(url);
  const results = await page.evaluate(async (scenariosSource) => {
    const sdk = await import("/sdk/index.js");
    const moduleUrl = URL.createObjectURL(new Blob([scenariosSource], { type: "text/javascript" }));
    const { SCENARIOS } = await import(moduleUrl);
    const env = {
      sdk,
      user: (name) => `${name}-${crypto.randomUUID().slice(0, 10)}`,
      storage: () => new sdk.LocalStorageStorage(window.localStorage), // keys name the user: fresh per scenario
      async connect(userId, options = {}) {
        const answer = await fetch("/token", { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ userId }) });
        const { token, url: wsUrl } = await answer.json();
        const client = new sdk.ParleyClient({ url: wsUrl, token, backoff: { initialMs: 50, maxMs: 500 }, ...options });
        await client.connect();
        return client;
      },
    };
    const outcomes = [];
    for (const scenario of SCENARIOS) {
      try {
        await scenario.run(env);
        outcomes.push({ name: scenario.name, ok: true });
      } catch (error) {
        outcomes.push({ name: scenario.name, ok: false, error: String(error?.stack ?? error) });
      }
    }
    return { outcomes, userAgent: navigator.userAgent };
  }, source);
  console.log(`# ${results.userAgent}`);
  for (const outcome of results.outcomes) {
    console.log(`${outcome.ok ? "ok" : "not ok"} - ${outcome.name}${outcome.ok ? "" : `\n${outcome.error}`}`);
    if (!outcome.ok) failed += 1;
  }
  if (results.outcomes.length === 0) failed += 1;
} finally {
  await browser.close();
}
process.exit(failed === 0 ? 0 : 1);
