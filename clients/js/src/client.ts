// ParleyClient: one WebSocket connection to Parley, kept open (docs/clients.md, "JavaScript / TypeScript SDK").
//
// It reconnects with exponential backoff and full jitter, asks the token provider again when a handshake is
// refused, catches up every known conversation after each reconnect (`history` with `after`, paging, changes
// included), delivers messages and changes in seq order without duplicates, keeps unsent messages in an offline
// queue persisted through a Storage and resends each with the same clientMsgId until it is acked, and sends
// `ping` when the connection has been quiet for 5 minutes. Every action of docs/protocol.md has a method.
import { Backoff, type BackoffOptions } from "./backoff.js";
import { Emitter } from "./emitter.js";
import {
  type Ack, type Change, type Conversation, type Entry, type Message,
  decodeAck, decodeConversation, decodeEntry, frameType, messageIdOf,
} from "./entries.js";
import {
  ClientClosedError, ConnectionLostError, HandshakeError, ParleyClientError, ParleyError, type RequestInfo,
  TimeoutError, UploadError,
} from "./errors.js";
import type {
  ActionName, AttachmentIn, AttachmentReadyFrame, AttachmentUrlsFrame, ChangedFrame,
  ConversationPreferencesFrame, DeviceFrame, ErrorCode, ErrorFrame, FrameFormat, GroupRole, HistoryVisibility,
  NotifyMode, Platform, PreferencesFrame, PresenceEntry, ReceiptFrame, ReportedFrame, Answers, Requests, SendBody,
  TypingFrame, UnreadCountsFrame, UnreadFrame, UploadFrame, Visibility,
} from "./frames.js";
import { MemoryStorage, type Storage } from "./storage.js";
import { Timeline } from "./timeline.js";

// -- options and public types ------------------------------------------------------------------------------

/** The least of the WebSocket API the client uses: the browser's, React Native's, Node 22's and `ws`'s all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Why the token provider is asked: the first connection, a reconnect, or a handshake that was refused
 *  (401/403: the token expired or was revoked, so a cached one must not be returned). */
export interface TokenRequest {
  reason: "connect" | "reconnect" | "refused";
}

export type TokenProvider = (request: TokenRequest) => string | Promise<string>;

export interface ParleyClientOptions {
  /** The WebSocket URL, e.g. `wss://{api}.execute-api.{region}.amazonaws.com/prod` (no token in it). */
  url: string;
  /** A chat token, or a function that returns one (asked before every connection attempt). */
  token: string | TokenProvider;
  /** The WebSocket constructor (default `globalThis.WebSocket`; in Node < 22 pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
  /** The connection's frame format (default `compact`); the client reads both. */
  format?: FrameFormat;
  /** Where the offline queue and the last seqs are kept (default: a MemoryStorage). */
  storage?: Storage;
  /** Prefix of the storage keys (default `parley`); the user id from the token is added after it. */
  storagePrefix?: string;
  /** Reconnect backoff (default: 200 ms, doubling, at most 30 s, full jitter). */
  backoff?: BackoffOptions;
  /** Reconnect after a drop (default true). */
  reconnect?: boolean;
  /** Refused handshakes (401/403) in a row, each after asking the token provider again, before giving up (3). */
  maxAuthFailures?: number;
  /** How long a request waits for its answer before it is sent again (default 10000 ms). */
  requestTimeoutMs?: number;
  /** How long a send waits for its ack before it is sent again, same clientMsgId (default 5000 ms). */
  ackTimeoutMs?: number;
  /** Send `ping` after this long without a frame either way (default 300000 ms: half API Gateway's idle timeout). */
  keepaliveIntervalMs?: number;
  /** No `pong` within this: the connection is dead, reconnect (default 10000 ms). */
  pongTimeoutMs?: number;
  /** `typing()` sends at most once per conversation per this interval (default 3000 ms, the server's
   *  PARLEY_TYPING_INTERVAL_MS: more would be dropped by the server anyway). */
  typingIntervalMs?: number;
  /** `fetch` for uploads (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Browsers: close the socket on the window's `offline` event and reconnect at once on `online`
   *  (default true; ignored where there is no `window`). */
  watchNetwork?: boolean;
}

/** `idle` before `connect()`; `paused` between `pause()` and `resume()`; `closed` after `close()` or giving up. */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "paused" | "closed";

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** `reconnecting`: the attempt about to be made (1-based) and the wait before it. */
  attempt?: number;
  delayMs?: number;
  /** Why the connection closed or an attempt failed (`closed`: why the client gave up, if it did). */
  error?: Error;
}

/** A message in the offline queue: stored until acked, resent with the same clientMsgId and lastSeq. */
export interface OutgoingMessage {
  conversationId: string;
  clientMsgId: string;
  body: SendBody;
  replyTo?: number;
  mentions?: string[];
  /** The newest seq the client had when the message was first queued (sent unchanged with every resend). */
  lastSeq?: number;
  /** Epoch ms when it was queued. */
  queuedAt: number;
}

export interface SentEvent {
  message: OutgoingMessage;
  ack: Ack;
}

export interface SendFailedEvent {
  message: OutgoingMessage;
  error: ParleyError;
}

/** Every event, and what it carries. */
export interface ParleyEvents {
  /** A message of another member or another of your devices, in seq order per conversation, once. */
  message: Message;
  /** An edit, delete, reaction or group change, in seq order with the messages. */
  change: Change;
  /** A contact went online or offline (pushed), one event per user. */
  presence: PresenceEntry;
  /** A member is typing (hide it after about 5 s without another). */
  typing: TypingFrame;
  /** Your unread count changed: you read on this device (the answer to `read`) or on another one. */
  unread: UnreadFrame;
  /** A member read up to `seq`. */
  receipt: ReceiptFrame;
  /** A sent attachment's thumbnail and inline preview are ready. */
  attachment: AttachmentReadyFrame;
  /** A queued message was acked (stored): the message and its ack. */
  sent: SentEvent;
  /** The same moment as `sent`, with the ack alone. */
  ack: Ack;
  /** The server refused a queued message (nothing was stored); it left the queue. */
  sendFailed: SendFailedEvent;
  /** An error frame no request waits for (a refused `typing`, ...). */
  error: ParleyError;
  /** The connection's state changed. */
  state: StateChange;
}

export interface SendOptions {
  attachments?: AttachmentIn[];
  /** Your own id for the message (1-64 of `A-Z a-z 0-9 _ . : -`); default: a random one. */
  clientMsgId?: string;
  /** The seq of the message this one replies to. */
  replyTo?: number;
  /** User ids of members to mention. */
  mentions?: string[];
}

export interface HistoryOptions {
  before?: number;
  after?: number;
  /** 1-100, default 50. */
  limit?: number;
}

export interface HistoryPage {
  conversationId: string;
  /** Messages and changes, oldest first. */
  entries: Entry[];
  hasMore: boolean;
  nextSeq?: number;
}

export interface ConversationsPage {
  conversations: Conversation[];
  cursor?: string;
}

export interface PreferencesUpdate {
  visibility?: Visibility;
  hideReadReceipts?: boolean;
  notify?: NotifyMode;
}

export interface ConversationPreferencesUpdate {
  /** `null` clears the override. */
  notify?: NotifyMode | null;
  /** Epoch ms; `null` clears the mute. */
  mutedUntil?: number | null;
}

/** A file for React Native's FormData (`{uri, type, name}`); `size` is needed for the upload ticket. */
export interface ReactNativeFile {
  uri: string;
  type?: string;
  name?: string;
  size: number;
}

export type UploadData = Blob | ArrayBuffer | Uint8Array | ReactNativeFile;

export interface UploadOptions {
  contentType: string;
  width?: number;
  height?: number;
}

export interface ClientStats {
  connects: number;
  reconnects: number;
  /** Entries delivered from a catch-up rather than a push. */
  recovered: number;
  duplicatesDropped: number;
  resends: number;
}

// -- constants -------------------------------------------------------------------------------------------

export const USER_AGENT = "parley-client-js/0.1";
/** Errors after which the same request may simply be sent again (`rate_limited` after its `retryAfterMs`). */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(
  ["throttled", "conflict", "internal_error", "rate_limited", "moderation_unavailable"]);
const HISTORY_PAGE_MAX = 100;
const FILL_ROUNDS = 5;
const GAP_GRACE_MS = 100;
const OPEN = 1;

type Raw = Record<string, unknown>;
type Fields<A extends ActionName> = Omit<Requests[A], "action" | "requestId">;
/** The frame that answers action `A` (an error frame is thrown as a ParleyError instead). */
export type Answer<A extends ActionName> = Exclude<Answers[A], ErrorFrame>;

interface Waiter {
  resolve(frame: Raw): void;
  reject(error: Error): void;
}

interface Queued {
  message: OutgoingMessage;
  settle: { resolve(ack: Ack): void; reject(error: Error): void }[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function randomId(): string {
  const bytes = new Uint8Array(8);
  const crypto = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `sub` of a JWT (read, not verified: the server verifies). */
export function tokenSubject(token: string): string | undefined {
  try {
    const part = token.split(".")[1];
    if (!part) return undefined;
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const json = typeof atob === "function" ? atob(b64) : "";
    const sub = (JSON.parse(decodeURIComponent(escape(json))) as { sub?: unknown }).sub;
    return typeof sub === "string" ? sub : undefined;
  } catch {
    return undefined;
  }
}

function handshakeStatus(event: unknown): number | undefined {
  // `ws` reports a refused handshake as an error "Unexpected server response: 403"; browsers report nothing.
  const text = String((event as { message?: unknown })?.message ?? (event as { error?: unknown })?.error ?? "");
  const match = /Unexpected server response: (\d{3})/.exec(text);
  return match ? Number(match[1]) : undefined;
}

// -- the client ------------------------------------------------------------------------------------------

export class ParleyClient extends Emitter<ParleyEvents> {
  readonly stats: ClientStats = { connects: 0, reconnects: 0, recovered: 0, duplicatesDropped: 0, resends: 0 };
  private readonly options: ParleyClientOptions;
  private readonly backoff: Backoff;
  private readonly storage: Storage;
  private readonly WebSocketImpl: WebSocketConstructor | undefined;
  private currentState: ConnectionState = "idle";
  private ws: WebSocketLike | undefined;
  private user: string | undefined;
  private closing = false;
  private fatal: Error | undefined;
  private readonly waiting = new Map<string, Waiter>();
  private pings: Waiter[] = [];
  private readonly timelines = new Map<string, Timeline>();
  private readonly filling = new Set<string>();
  private readonly sending = new Set<string>();
  private readonly outbox: Queued[] = [];
  private flushing = false;
  private loaded: Promise<void> | undefined;
  private readonly lastTyping = new Map<string, number>();
  private lastActivity = 0;
  private keepaliveTimer: ReturnType<typeof setTimeout> | undefined;
  private openWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  private seqsDirty = false;
  private nextId = 1;
  private wake: (() => void) | undefined;
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private unwatchNetwork: (() => void) | undefined;

  constructor(options: ParleyClientOptions) {
    super();
    if (options.format !== undefined && options.format !== "compact" && options.format !== "full") {
      throw new RangeError(`format is "compact" or "full", not ${String(options.format)}`);
    }
    this.options = options;
    this.backoff = new Backoff(options.backoff);
    this.storage = options.storage ?? new MemoryStorage();
    this.WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof options.token === "string") this.user = tokenSubject(options.token);
  }

  // -- connection ----------------------------------------------------------------------------------------

  /** The connection's state. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** Whether the connection is open now. */
  get connected(): boolean {
    return this.currentState === "open";
  }

  /** The user id (the token's `sub`), once a token is known. */
  get userId(): string | undefined {
    return this.user;
  }

  /** Open the connection and keep it open. Resolves when it is open; rejects when the client gives up: the
   *  handshake refused `maxAuthFailures` times in a row (HandshakeError), or `close()`. Network failures are
   *  retried with backoff for as long as it takes. Queued messages are sent and every known conversation is
   *  caught up at each (re)connection. */
  connect(): Promise<void> {
    if (this.currentState !== "idle") throw new ParleyClientError("connect() was called already");
    if (!this.WebSocketImpl) {
      throw new ParleyClientError("no WebSocket here: pass the `WebSocket` option (in Node < 22: `ws`)");
    }
    const opened = this.whenOpen();
    this.watchNetwork();
    void this.supervise();
    return opened;
  }

  /** Close the connection and stop reconnecting. Queued messages stay in storage for the next client. */
  async close(): Promise<void> {
    if (this.currentState === "closed") return;
    this.closing = true;
    this.unwatchNetwork?.();
    this.wake?.();
    for (const resolve of this.resumeWaiters.splice(0)) resolve();
    this.ws?.close(1000, "client closed");
    this.finish(new ClientClosedError("the client is closed"));
  }

  private finish(error: Error): void {
    this.fatal = error;
    this.clearKeepalive();
    this.failWaiting(error);
    for (const waiter of this.openWaiters.splice(0)) waiter.reject(error);
    for (const queued of this.outbox) for (const s of queued.settle.splice(0)) s.reject(error);
    this.setState("closed", { error: error instanceof ClientClosedError && this.closing ? undefined : error });
  }

  private setState(state: ConnectionState, detail: Omit<StateChange, "state" | "previous"> = {}): void {
    const previous = this.currentState;
    this.currentState = state;
    this.emit("state", { state, previous, ...detail });
  }

  private whenOpen(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.currentState === "open") return Promise.resolve();
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  private async supervise(): Promise<void> {
    let attempt = 0;
    let authFailures = 0;
    let reason: TokenRequest["reason"] = "connect";
    this.setState("connecting");
    while (!this.closing) {
      if (this.paused) {
        this.setState("paused");
        await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
        attempt = 0;
        reason = "reconnect";
        continue;
      }
      let failure: Error | undefined;
      try {
        const token = await this.token(reason);
        await this.ensureLoaded();
        if (this.closing) return;
        const ws = await this.open(token);
        attempt = 0;
        authFailures = 0;
        await this.run(ws); // until it closes
        if (this.closing) return;
        reason = "reconnect";
      } catch (error) {
        failure = error as Error;
        if (this.closing) return;
        if (failure instanceof HandshakeError && (failure.status === 401 || failure.status === 403)) {
          authFailures += 1;
          reason = "refused";
          if (authFailures >= (this.options.maxAuthFailures ?? 3)) {
            this.finish(failure);
            return;
          }
        } else if (reason === "connect" && this.stats.connects === 0 && failure instanceof ParleyClientError
                   && !(failure instanceof HandshakeError)) {
          this.finish(failure);
          return;
        }
      }
      if (this.paused) continue;
      if (this.options.reconnect === false) {
        this.finish(new ClientClosedError("the connection closed (reconnect is off)", failure));
        return;
      }
      const delayMs = this.backoff.delay(attempt);
      attempt += 1;
      this.setState("reconnecting", { attempt, delayMs, error: failure });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async token(reason: TokenRequest["reason"]): Promise<string> {
    const given = this.options.token;
    const token = typeof given === "function" ? await given({ reason }) : given;
    if (typeof token !== "string" || !token) throw new ParleyClientError("the token provider returned no token");
    this.user = tokenSubject(token) ?? this.user;
    return token;
  }

  private open(token: string): Promise<WebSocketLike> {
    const url = new URL(this.options.url);
    url.searchParams.set("token", token);
    url.searchParams.set("format", this.options.format ?? "compact");
    const WebSocketImpl = this.WebSocketImpl as WebSocketConstructor;
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = new WebSocketImpl(url.toString());
      } catch (error) {
        reject(new HandshakeError(undefined, String(error)));
        return;
      }
      let status: number | undefined;
      ws.onerror = (event) => {
        status = status ?? handshakeStatus(event);
      };
      ws.onclose = (event) => reject(new HandshakeError(status, `closed with ${event.code}`));
      ws.onopen = () => resolve(ws);
    });
  }

  /** One open connection, until it closes. */
  private run(ws: WebSocketLike): Promise<void> {
    return new Promise((resolve) => {
      this.ws = ws;
      ws.onmessage = (event) => this.receive(event.data);
      ws.onerror = () => undefined;
      ws.onclose = () => {
        if (this.ws === ws) this.ws = undefined;
        this.clearKeepalive();
        // Requests in flight lost their answer: senders resend, readers ask again.
        this.failWaiting(new ConnectionLostError("the connection closed"));
        resolve();
      };
      if (this.closing || this.paused) {
        ws.close(1000, this.closing ? "client closed" : "paused");
        return;
      }
      const reconnected = this.stats.connects > 0;
      this.stats.connects += 1;
      if (reconnected) this.stats.reconnects += 1;
      this.active();
      this.setState("open");
      for (const waiter of this.openWaiters.splice(0)) waiter.resolve();
      void this.flush();
      void this.catchUpAll();
    });
  }

  /** Drop the current connection as if the network had, and reconnect at once (then catch up). For apps
   *  that know the network changed, and for tests. */
  reconnectNow(): void {
    this.ws?.close(4000, "reconnect");
    this.wake?.();
  }

  /** Close the connection without ending the client (an app going to the background): requests and sends
   *  wait, and queued messages stay queued, until `resume()`. */
  pause(): void {
    if (this.currentState === "idle" || this.currentState === "closed" || this.paused) return;
    this.paused = true;
    this.ws?.close(1000, "paused");
    this.wake?.();
  }

  /** Reconnect after `pause()`, then send what is queued and catch up every known conversation. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const resolve of this.resumeWaiters.splice(0)) resolve();
  }

  /** Browsers: drop the connection when the browser goes offline (a dead socket may otherwise linger until a
   *  ping fails), and reconnect at once when it is back online. */
  private watchNetwork(): void {
    const target = (globalThis as { window?: { addEventListener?: unknown; removeEventListener?: unknown } }).window;
    if (this.options.watchNetwork === false || typeof target?.addEventListener !== "function") return;
    const page = target as unknown as Pick<EventTarget, "addEventListener" | "removeEventListener">;
    const offline = () => this.ws?.close(4000, "offline");
    const online = () => this.wake?.();
    page.addEventListener("offline", offline);
    page.addEventListener("online", online);
    this.unwatchNetwork = () => {
      page.removeEventListener("offline", offline);
      page.removeEventListener("online", online);
    };
  }

  // -- keepalive -------------------------------------------------------------------------------------------

  private active(): void {
    this.lastActivity = Date.now();
    if (this.keepaliveTimer === undefined && this.ws) this.scheduleKeepalive();
  }

  private scheduleKeepalive(): void {
    const interval = this.options.keepaliveIntervalMs ?? 300_000;
    const due = this.lastActivity + interval - Date.now();
    this.keepaliveTimer = setTimeout(() => {
      this.keepaliveTimer = undefined;
      const ws = this.ws;
      if (!ws) return;
      if (Date.now() - this.lastActivity < interval) {
        this.scheduleKeepalive();
        return;
      }
      this.pingOn(ws, this.options.pongTimeoutMs ?? 10_000).catch((error: unknown) => {
        if (error instanceof TimeoutError && this.ws === ws) ws.close(4001, "no pong");
      });
    }, Math.max(due, 0));
    (this.keepaliveTimer as { unref?(): void }).unref?.();
  }

  private clearKeepalive(): void {
    if (this.keepaliveTimer !== undefined) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }

  private pingOn(ws: WebSocketLike, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings = this.pings.filter((p) => p !== waiter);
        reject(new TimeoutError(`no pong within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.pings.push(waiter);
      this.write(ws, { action: "ping" });
    });
  }

  /** The round trip of a `ping`, in ms. */
  async ping(): Promise<number> {
    const started = Date.now();
    await this.pingOn(await this.connection(), this.options.requestTimeoutMs ?? 10_000);
    return Date.now() - started;
  }

  // -- frames in -------------------------------------------------------------------------------------------

  private receive(data: unknown): void {
    let frame: unknown;
    try {
      frame = JSON.parse(typeof data === "string" ? data : String(data));
    } catch {
      return; // not JSON: nothing the protocol sends
    }
    this.active();
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) return;
    this.dispatch(frame as Raw);
  }

  private dispatch(frame: Raw): void {
    const kind = frameType(frame);
    if (kind === "pong") {
      this.pings.shift()?.resolve(frame);
      return;
    }
    if (kind !== "message" && kind !== "change") {
      // A send is answered by its clientMsgId (an ack, or an error to a send); anything else by its ref.
      const cmid = kind === "ack" ? (frame.r ?? frame.clientMsgId) : kind === "error" ? frame.clientMsgId : undefined;
      const key = typeof cmid === "string" ? `send:${cmid}` : typeof frame.ref === "string" ? frame.ref : undefined;
      const waiter = key === undefined ? undefined : this.waiting.get(key);
      if (waiter) {
        this.waiting.delete(key as string);
        waiter.resolve(frame);
        return;
      }
    }
    switch (kind) {
      case "message":
      case "change": {
        const entry = decodeEntry(frame);
        if (entry) this.onEntry(entry, false);
        return;
      }
      case "presence":
        for (const user of (frame as { users?: PresenceEntry[] }).users ?? []) this.emit("presence", user);
        return;
      case "typing":
        this.emit("typing", frame as unknown as TypingFrame);
        return;
      case "receipt":
        this.emit("receipt", frame as unknown as ReceiptFrame);
        return;
      case "unread":
        this.emit("unread", frame as unknown as UnreadFrame);
        return;
      case "attachment":
        this.emit("attachment", frame as unknown as AttachmentReadyFrame);
        return;
      case "error": {
        const error = frame as unknown as ErrorFrame;
        this.emit("error", new ParleyError(error.code, error.message, undefined, error.retryAfterMs));
        return;
      }
      default:
        return; // API Gateway's own `{"message": "Internal server error"}`, or an answer nobody waits for
    }
  }

  private onEntry(entry: Entry, recovered: boolean): void {
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
      if (entry.type === "message") this.emit("message", entry);
      else this.emit("change", entry);
    }
    if (entries.length) this.seqsChanged();
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

  private key(name: string): string {
    return `${this.options.storagePrefix ?? "parley"}:${this.user ?? "_"}:${name}`;
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
        let outcome: Ack | ParleyError;
        try {
          outcome = await this.deliverQueued(queued.message);
        } catch (error) {
          if (!(error instanceof ParleyError) || this.closing) return; // lost or closed: resent at the next open
          outcome = error; // a history read of the stale_last_seq check was refused
        }
        this.outbox.shift();
        await this.saveOutbox();
        if (outcome instanceof ParleyError) {
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
  private async deliverQueued(message: OutgoingMessage): Promise<Ack | ParleyError> {
    const cmid = message.clientMsgId;
    this.sending.add(cmid);
    try {
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

  // -- requests ----------------------------------------------------------------------------------------------

  /** Any request, typed by action: resolves with the answering frame, rejects with a ParleyError for an error
   *  frame. With `retry` (the default) it is sent again after a lost connection or a retryable error. */
  async request<A extends ActionName>(action: A, fields: Fields<A>,
    { retry = true, timeoutMs }: { retry?: boolean; timeoutMs?: number } = {}): Promise<Answer<A>> {
    return await this.call(action, fields, retry, timeoutMs) as unknown as Answer<A>;
  }

  private async call(action: ActionName, fields: object, retry = true, timeoutMs?: number): Promise<Raw> {
    const requestId = `r${this.nextId++}-${randomId().slice(0, 6)}`;
    const frame: Raw = { action, requestId, ...fields };
    for (let attempt = 0; ; attempt++) {
      const ws = await this.connection();
      let reply: Raw;
      try {
        reply = await this.exchange(ws, frame, requestId, timeoutMs ?? this.options.requestTimeoutMs ?? 10_000);
      } catch (error) {
        if (!(error instanceof ConnectionLostError || error instanceof TimeoutError)) throw error;
        if (!retry) throw error instanceof TimeoutError ? error
          : new ConnectionLostError(`${action}: the connection closed before the answer`);
        if (attempt >= 5 && error instanceof TimeoutError) throw error;
        this.stats.resends += 1;
        await sleep(this.backoff.delay(attempt) / 4);
        continue;
      }
      if (frameType(reply) !== "error") return reply;
      const error = reply as unknown as ErrorFrame;
      if (retry && RETRYABLE_CODES.has(error.code) && attempt < 5) {
        this.stats.resends += 1;
        await sleep(error.retryAfterMs && error.retryAfterMs > 0 ? error.retryAfterMs : this.backoff.delay(attempt));
        continue;
      }
      const { requestId: _omit, ...request } = frame;
      throw new ParleyError(error.code, error.message, request as RequestInfo, error.retryAfterMs);
    }
  }

  private exchange(ws: WebSocketLike, frame: Raw, key: string, timeoutMs: number): Promise<Raw> {
    return new Promise<Raw>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiting.get(key) === waiter) this.waiting.delete(key);
        reject(new TimeoutError(`${String(frame.action)}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiting.set(key, waiter);
      try {
        this.write(ws, frame);
      } catch (error) {
        this.waiting.delete(key);
        waiter.reject(new ConnectionLostError(String(error)));
      }
    });
  }

  private write(ws: WebSocketLike, frame: Raw): void {
    if (ws.readyState !== OPEN) throw new ConnectionLostError("the connection is not open");
    ws.send(JSON.stringify(frame));
    this.active();
  }

  private async connection(): Promise<WebSocketLike> {
    for (;;) {
      if (this.fatal) throw this.fatal;
      if (this.currentState === "idle") throw new ClientClosedError("connect() first");
      if (this.ws && this.currentState === "open" && this.ws.readyState === OPEN) return this.ws;
      await this.whenOpen();
    }
  }

  private failWaiting(error: Error): void {
    const waiters = [...this.waiting.values(), ...this.pings];
    this.waiting.clear();
    this.pings = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  // -- history and conversations ---------------------------------------------------------------------------

  /** A page of a conversation's entries, oldest first. The newest page (no `before`/`after`) of a conversation
   *  not followed yet starts following it after its newest entry. */
  history(conversationId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    return this.readHistory(conversationId, options, true);
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

  /** Find or create the direct conversation with `userId`, and follow it from now on. */
  async openDirect(userId: string): Promise<Conversation> {
    const conversation = this.conversationOf(await this.call("openDirect", { userId }));
    if (this.lastSeq(conversation.conversationId) === undefined) {
      await this.history(conversation.conversationId, { limit: 1 });
    }
    return conversation;
  }

  /** Create a group of you plus `members` (not repeated after a lost connection: that could make two groups). */
  async createGroup(members: string[], options: { name?: string; historyVisibility?: HistoryVisibility } = {}):
  Promise<Conversation> {
    const fields: Fields<"createGroup"> = { members };
    if (options.name !== undefined) fields.name = options.name;
    if (options.historyVisibility !== undefined) fields.historyVisibility = options.historyVisibility;
    const conversation = this.conversationOf(await this.call("createGroup", fields, false));
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

  private conversationOf(frame: Raw): Conversation {
    return decodeConversation(frame.conversation as Parameters<typeof decodeConversation>[0]);
  }

  /** Your conversations, newest activity first, with unread counts and last messages. */
  async listConversations(options: { limit?: number; cursor?: string } = {}): Promise<ConversationsPage> {
    const fields: Fields<"listConversations"> = { limit: options.limit ?? 50 };
    if (options.cursor !== undefined) fields.cursor = options.cursor;
    const frame = await this.call("listConversations", fields);
    const page: ConversationsPage = {
      conversations: ((frame.conversations as Parameters<typeof decodeConversation>[0][]) ?? []).map(decodeConversation),
    };
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
  edit(conversationId: string, seq: number, text: string): Promise<ChangedFrame> {
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
    const size = data instanceof ArrayBuffer ? data.byteLength : data instanceof Uint8Array ? data.byteLength
      : (data as { size: number }).size;
    const ticket = await this.requestUpload(conversationId, options.contentType, size);
    const form = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
    if ("uri" in data) {
      form.append("file", { uri: data.uri, type: data.type ?? options.contentType, name: data.name ?? "upload" } as
        unknown as Blob);
    } else {
      const blob = data instanceof Blob ? data : new Blob([data as BlobPart], { type: options.contentType });
      form.append("file", blob, "upload");
    }
    const fetchImpl = this.options.fetch ?? globalThis.fetch;
    const answer = await fetchImpl(ticket.url, { method: "POST", body: form });
    if (!answer.ok) throw new UploadError(answer.status, (await answer.text()).slice(0, 500));
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
