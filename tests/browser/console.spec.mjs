// The admin console in headless Chromium: an operator signs in (the local dev sign-in), reads the overview,
// opens the report a real WebSocket client made, bans the reported sender for 7 days, looks at the sender's
// user page and the conversation, and finds the ban in the audit log; then someone outside the admins group
// signs in and the server refuses them. Every page is screenshot. Run by tests/e2e/test_console.py, which
// starts the local stack, makes the report over real sockets, keeps the sender's socket open, and passes:
//   PARLEY_CONSOLE_URL    the console's URL
//   PARLEY_CHROMIUM       the browser to drive (Debian's chromium; playwright-core downloads none)
//   PARLEY_SENDER, PARLEY_REPORTER, PARLEY_CONVERSATION   the report's sender, reporter and conversation
//   PARLEY_SCREENSHOTS    a directory for admin-<page>.png
// It exits 0 when every step held, else 1 with the step that failed.
import { chromium } from "playwright-core";
import { createHash } from "node:crypto";
import path from "node:path";
import { step, textOf, waitFor, WAIT_MS } from "./steps.mjs";

const {
  PARLEY_CONSOLE_URL: url, PARLEY_CHROMIUM: executablePath, PARLEY_SENDER: sender, PARLEY_REPORTER: reporter,
  PARLEY_CONVERSATION: conversation, PARLEY_SCREENSHOTS: shots,
} = process.env;
const OPERATOR = "ops-alice";
const problems = [];

const onPage = (page, name) => waitFor(page, `the ${name} page is shown`,
  (expected) => document.querySelector("main")?.dataset.page === expected
    && !document.querySelector("main")?.hasAttribute("aria-busy"), name);

const shoot = (page, name) => page.screenshot({ path: path.join(shots, `admin-${name}.png`), fullPage: true });

async function open(browser, who, prepare = (page) => page.goto(url)) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`${who}: page error: ${error.message}`));
  page.on("console", (message) => {
    // A refused call logs its status as a failed resource: only where the test expects one.
    const expected = page.expectedErrors ?? [];
    if (message.type() === "error" && !expected.some((status) => message.text().includes(`status of ${status}`))) {
      problems.push(`${who}: console error: ${message.text()}`);
    }
  });
  const answer = await prepare(page);
  return { context, page, answer };
}

async function signIn(page, name, admin) {
  await page.getByTestId("sign-in-name").fill(name);
  await page.getByTestId("sign-in-admin").setChecked(admin);
  await page.getByTestId("sign-in-submit").click();
}

// Cognito's managed login, played by the test: the console's config says "cognito", the authorize endpoint
// sends the browser back with a code, the token endpoint checks the code's verifier against the challenge.
async function cognitoSignIn(browser) {
  const domain = "https://auth.console.example";
  const seen = {};
  const b64url = (buffer) => Buffer.from(buffer).toString("base64url");
  const idToken = [{ alg: "RS256" }, { "cognito:username": "ops-cognito", "cognito:groups": ["admins"] }, "sig"]
    .map((part) => (typeof part === "string" ? part : b64url(JSON.stringify(part)))).join(".");
  const { page } = await open(browser, "cognito", async (tab) => {
    // The CSP as the deployment sends it: the page may call the Cognito domain (infra/console_headers.py).
    await tab.route((address) => address.origin + address.pathname === new URL(url).href, async (route) => {
      const original = await route.fetch();
      const headers = original.headers();
      headers["content-security-policy"] = headers["content-security-policy"]
        .replace("connect-src 'self'", `connect-src 'self' ${domain}`);
      await route.fulfill({ response: original, headers });
    });
    await tab.route(`${url}config.json`, (route) => route.fulfill({ json: {
      mode: "cognito", apiBase: "/console", cognito: { domain, clientId: "console-client", redirectUri: url } } }));
    await tab.route(`${domain}/oauth2/authorize?**`, (route) => {
      const asked = new URL(route.request().url()).searchParams;
      Object.assign(seen, Object.fromEntries(asked));
      // Back with a code. Not as a 302: Playwright does not route the request a redirect leads to.
      const back = `${url}?code=the-code&state=${encodeURIComponent(asked.get("state"))}`;
      return route.fulfill({ contentType: "text/html", body: `<meta http-equiv="refresh" content="0;url=${back}">` });
    });
    await tab.route(`${domain}/oauth2/token`, (route) => {
      const form = new URLSearchParams(route.request().postData());
      seen.exchanged = Object.fromEntries(form);
      const matches = b64url(createHash("sha256").update(form.get("code_verifier") ?? "").digest()) === seen.code_challenge;
      return route.fulfill({
        status: matches && form.get("code") === "the-code" ? 200 : 400,
        headers: { "Access-Control-Allow-Origin": new URL(url).origin },
        json: matches ? { id_token: idToken, access_token: "a", token_type: "Bearer", expires_in: 3600 }
          : { error: "invalid_grant" },
      });
    });
    // The API, as the deployment's JWT authorizer would see it: the page sends the ID token.
    await tab.route(`${url}console/v1/console/overview`, (route) => {
      seen.authorization = route.request().headers().authorization;
      return route.fulfill({ json: { now: {}, last24h: {}, messageRate: [], sources: {}, at: Date.now() } });
    });
    return tab.goto(url);
  });
  await page.getByTestId("sign-in-cognito").click();
  await textOf(page, "operator", "ops-cognito");
  await onPage(page, "overview");
  if (seen.authorization !== `Bearer ${idToken}`) throw new Error("the page did not call the API with the ID token");
  // An hour later the ID token has expired: the API answers 401, and the page asks to sign in again.
  await page.route(`${url}console/v1/reports?**`, (route) => route.fulfill({
    status: 401, json: { error: { code: "unauthorized", message: "The token has expired." } } }));
  page.expectedErrors = ["401"];
  await page.locator("[data-testid=nav] a[data-page=reports]").click();
  await onPage(page, "sign-in");
  await textOf(page, "sign-in-error", "Sign in again: The token has expired.");
  const expected = { response_type: "code", client_id: "console-client", redirect_uri: url,
    code_challenge_method: "S256" };
  for (const [name, value] of Object.entries(expected)) {
    if (seen[name] !== value) throw new Error(`authorize was asked ${name}=${seen[name]}, not ${value}`);
  }
  const { grant_type: grant, client_id: client, redirect_uri: redirect } = seen.exchanged ?? {};
  if (grant !== "authorization_code" || client !== "console-client" || redirect !== url) {
    throw new Error(`the code was exchanged with ${JSON.stringify(seen.exchanged)}`);
  }
  if (page.url().includes("code=")) throw new Error("the code stayed in the address bar");
  const stored = await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length);
  if (stored !== 0) throw new Error("the sign-in left something in the page's storage");
  await page.context().close();
}

async function main() {
  const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
  try {
    step("the console is served with its Content-Security-Policy");
    const { page, answer } = await open(browser, "operator");
    const headers = answer.headers();
    const policy = headers["content-security-policy"] ?? "";
    if (!policy.includes("script-src 'self'") || policy.includes("unsafe-inline")) {
      throw new Error(`the CSP is missing or allows inline code: "${policy}"`);
    }
    if (headers["x-frame-options"] !== "DENY") throw new Error("X-Frame-Options is not DENY");

    step("the operator signs in (dev sign-in, admins group) and sees the overview with its chart");
    await page.getByTestId("sign-in").waitFor({ timeout: WAIT_MS });
    await shoot(page, "sign-in");
    await signIn(page, OPERATOR, true);
    await onPage(page, "overview");
    await textOf(page, "operator", OPERATOR);
    await page.getByTestId("rate-chart").waitFor({ timeout: WAIT_MS });
    await waitFor(page, "messages sent shows a count", () => {
      const card = document.querySelector("[data-testid=figure-messagesSent] [data-testid=figure-now]");
      return card && /^\d+$/.test(card.textContent.trim());
    });
    await shoot(page, "overview");

    step("the reports queue lists the report of the sender's message");
    await page.locator("[data-testid=nav] a[data-page=reports]").click();
    await onPage(page, "reports");
    const row = page.getByTestId("reports-row").filter({ hasText: sender });
    await row.waitFor({ timeout: WAIT_MS });
    await textOf(page, "reports-row", "harassment");
    await shoot(page, "reports");

    step("the report shows the message with its context, the reporter and the sender's report count");
    await row.getByTestId("report-link").click();
    await onPage(page, "reports");
    await page.getByTestId("report-page").waitFor({ timeout: WAIT_MS });
    await textOf(page, "reported-message", "Send the codes now");
    await textOf(page, "context-message", "Is the bike still for sale?");
    await textOf(page, "context-message", "That is not OK.");
    await textOf(page, "report-reason", "harassment");
    await textOf(page, "report-reporter", reporter);
    await textOf(page, "report-sender", "(1 report received)");

    step("the operator bans the sender for 7 days: the server closes the sender's socket");
    await page.getByTestId("ban-length").selectOption("604800");
    await page.getByTestId("resolve-note").fill("harassment, asked for gift cards");
    await page.getByTestId("ban").click();
    await textOf(page, "action-result", `${sender} is banned for 7 days. Closed 1 of the sender's connections.`);
    await shoot(page, "report");

    step("the sender's user page shows the ban, and the report received");
    await page.getByTestId("report-sender").getByTestId("user-link").click();
    await onPage(page, "users");
    await textOf(page, "user-ban", "banned until");
    await textOf(page, "reports-received-count", "1");
    await textOf(page, "ban-history-row", "banned");
    await shoot(page, "user");

    step("the conversation page shows the members, and text for the reported message only");
    await page.locator("[data-testid=goto] select").selectOption("conversations");
    await page.locator("[data-testid=goto] input").fill(conversation);
    await page.locator("[data-testid=goto] button").click();
    await onPage(page, "conversations");
    await textOf(page, "members-row", sender);
    await textOf(page, "activity-row", "Send the codes now");
    await waitFor(page, "other messages' text is not shown", () => ![...document.querySelectorAll(
      "[data-testid=activity-row]")].some((r) => r.textContent.includes("Is the bike still for sale?")));
    await shoot(page, "conversation");

    step("the audit log, filtered by the operator, has the ban");
    await page.locator("[data-testid=nav] a[data-page=audit]").click();
    await onPage(page, "audit");
    await page.getByTestId("filter-caller").fill(`console:${OPERATOR}`);
    await page.getByTestId("filter-apply").click();
    await waitFor(page, "an entry of the ban by the operator", ([who, target]) => [...document.querySelectorAll(
      "[data-testid=audit-row]")].some((r) => r.textContent.includes("POST /v1/reports/resolve")
        && r.querySelector("[data-testid=audit-caller]")?.textContent === who && r.textContent.includes(target)),
    [`console:${OPERATOR}`, `user:${sender}`]);
    await waitFor(page, "only the operator's entries", (who) => [...document.querySelectorAll(
      "[data-testid=audit-caller]")].every((c) => c.textContent === who), `console:${OPERATOR}`);
    await shoot(page, "audit");

    step("the token was in memory only: nothing in the storage a script could read, and a reload signs out");
    const stored = await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length);
    if (stored !== 0) throw new Error(`the page stored something (${stored} entries or cookie characters)`);
    await page.reload();
    await onPage(page, "sign-in");

    step("someone outside the admins group signs in: the server refuses every page");
    const outsider = await open(browser, "non-admin");
    outsider.page.expectedErrors = ["403"];
    await signIn(outsider.page, "not-an-admin", false);
    await waitFor(outsider.page, "the overview shows the server's refusal",
      () => document.querySelector("[data-testid=error]")?.dataset.code === "forbidden");
    await outsider.page.evaluate(() => { window.location.hash = "#/reports"; });
    await onPage(outsider.page, "reports");
    await waitFor(outsider.page, "the reports page shows the server's refusal, and no report",
      () => document.querySelector("[data-testid=error]")?.dataset.code === "forbidden"
        && !document.querySelector("[data-testid=reports-row]"));
    await outsider.context.close();

    step("in AWS the page signs in with Cognito: authorization code + PKCE, the code exchanged by the page");
    await cognitoSignIn(browser);
  } finally {
    await browser.close();
  }
  if (problems.length) throw new Error(problems.join("\n"));
}

main().then(() => {
  console.log("ok");
}, (error) => {
  console.error(`FAILED: ${error.message}`);
  if (error.cause) console.error(String(error.cause.message ?? error.cause).split("\n")[0]);
  process.exit(1);
});
