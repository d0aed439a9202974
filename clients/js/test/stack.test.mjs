// The SDK against the real local stack over real sockets (run by tests/e2e/test_js_sdk.py: `make test`).
// Each scenario: given / when / then, with fresh users.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, describe, test } from "node:test";
import { MemoryStorage, ParleyError } from "../dist/index.js";
import {
  clientFor, collect, connected, eventually, gate, mintToken, next, skipWithoutStack, stackConfig,
  trackedWebSocket, user,
} from "./support.mjs";

const open = [];
async function online(userId, options) {
  const client = await connected(userId, options);
  open.push(client);
  return client;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

describe("the TypeScript SDK against the local stack", { skip: skipWithoutStack }, () => {
  test("a message is acked for the sender and received by the other member, in both frame formats", async () => {
    // given alice (compact frames) and bob (full frames) in a direct conversation
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const bob = await online(bobId, { format: "full" });
    const { conversationId } = await alice.openDirect(bobId);
    const arrived = next(bob, "message");

    // when alice sends a message
    const ack = await alice.send(conversationId, "hi bob");

    // then alice has its seq and id, and bob receives it with the same seq, id and sender
    assert.equal(ack.conversationId, conversationId);
    assert.equal(ack.messageId, `${conversationId}.${ack.seq}`);
    const message = await arrived;
    assert.equal(message.text, "hi bob");
    assert.equal(message.seq, ack.seq);
    assert.equal(message.messageId, ack.messageId);
    assert.equal(message.senderId, aliceId);
    assert.equal(message.sentAt, ack.sentAt);
    assert.deepEqual(alice.pending(), []);
  });

  test("a send whose ack was lost with the socket is resent once the client reconnects, and stored once", async () => {
    // given alice, whose connection drops right after the server stored her message (its ack never arrives)
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const tracked = trackedWebSocket();
    const alice = await online(aliceId, { WebSocket: tracked.WebSocket });
    const bob = await online(bobId);
    const { conversationId } = await alice.openDirect(bobId);
    await bob.history(conversationId); // bob follows the conversation
    const received = collect(bob, "message");
    let dropped = 0;
    tracked.hooks.incoming = (socket, frame) => {
      if (frame.t === "ack" && dropped === 0) {
        dropped += 1;
        socket.terminate();
        return false;
      }
      return true;
    };

    // when alice sends
    const ack = await alice.send(conversationId, "only once");

    // then she got the ack on a later connection, and the message exists once: in history and for bob
    assert.equal(dropped, 1);
    assert.ok(tracked.sockets.length >= 2, "alice reconnected");
    assert.ok(alice.stats.reconnects >= 1);
    const page = await bob.history(conversationId, { after: 0 });
    assert.deepEqual(page.entries.map((e) => [e.seq, e.text]), [[ack.seq, "only once"]]);
    await eventually(() => received.length >= 1);
    await bob.ping(); // anything redelivered by the resend has arrived by now
    assert.deepEqual(received.map((m) => m.seq), [ack.seq]);
    assert.deepEqual(alice.pending(), []);
  });

  test("messages sent while offline wait in the persisted queue and go out once, in order, on reconnect", async () => {
    // given alice offline: her connection dropped and her token provider holds the reconnect back
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const storage = new MemoryStorage();
    const offline = gate();
    let calls = 0;
    const alice = await online(aliceId, {
      storage,
      token: async () => {
        calls += 1;
        if (calls > 1) await offline.opened;
        return mintToken(aliceId);
      },
    });
    const bob = await online(bobId);
    const { conversationId } = await alice.openDirect(bobId);
    await bob.history(conversationId);
    const received = collect(bob, "message");
    const reconnecting = next(alice, "state", (s) => s.state === "reconnecting");
    alice.reconnectNow();
    await reconnecting;

    // when she sends two messages
    const sends = [alice.send(conversationId, "one"), alice.send(conversationId, "two")];

    // then they wait in the queue, kept in her storage
    assert.deepEqual(alice.pending().map((m) => m.body.text), ["one", "two"]);
    await eventually(() => storage.getItem(`parley:${aliceId}:outbox`) !== null);
    assert.deepEqual(JSON.parse(storage.getItem(`parley:${aliceId}:outbox`)).map((m) => m.body.text), ["one", "two"]);

    // when she comes back online
    offline.open();
    const acks = await Promise.all(sends);

    // then both were stored once, in order, bob got each once, and the queue is empty
    assert.equal(acks[1].seq, acks[0].seq + 1);
    await eventually(() => received.length >= 2);
    await bob.ping();
    assert.deepEqual(received.map((m) => m.text), ["one", "two"]);
    assert.deepEqual(alice.pending(), []);
    assert.equal(storage.getItem(`parley:${aliceId}:outbox`), null);
  });

  test("after a reconnect the client catches up the messages and the changes sent while it was away", async () => {
    // given bob following a conversation with alice, then offline
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const away = gate();
    let calls = 0;
    const alice = await online(aliceId);
    const bob = await online(bobId, {
      token: async () => {
        calls += 1;
        if (calls > 1) await away.opened;
        return mintToken(bobId);
      },
    });
    const { conversationId } = await alice.openDirect(bobId);
    const first = await alice.send(conversationId, "before");
    await bob.history(conversationId); // follows it after "before"
    const reconnecting = next(bob, "state", (s) => s.state === "reconnecting");
    bob.reconnectNow();
    await reconnecting;

    // when alice sends, edits and reacts while he is away
    const one = await alice.send(conversationId, "while away");
    const edit = await alice.edit(conversationId, first.seq, "before (edited)");
    const two = await alice.send(conversationId, "still away");
    const react = await alice.react(conversationId, two.seq, "👍");
    const messages = collect(bob, "message");
    const changes = collect(bob, "change");
    const order = [];
    bob.on("message", (m) => order.push(m.seq));
    bob.on("change", (c) => order.push(c.seq));
    away.open();

    // then, reconnected, he receives all of it in seq order, each once
    await eventually(() => order.length >= 4);
    await bob.ping();
    assert.deepEqual(order, [one.seq, edit.seq, two.seq, react.seq]);
    assert.deepEqual(messages.map((m) => m.text), ["while away", "still away"]);
    assert.deepEqual(changes.map((c) => [c.kind, c.target]), [["edited", first.seq], ["reacted", two.seq]]);
    assert.equal(changes[0].text, "before (edited)");
    assert.equal(changes[1].emoji, "👍");
    assert.ok(bob.stats.recovered >= 4);
    assert.equal(bob.lastSeq(conversationId), react.seq);
  });

  test("a paused client misses nothing: on resume it catches up what was sent meanwhile", async () => {
    // given bob following a conversation with alice
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const bob = await online(bobId);
    const { conversationId } = await alice.openDirect(bobId);
    await bob.history(conversationId);

    // when bob pauses (the app went to the background) and alice writes meanwhile
    const paused = next(bob, "state", (s) => s.state === "paused");
    bob.pause();
    await paused;
    const ack = await alice.send(conversationId, "while you were out");
    const asked = bob.presence([aliceId]); // waits for the connection
    assert.equal(bob.state, "paused");

    // then on resume he is connected again, receives the message, and his request is answered
    const arrived = next(bob, "message");
    bob.resume();
    const message = await arrived;
    assert.deepEqual([message.seq, message.text], [ack.seq, "while you were out"]);
    assert.equal(bob.state, "open");
    assert.deepEqual((await asked).map((p) => p.status), ["online"]);
  });

  test("an expired token is refreshed through the provider when the handshake is refused", async () => {
    // given alice connected with a token that lives 2 seconds (the stack allows no leeway here)
    const aliceId = user("alice");
    const reasons = [];
    let current = mintToken(aliceId, { ttlSeconds: 2 });
    const alice = await online(aliceId, {
      token: ({ reason }) => {
        reasons.push(reason);
        if (reason === "refused") current = mintToken(aliceId);
        return current;
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 3100)); // the token has expired

    // when her connection drops
    const refused = next(alice, "state", (s) => s.state === "reconnecting" && s.error?.status === 403);
    const reopened = next(alice, "state", (s) => s.state === "open", 10_000);
    alice.reconnectNow();

    // then the handshake with the expired token is refused (403), the provider is asked for a new one,
    // and she is connected again
    await refused;
    await reopened;
    assert.deepEqual(reasons.slice(0, 2), ["connect", "reconnect"]);
    assert.ok(reasons.includes("refused"));
    assert.ok((await alice.ping()) >= 0);
  });

  test("a client given up by the server (403 every time) rejects connect with the handshake status", async () => {
    // given a token whose signature is wrong
    const client = clientFor("mallory", { token: mintToken("mallory").replace(/\.[^.]+$/, ".bad-signature"),
      maxAuthFailures: 2 });
    // when it connects, then it gives up with HandshakeError 403
    await assert.rejects(client.connect(), (error) => error.name === "HandshakeError" && error.status === 403);
    assert.equal(client.state, "closed");
  });

  test("typing is relayed, and repeated keystrokes within the server's interval are not sent", async () => {
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const bob = await online(bobId);
    const { conversationId } = await alice.openDirect(bobId);
    const typing = next(bob, "typing");

    // when alice types three keystrokes in a row
    const sent = [alice.typing(conversationId), alice.typing(conversationId), alice.typing(conversationId)];

    // then one indicator is sent, and bob sees alice typing
    assert.deepEqual(sent, [true, false, false]);
    const frame = await typing;
    assert.deepEqual([frame.conversationId, frame.userId], [conversationId, aliceId]);
  });

  test("presence: a contact is online, shows offline while invisible, and online again", async () => {
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const bob = await online(bobId);
    await alice.openDirect(bobId);
    assert.deepEqual((await bob.presence([aliceId])).map((p) => [p.userId, p.status]), [[aliceId, "online"]]);

    // when alice goes invisible
    const wentOffline = next(bob, "presence", (p) => p.userId === aliceId && p.status === "offline");
    const preferences = await alice.setInvisible(true);

    // then bob sees her offline, pushed and asked
    assert.equal(preferences.visibility, "invisible");
    await wentOffline;
    assert.equal((await bob.presence([aliceId]))[0].status, "offline");

    // when she becomes visible again, then bob sees her online
    const back = next(bob, "presence", (p) => p.userId === aliceId && p.status === "online");
    await alice.setInvisible(false);
    await back;
    assert.equal((await alice.getPreferences()).visibility, "visible");
  });

  test("unread counts, and a read receipt for the sender", async () => {
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const bob = await online(bobId);
    const { conversationId } = await alice.openDirect(bobId);
    await alice.send(conversationId, "one");
    const last = await alice.send(conversationId, "two");

    // then bob has two unread messages
    const counts = await bob.unreadCounts();
    const entry = counts.conversations.find((c) => c.conversationId === conversationId);
    assert.equal(entry.unread, 2);
    assert.ok(counts.total >= 2 && counts.badge >= 1);

    // when bob reads up to the last one
    const receipt = next(alice, "receipt");
    const unreadEvent = next(bob, "unread");
    const unread = await bob.read(conversationId, last.seq);

    // then nothing is unread for him, and alice gets a receipt up to that seq
    assert.equal(unread.unread, 0);
    assert.equal((await unreadEvent).lastReadSeq, last.seq);
    const got = await receipt;
    assert.deepEqual([got.conversationId, got.userId, got.seq], [conversationId, bobId, last.seq]);
  });

  test("edit, react, unreact and delete reach the other member as changes, and history shows the result", async () => {
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const bob = await online(bobId);
    const { conversationId } = await alice.openDirect(bobId);
    await bob.history(conversationId);
    const sent = await alice.send(conversationId, "tpyo");
    const reply = await bob.send(conversationId, "what?", { replyTo: sent.seq, mentions: [aliceId] });
    const aliceChanges = collect(alice, "change");
    const bobChanges = collect(bob, "change");

    // when alice edits her message and bob reacts to it, then takes it back
    const edited = await alice.edit(conversationId, sent.seq, "typo");
    await bob.react(conversationId, sent.seq, "🎉");
    const unreacted = await bob.unreact(conversationId, sent.seq, "🎉");
    assert.equal(unreacted.count, 0);
    // and alice deletes it
    const deleted = await alice.delete(conversationId, sent.seq);

    // then each side got the other's changes, in order
    await eventually(() => bobChanges.length >= 2 && aliceChanges.length >= 2);
    assert.deepEqual(bobChanges.map((c) => [c.kind, c.target, c.seq]),
      [["edited", sent.seq, edited.seq], ["deleted", sent.seq, deleted.seq]]);
    assert.deepEqual(aliceChanges.map((c) => [c.kind, c.emoji]), [["reacted", "🎉"], ["unreacted", "🎉"]]);
    // and history shows a tombstone, and the reply quoting it as deleted
    const page = await bob.history(conversationId, { limit: 10 });
    const [tombstone, replyMessage] = page.entries.filter((e) => e.type === "message");
    assert.equal(tombstone.deleted, true);
    assert.equal(tombstone.text, undefined);
    assert.equal(replyMessage.seq, reply.seq);
    assert.equal(replyMessage.replyTo, sent.seq);
    assert.equal(replyMessage.quote.deleted, true);
    assert.deepEqual(replyMessage.mentions, [aliceId]);
  });

  test("a group: created, messaged, renamed and extended, each member told", async () => {
    const [aliceId, bobId, carolId, daveId] = [user("alice"), user("bob"), user("carol"), user("dave")];
    const alice = await online(aliceId);
    const bob = await online(bobId);
    const dave = await online(daveId);

    // when alice creates a group with bob and carol and writes in it
    const group = await alice.createGroup([bobId, carolId], { name: "Book club" });
    assert.equal(group.kind, "group");
    assert.deepEqual([...group.members].sort(), [aliceId, bobId, carolId].sort());
    assert.equal(group.roles[aliceId], "owner");
    const hello = next(bob, "message");
    const ack = await alice.send(group.conversationId, "welcome");

    // then bob receives the message
    assert.equal((await hello).seq, ack.seq);

    // when alice renames the group and adds dave
    const renamed = next(bob, "change", (c) => c.kind === "renamed");
    const after = await alice.renameGroup(group.conversationId, "Reading club");
    assert.equal(after.name, "Reading club");
    assert.equal((await renamed).name, "Reading club");
    const added = next(dave, "change", (c) => c.kind === "membersAdded");
    const extended = await alice.addMembers(group.conversationId, [daveId]);

    // then dave is a member and is told, and dave's list shows the group
    assert.ok(extended.members.includes(daveId));
    assert.deepEqual((await added).users, [daveId]);
    const list = await dave.listConversations();
    assert.ok(list.conversations.some((c) => c.conversationId === group.conversationId && c.name === "Reading club"));
    await alice.setRole(group.conversationId, bobId, "admin");
    const left = await bob.leave(group.conversationId);
    assert.ok(!left.members.includes(bobId));
  });

  test("a photo goes through the presigned POST, and its preview reaches the other member", async () => {
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const bob = await online(bobId);
    const { conversationId } = await alice.openDirect(bobId);
    const photo = new Uint8Array(readFileSync(stackConfig.photo));
    const previews = collect(bob, "attachment");
    const message = next(bob, "message", () => true, 15_000);

    // when alice uploads a photo and sends it
    const attachment = await alice.uploadFile(conversationId, photo,
      { contentType: "image/jpeg", width: stackConfig.photoWidth, height: stackConfig.photoHeight });
    assert.ok(attachment.key.startsWith(`u/${conversationId}/`));
    assert.equal(attachment.size, photo.byteLength);
    const ack = await alice.send(conversationId, "look", { attachments: [attachment] });

    // then bob receives it with the attachment, and its inline preview (in the message or an attachment event)
    const received = await message;
    assert.equal(received.seq, ack.seq);
    assert.deepEqual(received.attachments.map((a) => [a.key, a.contentType, a.size]),
      [[attachment.key, "image/jpeg", photo.byteLength]]);
    await eventually(() => received.attachments[0].preview || previews.some((p) => p.key === attachment.key), 15_000);
    const preview = received.attachments[0].preview ?? previews.find((p) => p.key === attachment.key).preview;
    assert.match(preview, /^data:image\/webp;base64,/);
    // and the download links work for him
    const links = await bob.attachmentUrls(conversationId, [attachment.key]);
    assert.ok(links.attachments[0].url.startsWith("http://127.0.0.1:"));
  });

  test("a blocked sender's message is refused with the stable code, and leaves the queue", async () => {
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const bob = await online(bobId);
    const { conversationId } = await alice.openDirect(bobId);

    // when bob blocks alice
    assert.deepEqual(await bob.block(aliceId), [aliceId]);
    const failed = next(alice, "sendFailed");

    // then her next message is refused as `blocked`, as a ParleyError carrying the request
    await assert.rejects(alice.send(conversationId, "hello?"), (error) => {
      assert.ok(error instanceof ParleyError);
      assert.equal(error.code, "blocked");
      assert.equal(error.request.action, "send");
      return true;
    });
    assert.equal((await failed).error.code, "blocked");
    assert.deepEqual(alice.pending(), []);
    assert.deepEqual(await bob.unblock(aliceId), []);
    await alice.send(conversationId, "hello again");
  });

  test("an error frame surfaces as a ParleyError with its code and the request it answered", async () => {
    const [aliceId, bobId, eveId] = [user("alice"), user("bob"), user("eve")];
    const alice = await online(aliceId);
    const eve = await online(eveId);
    const { conversationId } = await alice.openDirect(bobId);

    // when alice reads beyond the newest seq, and eve reads a conversation she is not in
    await assert.rejects(alice.read(conversationId, 999), (error) => error instanceof ParleyError
      && error.code === "invalid_seq" && error.request.action === "read" && error.request.seq === 999);
    await assert.rejects(eve.history(conversationId), (error) => error.code === "not_member"
      && error.request.conversationId === conversationId);
    // and a refused typing indicator (nothing answers typing) arrives as an error event
    const refused = next(eve, "error");
    eve.typing(conversationId);
    assert.equal((await refused).code, "not_member");
  });

  test("a device registers for push and a message is reported", async () => {
    const [aliceId, bobId] = [user("alice"), user("bob")];
    const alice = await online(aliceId);
    const { conversationId } = await alice.openDirect(bobId);
    const sent = await alice.send(conversationId, "spam?");
    try {
      const device = await alice.registerDevice("fcm", `fcm-${user("token")}`);
      assert.equal(device.registered, true);
    } catch (error) {
      assert.equal(error.code, "push_unavailable"); // a stack without push configured says so
    }
    const reported = await alice.report(conversationId, sent.seq, "testing");
    assert.deepEqual([reported.conversationId, reported.seq], [conversationId, sent.seq]);
  });
});
