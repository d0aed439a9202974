// Fast tests with no stack: backoff and jitter, storage, the offline queue's persistence, both frame formats.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Backoff, LocalStorageStorage, MemoryStorage, ParleyClient, decodeEntry, tokenSubject,
} from "../dist/index.js";

test("backoff steps double from 200 ms up to 30 s", () => {
  const backoff = new Backoff();
  assert.deepEqual([0, 1, 2, 3, 7, 8, 20, 1000].map((n) => backoff.step(n)),
    [200, 400, 800, 1600, 25_600, 30_000, 30_000, 30_000]);
});

test("full jitter: each delay is a random point between 0 and the step", () => {
  const low = new Backoff({}, () => 0);
  const high = new Backoff({}, () => 0.999999);
  const middle = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0.5);
  assert.equal(low.delay(5), 0);
  assert.ok(high.delay(5) < 6400 && high.delay(5) > 6399);
  assert.equal(middle.delay(3), 400);
  const real = new Backoff();
  const delays = Array.from({ length: 200 }, () => real.delay(4));
  assert.ok(delays.every((d) => d >= 0 && d < 3200));
  assert.ok(new Set(delays).size > 150, "delays differ from one client to the next");
});

test("backoff refuses settings that would not back off", () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: 500, maxMs: 100 }), RangeError);
});

test("MemoryStorage and LocalStorageStorage keep, return and forget strings", () => {
  const web = new Map();
  const fakeLocalStorage = { getItem: (k) => web.get(k) ?? null, setItem: (k, v) => web.set(k, v),
    removeItem: (k) => web.delete(k) };
  for (const storage of [new MemoryStorage(), new LocalStorageStorage(fakeLocalStorage)]) {
    assert.equal(storage.getItem("k"), null);
    storage.setItem("k", "v");
    assert.equal(storage.getItem("k"), "v");
    storage.removeItem("k");
    assert.equal(storage.getItem("k"), null);
  }
  assert.throws(() => new LocalStorageStorage(), /no localStorage/);
});

function token(sub) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256" })}.${part({ sub, exp: 9_999_999_999 })}.signature`;
}

/** A WebSocket stand-in: opens at once and hands each frame sent to `server(frame, socket)`. */
function fakeWebSocket(server) {
  return class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.onopen = this.onclose = this.onerror = this.onmessage = null;
      setTimeout(() => {
        this.readyState = 1;
        this.onopen?.({});
      });
    }
    send(data) {
      server(JSON.parse(data), this);
    }
    reply(frame) {
      setTimeout(() => this.onmessage?.({ data: JSON.stringify(frame) }));
    }
    close(code = 1000) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setTimeout(() => this.onclose?.({ code, reason: "" }));
    }
  };
}

test("a message not acked stays in the storage, and the next client with that storage sends it", async () => {
  // given a client whose server never answers a send
  const storage = new MemoryStorage();
  const silent = fakeWebSocket(() => undefined);
  const first = new ParleyClient({ url: "ws://127.0.0.1:1/", token: token("alice"), WebSocket: silent, storage });
  await first.connect();
  const sending = first.send("d_one", "persist me", { clientMsgId: "m-1" });
  sending.catch(() => undefined);

  // when the app closes before the ack
  await new Promise((resolve) => setTimeout(resolve, 20));
  await first.close();
  await assert.rejects(sending, { name: "ClientClosedError" });

  // then the message is in the storage, under the user's key
  const stored = JSON.parse(storage.getItem("parley:alice:outbox"));
  assert.deepEqual(stored.map((m) => [m.conversationId, m.clientMsgId, m.body.text]), [["d_one", "m-1", "persist me"]]);

  // when a new client starts with the same storage, on a server that acks
  const frames = [];
  const acking = fakeWebSocket((frame, socket) => {
    frames.push(frame);
    if (frame.action === "send") socket.reply({ t: "ack", r: frame.clientMsgId, s: 7, at: 1 });
    if (frame.action === "history") socket.reply({ type: "history", conversationId: frame.conversationId,
      messages: [], hasMore: false, ref: frame.requestId });
  });
  const second = new ParleyClient({ url: "ws://127.0.0.1:1/", token: token("alice"), WebSocket: acking, storage });
  const sent = new Promise((resolve) => second.on("sent", resolve));
  await second.connect();

  // then it sends the message once, with the same clientMsgId, and forgets it once acked
  const { message, ack } = await sent;
  assert.equal(message.clientMsgId, "m-1");
  assert.deepEqual([ack.seq, ack.messageId], [7, "d_one.7"]);
  assert.equal(frames.filter((f) => f.action === "send").length, 1);
  assert.deepEqual(second.pending(), []);
  assert.equal(storage.getItem("parley:alice:outbox"), null);
  await second.close();
});

test("compact and full frames decode to the same message and change", () => {
  const compact = decodeEntry({ t: "msg", c: "d_x", s: 4, f: "alice", at: 10, b: { text: "hi" }, replyTo: 2 });
  const full = decodeEntry({ type: "message", conversationId: "d_x", seq: 4, messageId: "d_x.4", senderId: "alice",
    sentAt: 10, clientMsgId: "c1", body: { text: "hi" }, replyTo: 2 });
  assert.deepEqual({ ...full, clientMsgId: undefined }, { ...compact, clientMsgId: undefined });
  assert.equal(compact.messageId, "d_x.4");
  const change = decodeEntry({ t: "chg", c: "g_y", s: 9, k: "reacted", f: "bob", at: 11, target: 4, emoji: "👍",
    count: 1 });
  assert.deepEqual(change, decodeEntry({ type: "change", conversationId: "g_y", seq: 9, kind: "reacted", by: "bob",
    at: 11, target: 4, emoji: "👍", count: 1 }));
  assert.equal(decodeEntry({ type: "presence", users: [] }), undefined);
  const tombstone = decodeEntry({ t: "msg", c: "d_x", s: 5, f: "alice", at: 12, deleted: true });
  assert.deepEqual([tombstone.deleted, tombstone.text, tombstone.attachments], [true, undefined, []]);
});

test("the user id is read from the token", () => {
  assert.equal(tokenSubject(token("Zoë")), "Zoë");
  assert.equal(tokenSubject("not a token"), undefined);
});

test("in a browser, going offline drops the socket and coming back online reconnects at once", async () => {
  // given a page (a window with online/offline events) and a connected client
  const page = new EventTarget();
  globalThis.window = page;
  try {
    const sockets = [];
    const Socket = fakeWebSocket((frame, socket) => {
      if (frame.action === "history") socket.reply({ type: "history", conversationId: frame.conversationId,
        messages: [], hasMore: false, ref: frame.requestId });
    });
    const Tracked = class extends Socket {
      constructor(url) {
        super(url);
        sockets.push(this);
      }
    };
    const client = new ParleyClient({ url: "ws://127.0.0.1:1/", token: token("alice"), WebSocket: Tracked,
      backoff: { initialMs: 60_000, maxMs: 60_000 } });
    await client.connect();

    // when the browser goes offline, then the socket is closed
    const dropped = new Promise((resolve) => client.once("state", resolve));
    page.dispatchEvent(new Event("offline"));
    assert.equal((await dropped).state, "reconnecting");
    assert.equal(sockets[0].readyState, 3);

    // when it is back online, then the client reconnects at once (not after its minute of backoff)
    const reopened = new Promise((resolve) => client.on("state", (s) => s.state === "open" && resolve(s)));
    page.dispatchEvent(new Event("online"));
    await reopened;
    assert.equal(sockets.length, 2);
    assert.equal(client.stats.reconnects, 1);
    await client.close();
  } finally {
    delete globalThis.window;
  }
});

test("a quiet connection pings; with no pong it is dropped and reopened, though the dead socket never reports closing", async () => {
  // given a server that answers nothing, over a network where a closed socket never reports its close
  const sockets = [];
  const pings = [];
  const Dead = class extends fakeWebSocket((frame) => {
    if (frame.action === "ping") pings.push(frame);
  }) {
    constructor(url) {
      super(url);
      sockets.push(this);
    }
    close() {
      this.readyState = 2; // closing, for ever: no close event
    }
  };
  const hold = setInterval(() => undefined, 1000); // the client's timers do not keep Node running by themselves
  const client = new ParleyClient({ url: "ws://127.0.0.1:1/", token: token("alice"), WebSocket: Dead,
    keepaliveIntervalMs: 40, pongTimeoutMs: 40, backoff: { initialMs: 1, maxMs: 1 } });
  await client.connect();

  // when the connection stays quiet past the keepalive interval and no pong comes
  const reopened = new Promise((resolve) => client.on("state", (s) => s.state === "open" && resolve(s)));

  // then the client pinged, gave the socket up, and opened a new one
  await reopened;
  assert.ok(pings.length >= 1);
  assert.deepEqual(pings[0], { action: "ping" });
  assert.ok(sockets.length >= 2);
  assert.equal(client.stats.reconnects >= 1, true);
  await client.close();
  clearInterval(hold);
});

test("a banned user's handshake (423) ends the client at once: no retry, no new token asked", { timeout: 5000 }, async () => {
  // given a server that refuses every handshake with 423, as $connect does for a banned user
  let opened = 0;
  let tokensAsked = 0;
  class Refused {
    constructor() {
      opened += 1;
      this.readyState = 0;
      this.onopen = this.onclose = this.onerror = this.onmessage = null;
      setTimeout(() => {
        this.readyState = 3;
        this.onerror?.({ message: "Unexpected server response: 423" });
        this.onclose?.({ code: 1006, reason: "" });
      });
    }
    send() {}
    close() {}
  }
  const client = new ParleyClient({ url: "ws://127.0.0.1:1/", WebSocket: Refused,
    token: async () => { tokensAsked += 1; return token("mallory"); } });
  // when it connects / then connect() rejects with the 423, and the client neither retries nor asks again
  await assert.rejects(client.connect(), (error) => error.name === "HandshakeError" && error.banned === true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual([opened, tokensAsked], [1, 1]);
  await client.close();
});
