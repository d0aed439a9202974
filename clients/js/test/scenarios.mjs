// Scenarios of the SDK against the local stack that run unchanged in Node (shared.test.mjs, with `ws`) and in
// headless Chromium (tests/browser/sdk_scenarios.spec.mjs, with the browser's own WebSocket and localStorage).
// This module imports nothing: each scenario gets what differs between the two from `env`:
//   env.sdk                     the SDK's exports (dist/index.js)
//   env.connect(userId, opts)   a connected ParleyClient for userId (a token the stack accepts; opts merged in)
//   env.user(name)              a fresh user id, so scenarios sharing a stack never see each other's data
//   env.storage()               a new, empty Storage (MemoryStorage in Node, LocalStorageStorage in the browser)

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

function same(actual, expected, what) {
  const [a, b] = [JSON.stringify(actual), JSON.stringify(expected)];
  check(a === b, `${what}: ${a} is not ${b}`);
}

/** The next `event` of `client` that matches `where`, within `timeoutMs`. */
export function next(client, event, where = () => true, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event in ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (value) => {
      if (!where(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

async function eventually(condition, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    check(Date.now() < deadline, `${what} (not within ${timeoutMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function paused(client) {
  const state = next(client, "state", (s) => s.state === "paused");
  client.pause();
  await state;
}

export const SCENARIOS = [
  {
    name: "a message is acked for the sender and received by the other member, in both frame formats",
    async run(env) {
      // given alice (compact frames) and bob (full frames) in a direct conversation
      const [aliceId, bobId] = [env.user("alice"), env.user("bob")];
      const alice = await env.connect(aliceId);
      const bob = await env.connect(bobId, { format: "full" });
      try {
        const { conversationId } = await alice.openDirect(bobId);
        const arrived = next(bob, "message");
        // when alice sends
        const ack = await alice.send(conversationId, "hi bob");
        // then she has its seq and id, and bob receives it with the same seq, id and sender
        same(ack.messageId, `${conversationId}.${ack.seq}`, "the ack's message id");
        const message = await arrived;
        same([message.seq, message.messageId, message.senderId, message.text],
          [ack.seq, ack.messageId, aliceId, "hi bob"], "the message bob received");
        same(alice.pending(), [], "alice's queue");
      } finally {
        await Promise.all([alice.close(), bob.close()]);
      }
    },
  },
  {
    name: "a paused client catches up, in seq order, the messages and changes sent while it was away",
    async run(env) {
      // given bob following a conversation with alice, then paused (the app went to the background)
      const [aliceId, bobId] = [env.user("alice"), env.user("bob")];
      const alice = await env.connect(aliceId);
      const bob = await env.connect(bobId);
      try {
        const { conversationId } = await alice.openDirect(bobId);
        const first = await alice.send(conversationId, "before");
        await bob.history(conversationId);
        await paused(bob);
        // when alice sends, edits and reacts meanwhile
        const one = await alice.send(conversationId, "while away");
        const edit = await alice.edit(conversationId, first.seq, "before (edited)");
        const react = await alice.react(conversationId, one.seq, "👍");
        const order = [];
        bob.on("message", (m) => order.push([m.seq, m.text]));
        bob.on("change", (c) => order.push([c.seq, c.kind]));
        bob.resume();
        // then he receives all of it once, in seq order
        await eventually(() => order.length >= 3, "bob caught up three entries");
        await bob.ping();
        same(order, [[one.seq, "while away"], [edit.seq, "edited"], [react.seq, "reacted"]], "what bob received");
        same(bob.lastSeq(conversationId), react.seq, "bob's last seq");
      } finally {
        await Promise.all([alice.close(), bob.close()]);
      }
    },
  },
  {
    name: "a message sent while paused waits in the storage, and is sent once on resume",
    async run(env) {
      // given alice, paused, with a storage for her queue
      const [aliceId, bobId] = [env.user("alice"), env.user("bob")];
      const storage = env.storage();
      const alice = await env.connect(aliceId, { storage });
      const bob = await env.connect(bobId);
      try {
        const { conversationId } = await alice.openDirect(bobId);
        await bob.history(conversationId);
        await paused(alice);
        // when she sends
        const sending = alice.send(conversationId, "queued", { clientMsgId: "queued-1" });
        // then it waits in her storage
        await eventually(() => (storage.getItem(`parley:${aliceId}:outbox`) ?? "").includes("queued-1"),
          "the message is in the storage");
        same(alice.pending().map((m) => m.clientMsgId), ["queued-1"], "alice's queue while paused");
        // and on resume it is sent, acked and received once
        const received = [];
        bob.on("message", (m) => received.push(m.text));
        alice.resume();
        const ack = await sending;
        await eventually(() => received.length >= 1, "bob received it");
        await bob.ping();
        same(received, ["queued"], "what bob received");
        same((await bob.history(conversationId)).entries.filter((m) => m.seq === ack.seq).length, 1,
          "stored once");
        same(storage.getItem(`parley:${aliceId}:outbox`), null, "the storage once acked");
      } finally {
        await Promise.all([alice.close(), bob.close()]);
      }
    },
  },
  {
    name: "an error frame surfaces as a ParleyError with its stable code and the request it answered",
    async run(env) {
      // given alice and bob in a conversation, and eve outside it
      const [aliceId, bobId, eveId] = [env.user("alice"), env.user("bob"), env.user("eve")];
      const alice = await env.connect(aliceId);
      const eve = await env.connect(eveId);
      try {
        const { conversationId } = await alice.openDirect(bobId);
        // when alice marks a seq that does not exist read, and eve asks for the conversation's history
        const refusals = [];
        for (const attempt of [() => alice.read(conversationId, 999), () => eve.history(conversationId)]) {
          try {
            await attempt();
            refusals.push("accepted");
          } catch (error) {
            check(error instanceof env.sdk.ParleyError, `a ParleyError, not ${error}`);
            refusals.push([error.code, error.request.action]);
          }
        }
        // then each is refused with its code
        same(refusals, [["invalid_seq", "read"], ["not_member", "history"]], "the refusals");
      } finally {
        await Promise.all([alice.close(), eve.close()]);
      }
    },
  },
];
