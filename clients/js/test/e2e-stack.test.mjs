// @parley/client/e2e against the real local stack over real sockets (run by tests/e2e/test_js_sdk.py: `make test`).
// Each scenario: given / when / then, with fresh users and fresh devices.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { MemoryStorage } from "../dist/index.js";
import { readFileSync } from "node:fs";
import {
  NoKeyError, ReplayedMessageError, TamperedMessageError, UnknownDeviceError, WrongKeyError, enableE2E,
  withoutMetadata,
} from "../dist/e2e.js";
import {
  clientFor, collect, eventually, next, skipWithoutStack, stackConfig, trackedWebSocket, user,
} from "./support.mjs";

const open = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

/** A connected client of `userId` with its e2e session, its keys published. */
async function device(userId, options = {}) {
  const { e2eOptions = {}, ...clientOptions } = options;
  const storage = clientOptions.storage ?? new MemoryStorage();
  const client = clientFor(userId, { storage, ...clientOptions });
  open.push(client);
  const e2e = await enableE2E(client, { storage, ...e2eOptions });
  await client.connect();
  await e2e.published();
  return { client, e2e, storage };
}

/** The next message of `client` (opened, or failed with e2eError) in `conversationId`. */
const nextMessage = (client, conversationId) => next(client, "message", (m) => m.conversationId === conversationId);

/** A frame hook that rewrites the next incoming message of `conversationId` once. */
function rewriteNextMessage(tracked, conversationId, rewrite) {
  tracked.hooks.incoming = (socket, frame) => {
    const body = frame.b ?? frame.body;
    if ((frame.t === "msg" || frame.type === "message") && (frame.c ?? frame.conversationId) === conversationId
        && body?.e2e) {
      tracked.hooks.incoming = undefined;
      rewrite(frame, body.e2e);
      socket.emit("message", Buffer.from(JSON.stringify(frame)), false);
      return false;
    }
    return true;
  };
}

describe("end-to-end encrypted conversations in the TypeScript SDK, against the local stack", { skip: skipWithoutStack },
  () => {
    test("a text in an e2e direct conversation reaches the other member as text, and the server holds only "
      + "ciphertext", async () => {
      // given alice and bob, each on one device, in their e2e direct conversation
      const [aliceId, bobId] = [user("alice"), user("bob")];
      const alice = await device(aliceId);
      const bob = await device(bobId, { format: "full" });
      const conversation = await alice.client.openDirect(bobId, { e2e: true });
      assert.equal(conversation.e2e, true);
      await bob.client.openDirect(aliceId, { e2e: true });
      const arrived = nextMessage(bob.client, conversation.conversationId);

      // when alice sends a text as in any conversation
      const ack = await alice.client.send(conversation.conversationId, "meet at the marker café 7f3a");

      // then bob reads it as text, from alice, at the acked seq
      const message = await arrived;
      assert.equal(message.text, "meet at the marker café 7f3a");
      assert.equal(message.senderId, aliceId);
      assert.equal(message.seq, ack.seq);
      assert.equal(message.e2eError, undefined);
      // and what the server stored and serves is an envelope, without the text
      const plain = clientFor(aliceId); // no e2e layer: entries as the server serves them
      open.push(plain);
      await plain.connect();
      const raw = (await plain.history(conversation.conversationId)).entries.find((e) => e.seq === ack.seq);
      assert.equal(raw.text, undefined);
      assert.equal(raw.envelope.v, 1);
      assert.ok(!JSON.stringify(raw).includes("marker"));
      // and alice's own device reads its message back from history
      const mine = (await alice.client.history(conversation.conversationId)).entries.find((e) => e.seq === ack.seq);
      assert.equal(mine.text, "meet at the marker café 7f3a");
    });

    test("a group's members each read a message on every one of their devices, and an edit", async () => {
      // given alice (two devices), bob and carol in an e2e group
      const [aliceId, bobId, carolId] = [user("alice"), user("bob"), user("carol")];
      const alicePhone = await device(aliceId);
      const aliceLaptop = await device(aliceId);
      const bob = await device(bobId);
      const carol = await device(carolId);
      const group = await alicePhone.client.createGroup([bobId, carolId], { e2e: true, name: "e2e" });
      assert.equal(group.e2e, true);
      for (const d of [aliceLaptop, bob, carol]) d.client.track(group.conversationId, 0);
      const arrivals = [aliceLaptop, bob, carol].map((d) => nextMessage(d.client, group.conversationId));

      // when alice sends from her phone, then edits it
      const ack = await alicePhone.client.send(group.conversationId, "hello all");
      const texts = (await Promise.all(arrivals)).map((m) => m.text);
      const edits = [bob, carol].map((d) => next(d.client, "change", (c) => c.kind === "edited"));
      await alicePhone.client.edit(group.conversationId, ack.seq, "hello everyone");

      // then her laptop, bob and carol all read it, and then the edit's new text
      assert.deepEqual(texts, ["hello all", "hello all", "hello all"]);
      for (const change of await Promise.all(edits)) {
        assert.equal(change.text, "hello everyone");
        assert.equal(change.target, ack.seq);
        assert.equal(change.e2eError, undefined);
      }
    });

    test("an encrypted photo is uploaded as ciphertext and read back by the other member with its preview",
      async () => {
        // given alice and bob in an e2e direct conversation
        const [aliceId, bobId] = [user("alice"), user("bob")];
        const alice = await device(aliceId);
        const bob = await device(bobId);
        const { conversationId } = await alice.client.openDirect(bobId, { e2e: true });
        await bob.client.openDirect(aliceId, { e2e: true });
        const photo = new Uint8Array(readFileSync(stackConfig.photo)); // a JPEG with a GPS location in its EXIF
        const arrived = nextMessage(bob.client, conversationId);

        // when alice uploads it encrypted, with her own preview, and sends it
        const attachment = await alice.e2e.uploadFile(conversationId, photo, { contentType: "image/jpeg", width: 64,
          height: 64, preview: "data:image/jpeg;base64,AAAA" });
        await alice.client.send(conversationId, "a photo", { attachments: [attachment] });

        // then bob gets the file's real type, size and preview inside the message, and the photo back, without its
        // location (the EXIF segment was removed on alice's device, before encryption)
        const message = await arrived;
        assert.equal(message.files.length, 1);
        const [file] = message.files;
        const sent = withoutMetadata(photo, "image/jpeg");
        assert.ok(sent.length < photo.length);
        assert.equal(file.type, "image/jpeg");
        assert.equal(file.size, sent.length);
        assert.equal(file.preview, "data:image/jpeg;base64,AAAA");
        assert.equal(message.attachments[0].contentType, "application/octet-stream");
        const received = await bob.e2e.downloadFile(conversationId, file);
        assert.deepEqual(received, sent);
        assert.ok(!Buffer.from(received).includes("Exif"));
        // and what storage holds is the ciphertext: nonce, sealed file and tag, never the photo's bytes
        const { attachments: [served] } = await bob.client.attachmentUrls(conversationId, [file.key]);
        const stored = new Uint8Array(await (await fetch(served.url)).arrayBuffer());
        assert.equal(stored.length, sent.length + 24 + 16);
        assert.ok(!Buffer.from(stored).includes(Buffer.from(sent.subarray(2, 64))));
      });

    test("a device added later reads what is sent after it, and the others get a key-change notice", async () => {
      // given alice and bob in an e2e direct conversation, bob having seen alice's one device
      const [aliceId, bobId] = [user("alice"), user("bob")];
      const alice = await device(aliceId);
      const bob = await device(bobId);
      const { conversationId } = await alice.client.openDirect(bobId, { e2e: true });
      await bob.client.openDirect(aliceId, { e2e: true });
      await bob.client.send(conversationId, "before");
      const notice = next(bob.e2e, "keyChange", (change) => change.userId === aliceId);

      // when alice adds a second device, and bob then sends
      const laptop = await device(aliceId);
      const seen = collect(laptop.client, "message");
      laptop.client.track(conversationId, 0);
      const change = await notice;
      const ack = await bob.client.send(conversationId, "after the laptop");

      // then bob was told alice added a device, and the laptop reads the new message
      assert.deepEqual(change.added, [laptop.e2e.deviceId]);
      await eventually(() => seen.some((m) => m.seq === ack.seq));
      assert.equal(seen.find((m) => m.seq === ack.seq).text, "after the laptop");
      // and the earlier one, sealed before the laptop existed, is a NoKeyError, not text
      const before = (await laptop.client.history(conversationId)).entries.find((e) => e.seq === ack.seq - 1);
      assert.ok(before.e2eError instanceof NoKeyError);
      assert.equal(before.text, undefined);
    });

    test("a device's keys live in the client's storage: the app restarted with it is the same device", async () => {
      // given bob's device, with its storage, which read alice's message
      const [aliceId, bobId] = [user("alice"), user("bob")];
      const alice = await device(aliceId);
      const storage = new MemoryStorage();
      const client = clientFor(bobId, { storage });
      const e2e = await enableE2E(client); // no storage given: the client's
      await client.connect();
      await e2e.published();
      const { conversationId } = await alice.client.openDirect(bobId, { e2e: true });
      const ack = await alice.client.send(conversationId, "read me after a restart");
      const deviceId = e2e.deviceId;
      await client.close();

      // when the app starts again with the same storage
      const again = clientFor(bobId, { storage });
      open.push(again);
      const restarted = await enableE2E(again);
      await again.connect();
      await restarted.published();

      // then it is the same device, with the same keys, and it reads what was sealed for it before
      assert.equal(restarted.deviceId, deviceId);
      assert.equal(restarted.identityKey, e2e.identityKey);
      const entry = (await again.history(conversationId)).entries.find((e) => e.seq === ack.seq);
      assert.equal(entry.text, "read me after a restart");
    });

    test("the prekey rotates after 7 days, late messages still open, and 30 days later the old prekey is gone",
      async () => {
        // given bob, whose clock the test moves, and a message alice sealed to his first prekey
        const [aliceId, bobId] = [user("alice"), user("bob")];
        let now = Date.now();
        const alice = await device(aliceId);
        const bob = await device(bobId, { e2eOptions: { now: () => now } });
        const { conversationId } = await alice.client.openDirect(bobId, { e2e: true });
        await bob.client.openDirect(aliceId, { e2e: true });
        const early = await alice.client.send(conversationId, "sealed to prekey 1");
        const opened = async () => (await bob.client.history(conversationId)).entries.find((e) => e.seq === early.seq);

        // when 8 days pass and bob reconnects
        now += 8 * 24 * 3600 * 1000;
        bob.client.reconnectNow();
        await eventually(async () => {
          const keys = await alice.client.request("getKeys", { userIds: [bobId] });
          return keys.users[0].devices[0].prekey.id === 2;
        });
        // then he published prekey 2, and still reads the message sealed to prekey 1
        assert.equal((await opened()).text, "sealed to prekey 1");

        // when 31 more days pass and bob reconnects again
        now += 31 * 24 * 3600 * 1000;
        bob.client.reconnectNow();
        await eventually(async () => {
          const keys = await alice.client.request("getKeys", { userIds: [bobId] });
          return keys.users[0].devices[0].prekey.id === 3;
        });
        // then prekey 1 was deleted: the old message no longer opens (forward secrecy), as a WrongKeyError
        const late = await opened();
        assert.ok(late.e2eError instanceof WrongKeyError);
        assert.equal(late.text, undefined);
      });

    test("both sides compute the same safety number and QR payload, and it changes with a new device", async () => {
      // given alice and bob with their devices published
      const [aliceId, bobId] = [user("alice"), user("bob")];
      const alice = await device(aliceId);
      const bob = await device(bobId);
      // when each computes the safety number of the pair
      const [fromAlice, fromBob] = [await alice.e2e.safetyNumber(bobId), await bob.e2e.safetyNumber(aliceId)];
      // then they match, twelve groups of five digits, and so do the QR payloads
      assert.equal(fromAlice, fromBob);
      assert.match(fromAlice, /^\d{5}( \d{5}){11}$/);
      assert.equal(await alice.e2e.safetyQr(bobId), await bob.e2e.safetyQr(aliceId));
      // and a new device of bob's changes it
      await device(bobId);
      assert.notEqual(await alice.e2e.safetyNumber(bobId), fromAlice);
    });

    describe("failures are typed errors, never text", () => {
      async function pair(bobOptions = {}) {
        const [aliceId, bobId] = [user("alice"), user("bob")];
        const alice = await device(aliceId);
        const bob = await device(bobId, bobOptions);
        const { conversationId } = await alice.client.openDirect(bobId, { e2e: true });
        await bob.client.openDirect(aliceId, { e2e: true });
        return { alice, bob, aliceId, bobId, conversationId };
      }

      test("a ciphertext changed on the way is e2e_tampered", async () => {
        // given bob, whose incoming message has one character of its ciphertext changed
        const tracked = trackedWebSocket();
        const { alice, bob, conversationId } = await pair({ WebSocket: tracked.WebSocket });
        rewriteNextMessage(tracked, conversationId, (_frame, envelope) => {
          envelope.c = (envelope.c[0] === "A" ? "B" : "A") + envelope.c.slice(1);
        });
        const failures = collect(bob.e2e, "decryptError");
        const arrived = nextMessage(bob.client, conversationId);
        // when alice sends
        await alice.client.send(conversationId, "secret words");
        // then bob gets the message as a TamperedMessageError, without text, and a decryptError event
        const message = await arrived;
        assert.ok(message.e2eError instanceof TamperedMessageError);
        assert.equal(message.e2eError.code, "e2e_tampered");
        assert.equal(message.text, undefined);
        assert.equal(failures.length, 1);
      });

      test("a key wrapped for another device is e2e_wrong_key", async () => {
        // given bob, whose incoming message carries alice's own wrapped key in bob's entry
        const tracked = trackedWebSocket();
        const { alice, bob, bobId, conversationId } = await pair({ WebSocket: tracked.WebSocket });
        rewriteNextMessage(tracked, conversationId, (_frame, envelope) => {
          const mine = envelope.k.find((k) => k.u === bobId);
          const other = envelope.k.find((k) => k.u !== bobId);
          Object.assign(mine, { w: other.w, n: other.n });
        });
        const arrived = nextMessage(bob.client, conversationId);
        // when alice sends
        await alice.client.send(conversationId, "secret words");
        // then bob gets a WrongKeyError and no text
        const message = await arrived;
        assert.ok(message.e2eError instanceof WrongKeyError);
        assert.equal(message.text, undefined);
      });

      test("the same envelope delivered again at another seq is e2e_replayed", async () => {
        // given bob, who read alice's message
        const tracked = trackedWebSocket();
        const { alice, bob, conversationId } = await pair({ WebSocket: tracked.WebSocket });
        const first = nextMessage(bob.client, conversationId);
        const ack = await alice.client.send(conversationId, "pay 10 euros");
        assert.equal((await first).text, "pay 10 euros");
        // when the same envelope arrives again as the next message (a replay by the server)
        const forged = { t: "msg", c: conversationId, s: ack.seq + 1, f: alice.client.userId, at: Date.now(),
          b: { e2e: (await first).envelope } };
        const replayed = nextMessage(bob.client, conversationId);
        tracked.sockets[tracked.sockets.length - 1].emit("message", Buffer.from(JSON.stringify(forged)), false);
        // then bob refuses it with a ReplayedMessageError, no text
        const message = await replayed;
        assert.equal(message.seq, ack.seq + 1);
        assert.ok(message.e2eError instanceof ReplayedMessageError);
        assert.equal(message.text, undefined);
      });

      test("a message from a device removed from its user is e2e_unknown_device", async () => {
        // given alice's device, removed from the directory (by alice on another device), that sends anyway
        const { alice, bob, aliceId, conversationId } = await pair();
        const other = await device(aliceId);
        const notice = next(bob.e2e, "keyChange", (c) => c.userId === aliceId && c.removed.length === 1);
        await other.e2e.removeDevice(alice.e2e.deviceId);
        await notice;
        const arrived = nextMessage(bob.client, conversationId);
        // when the removed device sends
        await alice.client.send(conversationId, "from a stolen phone");
        // then bob refuses it with an UnknownDeviceError, no text
        const message = await arrived;
        assert.ok(message.e2eError instanceof UnknownDeviceError);
        assert.equal(message.e2eError.code, "e2e_unknown_device");
        assert.equal(message.text, undefined);
      });
    });

    test("with the e2e layer attached, a plain conversation still carries text, once the server said it is plain",
      async () => {
        // given alice with the e2e layer and bob without it, in their plain direct conversation
        const [aliceId, bobId] = [user("alice"), user("bob")];
        const alice = await device(aliceId);
        const bob = clientFor(bobId);
        open.push(bob);
        await bob.connect();
        const { conversationId } = await bob.openDirect(aliceId);
        const arrived = nextMessage(bob, conversationId);
        // when alice sends into it, having never seen the conversation's frame
        await alice.client.send(conversationId, "plain hello");
        // then bob reads it as the plain text it is
        const message = await arrived;
        assert.equal(message.text, "plain hello");
        assert.equal(message.envelope, undefined);
      });

    test("a plain text send into an e2e conversation without the e2e layer is refused e2e_required", async () => {
      // given bob without the e2e layer, in alice's e2e direct conversation
      const [aliceId, bobId] = [user("alice"), user("bob")];
      const alice = await device(aliceId);
      const plain = clientFor(bobId);
      open.push(plain);
      await plain.connect();
      const { conversationId } = await alice.client.openDirect(bobId, { e2e: true });
      // when bob sends text into it
      // then the server refuses it, and nothing was stored
      await assert.rejects(plain.send(conversationId, "plain"), (error) => error.code === "e2e_required");
      await eventually(async () => (await alice.client.history(conversationId)).entries.length === 0);
    });
  });
