// ParleyClient: the chat on top of the connection (connection.ts). docs/clients.md, "JavaScript / TypeScript SDK".
//
// It delivers every followed conversation's messages and changes in seq order, once; catches each one up
// after every reconnect (`history` with `after`, paging, changes included); keeps unsent messages in an
// offline queue persisted through a Storage and resends each with the same clientMsgId and lastSeq until it
// is acked; and has a method for every action of docs/protocol.md.
import { Connection, type Fields, type Raw, RETRYABLE_CODES, randomId, sleep } from "./connection.js";
import { type Ack, type Conversation, type Entry, type Message, decodeAck, decodeConversation, decodeEntry, frameType,
  messageIdOf } from "./entries.js";
import { ClientClosedError, ConnectionLostError, ParleyError, type RequestInfo, TimeoutError } from "./errors.js";
import type {
  AttachmentIn, AttachmentUrlsFrame, ChangedFrame, ConversationPreferencesFrame, DeviceFrame, ErrorFrame, GroupRole,
  HistoryVisibility, Platform, PreferencesFrame, PresenceEntry, ReportedFrame, SendBody, UnreadCountsFrame,
  UnreadFrame, UploadFrame,
} from "./frames.js";
import { MemoryStorage, type Storage } from "./storage.js";
import { Timeline } from "./timeline.js";
import type {
  ConversationPreferencesUpdate, ConversationsPage, HistoryOptions, HistoryPage, MessageCrypto, OutgoingMessage,
  ParleyClientOptions, PreferencesUpdate, SendOptions, UploadData, UploadOptions,
} from "./types.js";
import { E2EError } from "./e2e-errors.js";
import { postFile, uploadSize } from "./uploads.js";

const HISTORY_PAGE_MAX = 100;
const FILL_ROUNDS = 5;
const GAP_GRACE_MS = 100;

interface Queued {
  message: OutgoingMessage;
  settle: { resolve(ack: Ack): void; reject(error: Error): void }[];
}

export class ParleyClient extends Connection {
  /** Where the offline queue and the last seqs are kept (the `storage` option); `@parley/client/e2e` keeps the
   *  device's keys there too unless given another. */
  readonly storage: Storage;
  private readonly timelines = new Map<string, Timeline>();
  private readonly filling = new Set<string>();
  private readonly sending = new Set<string>();
  private readonly outbox: Queued[] = [];
  private flushing = false;
  private loaded: Promise<void> | undefined;
  private readonly lastTyping = new Map<string, number>();
  private seqsDirty = false;
  private crypto: MessageCrypto | undefined;
  private readonly opening = new Map<string, Promise<void>>();

  constructor(options: ParleyClientOptions) {
    super(options);
    this.storage = options.storage ?? new MemoryStorage();
  }

  protected beforeOpen(): Promise<void> {
    return this.ensureLoaded();
  }

  /** Plug in end-to-end encryption (`@parley/client/e2e` does it: see docs/clients.md). */
  useCrypto(crypto: MessageCrypto): void {
    this.crypto = crypto;
    if (this.currentState === "open") crypto.opened();
  }

  protected opened(): void {
    this.crypto?.opened();
    void this.flush();
    void this.catchUpAll();
  }

  protected closedForGood(error: Error): void {
    for (const queued of this.outbox) for (const s of queued.settle.splice(0)) s.reject(error);
  }

  // -- delivery ------------------------------------------------------------------------------------------

  protected onEntry(entry: Entry, recovered: boolean): void {
    const timeline = this.timeline(entry.conversationId);
    const before = timeline.duplicates;
    // A catch-up can read our own message before its ack arrives: it is ours, not news.
    const own = entry.type === "message" && entry.clientMsgId !== undefined && this.sending.has(entry.clientMsgId)
      && entry.senderId === this.user;
    const ready = own ? timeline.acked(entry.seq, entry.messageId) : timeline.offer(entry);
    this.deliver(ready, recovered ? entry.messageId : undefined);
    this.stats.duplicatesDropped += timeline.duplicates - before;
    if (timeline.hasGap && !recovered) this.fillSoon(entry.conversationId);
  }

  private deliver(entries: Entry[], recoveredId?: string): void {
    for (const entry of entries) {
      if (entry.messageId === recoveredId) this.stats.recovered += 1;
      const crypto = this.crypto;
      crypto?.observe(entry);
      if (crypto && entry.envelope) {
        // Opened one after another per conversation, so they are still delivered in seq order.
        const cid = entry.conversationId;
        const done = (this.opening.get(cid) ?? Promise.resolve()).then(() => crypto.open(entry))
          .then((opened) => this.emitEntry(opened));
        this.opening.set(cid, done);
        void done.finally(() => {
          if (this.opening.get(cid) === done) this.opening.delete(cid);
        });
      } else if (this.opening.has(entry.conversationId)) {
        const cid = entry.conversationId;
        this.opening.set(cid, (this.opening.get(cid) as Promise<void>).then(() => this.emitEntry(entry)));
      } else {
        this.emitEntry(entry);
      }
    }
    if (entries.length) this.seqsChanged();
  }

  private emitEntry(entry: Entry): void {
    if (entry.type === "message") this.emit("message", entry);
    else this.emit("change", entry);
  }

  protected override unhandled(frame: Raw): void {
    this.crypto?.frame(frame);
  }

  private timeline(conversationId: string): Timeline {
    let timeline = this.timelines.get(conversationId);
    if (!timeline) this.timelines.set(conversationId, (timeline = new Timeline()));
    return timeline;
  }

  // -- catch-up --------------------------------------------------------------------------------------------

  /** Follow a conversation after `lastSeq` (0: from its first message): its entries are delivered in order,
   *  and after every reconnect the client reads what it missed. Never moves backward. */
  track(conversationId: string, lastSeq = 0): void {
    this.deliver(this.timeline(conversationId).fastForward(lastSeq));
    this.seqsChanged();
  }

  /** The last seq delivered (or sent) in order; undefined for a conversation not followed. */
  lastSeq(conversationId: string): number | undefined {
    return this.timelines.get(conversationId)?.lastSeq;
  }

  /** The conversations followed, with their last seq. */
  tracked(): Record<string, number> {
    const seqs: Record<string, number> = {};
    for (const [cid, timeline] of this.timelines) if (timeline.lastSeq !== undefined) seqs[cid] = timeline.lastSeq;
    return seqs;
  }

  /** Read and deliver everything after the last seq seen (done for every known conversation at each reconnect). */
  catchUp(conversationId: string): Promise<void> {
    return this.catchUpEach([conversationId], 0);
  }

  private catchUpAll(): Promise<void> {
    return this.catchUpEach([...this.timelines.keys()], 0);
  }

  private fillSoon(conversationId: string): void {
    // Pushes and acks overtake one another: most gaps close by themselves within moments.
    if (!this.filling.has(conversationId)) void this.catchUpEach([conversationId], GAP_GRACE_MS);
  }

  private async catchUpEach(conversationIds: string[], graceMs: number): Promise<void> {
    for (const cid of conversationIds) {
      if (this.filling.has(cid)) continue;
      this.filling.add(cid);
      try {
        if (graceMs) {
          await sleep(graceMs);
          if (!this.timelines.get(cid)?.hasGap) continue;
        }
        await this.fill(cid);
      } catch (error) {
        if (error instanceof ConnectionLostError || error instanceof ClientClosedError) return; // the next reconnect
        if (!(error instanceof ParleyError)) throw error;
        this.emit("error", error);
      } finally {
        this.filling.delete(cid);
      }
    }
  }

  private async fill(conversationId: string): Promise<void> {
    const timeline = this.timeline(conversationId);
    for (let round = 0; round < FILL_ROUNDS; round++) {
      if (timeline.lastSeq === undefined) return; // nothing to start from yet: the first push sets it
      let after = timeline.lastSeq;
      for (;;) {
        const page = await this.readHistory(conversationId, { after, limit: HISTORY_PAGE_MAX }, false);
        for (const entry of page.entries) this.onEntry(entry, true);
        const last = page.entries[page.entries.length - 1];
        if (last) after = Math.max(after, last.seq);
        if (page.nextSeq !== undefined) after = Math.max(after, page.nextSeq); // past entries hidden from us
        if (!page.hasMore || (page.nextSeq === undefined && !page.entries.length)) break;
      }
      // Up to `after` history is complete: a seq it did not have does not exist for us.
      this.deliver(timeline.skipMissing(after));
      if (!timeline.hasGap) return;
      await sleep(50); // what is held back lies beyond what was stored when we read: its gap is in flight
    }
  }

  // -- storage ---------------------------------------------------------------------------------------------

  /** The prefix of the storage keys (the `storagePrefix` option, default `parley`). */
  get storagePrefix(): string {
    return this.options.storagePrefix ?? "parley";
  }

  private key(name: string): string {
    return `${this.storagePrefix}:${this.user ?? "_"}:${name}`;
  }

  private ensureLoaded(): Promise<void> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  private async load(): Promise<void> {
    const [outbox, seqs] = await Promise.all([this.storage.getItem(this.key("outbox")),
      this.storage.getItem(this.key("seqs"))]);
    if (seqs) {
      for (const [cid, seq] of Object.entries(JSON.parse(seqs) as Record<string, number>)) {
        if (!this.timelines.has(cid)) this.timelines.set(cid, new Timeline(seq));
      }
    }
    if (outbox) {
      const known = new Set(this.outbox.map((q) => q.message.clientMsgId));
      const stored = (JSON.parse(outbox) as OutgoingMessage[]).filter((m) => !known.has(m.clientMsgId));
      this.outbox.unshift(...stored.map((message) => ({ message, settle: [] })));
    }
    await this.saveOutbox();
  }

  private async saveOutbox(): Promise<void> {
    if (!this.loaded) return; // written once loaded, with what was queued before
    const messages = this.outbox.map((q) => q.message);
    if (messages.length) await this.storage.setItem(this.key("outbox"), JSON.stringify(messages));
    else await this.storage.removeItem(this.key("outbox"));
  }

  private seqsChanged(): void {
    if (this.seqsDirty || !this.loaded) return;
    this.seqsDirty = true;
    queueMicrotask(() => {
      this.seqsDirty = false;
      void Promise.resolve(this.storage.setItem(this.key("seqs"), JSON.stringify(this.tracked())));
    });
  }

  // -- sending: the offline queue --------------------------------------------------------------------------

  /** Send a message (text, attachments from `uploadFile`, or both). It joins the offline queue (persisted
   *  in the Storage) at once and is sent, in order, whenever the connection is open; resent with the same
   *  clientMsgId and lastSeq until acked, so it is stored once. Resolves with the ack; rejects with a
   *  ParleyError when the server refuses it (then it leaves the queue), or ClientClosedError on `close()`
   *  (it stays queued in the Storage: the next client with that storage sends it). */
  send(conversationId: string, text?: string, options: SendOptions = {}): Promise<Ack> {
    const body: SendBody = {};
    if (text) body.text = text;
    if (options.attachments?.length) body.attachments = options.attachments;
    const message: OutgoingMessage = {
      conversationId,
      clientMsgId: options.clientMsgId ?? randomId(),
      body,
      queuedAt: Date.now(),
    };
    if (options.replyTo !== undefined) message.replyTo = options.replyTo;
    if (options.mentions?.length) message.mentions = [...new Set(options.mentions)];
    const lastSeq = this.lastSeq(conversationId);
    if (lastSeq !== undefined) message.lastSeq = lastSeq;
    return new Promise<Ack>((resolve, reject) => {
      if (this.fatal) {
        reject(this.fatal);
        return;
      }
      const queued = this.outbox.find((q) => q.message.clientMsgId === message.clientMsgId);
      if (queued) queued.settle.push({ resolve, reject });
      else this.outbox.push({ message, settle: [{ resolve, reject }] });
      void this.saveOutbox();
      void this.flush();
    });
  }

  /** The messages waiting in the offline queue, oldest first. */
  pending(): OutgoingMessage[] {
    return this.outbox.map((q) => ({ ...q.message }));
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.outbox.length && this.currentState === "open" && !this.closing) {
        const queued = this.outbox[0] as Queued;
        let outcome: Ack | ParleyError | E2EError;
        try {
          outcome = await this.deliverQueued(queued.message);
        } catch (error) {
          if (!(error instanceof ParleyError) || this.closing) return; // lost or closed: resent at the next open
          outcome = error; // a history read of the stale_last_seq check was refused
        }
        this.outbox.shift();
        await this.saveOutbox();
        if (outcome instanceof ParleyError || outcome instanceof E2EError) {
          for (const s of queued.settle) s.reject(outcome);
          this.emit("sendFailed", { message: queued.message, error: outcome });
        } else {
          this.deliver(this.timeline(outcome.conversationId).acked(outcome.seq, outcome.messageId));
          for (const s of queued.settle) s.resolve(outcome);
          this.emit("sent", { message: queued.message, ack: outcome });
          this.emit("ack", outcome);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One queued message until acked or refused; throws ConnectionLostError when the connection went away. */
  private async deliverQueued(message: OutgoingMessage): Promise<Ack | ParleyError | E2EError> {
    const cmid = message.clientMsgId;
    this.sending.add(cmid);
    try {
      const crypto = this.crypto;
      if (crypto && !message.sealed && await crypto.encrypted(message.conversationId)) {
        try {
          message.body = await crypto.sealMessage(message);
        } catch (error) {
          if (error instanceof E2EError) return error; // nothing to seal it for: it cannot be sent
          throw error;
        }
        message.sealed = true;
        await this.saveOutbox();
      }
      for (let attempt = 0; ; attempt++) {
        const frame: Raw = { action: "send", conversationId: message.conversationId, clientMsgId: cmid,
          body: message.body };
        if (message.replyTo !== undefined) frame.replyTo = message.replyTo;
        if (message.mentions) frame.mentions = message.mentions;
        if (message.lastSeq !== undefined) frame.lastSeq = message.lastSeq;
        if (attempt > 0) this.stats.resends += 1;
        const ws = this.ws;
        if (!ws || this.currentState !== "open") throw new ConnectionLostError("not connected");
        let reply: Raw;
        try {
          reply = await this.exchange(ws, frame, `send:${cmid}`, this.options.ackTimeoutMs ?? 5_000);
        } catch (error) {
          if (error instanceof TimeoutError) continue; // no ack: resend, same clientMsgId and lastSeq
          throw error;
        }
        if (frameType(reply) !== "error") return decodeAck(reply, message.conversationId);
        const error = reply as unknown as ErrorFrame;
        if (error.code === "stale_last_seq" && message.lastSeq !== undefined) {
          // More than the server checks followed our lastSeq: look for the message ourselves.
          const [stored, newest] = await this.findSent(message.conversationId, cmid, message.lastSeq);
          if (stored) return { conversationId: message.conversationId, clientMsgId: cmid, seq: stored.seq,
            messageId: stored.messageId, sentAt: stored.sentAt };
          message.lastSeq = newest;
          await this.saveOutbox();
          continue;
        }
        if (RETRYABLE_CODES.has(error.code)) {
          await sleep(error.retryAfterMs && error.retryAfterMs > 0 ? error.retryAfterMs : this.backoff.delay(attempt));
          continue;
        }
        return new ParleyError(error.code, error.message, frame as RequestInfo, error.retryAfterMs);
      }
    } finally {
      this.sending.delete(cmid);
    }
  }

  private async findSent(conversationId: string, cmid: string, after: number): Promise<[Message | undefined, number]> {
    let newest = after;
    for (;;) {
      const page = await this.readHistory(conversationId, { after: newest, limit: HISTORY_PAGE_MAX }, false);
      for (const entry of page.entries) {
        newest = Math.max(newest, entry.seq);
        if (entry.type === "message" && entry.clientMsgId === cmid && entry.senderId === this.user) {
          return [entry, newest];
        }
      }
      newest = Math.max(newest, page.nextSeq ?? 0);
      if (!page.hasMore) return [undefined, newest];
    }
  }

  // -- history and conversations ---------------------------------------------------------------------------

  /** A page of a conversation's entries, oldest first. The newest page (no `before`/`after`) of a conversation
   *  not followed yet starts following it after its newest entry. */
  async history(conversationId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    const page = await this.readHistory(conversationId, options, true);
    const crypto = this.crypto;
    if (crypto) page.entries = await Promise.all(page.entries.map((e) => (e.envelope ? crypto.open(e) : e)));
    return page;
  }

  private async readHistory(conversationId: string, options: HistoryOptions, follow: boolean): Promise<HistoryPage> {
    const fields: Fields<"history"> = { conversationId, limit: options.limit ?? 50 };
    if (options.before !== undefined) fields.before = options.before;
    if (options.after !== undefined) fields.after = options.after;
    const frame = await this.call("history", fields);
    const entries = ((frame.messages as Raw[] | undefined) ?? []).map(decodeEntry)
      .filter((e): e is Entry => e !== undefined);
    const page: HistoryPage = { conversationId, entries, hasMore: frame.hasMore === true };
    if (typeof frame.nextSeq === "number") page.nextSeq = frame.nextSeq;
    const newest = entries[entries.length - 1];
    if (follow && options.before === undefined && options.after === undefined && this.lastSeq(conversationId) === undefined) {
      this.track(conversationId, newest?.seq ?? 0);
    }
    return page;
  }

  /** Find or create the direct conversation with `userId`, and follow it from now on. With `e2e: true` the
   *  end-to-end encrypted one (a different conversation from the plain one; see docs/e2e.md). */
  async openDirect(userId: string, options: { e2e?: boolean } = {}): Promise<Conversation> {
    const fields: Record<string, unknown> = { userId };
    if (options.e2e) fields.e2e = true;
    const conversation = this.conversationOf(await this.call("openDirect", fields), options.e2e);
    if (this.lastSeq(conversation.conversationId) === undefined) {
      await this.history(conversation.conversationId, { limit: 1 });
    }
    return conversation;
  }

  /** Create a group of you plus `members` (not repeated after a lost connection: that could make two groups). */
  async createGroup(members: string[],
    options: { name?: string; historyVisibility?: HistoryVisibility; e2e?: boolean } = {}): Promise<Conversation> {
    const fields: Fields<"createGroup"> & { e2e?: boolean } = { members };
    if (options.e2e) fields.e2e = true;
    if (options.name !== undefined) fields.name = options.name;
    if (options.historyVisibility !== undefined) fields.historyVisibility = options.historyVisibility;
    const conversation = this.conversationOf(await this.call("createGroup", fields, false), options.e2e);
    this.track(conversation.conversationId, 0);
    return conversation;
  }

  addMembers(conversationId: string, userIds: string[]): Promise<Conversation> {
    return this.groupChange("addMembers", { conversationId, userIds });
  }

  removeMember(conversationId: string, userId: string): Promise<Conversation> {
    return this.groupChange("removeMember", { conversationId, userId });
  }

  leave(conversationId: string): Promise<Conversation> {
    return this.groupChange("leave", { conversationId });
  }

  renameGroup(conversationId: string, name: string): Promise<Conversation> {
    return this.groupChange("renameGroup", { conversationId, name });
  }

  setRole(conversationId: string, userId: string, role: GroupRole): Promise<Conversation> {
    return this.groupChange("setRole", { conversationId, userId, role });
  }

  setGroupSettings(conversationId: string, historyVisibility: HistoryVisibility): Promise<Conversation> {
    return this.groupChange("setGroupSettings", { conversationId, historyVisibility });
  }

  private async groupChange<A extends "addMembers" | "removeMember" | "leave" | "renameGroup" | "setRole"
    | "setGroupSettings">(action: A, fields: Fields<A>): Promise<Conversation> {
    // Safe to repeat; the change entry it stored closes its seq in the timeline, as an ack does.
    const frame = await this.call(action, fields);
    const { conversationId } = fields as { conversationId: string };
    const timeline = this.timelines.get(conversationId);
    if (typeof frame.seq === "number" && timeline) {
      this.deliver(timeline.acked(frame.seq, messageIdOf(conversationId, frame.seq)));
    }
    return this.conversationOf(frame);
  }

  private conversationOf(frame: Raw, requestedE2E = false): Conversation {
    const conversation = decodeConversation(frame.conversation as Parameters<typeof decodeConversation>[0]);
    this.crypto?.conversation(conversation, requestedE2E);
    return conversation;
  }

  /** Your conversations, newest activity first, with unread counts and last messages. */
  async listConversations(options: { limit?: number; cursor?: string } = {}): Promise<ConversationsPage> {
    const fields: Fields<"listConversations"> = { limit: options.limit ?? 50 };
    if (options.cursor !== undefined) fields.cursor = options.cursor;
    const frame = await this.call("listConversations", fields);
    const page: ConversationsPage = {
      conversations: ((frame.conversations as Parameters<typeof decodeConversation>[0][]) ?? []).map(decodeConversation),
    };
    for (const conversation of page.conversations) this.crypto?.conversation(conversation);
    if (typeof frame.cursor === "string") page.cursor = frame.cursor;
    return page;
  }

  // -- read state, presence, typing ------------------------------------------------------------------------

  /** Mark the conversation read up to `seq`: the other members get a receipt (unless you hide them), your
   *  other devices the same `unread`. Also emitted as an `unread` event. */
  async read(conversationId: string, seq: number): Promise<UnreadFrame> {
    const frame = await this.request("read", { conversationId, seq });
    this.emit("unread", frame);
    return frame;
  }

  async unreadCounts(): Promise<UnreadCountsFrame> {
    return await this.request("unreadCounts", {});
  }

  /** The presence of the users who share a conversation with you (the others are left out). */
  async presence(userIds: string[]): Promise<PresenceEntry[]> {
    return (await this.request("presence", { userIds })).users;
  }

  /** Tell the other members you are typing: call it on every keystroke. It is sent at most once per
   *  `typingIntervalMs` (3 s) per conversation, the server's own limit; returns whether it was sent now.
   *  Nothing answers it; a refusal arrives as an `error` event. */
  typing(conversationId: string): boolean {
    const now = Date.now();
    const last = this.lastTyping.get(conversationId);
    if (last !== undefined && now - last < (this.options.typingIntervalMs ?? 3_000)) return false;
    if (!this.ws || this.currentState !== "open") return false;
    try {
      this.write(this.ws, { action: "typing", conversationId });
    } catch {
      return false;
    }
    this.lastTyping.set(conversationId, now);
    return true;
  }

  // -- preferences, blocks, reports ------------------------------------------------------------------------

  async getPreferences(): Promise<PreferencesFrame> {
    return await this.request("getPreferences", {});
  }

  /** Change the given settings (the others stay); returns all of them. */
  async setPreferences(update: PreferencesUpdate): Promise<PreferencesFrame> {
    return await this.request("setPreferences", { ...update });
  }

  /** Invisible: everyone sees you offline, and you send no typing or presence; you still receive everything. */
  setInvisible(invisible: boolean): Promise<PreferencesFrame> {
    return this.setPreferences({ visibility: invisible ? "invisible" : "visible" });
  }

  async setConversationPreferences(conversationId: string, update: ConversationPreferencesUpdate):
  Promise<ConversationPreferencesFrame> {
    return await this.request("setConversationPreferences", { conversationId, ...update });
  }

  /** Returns your whole block list. */
  async block(userId: string): Promise<string[]> {
    return (await this.request("block", { userId })).userIds;
  }

  async unblock(userId: string): Promise<string[]> {
    return (await this.request("unblock", { userId })).userIds;
  }

  async listBlocks(): Promise<string[]> {
    return (await this.request("listBlocks", {})).userIds;
  }

  /** Report a message for the host app's moderators. */
  async report(conversationId: string, seq: number, reason?: string): Promise<ReportedFrame> {
    const fields: Fields<"report"> = { conversationId, seq };
    if (reason !== undefined) fields.reason = reason;
    return await this.request("report", fields);
  }

  // -- edits, deletes, reactions ---------------------------------------------------------------------------

  /** Replace the text of your own message (within the edit window). */
  async edit(conversationId: string, seq: number, text: string): Promise<ChangedFrame> {
    const crypto = this.crypto;
    if (crypto && await crypto.encrypted(conversationId)) {
      const e2e = await crypto.sealEdit(conversationId, seq, text);
      return this.messageChange("edit", { conversationId, seq, e2e } as unknown as Fields<"edit">);
    }
    return this.messageChange("edit", { conversationId, seq, text });
  }

  /** Delete a message for everyone. */
  delete(conversationId: string, seq: number): Promise<ChangedFrame> {
    return this.messageChange("delete", { conversationId, seq });
  }

  react(conversationId: string, seq: number, emoji: string): Promise<ChangedFrame> {
    return this.messageChange("react", { conversationId, seq, emoji });
  }

  unreact(conversationId: string, seq: number, emoji: string): Promise<ChangedFrame> {
    return this.messageChange("react", { conversationId, seq, emoji, remove: true });
  }

  private async messageChange<A extends "edit" | "delete" | "react">(action: A, fields: Fields<A>): Promise<ChangedFrame> {
    const frame = await this.request(action, fields);
    // The calling connection gets no change frame for it: its seq is ours, as an ack's is.
    const timeline = this.timelines.get(frame.conversationId);
    if (frame.seq !== undefined && timeline) {
      this.deliver(timeline.acked(frame.seq, messageIdOf(frame.conversationId, frame.seq)));
    }
    return frame;
  }

  // -- push devices ----------------------------------------------------------------------------------------

  /** Push notifications to this device while the user has no open connection (register at every app start). */
  async registerDevice(platform: Platform, token: string): Promise<DeviceFrame> {
    return await this.request("registerDevice", { platform, token });
  }

  async unregisterDevice(token: string): Promise<DeviceFrame> {
    return await this.request("unregisterDevice", { token });
  }

  // -- attachments -----------------------------------------------------------------------------------------

  /** A presigned POST for one file of this type and size (see `uploadFile`). */
  async requestUpload(conversationId: string, contentType: string, size: number): Promise<UploadFrame> {
    return await this.request("requestUpload", { conversationId, contentType, size });
  }

  /** Upload a photo or voice message straight to storage (never over the socket) and return the attachment
   *  to pass to `send`. The server makes the preview: it arrives in the message, or in an `attachment` event. */
  async uploadFile(conversationId: string, data: UploadData, options: UploadOptions): Promise<AttachmentIn> {
    const size = uploadSize(data);
    const ticket = await this.requestUpload(conversationId, options.contentType, size);
    await postFile(this.options.fetch ?? globalThis.fetch, ticket, data, options.contentType);
    const attachment: AttachmentIn = { key: ticket.key, contentType: options.contentType, size };
    if (options.width !== undefined) attachment.width = options.width;
    if (options.height !== undefined) attachment.height = options.height;
    return attachment;
  }

  /** Short-lived download URLs (and previews) for attachments of a conversation. */
  async attachmentUrls(conversationId: string, keys: string[]): Promise<AttachmentUrlsFrame> {
    return await this.request("attachmentUrls", { conversationId, keys });
  }
}
