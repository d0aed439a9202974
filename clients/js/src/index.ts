// @parley/client: Parley's TypeScript SDK. docs/clients.md, "JavaScript / TypeScript SDK".
export {
  ParleyClient, RETRYABLE_CODES, USER_AGENT, tokenSubject,
  type ClientStats, type ConnectionState, type ConversationPreferencesUpdate, type ConversationsPage,
  type HistoryOptions, type HistoryPage, type OutgoingMessage, type ParleyClientOptions, type ParleyEvents,
  type PreferencesUpdate, type ReactNativeFile, type SendFailedEvent, type SendOptions, type SentEvent,
  type StateChange, type TokenProvider, type TokenRequest, type UploadData, type UploadOptions,
  type WebSocketConstructor, type WebSocketLike,
} from "./client.js";
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
