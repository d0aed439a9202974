#!/usr/bin/env node
// A JS peer for end-to-end encrypted conversations, for tests that drive the SDK from another language (the
// Python<->JS interop test starts it). It connects, attaches @parley/client/e2e, optionally opens or follows a
// conversation and sends texts, and prints what happens as JSON lines on stdout (one object per line, always
// with "event"). Build the SDK first (`npm run build` here; `make install` does it).
//
//   node clients/js/test/e2e-peer.mjs --url WS_URL --token JWT --device-dir DIR [options]
//
//   --url URL             the stack's WebSocket URL (required)
//   --token JWT           a chat token for the peer's user (required)
//   --device-dir DIR      where this device's keys, trusted keys and replay state are kept (one file per key;
//                         created if missing). The same dir again = the same device.
//   --device-id ID        this device's id for a new DIR (default: a random one)
//   --conversation CID    follow this (existing) conversation from its start
//   --direct USER_ID      open (find or create) the e2e direct conversation with USER_ID
//   --group U1,U2,...     create an e2e group with these members
//   --send TEXT           send TEXT into the conversation once ready (repeatable, sent in order)
//   --expect N            exit 0 after N messages (decrypted or failed) from others were printed
//   --timeout SECONDS     exit 1 after this long (default 60)
//   --format compact|full the connection's frame format (default compact)
//
// Lines on stdin, each a JSON object, are commands once ready (send them after "ready"):
//   {"cmd": "send", "text": "...", "conversationId"?: "..."}   -> "sent" (or "sendFailed")
//   {"cmd": "edit", "seq": 3, "text": "...", "conversationId"?: "..."} -> "edited"
//   {"cmd": "safetyNumber", "userId": "..."}                    -> "safetyNumber" with "number" and "qr"
//   {"cmd": "history", "conversationId"?: "..."}                -> "history" with "entries" (opened)
//   {"cmd": "quit"}                                             -> exits 0 (so does the end of stdin)
//
// Lines on stdout:
//   {"event": "ready", "userId", "deviceId", "identityKey", "conversationId"?}   keys published, conversation set
//   {"event": "message", "conversationId", "seq", "senderId", "text"?, "files"?, "clientMsgId"?}  opened
//   {"event": "edit", "conversationId", "seq", "target", "by", "text"?}                           opened edit
//   {"event": "error", "conversationId", "seq", "senderId", "code", "error"}   an entry that did not open
//                                                                              (code: e2e_tampered, ...)
//   {"event": "sent", "conversationId", "seq", "clientMsgId"}  /  {"event": "sendFailed", "code", "error"}
//   {"event": "edited", "conversationId", "seq", "target"}    an edit of ours was stored
//   {"event": "history", "conversationId", "entries": [{"seq", "type", "text"?, "code"?}]}  opened history
//   {"event": "keyChange", "userId", "added", "removed", "changed"}
//   {"event": "safetyNumber", "userId", "number", "qr"}
//   {"event": "failure", "error"}   the peer itself failed (then it exits 1)
// Nothing else is printed on stdout; diagnostics go to stderr.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { ParleyClient } from "../dist/index.js";
import { enableE2E } from "../dist/e2e.js";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string" },
    "device-dir": { type: "string" },
    "device-id": { type: "string" },
    conversation: { type: "string" },
    direct: { type: "string" },
    group: { type: "string" },
    send: { type: "string", multiple: true },
    expect: { type: "string" },
    timeout: { type: "string" },
    format: { type: "string" },
  },
});

const print = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);

/** A Storage kept in files of a directory, so a second run with the same dir is the same device. */
class DirectoryStorage {
  constructor(dir) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }
  path(key) {
    return join(this.dir, encodeURIComponent(key));
  }
  getItem(key) {
    try {
      return readFileSync(this.path(key), "utf8");
    } catch {
      return null;
    }
  }
  setItem(key, value) {
    writeFileSync(this.path(key), value, { mode: 0o600 });
  }
  removeItem(key) {
    rmSync(this.path(key), { force: true });
  }
}

function fail(error) {
  print("failure", { error: String(error?.stack ?? error) });
  process.exit(1);
}

async function main() {
  if (!values.url || !values.token || !values["device-dir"]) {
    throw new Error("--url, --token and --device-dir are required (see the top of e2e-peer.mjs)");
  }
  const storage = new DirectoryStorage(values["device-dir"]);
  const client = new ParleyClient({ url: values.url, token: values.token, WebSocket, storage,
    format: values.format ?? "compact", backoff: { initialMs: 50, maxMs: 500 } });
  const options = { storage };
  if (values["device-id"]) options.deviceId = values["device-id"];
  const e2e = await enableE2E(client, options);
  const expect = values.expect === undefined ? undefined : Number(values.expect);
  let received = 0;
  const counted = () => {
    received += 1;
    if (expect !== undefined && received >= expect) void client.close().then(() => process.exit(0));
  };

  client.on("message", (m) => {
    if (m.senderId === client.userId && m.envelope === undefined) return;
    if (m.e2eError) {
      print("error", { conversationId: m.conversationId, seq: m.seq, senderId: m.senderId, code: m.e2eError.code,
        error: m.e2eError.message });
    } else {
      const line = { conversationId: m.conversationId, seq: m.seq, senderId: m.senderId };
      if (m.text !== undefined) line.text = m.text;
      if (m.files?.length) line.files = m.files;
      if (m.clientMsgId !== undefined) line.clientMsgId = m.clientMsgId;
      print("message", line);
    }
    counted();
  });
  client.on("change", (c) => {
    if (!c.envelope) return;
    if (c.e2eError) {
      print("error", { conversationId: c.conversationId, seq: c.seq, senderId: c.by, code: c.e2eError.code,
        error: c.e2eError.message });
    } else {
      print("edit", { conversationId: c.conversationId, seq: c.seq, target: c.target, by: c.by, text: c.text });
    }
  });
  client.on("sendFailed", ({ error }) => print("sendFailed", { code: error.code, error: error.message }));
  e2e.on("keyChange", (change) => print("keyChange", change));
  e2e.on("error", (error) => process.stderr.write(`e2e: ${String(error)}\n`));

  await client.connect();
  await e2e.published();
  let conversationId = values.conversation;
  if (values.direct) conversationId = (await client.openDirect(values.direct, { e2e: true })).conversationId;
  else if (values.group) {
    conversationId = (await client.createGroup(values.group.split(","), { e2e: true })).conversationId;
  } else if (conversationId) {
    client.track(conversationId, 0);
    await client.catchUp(conversationId);
  }
  const ready = { userId: client.userId, deviceId: e2e.deviceId, identityKey: e2e.identityKey };
  if (conversationId) ready.conversationId = conversationId;
  print("ready", ready);

  const send = async (cid, text) => {
    const ack = await client.send(cid, text);
    print("sent", { conversationId: cid, seq: ack.seq, clientMsgId: ack.clientMsgId });
  };
  for (const text of values.send ?? []) await send(conversationId, text);

  const commands = createInterface({ input: process.stdin });
  commands.on("line", (line) => {
    if (!line.trim()) return;
    void (async () => {
      const command = JSON.parse(line);
      const cid = command.conversationId ?? conversationId;
      if (command.cmd === "send") await send(cid, command.text);
      else if (command.cmd === "edit") {
        const frame = await client.edit(cid, command.seq, command.text);
        print("edited", { conversationId: cid, seq: frame.seq, target: command.seq });
      } else if (command.cmd === "safetyNumber") {
        print("safetyNumber", { userId: command.userId, number: await e2e.safetyNumber(command.userId),
          qr: await e2e.safetyQr(command.userId) });
      } else if (command.cmd === "history") {
        const page = await client.history(cid, { limit: 100 });
        print("history", { conversationId: cid, entries: page.entries.map((e) => ({ seq: e.seq, type: e.type,
          text: e.text, code: e.e2eError?.code })) });
      } else if (command.cmd === "quit") {
        await client.close();
        process.exit(0);
      } else throw new Error(`unknown command: ${line}`);
    })().catch((error) => print("sendFailed", { code: error.code, error: String(error) }));
  });
  commands.on("close", () => {
    if (expect === undefined) void client.close().then(() => process.exit(0));
  });
  setTimeout(() => fail(new Error("timed out")), Number(values.timeout ?? 60) * 1000).unref();
  // keep running until expect, quit, or the timeout
  await new Promise(() => undefined);
}

main().catch(fail);
