// @parley/client/e2e: end-to-end encrypted conversations for the SDK (docs/clients.md, "End-to-end encryption";
// the construction and its properties: docs/e2e.md). A separate entry, so that only apps that use it load
// libsodium. Attach it to a client and the client seals what it sends and opens what it receives in every
// end-to-end encrypted conversation; the app sends and reads text as in any other.
import type { ParleyClient } from "./client.js";
import { randomId } from "./connection.js";
import {
  type Envelope, type FileKey, type KeyPair, type Payload, type Recipient, b64, identityKeyPair, open as openEnvelope,
  openFile, prekeyPair, prekeySignatureValid, ready as sodiumReady, safetyNumber, safetyQr, sealFile,
  seal, signPrekey, unb64, DEVICE_ID,
} from "./e2e-core.js";
import {
  E2EError, ReplayedMessageError, SealError, TamperedMessageError, UnknownDeviceError,
} from "./e2e-errors.js";
import { Emitter } from "./emitter.js";
import { type Conversation, type Entry, type EncryptedFile, messageIdOf } from "./entries.js";
import { ParleyClientError, ParleyError } from "./errors.js";
import type { ActionName, AttachmentIn, SendBody } from "./frames.js";
import type { Storage } from "./storage.js";
import type { MessageCrypto, OutgoingMessage, UploadData } from "./types.js";
import { postFile } from "./uploads.js";
import { previewOf, withoutMetadata } from "./e2e-preview.js";

export {
  E2EError, NoKeyError, ReplayedMessageError, SealError, TamperedMessageError, UnknownDeviceError, WrongKeyError,
  type E2EErrorCode,
} from "./e2e-errors.js";
export {
  type Envelope, type FileKey, type KeyEntry, type Payload, fingerprint, openFile, safetyNumber as safetyNumberOf,
  safetyQr as safetyQrOf, sealFile,
} from "./e2e-core.js";
export * as construction from "./e2e-core.js";
export { PREVIEW_EDGE, previewOf, withoutMetadata } from "./e2e-preview.js";

const DAY_MS = 24 * 3600 * 1000;
/** A new prekey every 7 days; the private ones it replaced are kept 30 days (late messages still open). */
export const PREKEY_ROTATION_MS = 7 * DAY_MS;
export const PREKEY_KEEP_MS = 30 * DAY_MS;
/** Envelope nonces remembered per conversation, for the replay check. */
const NONCES_KEPT = 5000;
const BLOB_TYPE = "application/octet-stream";
const MEMBERSHIP = new Set<string>(["membersAdded", "memberRemoved", "memberLeft"]);

type Raw = Record<string, unknown>;

/** A device of the key directory, as `getKeys` answers. */
export interface DeviceKeys {
  deviceId: string;
  identityKey: string;
  prekey: { id: number; key: string; sig: string };
  publishedAt?: number;
}

/** A member's devices changed since you last saw them (trust on first use: the first sight is no notice). */
export interface KeyChange {
  userId: string;
  /** Device ids new since last time. */
  added: string[];
  removed: string[];
  /** Device ids whose identity key is not the one seen before. */
  changed: string[];
}

/** An encrypted message or edit that did not open: it is delivered with `e2eError`, never with text. */
export interface DecryptError {
  entry: Entry;
  error: E2EError;
}

export interface E2EEvents {
  keyChange: KeyChange;
  decryptError: DecryptError;
  /** The directory could not be written or read in the background (publishing keys at a connection, ...). */
  error: Error;
}

export interface E2EOptions {
  /** Where this device's private keys, the trusted keys of others and the replay check live (default: the
   *  client's own Storage). It must last: with a MemoryStorage a restart makes a new device. */
  storage?: Storage;
  /** Prefix of the storage keys (default: the client's, `parley`); the user id and `e2e:` follow it. */
  storagePrefix?: string;
  /** This device's id (`^[A-Za-z0-9_-]{8,64}$`); default: a random one, kept in the storage. */
  deviceId?: string;
  /** `fetch` for encrypted uploads and downloads (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** The clock (epoch ms), for prekey rotation. */
  now?: () => number;
}

/** An attachment whose file was encrypted before upload: pass it to `send` as any attachment. `file` (its key
 *  and real type) goes inside the sealed payload, never to the server. */
export interface SealedAttachment extends AttachmentIn {
  file: FileKey;
}

export interface SealedUploadOptions {
  /** The real content type (the server sees `application/octet-stream`). */
  contentType: string;
  width?: number;
  height?: number;
  /** Your own small preview (`data:image/jpeg;base64,...`), sealed with the message: the server makes none
   *  (default: one made on the device where the platform can draw, see previewOf). */
  preview?: string;
  /** Keep a JPEG's EXIF and XMP segments (default false: they are removed before encryption, as the server
   *  removes them from the photos of other conversations). */
  keepMetadata?: boolean;
}

interface StoredPrekey {
  id: number;
  pk: string;
  sk: string;
  createdAt: number;
  retiredAt?: number;
}

interface StoredDevice {
  deviceId: string;
  identity: { pk: string; sk: string };
  prekeys: StoredPrekey[];
}

type Trust = Record<string, Record<string, string>>;

/** Open the end-to-end layer of `client`: waits for libsodium, plugs itself into the client and, at every
 *  connection, publishes this device's keys (rotating the prekey when due). */
export async function enableE2E(client: ParleyClient, options: E2EOptions = {}): Promise<E2ESession> {
  await sodiumReady;
  const session = new E2ESession(client, options);
  client.useCrypto(session);
  return session;
}

/** One device's end-to-end session (made by `enableE2E`). */
export class E2ESession extends Emitter<E2EEvents> implements MessageCrypto {
  private readonly client: ParleyClient;
  private readonly options: E2EOptions;
  private readonly storage: Storage;
  private device: StoredDevice | undefined;
  private loadedFor: string | undefined;
  private loading: Promise<void> | undefined;
  private publishing: Promise<void> | undefined;
  private trust: Trust = {};
  /** Per conversation: envelope nonce -> where it was delivered (`m<seq>` a message, `e<seq>` an edit of it). */
  private nonces: Record<string, Record<string, string>> = {};
  private conversations: Record<string, boolean> = {};
  /** The directory: verified devices by user, and the members of e2e conversations (both cached until a
   *  reconnect, a `keysChanged` or a membership change). */
  private readonly devices = new Map<string, DeviceKeys[]>();
  private readonly members = new Map<string, string[]>();
  private noncesDirty = false;
  /** messageId -> the clientMsgId its payload carries (`mid`), for the payload of an edit of it. */
  private readonly mids = new Map<string, string>();

  constructor(client: ParleyClient, options: E2EOptions = {}) {
    super();
    if (options.deviceId !== undefined && !DEVICE_ID.test(options.deviceId)) {
      throw new RangeError("deviceId is 8-64 characters of A-Z a-z 0-9 _ -");
    }
    this.client = client;
    this.options = options;
    this.storage = options.storage ?? client.storage;
    client.on("sent", ({ message, ack }) => {
      if (message.sealed) this.remember(ack.messageId, message.clientMsgId);
    });
  }

  private remember(messageId: string, mid: string): void {
    this.mids.set(messageId, mid);
    if (this.mids.size > NONCES_KEPT) this.mids.delete(this.mids.keys().next().value as string);
  }

  /** This device's id (once the client knows its user). */
  get deviceId(): string | undefined {
    return this.device?.deviceId;
  }

  /** This device's identity key (b64), as the directory lists it. */
  get identityKey(): string | undefined {
    return this.device?.identity.pk;
  }

  // -- MessageCrypto: what the client calls --------------------------------------------------------------

  opened(): void {
    this.devices.clear();
    this.members.clear();
    this.publishing = this.start();
    this.publishing.catch((error: unknown) => this.emit("error", error as Error));
  }

  observe(entry: Entry): void {
    if (entry.type === "change" && MEMBERSHIP.has(entry.kind)) this.members.delete(entry.conversationId);
  }

  /** Resolves once this device's keys are published on the current connection (rejects if refused). */
  async published(): Promise<void> {
    for (;;) {
      const publishing = this.publishing;
      if (!publishing) throw new SealError("not connected: keys are published at each connection");
      await publishing;
      if (publishing === this.publishing) return;
    }
  }

  conversation(conversation: Conversation, requestedE2E = false): void {
    this.members.delete(conversation.conversationId);
    // Only ever marked encrypted here (it is for good): a conversation is taken as plain only when the server
    // refuses to list its keys (`e2e_not_enabled`), so text is never sent into one that could be encrypted.
    if ((conversation as { e2e?: unknown }).e2e === true || requestedE2E) this.markEncrypted(conversation.conversationId);
  }

  private markEncrypted(conversationId: string): void {
    if (this.conversations[conversationId] === true) return;
    this.conversations[conversationId] = true;
    void this.save("conversations", this.conversations);
  }

  frame(frame: Raw): void {
    if ((frame.type ?? frame.t) !== "keysChanged" || typeof frame.userId !== "string") return;
    const userId = frame.userId;
    this.devices.delete(userId);
    this.members.clear();
    // Read the user's devices again now, so the key-change notice comes without waiting for a message.
    this.fetchUsers([userId]).catch((error: unknown) => this.emit("error", error as Error));
  }

  async encrypted(conversationId: string): Promise<boolean> {
    await this.ready();
    const known = this.conversations[conversationId];
    if (known !== undefined) return known;
    try {
      await this.membersOf(conversationId); // answered for members of an e2e conversation only
      return this.conversations[conversationId] === true;
    } catch (error) {
      if (error instanceof ParleyError && error.code === ("e2e_not_enabled" as ParleyError["code"])) {
        this.conversations[conversationId] = false;
        void this.save("conversations", this.conversations);
        return false;
      }
      throw error;
    }
  }

  async sealMessage(message: OutgoingMessage): Promise<SendBody> {
    await this.ready();
    const files: FileKey[] = [];
    const attachments: AttachmentIn[] = [];
    for (const attachment of message.body.attachments ?? []) {
      const { file, ...visible } = attachment as Partial<SealedAttachment>;
      if (!file) {
        throw new SealError("an attachment of an encrypted conversation must be uploaded with e2e.uploadFile");
      }
      files.push(file);
      attachments.push(visible as AttachmentIn);
    }
    const payload: Payload = { t: "msg", mid: message.clientMsgId, ts: this.now() };
    if (message.body.text) payload.text = message.body.text;
    if (files.length) payload.files = files;
    const envelope = await this.sealFor(message.conversationId, payload);
    const body: SendBody & { e2e?: Envelope } = { e2e: envelope };
    if (attachments.length) body.attachments = attachments;
    return body as SendBody;
  }

  async sealEdit(conversationId: string, seq: number, text: string): Promise<Raw> {
    await this.ready();
    // An edit's `mid` is the edited message's clientMsgId (when this device saw it).
    const mid = this.mids.get(messageIdOf(conversationId, seq)) ?? randomId();
    const envelope = await this.sealFor(conversationId, { t: "edit", mid, ts: this.now(), text, target: seq });
    return envelope as unknown as Raw;
  }

  async open(entry: Entry): Promise<Entry> {
    if (!entry.envelope) return entry;
    try {
      await this.ready();
      this.markEncrypted(entry.conversationId); // only an e2e conversation relays envelopes
      const payload = await this.openEntry(entry);
      if (entry.type === "message") {
        if (payload.t === "msg") this.remember(entry.messageId, payload.mid);
        const opened = { ...entry, files: payload.files ?? [] };
        if (payload.text !== undefined) opened.text = payload.text;
        else delete opened.text;
        return opened;
      }
      return payload.text === undefined ? { ...entry } : { ...entry, text: payload.text };
    } catch (failure) {
      const error = failure instanceof E2EError ? failure
        : new UnknownDeviceError(`the key directory could not be read: ${String(failure)}`);
      const failed: Entry = { ...entry, e2eError: error };
      delete failed.text;
      this.emit("decryptError", { entry: failed, error });
      return failed;
    }
  }

  // -- keys of this device ---------------------------------------------------------------------------------

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private userId(): string {
    const userId = this.client.userId;
    if (!userId) throw new SealError("the client does not know its user yet: connect() first");
    return userId;
  }

  private key(name: string): string {
    return `${this.options.storagePrefix ?? this.client.storagePrefix}:${this.userId()}:e2e:${name}`;
  }

  private async save(name: string, value: unknown): Promise<void> {
    if (this.loadedFor) await this.storage.setItem(this.key(name), JSON.stringify(value));
  }

  private async read<T>(name: string, fallback: T): Promise<T> {
    const text = await this.storage.getItem(this.key(name));
    return text ? JSON.parse(text) as T : fallback;
  }

  /** Wait until this device's keys are loaded from the storage (or made). */
  private async ready(): Promise<void> {
    const userId = this.userId();
    if (this.loadedFor === userId) return;
    this.loading ??= this.load(userId).finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  private async load(userId: string): Promise<void> {
    await sodiumReady;
    const [device, trust, nonces, conversations] = await Promise.all([
      this.read<StoredDevice | undefined>("device", undefined), this.read<Trust>("trust", {}),
      this.read<Record<string, Record<string, string>>>("nonces", {}),
      this.read<Record<string, boolean>>("conversations", {})]);
    this.trust = trust;
    this.nonces = nonces;
    for (const [cid, e2e] of Object.entries(conversations)) if (this.conversations[cid] !== true) this.conversations[cid] = e2e;
    if (device && (this.options.deviceId === undefined || device.deviceId === this.options.deviceId)) {
      this.device = device;
    } else {
      const identity = identityKeyPair();
      this.device = { deviceId: this.options.deviceId ?? newDeviceId(), identity: pair(identity), prekeys: [] };
    }
    this.loadedFor = userId;
    this.rotate();
    await this.save("device", this.device);
  }

  /** A new prekey when the current one is 7 days old; old private prekeys deleted 30 days after retiring. */
  private rotate(): boolean {
    const device = this.device as StoredDevice;
    const now = this.now();
    const current = device.prekeys[device.prekeys.length - 1];
    let rotated = false;
    if (!current || now - current.createdAt >= PREKEY_ROTATION_MS) {
      if (current) current.retiredAt = now;
      const fresh = prekeyPair();
      device.prekeys.push({ id: (current?.id ?? 0) + 1, ...pair(fresh), createdAt: now });
      rotated = true;
    }
    device.prekeys = device.prekeys.filter((p) => p.retiredAt === undefined || now - p.retiredAt < PREKEY_KEEP_MS);
    return rotated;
  }

  private async start(): Promise<void> {
    await this.ready();
    if (this.rotate()) await this.save("device", this.device);
    await this.publish();
  }

  private currentPrekey(): StoredPrekey {
    const device = this.device as StoredDevice;
    return device.prekeys[device.prekeys.length - 1] as StoredPrekey;
  }

  /** This device in the directory's shape. */
  ownKeys(): DeviceKeys {
    const device = this.device as StoredDevice;
    const prekey = this.currentPrekey();
    return { deviceId: device.deviceId, identityKey: device.identity.pk,
      prekey: { id: prekey.id, key: prekey.pk,
        sig: signPrekey(unb64(device.identity.sk), device.deviceId, prekey.id, unb64(prekey.pk)) } };
  }

  private async publish(): Promise<void> {
    const own = this.ownKeys();
    await this.call("publishKeys", { deviceId: own.deviceId, identityKey: own.identityKey, prekey: own.prekey });
  }

  /** Rotate the prekey now (it is done by itself every 7 days at a connection) and publish it. */
  async rotatePrekey(): Promise<number> {
    await this.ready();
    const device = this.device as StoredDevice;
    const current = this.currentPrekey();
    current.retiredAt = this.now();
    device.prekeys.push({ id: current.id + 1, ...pair(prekeyPair()), createdAt: this.now() });
    await this.save("device", device);
    await this.publish();
    return current.id + 1;
  }

  /** Remove one of your devices from the directory (default: this one, which then forgets its keys). The other
   *  members are told (`keysChanged`); messages it sends from then on fail with `e2e_unknown_device`. */
  async removeDevice(deviceId?: string): Promise<void> {
    await this.ready();
    const own = (this.device as StoredDevice).deviceId;
    await this.call("removeDevice", { deviceId: deviceId ?? own });
    if (deviceId === undefined || deviceId === own) {
      await this.storage.removeItem(this.key("device"));
      this.device = undefined;
      this.loadedFor = undefined;
    }
  }

  // -- the directory ---------------------------------------------------------------------------------------

  private call(action: string, fields: Raw): Promise<Raw> {
    return this.client.request(action as ActionName, fields as never) as Promise<unknown> as Promise<Raw>;
  }

  /** The current devices of users (fresh from the directory), checked and compared with what was trusted. */
  async fetchUsers(userIds: string[]): Promise<Map<string, DeviceKeys[]>> {
    await this.ready();
    const frame = await this.call("getKeys", { userIds });
    return this.absorb(frame);
  }

  private async membersOf(conversationId: string): Promise<string[]> {
    const cached = this.members.get(conversationId);
    if (cached) return cached;
    const frame = await this.call("getKeys", { conversationId });
    const users = await this.absorb(frame);
    const members = [...users.keys()];
    this.members.set(conversationId, members);
    this.markEncrypted(conversationId);
    return members;
  }

  private async absorb(frame: Raw): Promise<Map<string, DeviceKeys[]>> {
    const users = new Map<string, DeviceKeys[]>();
    for (const user of (frame.users as { userId: string; devices?: DeviceKeys[] }[] | undefined) ?? []) {
      // A prekey not signed by its device's identity key is never used (the server checks it too).
      const devices = (user.devices ?? []).filter((d) => typeof d.identityKey === "string" && d.prekey
        && prekeySignatureValid(d.identityKey, d.deviceId, d.prekey.id, d.prekey.key, d.prekey.sig));
      users.set(user.userId, devices);
      this.devices.set(user.userId, devices);
      this.compare(user.userId, devices);
    }
    await this.save("trust", this.trust);
    return users;
  }

  private compare(userId: string, devices: DeviceKeys[]): void {
    const now: Record<string, string> = {};
    for (const device of devices) now[device.deviceId] = device.identityKey;
    const before = this.trust[userId];
    this.trust[userId] = now;
    if (!before) return; // first sight: trusted as it is
    const change: KeyChange = { userId, added: [], removed: [], changed: [] };
    for (const [deviceId, key] of Object.entries(now)) {
      if (before[deviceId] === undefined) change.added.push(deviceId);
      else if (before[deviceId] !== key) change.changed.push(deviceId);
    }
    for (const deviceId of Object.keys(before)) if (now[deviceId] === undefined) change.removed.push(deviceId);
    if (change.added.length || change.removed.length || change.changed.length) this.emit("keyChange", change);
  }

  /** A user's devices from the cache, else from the directory. */
  private async devicesOf(userId: string, fresh = false): Promise<DeviceKeys[]> {
    const cached = this.devices.get(userId);
    if (cached && !fresh) return cached;
    return (await this.fetchUsers([userId])).get(userId) ?? [];
  }

  // -- sealing and opening ---------------------------------------------------------------------------------

  private async sealFor(conversationId: string, payload: Payload): Promise<Envelope> {
    const me = this.userId();
    const device = this.device as StoredDevice;
    const recipients: Recipient[] = [];
    for (const userId of await this.membersOf(conversationId)) {
      for (const d of this.devices.get(userId) ?? []) {
        if (userId === me && d.deviceId === device.deviceId) continue; // added below, with the current prekey
        recipients.push({ userId, deviceId: d.deviceId, prekeyId: d.prekey.id, prekey: unb64(d.prekey.key) });
      }
    }
    const prekey = this.currentPrekey();
    recipients.push({ userId: me, deviceId: device.deviceId, prekeyId: prekey.id, prekey: unb64(prekey.pk) });
    return seal(conversationId, { userId: me, deviceId: device.deviceId, identitySecret: unb64(device.identity.sk) },
      recipients, payload);
  }

  private async senderKey(senderId: string, senderDevice: string): Promise<string> {
    const device = this.device as StoredDevice;
    if (senderId === this.userId() && senderDevice === device.deviceId) return device.identity.pk;
    const find = (devices: DeviceKeys[]) => devices.find((d) => d.deviceId === senderDevice)?.identityKey;
    // Not known: read the directory once more (a device added since), else it is not (any more) theirs.
    const key = find(await this.devicesOf(senderId)) ?? find(await this.devicesOf(senderId, true));
    if (!key) throw new UnknownDeviceError(`${senderDevice} is not a current device of ${senderId}`);
    return key;
  }

  private async openEntry(entry: Entry): Promise<Payload> {
    const envelope = entry.envelope as unknown as Envelope;
    if (envelope.v !== 1 || typeof envelope.sd !== "string") {
      throw new TamperedMessageError("not a Parley E2E v1 envelope");
    }
    const senderId = entry.type === "message" ? entry.senderId : entry.by;
    const identityKey = await this.senderKey(senderId, envelope.sd);
    const device = this.device as StoredDevice;
    const payload = openEnvelope(entry.conversationId, senderId, identityKey, envelope, {
      userId: this.userId(),
      deviceId: device.deviceId,
      prekey: (id) => {
        const found = device.prekeys.find((p) => p.id === id);
        return found ? unb64(found.sk) : undefined;
      },
    });
    // An edit is bound to the message it edits (the server stores it in place of the message's envelope too).
    const isEdit = payload.t === "edit" && typeof payload.target === "number";
    let at = entry.seq;
    if (entry.type === "message") {
      const editedInPlace = isEdit && payload.target === entry.seq && entry.editedAt !== undefined;
      if (!editedInPlace && payload.t !== "msg") throw new ReplayedMessageError("not a message's envelope");
      if (!editedInPlace && entry.clientMsgId !== undefined && payload.mid !== entry.clientMsgId) {
        throw new ReplayedMessageError("the envelope belongs to another message");
      }
      if (editedInPlace) at = payload.target as number;
    } else {
      if (entry.kind !== "edited" || !isEdit || (entry.target !== undefined && payload.target !== entry.target)) {
        throw new ReplayedMessageError("the envelope belongs to another edit");
      }
      at = payload.target as number;
    }
    this.checkNonce(entry.conversationId, envelope.n, isEdit ? `e${at}` : `m${at}`);
    return payload;
  }

  /** The same envelope at two places of a conversation is a replay. */
  private checkNonce(conversationId: string, nonce: string, place: string): void {
    const seen = (this.nonces[conversationId] ??= {});
    const first = seen[nonce];
    if (first !== undefined && first !== place) {
      throw new ReplayedMessageError("this envelope was already delivered at another seq");
    }
    if (first === undefined) {
      seen[nonce] = place;
      const keys = Object.keys(seen);
      if (keys.length > NONCES_KEPT) for (const old of keys.slice(0, keys.length - NONCES_KEPT)) delete seen[old];
      this.saveNoncesSoon();
    }
  }

  private saveNoncesSoon(): void {
    if (this.noncesDirty) return;
    this.noncesDirty = true;
    setTimeout(() => {
      this.noncesDirty = false;
      void this.save("nonces", this.nonces);
    }, 0);
  }

  // -- attachments -----------------------------------------------------------------------------------------

  /** Encrypt a file and upload the blob (`application/octet-stream`) with a presigned POST; pass the result to
   *  `send` with the text. A JPEG loses its EXIF/XMP first; the server makes no thumbnail of it, so the preview
   *  is made here (or given). */
  async uploadFile(conversationId: string, data: UploadData, options: SealedUploadOptions):
  Promise<SealedAttachment> {
    await this.ready();
    const plain = options.keepMetadata ? await bytesOf(data) : withoutMetadata(await bytesOf(data), options.contentType);
    const { blob, fileKey } = sealFile(plain);
    const ticket = await this.client.requestUpload(conversationId, BLOB_TYPE, blob.length);
    await postFile(this.options.fetch ?? globalThis.fetch, ticket, blob, BLOB_TYPE);
    const file: FileKey = { key: ticket.key, fk: b64(fileKey), type: options.contentType, size: plain.length };
    if (options.width !== undefined) file.w = options.width;
    if (options.height !== undefined) file.h = options.height;
    const preview = options.preview ?? await previewOf(plain, options.contentType);
    if (preview !== undefined) file.preview = preview;
    return { key: ticket.key, contentType: BLOB_TYPE, size: blob.length, file };
  }

  /** Download and decrypt a file of a received message (`message.files`): TamperedMessageError when it does not
   *  decrypt or is not the size its message says; ParleyClientError when it cannot be downloaded. */
  async downloadFile(conversationId: string, file: EncryptedFile): Promise<Uint8Array> {
    const frame = await this.client.attachmentUrls(conversationId, [file.key]);
    const url = frame.attachments.find((a) => a.key === file.key)?.url;
    if (!url) throw new ParleyClientError("the server gave no download URL for this file");
    const answer = await (this.options.fetch ?? globalThis.fetch)(url);
    if (!answer.ok) throw new ParleyClientError(`the file could not be read: HTTP ${answer.status}`);
    const plain = openFile(new Uint8Array(await answer.arrayBuffer()), file.fk);
    if (plain.length !== file.size) throw new TamperedMessageError("the file is not the size its message says");
    return plain;
  }

  // -- verification ----------------------------------------------------------------------------------------

  /** The safety number of you and `otherUserId` (twelve groups of five digits), from both users' current
   *  devices: compare it with theirs in person or over another channel. */
  async safetyNumber(otherUserId: string): Promise<string> {
    const [mine, theirs] = await this.identities(otherUserId);
    return safetyNumber(mine, theirs);
  }

  /** The same, as the payload of a QR code (`parley-sn:1:...`). */
  async safetyQr(otherUserId: string): Promise<string> {
    const [mine, theirs] = await this.identities(otherUserId);
    return safetyQr(mine, theirs);
  }

  private async identities(otherUserId: string): Promise<{ userId: string; identityKeys: string[] }[]> {
    const me = this.userId();
    const users = await this.fetchUsers(me === otherUserId ? [me] : [me, otherUserId]);
    const keys = (userId: string) => (users.get(userId) ?? []).map((d) => d.identityKey);
    return [{ userId: me, identityKeys: keys(me) }, { userId: otherUserId, identityKeys: keys(otherUserId) }];
  }
}

function pair(keys: KeyPair): { pk: string; sk: string } {
  return { pk: b64(keys.publicKey), sk: b64(keys.privateKey) };
}

function newDeviceId(): string {
  return `d${randomId()}${randomId()}`;
}

async function bytesOf(data: UploadData): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof Blob !== "undefined" && data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  throw new SealError("encrypted uploads take the file's bytes (Uint8Array, ArrayBuffer or Blob), not a uri");
}
