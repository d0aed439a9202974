// The client's own view of messages, changes and acks: one shape whatever the connection's frame format
// (docs/protocol.md, "Frame formats": compact frames carry `t` and short keys, full ones `type` and camelCase).
import type { E2EError } from "./e2e-errors.js";
import type {
  AckFrame, Attachment, ChangeFrame, CompactAckFrame, CompactChangeFrame, CompactMessageFrame, ConversationInfo,
  GroupRole, HistoryVisibility, MessageFrame, Quote, Reaction,
} from "./frames.js";

export type ChangeKind = ChangeFrame["kind"];

/** A chat message, as delivered (live or from history). */
export interface Message {
  type: "message";
  conversationId: string;
  seq: number;
  /** `<conversationId>.<seq>`, the same for every member. */
  messageId: string;
  senderId: string;
  /** Server time, epoch ms. */
  sentAt: number;
  /** The sender's clientMsgId: full format always; compact format only on your own messages in history. */
  clientMsgId?: string;
  text?: string;
  attachments: Attachment[];
  /** Deleted for everyone: a tombstone, without text or attachments. */
  deleted: boolean;
  editedAt?: number;
  replyTo?: number;
  quote?: Quote;
  mentions: string[];
  reactions: Reaction[];
  /** End-to-end encrypted conversations (docs/clients.md, "End-to-end encryption"): the sealed envelope as the
   *  server relayed it. With `@parley/client/e2e` attached, `text` and `files` are what it opened to, or
   *  `e2eError` says why it did not open (then there is no text). */
  envelope?: Record<string, unknown>;
  /** The files of an encrypted message (their keys, real types and sizes, client-made previews). */
  files?: EncryptedFile[];
  /** Why an encrypted message or edit could not be opened (never shown as text). */
  e2eError?: E2EError;
}

/** A file of an end-to-end encrypted message: `key` is the attachment's upload key; the blob in storage is
 *  encrypted with `fk` (read it with the e2e session's `downloadFile`). */
export interface EncryptedFile {
  key: string;
  fk: string;
  /** The real content type (the blob itself is `application/octet-stream`). */
  type: string;
  /** Plaintext bytes. */
  size: number;
  w?: number;
  h?: number;
  /** The sender's own small preview, `data:image/jpeg;base64,...`. */
  preview?: string;
}

/** A change entry: an edit, a delete, a reaction or a group change, at its own seq. */
export interface Change {
  type: "change";
  conversationId: string;
  seq: number;
  messageId: string;
  kind: ChangeKind;
  /** Who made the change. */
  by: string;
  /** Server time, epoch ms. */
  at: number;
  /** Edits, deletes, reactions: the seq of the message changed. */
  target?: number;
  text?: string;
  editedAt?: number;
  emoji?: string;
  count?: number;
  users?: string[];
  role?: GroupRole;
  name?: string;
  history?: HistoryVisibility;
  owner?: string;
  /** The sealed envelope of an edit in an end-to-end encrypted conversation (see Message). */
  envelope?: Record<string, unknown>;
  e2eError?: E2EError;
}

/** A conversation's stream entry. */
export type Entry = Message | Change;

/** The answer to a send: the message is stored as `seq`. */
export interface Ack {
  conversationId: string;
  clientMsgId: string;
  seq: number;
  messageId: string;
  sentAt: number;
}

/** A conversation, as `openDirect`, `createGroup`, the group actions and `listConversations` return it. */
export interface Conversation extends Omit<ConversationInfo, "lastMessage"> {
  /** `listConversations` only: the newest message you may see. */
  lastMessage?: Message;
}

type Raw = Record<string, unknown>;

const COMPACT_TYPES: Record<string, string> = { ack: "ack", msg: "message", chg: "change" };

/** A message's id, as the server derives it. */
export function messageIdOf(conversationId: string, seq: number): string {
  return `${conversationId}.${seq}`;
}

/** The type of a frame in either format (`message`, `change` and `ack` for compact ones too). */
export function frameType(frame: Raw): string | undefined {
  if (typeof frame.type === "string") return frame.type;
  if (typeof frame.t === "string") return COMPACT_TYPES[frame.t] ?? frame.t;
  return undefined;
}

function defined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

export function decodeMessage(raw: Raw): Message {
  const compact = raw.t !== undefined && raw.type === undefined;
  const frame = raw as unknown as MessageFrame & CompactMessageFrame;
  const conversationId = compact ? frame.c : frame.conversationId;
  const seq = compact ? frame.s : frame.seq;
  const body = ((compact ? frame.b : frame.body) ?? {}) as NonNullable<MessageFrame["body"]> & { e2e?: Raw };
  return defined({
    type: "message",
    conversationId,
    seq,
    messageId: (compact ? undefined : frame.messageId) ?? messageIdOf(conversationId, seq),
    senderId: compact ? frame.f : frame.senderId,
    sentAt: compact ? frame.at : frame.sentAt,
    clientMsgId: compact ? frame.r : frame.clientMsgId,
    text: body.text,
    attachments: body.attachments ?? [],
    deleted: frame.deleted === true,
    editedAt: frame.editedAt,
    replyTo: frame.replyTo,
    quote: frame.quote,
    mentions: frame.mentions ?? [],
    reactions: frame.reactions ?? [],
    envelope: body.e2e,
  });
}

export function decodeChange(raw: Raw): Change {
  const compact = raw.t !== undefined && raw.type === undefined;
  const frame = raw as unknown as ChangeFrame & CompactChangeFrame;
  const conversationId = compact ? frame.c : frame.conversationId;
  const seq = compact ? frame.s : frame.seq;
  return defined({
    type: "change",
    conversationId,
    seq,
    messageId: messageIdOf(conversationId, seq),
    kind: compact ? frame.k : frame.kind,
    by: compact ? frame.f : frame.by,
    at: frame.at,
    target: frame.target,
    text: frame.text,
    editedAt: frame.editedAt,
    emoji: frame.emoji,
    count: frame.count,
    users: frame.users,
    role: frame.role,
    name: frame.name,
    history: frame.history,
    owner: frame.owner,
    envelope: (raw as { e2e?: Raw }).e2e,
  });
}

/** A message or change frame of either format (also the items of a `history` answer). */
export function decodeEntry(raw: Raw): Entry | undefined {
  const kind = frameType(raw);
  if (kind === "message") return decodeMessage(raw);
  if (kind === "change") return decodeChange(raw);
  return undefined;
}

export function decodeAck(raw: Raw, conversationId: string): Ack {
  if (raw.t !== undefined && raw.type === undefined) {
    const frame = raw as unknown as CompactAckFrame;
    return { conversationId, clientMsgId: frame.r, seq: frame.s, messageId: messageIdOf(conversationId, frame.s),
      sentAt: frame.at };
  }
  const frame = raw as unknown as AckFrame;
  return { conversationId: frame.conversationId, clientMsgId: frame.clientMsgId, seq: frame.seq,
    messageId: frame.messageId, sentAt: frame.sentAt };
}

export function decodeConversation(info: ConversationInfo): Conversation {
  const { lastMessage, ...rest } = info;
  return lastMessage ? { ...rest, lastMessage: decodeMessage(lastMessage as unknown as Raw) } : rest;
}
