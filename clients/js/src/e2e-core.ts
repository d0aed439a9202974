// "Parley E2E v1", the construction itself (docs/e2e.md, "Construction"), byte for byte the same as the Python
// client's (parley_client/e2e.py): per-message keys wrapped for every recipient device with crypto_box, the
// payload sealed with XChaCha20-Poly1305, the envelope signed with the sender device's Ed25519 identity key.
// Only libsodium's primitives; nothing here keeps state or talks to the server (e2e.ts does).
import sodium from "libsodium-wrappers";
import { NoKeyError, TamperedMessageError, WrongKeyError } from "./e2e-errors.js";
import type { EncryptedFile } from "./entries.js";

export const DEVICE_ID = /^[A-Za-z0-9_-]{8,64}$/;
const FILE_AD = "parley-e2e-v1/file";
const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const WRAPPED_BYTES = 48;

/** libsodium is WebAssembly: wait for it once before any other call here. */
export const ready: Promise<void> = sodium.ready;

const utf8 = (text: string): Uint8Array => sodium.from_string(text);
/** Standard base64 with padding (libsodium's ORIGINAL variant), as everywhere in the construction. */
export const b64 = (bytes: Uint8Array): string => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
export const unb64 = (text: string): Uint8Array => sodium.from_base64(text, sodium.base64_variants.ORIGINAL);

function unb64Sized(text: unknown, size: number | undefined, what: string): Uint8Array {
  let bytes: Uint8Array | undefined;
  try {
    if (typeof text === "string") bytes = unb64(text);
  } catch {
    bytes = undefined;
  }
  if (!bytes || (size !== undefined && bytes.length !== size)) {
    throw new TamperedMessageError(`the envelope's ${what} is not valid base64 of the right length`);
  }
  return bytes;
}

export const randomBytes = (size: number): Uint8Array => sodium.randombytes_buf(size);

// -- device keys ---------------------------------------------------------------------------------------------

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

/** Ed25519: the device's identity. */
export const identityKeyPair = (): KeyPair => sodium.crypto_sign_keypair();
/** X25519: a prekey, which recipients' keys are wrapped for. */
export const prekeyPair = (): KeyPair => sodium.crypto_box_keypair();

function prekeyStatement(deviceId: string, prekeyId: number, prekey: string): Uint8Array {
  return utf8(`parley-e2e-v1/prekey\n${deviceId}\n${prekeyId}\n${prekey}`);
}

/** The signature a device publishes with its prekey (b64). */
export function signPrekey(identitySecret: Uint8Array, deviceId: string, prekeyId: number, prekey: Uint8Array): string {
  return b64(sodium.crypto_sign_detached(prekeyStatement(deviceId, prekeyId, b64(prekey)), identitySecret));
}

export function prekeySignatureValid(identityKey: string, deviceId: string, prekeyId: number, prekey: string,
  sig: string): boolean {
  try {
    return sodium.crypto_sign_verify_detached(unb64(sig), prekeyStatement(deviceId, prekeyId, prekey),
      unb64(identityKey));
  } catch {
    return false;
  }
}

// -- envelopes -----------------------------------------------------------------------------------------------

/** One recipient device's copy of the message key. */
export interface KeyEntry {
  u: string;
  d: string;
  p: number;
  n: string;
  w: string;
}

/** What `send` and `edit` carry in an end-to-end encrypted conversation instead of text. */
export interface Envelope {
  v: 1;
  sd: string;
  e: string;
  n: string;
  c: string;
  sig: string;
  k: KeyEntry[];
}

/** A file of a message, as its payload describes it (the blob in storage is encrypted with `fk`): the same shape
 *  the base entry shows apps as `EncryptedFile` (a type-only import: the base entry still loads no libsodium). */
export type FileKey = EncryptedFile;

/** The sealed content of a message or an edit. */
export interface Payload {
  t: "msg" | "edit";
  mid: string;
  ts: number;
  text?: string;
  target?: number;
  files?: FileKey[];
}

/** A device a message is sealed for: its user, id, and current prekey. */
export interface Recipient {
  userId: string;
  deviceId: string;
  prekeyId: number;
  prekey: Uint8Array;
}

/** The sending device. */
export interface Sender {
  userId: string;
  deviceId: string;
  identitySecret: Uint8Array;
}

/** Fixed randomness, for the shared test vectors only. */
export interface SealRandomness {
  messageKey: Uint8Array;
  ephemeral: KeyPair;
  nonce: Uint8Array;
  keyNonces: Uint8Array[];
}

function associatedData(conversationId: string, senderUserId: string, senderDevice: string): Uint8Array {
  return utf8(`parley-e2e-v1\n${conversationId}\n${senderUserId}\n${senderDevice}`);
}

/** The bytes the sender device signs (its identity key verifies them). */
export function signatureInput(conversationId: string, senderUserId: string, envelope: Pick<Envelope, "sd" | "e"
  | "n" | "c">): Uint8Array {
  return utf8(`parley-e2e-v1\n${conversationId}\n${senderUserId}\n${envelope.sd}\n${envelope.e}\n${envelope.n}\n`
    + envelope.c);
}

/** Seal `payload` for every recipient device (the sending device among them), signed by the sender. */
export function seal(conversationId: string, sender: Sender, recipients: Recipient[], payload: Payload,
  fixed?: SealRandomness): Envelope {
  const messageKey = fixed?.messageKey ?? randomBytes(KEY_BYTES);
  const ephemeral = fixed?.ephemeral ?? sodium.crypto_box_keypair();
  const nonce = fixed?.nonce ?? randomBytes(NONCE_BYTES);
  const ad = associatedData(conversationId, sender.userId, sender.deviceId);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(utf8(JSON.stringify(payload)), ad, null,
    nonce, messageKey);
  const k = recipients.map((recipient, index): KeyEntry => {
    const keyNonce = fixed?.keyNonces[index] ?? randomBytes(NONCE_BYTES);
    const wrapped = sodium.crypto_box_easy(messageKey, keyNonce, recipient.prekey, ephemeral.privateKey);
    return { u: recipient.userId, d: recipient.deviceId, p: recipient.prekeyId, n: b64(keyNonce), w: b64(wrapped) };
  });
  const unsigned = { sd: sender.deviceId, e: b64(ephemeral.publicKey), n: b64(nonce), c: b64(ciphertext) };
  const sig = b64(sodium.crypto_sign_detached(signatureInput(conversationId, sender.userId, unsigned),
    sender.identitySecret));
  return { v: 1, ...unsigned, sig, k };
}

/** The receiving device: who it is and its private prekeys by id. */
export interface Opener {
  userId: string;
  deviceId: string;
  prekey(prekeyId: number): Uint8Array | undefined;
}

/** Steps 2 to 5 of receiving (docs/e2e.md): verify with the sender device's identity key, find and unwrap this
 *  device's key, decrypt. Step 1 (is the sender device current?) and 6 (replay) need state: e2e.ts does them.
 *  Throws TamperedMessageError, NoKeyError or WrongKeyError. */
export function open(conversationId: string, senderUserId: string, identityKey: string, envelope: Envelope,
  me: Opener): Payload {
  const e = unb64Sized(envelope.e, KEY_BYTES, "ephemeral key");
  const nonce = unb64Sized(envelope.n, NONCE_BYTES, "nonce");
  const ciphertext = unb64Sized(envelope.c, undefined, "ciphertext");
  const sig = unb64Sized(envelope.sig, 64, "signature");
  let verified = false;
  try {
    verified = sodium.crypto_sign_verify_detached(sig, signatureInput(conversationId, senderUserId, envelope),
      unb64(identityKey));
  } catch {
    verified = false;
  }
  if (!verified) throw new TamperedMessageError("the signature does not verify with the sender device's key");
  const entry = Array.isArray(envelope.k)
    ? envelope.k.find((item) => item && item.u === me.userId && item.d === me.deviceId) : undefined;
  if (!entry) throw new NoKeyError("the message carries no key for this device");
  const prekey = typeof entry.p === "number" ? me.prekey(entry.p) : undefined;
  let messageKey: Uint8Array | undefined;
  try {
    if (prekey) {
      const wrapped = unb64Sized(entry.w, WRAPPED_BYTES, "wrapped key");
      messageKey = sodium.crypto_box_open_easy(wrapped, unb64Sized(entry.n, NONCE_BYTES, "key nonce"), e, prekey);
    }
  } catch {
    messageKey = undefined;
  }
  if (!messageKey || messageKey.length !== KEY_BYTES) {
    throw new WrongKeyError(prekey ? "this device's key does not open" : `prekey ${String(entry.p)} is not held`);
  }
  let plain: Uint8Array;
  try {
    plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext,
      associatedData(conversationId, senderUserId, envelope.sd), nonce, messageKey);
  } catch {
    throw new TamperedMessageError("the payload does not decrypt");
  }
  let payload: unknown;
  try {
    payload = JSON.parse(sodium.to_string(plain));
  } catch {
    payload = undefined;
  }
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
    throw new TamperedMessageError("the payload is not a Parley E2E v1 payload");
  }
  return payload as Payload;
}

// -- files ---------------------------------------------------------------------------------------------------

/** A file sealed for upload: `nonce || XChaCha20-Poly1305(file)` under a fresh file key. */
export function sealFile(file: Uint8Array, fixed?: { fileKey: Uint8Array; nonce: Uint8Array }):
{ blob: Uint8Array; fileKey: Uint8Array } {
  const fileKey = fixed?.fileKey ?? randomBytes(KEY_BYTES);
  const nonce = fixed?.nonce ?? randomBytes(NONCE_BYTES);
  const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(file, utf8(FILE_AD), null, nonce, fileKey);
  const blob = new Uint8Array(NONCE_BYTES + sealed.length);
  blob.set(nonce);
  blob.set(sealed, NONCE_BYTES);
  return { blob, fileKey };
}

/** The file back from its blob; TamperedMessageError when it does not decrypt. */
export function openFile(blob: Uint8Array, fileKey: string | Uint8Array): Uint8Array {
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, blob.subarray(NONCE_BYTES), utf8(FILE_AD),
      blob.subarray(0, NONCE_BYTES), typeof fileKey === "string" ? unb64(fileKey) : fileKey);
  } catch {
    throw new TamperedMessageError("the file does not decrypt");
  }
}

// -- safety numbers ------------------------------------------------------------------------------------------

/** Code-point order (JavaScript's `<` compares UTF-16 units, which differs above U+FFFF). */
export function codePointCompare(a: string, b: string): number {
  const x = Array.from(a, (ch) => ch.codePointAt(0) as number);
  const y = Array.from(b, (ch) => ch.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

/** 30 bytes: SHA-512 of the user id and the sorted identity keys (b64) of the user's current devices. */
export function fingerprint(userId: string, identityKeys: string[]): Uint8Array {
  const sorted = [...identityKeys].sort(codePointCompare);
  return sodium.crypto_hash(utf8(`parley-e2e-v1/fingerprint\n${userId}\n${sorted.join("\n")}`)).subarray(0, 30);
}

function safetyData(a: { userId: string; identityKeys: string[] }, b: { userId: string; identityKeys: string[] }):
Uint8Array {
  const [first, second] = codePointCompare(a.userId, b.userId) <= 0 ? [a, b] : [b, a];
  const data = new Uint8Array(60);
  data.set(fingerprint(first.userId, first.identityKeys));
  data.set(fingerprint(second.userId, second.identityKeys), 30);
  return data;
}

/** Twelve groups of five digits, the same on both sides whoever computes it. */
export function safetyNumber(a: { userId: string; identityKeys: string[] },
  b: { userId: string; identityKeys: string[] }): string {
  const data = safetyData(a, b);
  const groups: string[] = [];
  for (let chunk = 0; chunk < 12; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (data[chunk * 5 + i] as number);
    groups.push(String(value % 100000).padStart(5, "0"));
  }
  return groups.join(" ");
}

/** What a QR code shows: `parley-sn:1:` and the 60 bytes in base64url without padding. */
export function safetyQr(a: { userId: string; identityKeys: string[] }, b: { userId: string; identityKeys: string[] }):
string {
  return `parley-sn:1:${sodium.to_base64(safetyData(a, b), sodium.base64_variants.URLSAFE_NO_PADDING)}`;
}
