// The connection half of the client: one WebSocket kept open (reconnects with backoff, token refresh, pause and
// resume, keepalive), and requests matched to their answers. ParleyClient (client.ts) builds the chat on it:
// ordered delivery, catch-up, the offline queue and the actions. docs/clients.md, "Connecting".
import { Backoff } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { type Entry, decodeEntry, frameType } from "./entries.js";
import {
  ClientClosedError, ConnectionLostError, HandshakeError, ParleyClientError, ParleyError, type RequestInfo,
  TimeoutError,
} from "./errors.js";
import type {
  ActionName, Answers, AttachmentReadyFrame, ErrorCode, ErrorFrame, PresenceEntry, ReceiptFrame, Requests,
  TypingFrame, UnreadFrame,
} from "./frames.js";
import type {
  ClientStats, ConnectionState, ParleyClientOptions, ParleyEvents, StateChange, TokenRequest, WebSocketConstructor,
  WebSocketLike,
} from "./types.js";

export const USER_AGENT = "parley-client-js/0.1";
/** Errors after which the same request may simply be sent again (`rate_limited` after its `retryAfterMs`). */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(
  ["throttled", "conflict", "internal_error", "rate_limited", "moderation_unavailable"]);
const OPEN = 1;

export type Raw = Record<string, unknown>;
export type Fields<A extends ActionName> = Omit<Requests[A], "action" | "requestId">;
/** The frame that answers action `A` (an error frame is thrown as a ParleyError instead). */
export type Answer<A extends ActionName> = Exclude<Answers[A], ErrorFrame>;

interface Waiter {
  resolve(frame: Raw): void;
  reject(error: Error): void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function randomId(): string {
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

// -- the connection ------------------------------------------------------------------------------------

export abstract class Connection extends Emitter<ParleyEvents> {
  readonly stats: ClientStats = { connects: 0, reconnects: 0, recovered: 0, duplicatesDropped: 0, resends: 0 };
  protected readonly options: ParleyClientOptions;
  protected readonly backoff: Backoff;
  protected currentState: ConnectionState = "idle";
  protected ws: WebSocketLike | undefined;
  protected user: string | undefined;
  protected closing = false;
  protected fatal: Error | undefined;
  private readonly WebSocketImpl: WebSocketConstructor | undefined;
  private readonly waiting = new Map<string, Waiter>();
  private pings: Waiter[] = [];
  private lastActivity = 0;
  private keepaliveTimer: ReturnType<typeof setTimeout> | undefined;
  private openWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  private nextId = 1;
  private wake: (() => void) | undefined;
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private unwatchNetwork: (() => void) | undefined;
  private drop: ((code: number, reason: string) => void) | undefined; // close the current socket now

  constructor(options: ParleyClientOptions) {
    super();
    if (options.format !== undefined && options.format !== "compact" && options.format !== "full") {
      throw new RangeError(`format is "compact" or "full", not ${String(options.format)}`);
    }
    this.options = options;
    this.backoff = new Backoff(options.backoff);
    this.WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof options.token === "string") this.user = tokenSubject(options.token);
  }

  /** Before each connection attempt, once the token (so the user) is known. */
  protected abstract beforeOpen(): Promise<void>;
  /** A connection opened. */
  protected abstract opened(): void;
  /** A message or change frame arrived. */
  protected abstract onEntry(entry: Entry, recovered: boolean): void;
  /** The client closed for good, with this error. */
  protected abstract closedForGood(error: Error): void;

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
    this.drop?.(1000, "client closed");
    this.finish(new ClientClosedError("the client is closed"));
  }

  private finish(error: Error): void {
    this.fatal = error;
    this.clearKeepalive();
    this.failWaiting(error);
    for (const waiter of this.openWaiters.splice(0)) waiter.reject(error);
    this.closedForGood(error);
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
        await this.beforeOpen();
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
        if (failure instanceof HandshakeError && failure.banned) {
          // 423: the user is banned; every reconnect would be refused the same way until the ban ends.
          this.finish(failure);
          return;
        }
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
      let settled = false;
      const closed = () => {
        if (settled) return;
        settled = true;
        if (this.ws === ws) {
          this.ws = undefined;
          this.drop = undefined;
        }
        ws.onmessage = null;
        this.clearKeepalive();
        // Requests in flight lost their answer: senders resend, readers ask again.
        this.failWaiting(new ConnectionLostError("the connection closed"));
        resolve();
      };
      this.ws = ws;
      ws.onmessage = (event) => this.receive(event.data);
      ws.onerror = () => undefined;
      ws.onclose = closed;
      // A socket the client closes counts as closed at once: over a dead network its closing handshake
      // could take as long as the platform's timeout.
      this.drop = (code, reason) => {
        try {
          ws.close(code, reason);
        } catch {
          // closing already
        }
        closed();
      };
      if (this.closing || this.paused) {
        this.drop(1000, this.closing ? "client closed" : "paused");
        return;
      }
      const reconnected = this.stats.connects > 0;
      this.stats.connects += 1;
      if (reconnected) this.stats.reconnects += 1;
      this.active();
      this.setState("open");
      for (const waiter of this.openWaiters.splice(0)) waiter.resolve();
      this.opened();
    });
  }

  /** Drop the current connection as if the network had, and reconnect at once (then catch up). For apps
   *  that know the network changed, and for tests. */
  reconnectNow(): void {
    this.drop?.(4000, "reconnect");
    this.wake?.();
  }

  /** Close the connection without ending the client (an app going to the background): requests and sends
   *  wait, and queued messages stay queued, until `resume()`. */
  pause(): void {
    if (this.currentState === "idle" || this.currentState === "closed" || this.paused) return;
    this.paused = true;
    this.drop?.(1000, "paused");
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
    const offline = () => this.drop?.(4000, "offline");
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
        if (error instanceof TimeoutError && this.ws === ws) this.drop?.(4001, "no pong");
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
        // API Gateway's own `{"message": "Internal server error"}`, an answer nobody waits for, or a frame
        // of a plugged-in layer (`keysChanged`: end-to-end encryption)
        this.unhandled(frame);
    }
  }

  /** A frame of a type this class does not handle. */
  protected unhandled(_frame: Raw): void {
    // nothing by default
  }

  // -- requests ----------------------------------------------------------------------------------------------

  /** Any request, typed by action: resolves with the answering frame, rejects with a ParleyError for an error
   *  frame. With `retry` (the default) it is sent again after a lost connection or a retryable error. */
  async request<A extends ActionName>(action: A, fields: Fields<A>,
    { retry = true, timeoutMs }: { retry?: boolean; timeoutMs?: number } = {}): Promise<Answer<A>> {
    return await this.call(action, fields, retry, timeoutMs) as unknown as Answer<A>;
  }

  protected async call(action: ActionName, fields: object, retry = true, timeoutMs?: number): Promise<Raw> {
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

  protected exchange(ws: WebSocketLike, frame: Raw, key: string, timeoutMs: number): Promise<Raw> {
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

  protected write(ws: WebSocketLike, frame: Raw): void {
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
}
