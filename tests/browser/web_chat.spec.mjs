// The web chat in headless Chromium: alice and bob, each in a browser context of their own, chat through the
// page `make run` serves. Run by tests/e2e/test_web_chat.py, which starts the local stack and passes:
//   PARLEY_WEB_URL      the web chat's URL
//   PARLEY_CHROMIUM     the browser to drive (Debian's chromium; playwright-core downloads none)
//   PARLEY_PHOTO        a JPEG to send
//   PARLEY_SCREENSHOTS  a directory for alice.png and bob.png
// It exits 0 when every step held, else 1 with the step that failed.
import { chromium } from "playwright-core";
import path from "node:path";
import { step, textOf, waitFor } from "./steps.mjs";

const { PARLEY_WEB_URL: url, PARLEY_CHROMIUM: executablePath, PARLEY_PHOTO: photo, PARLEY_SCREENSHOTS: shots } =
  process.env;
const problems = [];

// The receipt under the newest message of one's own.
const lastReceipt = (page, text) => waitFor(page, `the newest own message shows "${text}"`, (expected) => {
  const receipts = document.querySelectorAll("[data-testid=receipt]");
  return receipts.length > 0 && receipts[receipts.length - 1].textContent.includes(expected);
}, text);

const connected = (page) => waitFor(page, "the connection is open",
  () => document.querySelector("[data-testid=connection]")?.dataset.state === "open");

const peerStatus = (page, status) => waitFor(page, `the peer shows ${status}`,
  (expected) => document.querySelector("[data-testid=chat-status]")?.dataset.status === expected, status);

async function login(browser, user) {
  const context = await browser.newContext({ viewport: { width: 900, height: 620 } });
  const page = await context.newPage();
  page.user = user;
  page.on("pageerror", (error) => problems.push(`${user}: page error: ${error.message}`));
  page.on("console", (message) => {
    // While its context is offline the page's token requests and reconnect attempts fail, as they should.
    if (message.type() === "error" && !page.offline) problems.push(`${user}: console error: ${message.text()}`);
  });
  await page.goto(url);
  await page.getByTestId("login-name").fill(user);
  await page.getByTestId("login-submit").click();
  await connected(page);
  return { context, page };
}

async function main() {
  const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
  try {
    step("alice and bob log in, each in a browser context of their own");
    const alice = await login(browser, "alice");
    const bob = await login(browser, "bob");

    step("alice opens a direct chat with bob and sees him online");
    await alice.page.getByTestId("direct-user").fill("bob");
    await alice.page.getByTestId("direct-open").click();
    await textOf(alice.page, "chat-title", "bob");
    await peerStatus(alice.page, "online");

    step("alice writes; bob gets an unread badge");
    await alice.page.getByTestId("text").fill("Hi Bob! Lunch at noon?");
    await alice.page.getByTestId("send").click();
    await textOf(bob.page, "unread-badge", "1");

    step("bob opens the chat: he reads it, and alice sees her message read");
    await bob.page.getByTestId("conversation").filter({ hasText: "alice" }).click();
    await textOf(bob.page, "message-text", "Hi Bob! Lunch at noon?");
    await lastReceipt(alice.page, "read");
    await waitFor(bob.page, "the badge is gone", () => !document.querySelector("[data-testid=unread-badge]"));

    step("bob types: alice sees it; he sends, she gets it");
    await bob.page.getByTestId("text").pressSequentially("Sure", { delay: 20 });
    await textOf(alice.page, "typing", "bob is typing");
    await bob.page.getByTestId("text").pressSequentially(", see you there!");
    await bob.page.getByTestId("send").click();
    await textOf(alice.page, "message-text", "Sure, see you there!");

    step("alice sends a photo: bob sees its inline preview, then the thumbnail");
    await alice.page.getByTestId("photo").setInputFiles(photo);
    await waitFor(bob.page, "the photo shows its thumbnail after the preview", () => {
      const img = document.querySelector("[data-testid=photo][data-stage=thumbnail]");
      return img && img.hasAttribute("data-preview-shown") && img.complete && img.naturalWidth > 0;
    });

    step("bob goes invisible: alice sees him offline; visible again, online");
    await bob.page.getByTestId("invisible").check();
    await peerStatus(alice.page, "offline");
    await bob.page.getByTestId("invisible").uncheck();
    await peerStatus(alice.page, "online");

    step("bob's browser goes offline: alice sees him offline; each writes");
    bob.page.offline = true;
    await bob.context.setOffline(true);
    await waitFor(bob.page, "bob's page knows it is offline", () => {
      const node = document.querySelector("[data-testid=connection]");
      return node?.dataset.online === "false" && node.dataset.state !== "open";
    });
    await peerStatus(alice.page, "offline");
    await alice.page.getByTestId("text").fill("Are you there? The table is booked for 12:00.");
    await alice.page.getByTestId("send").click();
    await lastReceipt(alice.page, "sent");
    await bob.page.getByTestId("text").fill("Sorry, I was in a tunnel");
    await bob.page.getByTestId("send").click(); // it waits in the SDK's offline queue

    step("back online: bob catches up on alice's message, and his queued one reaches her");
    await bob.context.setOffline(false);
    await connected(bob.page);
    bob.page.offline = false;
    await textOf(bob.page, "message-text", "Are you there? The table is booked for 12:00.");
    await waitFor(bob.page, "alice's message came from the catch-up, not live",
      () => Number(document.querySelector("[data-testid=connection]")?.dataset.recovered) > 0);
    await textOf(alice.page, "message-text", "Sorry, I was in a tunnel");
    await peerStatus(alice.page, "online");

    step("alice makes a group with bob and carol: bob gets it with a badge, and alice sees who read");
    await alice.page.getByTestId("group-members").fill("bob, carol");
    await alice.page.getByTestId("group-name").fill("Lunch crew");
    await alice.page.getByTestId("group-create").click();
    await textOf(alice.page, "chat-title", "Lunch crew");
    await alice.page.getByTestId("text").fill("Who else is coming on Friday?");
    await alice.page.getByTestId("send").click();
    await textOf(bob.page, "unread-badge", "1");
    await bob.page.getByTestId("conversation").filter({ hasText: "Lunch crew" }).click();
    await textOf(bob.page, "message-text", "Who else is coming on Friday?");
    await lastReceipt(alice.page, "read by bob");

    step("back in the direct chat, for the screenshot");
    await alice.page.getByTestId("conversation").filter({ hasText: "bob" }).first().click();
    await bob.page.getByTestId("conversation").filter({ hasText: "alice" }).click();
    await textOf(alice.page, "chat-title", "bob");
    await textOf(bob.page, "chat-title", "alice");

    if (shots) {
      await alice.page.screenshot({ path: path.join(shots, "alice.png") });
      await bob.page.screenshot({ path: path.join(shots, "bob.png") });
    }
  } finally {
    await browser.close();
  }
  if (problems.length) throw new Error(`the pages reported errors:\n  ${problems.join("\n  ")}`);
}

main().then(() => console.log("ok"), (error) => {
  console.error(`FAILED: ${error.message}`);
  if (problems.length) console.error(`the pages also reported:\n  ${problems.join("\n  ")}`);
  process.exit(1);
});
