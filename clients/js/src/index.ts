// @parley/client: Parley's TypeScript SDK. docs/clients.md, "JavaScript / TypeScript SDK".
export { ParleyClient } from "./client.js";
export { Connection, RETRYABLE_CODES, USER_AGENT, tokenSubject, type Answer } from "./connection.js";
export type {
  ClientStats, ConnectionState, ConversationPreferencesUpdate, ConversationsPage, HistoryOptions, HistoryPage,
  OutgoingMessage, ParleyClientOptions, ParleyEvents, PreferencesUpdate, ReactNativeFile, SendFailedEvent,
  SendOptions, SentEvent, StateChange, TokenProvider, TokenRequest, UploadData, UploadOptions,
  WebSocketConstructor, WebSocketLike,
} from "./types.js";
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
export {
  decodeAck, decodeChange, decodeEntry, decodeMessage, frameType, messageIdOf,
  type Ack, type Change, type ChangeKind, type Conversation, type Entry, type Message,
} from "./entries.js";
export {
  ClientClosedError, ConnectionLostError, HandshakeError, ParleyClientError, ParleyError, TimeoutError, UploadError,
  type RequestInfo,
} from "./errors.js";
export { Emitter, type Listener } from "./emitter.js";
export { LocalStorageStorage, MemoryStorage, type Storage } from "./storage.js";
export { Timeline } from "./timeline.js";
export * from "./frames.js";
