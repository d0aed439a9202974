// Helpers for the SDK's tests against the local stack (tests/e2e/test_js_sdk.py starts it and writes
// PARLEY_JS_STACK: the WebSocket URL and what is needed to mint tokens the stack accepts).
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { WebSocket } from "ws";
import { ParleyClient } from "../dist/index.js";

export const stackConfig = process.env.PARLEY_JS_STACK
  ? JSON.parse(readFileSync(process.env.PARLEY_JS_STACK, "utf8")) : undefined;
export const skipWithoutStack = stackConfig ? false
  : "no local stack: run through tests/e2e/test_js_sdk.py (make test), which sets PARLEY_JS_STACK";

const b64url = (value) => Buffer.from(value).toString("base64url");

/** An HS256 chat token the stack accepts (the same claims as local/tokens.py mints). */
export function mintToken(userId, { ttlSeconds = 3600, issuedAt = Math.floor(Date.now() / 1000) } = {}) {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = b64url(JSON.stringify({ sub: userId, iss: stackConfig.issuer, aud: stackConfig.audience,
    iat: issuedAt, exp: issuedAt + ttlSeconds, jti: randomBytes(12).toString("base64url") }));
  const signature = createHmac("sha256", stackConfig.tokenSecret).update(`${header}.${claims}`).digest("base64url");
  return `${header}.${claims}.${signature}`;
}

/** A fresh user id, so tests sharing the stack never see each other's data. */
export const user = (name) => `${name}-${randomUUID().slice(0, 10)}`;

/** `ws`, with every socket the client opens kept in `sockets` and an optional filter on incoming frames
 *  (return false to drop a frame before the client sees it). */
export function trackedWebSocket() {
  const sockets = [];
  const hooks = { incoming: undefined };
  const base = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
  class Tracked extends WebSocket {
    constructor(url) {
      super(url);
      sockets.push(this);
      let handler = null;
      Object.defineProperty(this, "onmessage", {
        get: () => handler,
        set: (fn) => {
          handler = fn;
          base.set.call(this, fn && ((event) => {
            if (hooks.incoming && hooks.incoming(this, JSON.parse(String(event.data))) === false) return;
            fn(event);
          }));
        },
      });
    }
  }
  return { WebSocket: Tracked, sockets, hooks };
}

/** A client for `userId` (not connected), with short backoff steps so tests do not wait. */
export function clientFor(userId, options = {}) {
  return new ParleyClient({ url: stackConfig.wsUrl, token: mintToken(userId), WebSocket,
    backoff: { initialMs: 50, maxMs: 500 }, ...options });
}

export async function connected(userId, options = {}) {
  const client = clientFor(userId, options);
  await client.connect();
  return client;
}

/** The next `event` of `client` that matches `where`, within `timeoutMs` (shared with the browser's scenarios). */
export { next } from "./scenarios.mjs";

/** Every `event` of `client` from now on, in a list (for asserting what arrived, and how many times). */
export function collect(client, event) {
  const items = [];
  client.on(event, (value) => items.push(value));
  return items;
}

/** Wait until `check()` holds. */
export async function eventually(check, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A gate a token provider can wait on: the client stays offline until it opens. */
export function gate() {
  let open;
  const opened = new Promise((resolve) => {
    open = resolve;
  });
  return { opened, open };
}
