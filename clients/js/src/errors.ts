// What the client throws (and emits). docs/clients.md, "Errors".
import type { ErrorCode } from "./frames.js";

/** Base class of every error this client throws. */
export class ParleyClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request a refusal answered: its action and fields, as sent (never a token). */
export interface RequestInfo {
  action: string;
  [field: string]: unknown;
}

/** The server refused a request with an `error` frame; `code` is the protocol's stable code. */
export class ParleyError extends ParleyClientError {
  readonly code: ErrorCode;
  /** The request it answered (absent for a refusal the client cannot match, e.g. of a `typing`). */
  readonly request: RequestInfo | undefined;
  /** `rate_limited`: how long to wait before sending again. */
  readonly retryAfterMs: number | undefined;
  /** The human-readable text of the error frame (it may change; match on `code`). */
  readonly serverMessage: string;

  constructor(code: ErrorCode, serverMessage: string, request?: RequestInfo, retryAfterMs?: number) {
    super(`${code}: ${serverMessage}`);
    this.code = code;
    this.serverMessage = serverMessage;
    this.request = request;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The server refused the WebSocket handshake. `status` is the HTTP status (401 no token, 403 invalid or
 *  expired token, 429 too many connections) when the platform reports it (Node's `ws` does; browsers do not). */
export class HandshakeError extends ParleyClientError {
  readonly status: number | undefined;
  constructor(status: number | undefined, detail?: string) {
    super(status === undefined ? `the connection could not be opened${detail ? `: ${detail}` : ""}`
      : `the server refused the connection: HTTP ${status}`);
    this.status = status;
  }

  /** 423: the user is banned (docs/server-api.md, "Moderation"); the client stops reconnecting. */
  get banned(): boolean {
    return this.status === 423;
  }
}

/** The connection closed while a request that must not be repeated (`createGroup`) was in flight. */
export class ConnectionLostError extends ParleyClientError {}

/** The client was closed, or gave up reconnecting; `cause` says why when it gave up. */
export class ClientClosedError extends ParleyClientError {
  readonly reason: Error | undefined;
  constructor(message: string, reason?: Error) {
    super(message);
    this.reason = reason;
  }
}

/** A request got no answer in time (after its retries). */
export class TimeoutError extends ParleyClientError {}

/** The storage service refused the presigned POST of an upload. */
export class UploadError extends ParleyClientError {
  readonly status: number;
  readonly detail: string;
  constructor(status: number, detail: string) {
    super(`the upload was refused: HTTP ${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}
