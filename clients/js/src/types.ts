// The client's options, events and the shapes its methods take and return (docs/clients.md).
import type { Ack, Change, Entry, Message } from "./entries.js";
import type { BackoffOptions } from "./backoff.js";
import type { E2EError } from "./e2e-errors.js";
import type { ParleyError } from "./errors.js";
import type {
  AttachmentIn, AttachmentReadyFrame, FrameFormat, NotifyMode, PresenceEntry, ReceiptFrame, SendBody, TypingFrame,
  UnreadFrame, Visibility,
} from "./frames.js";
import type { Storage } from "./storage.js";
import type { Conversation } from "./entries.js";

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
  /** End-to-end encrypted conversations: the body was sealed (it is resent as it is). */
  sealed?: boolean;
}

export interface SentEvent {
  message: OutgoingMessage;
  ack: Ack;
}

export interface SendFailedEvent {
  message: OutgoingMessage;
  /** The server's refusal, or (end-to-end encrypted conversations) why the message could not be sealed. */
  error: ParleyError | E2EError;
}

/** What `@parley/client/e2e` plugs into the client (`client.useCrypto`), so that an app sends and receives in
 *  end-to-end encrypted conversations as in any other; the base entry never loads a cipher. */
export interface MessageCrypto {
  /** Whether the conversation's messages are sealed (it may ask the server about one it does not know). */
  encrypted(conversationId: string): Promise<boolean>;
  /** The body to send instead of a queued message's: called once per message, the result is resent as is. */
  sealMessage(message: OutgoingMessage): Promise<SendBody>;
  /** The envelope of an edit. */
  sealEdit(conversationId: string, seq: number, text: string): Promise<Record<string, unknown>>;
  /** An entry opened before it is delivered (never throws: a failure is set as `e2eError`). */
  open(entry: Entry): Promise<Entry>;
  /** Every entry delivered (a membership change makes it read the conversation's devices again). */
  observe(entry: Entry): void;
  /** A conversation the server described (openDirect, createGroup, the group actions, listConversations);
   *  `requestedE2E`: the app asked for an end-to-end encrypted one. */
  conversation(conversation: Conversation, requestedE2E?: boolean): void;
  /** A frame of a type the client itself does not handle (`keysChanged`). */
  frame(frame: Record<string, unknown>): void;
  /** A connection opened (publish keys, forget cached directory answers). */
  opened(): void;
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
  /** The server refused a queued message (nothing was stored), or an end-to-end encrypted one could not be
   *  sealed; it left the queue. */
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
