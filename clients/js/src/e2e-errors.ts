// The errors of end-to-end encrypted conversations (docs/e2e.md, "Construction"; docs/clients.md, "End-to-end
// encryption"). Kept apart from the cipher so the base entry can name them without loading libsodium.
import { ParleyClientError } from "./errors.js";

/** The stable codes, the same in the Python client. */
export type E2EErrorCode =
  | "e2e_unknown_device" | "e2e_tampered" | "e2e_no_key" | "e2e_wrong_key" | "e2e_replayed" | "e2e_cannot_seal";

/** Base class of every end-to-end error: a message that failed one of the checks is never shown as text. */
export class E2EError extends ParleyClientError {
  readonly code: E2EErrorCode;
  constructor(code: E2EErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** The sender device is not (any more) one of the sender's devices in the key directory: a removed device. */
export class UnknownDeviceError extends E2EError {
  constructor(message: string) {
    super("e2e_unknown_device", message);
  }
}

/** The signature or the ciphertext does not verify: the message was changed on the way. */
export class TamperedMessageError extends E2EError {
  constructor(message: string) {
    super("e2e_tampered", message);
  }
}

/** The message carries no key for this device (it was sealed before the device was added, or not for it). */
export class NoKeyError extends E2EError {
  constructor(message: string) {
    super("e2e_no_key", message);
  }
}

/** The key for this device does not open with its prekey (a wrong or deleted prekey). */
export class WrongKeyError extends E2EError {
  constructor(message: string) {
    super("e2e_wrong_key", message);
  }
}

/** The envelope was already delivered at another seq, or does not belong to the entry that carries it. */
export class ReplayedMessageError extends E2EError {
  constructor(message: string) {
    super("e2e_replayed", message);
  }
}

/** A message could not be sealed: no device to seal it for, or an attachment that was not encrypted. */
export class SealError extends E2EError {
  constructor(message: string) {
    super("e2e_cannot_seal", message);
  }
}
