// Generated from docs/asyncapi.yaml by `.venv/bin/python -m tools.ts_types`: do not edit by hand.
// The wire protocol's types: every request, every frame in both formats, every error code.
/* eslint-disable */

export interface AckFrame {
  clientMsgId: string;
  conversationId: string;
  messageId: string;
  ref?: string;
  sentAt: number;
  seq: number;
  type: "ack";
}

export interface AddMembersRequest {
  action: "addMembers";
  conversationId: string;
  requestId?: string | null;
  userIds: string[];
}

/** A file in the uploads bucket that a message refers to; the bytes never travel over the socket. */
export interface Attachment {
  contentType: string;
  height?: number;
  key: string;
  preview?: string;
  size: number;
  width?: number;
}

export interface AttachmentIn {
  contentType: string;
  height?: number | null;
  key: string;
  size: number;
  width?: number | null;
}

/** Pushed to members when an attachment's thumbnail and preview are ready. */
export interface AttachmentReadyFrame {
  conversationId: string;
  height?: number;
  key: string;
  preview?: string;
  seq: number;
  type: "attachment";
  width?: number;
}

export interface AttachmentUrl {
  height?: number;
  key: string;
  preview?: string;
  thumbnailUrl?: string;
  url?: string;
  width?: number;
}

export interface AttachmentUrlsFrame {
  attachments: AttachmentUrl[];
  conversationId: string;
  expiresAt: number;
  ref?: string;
  type: "attachmentUrls";
}

export interface AttachmentUrlsRequest {
  action: "attachmentUrls";
  conversationId: string;
  keys: string[];
  requestId?: string | null;
}

export interface BlockRequest {
  action: "block" | "unblock";
  requestId?: string | null;
  /** a user id is 1-128 characters, without whitespace, '#', control or format characters */
  userId: string;
}

/** The caller's block list: the answer to `block`, `unblock` and `listBlocks`. */
export interface BlocksFrame {
  ref?: string;
  type: "blocks";
  userIds: string[];
}

/** A change entry: an edit, a delete, a reaction or a group change, at its own seq. */
export interface ChangeFrame {
  at: number;
  by: string;
  conversationId: string;
  count?: number;
  e2e?: Envelope;
  editedAt?: number;
  emoji?: string;
  history?: HistoryVisibility;
  kind: "edited" | "deleted" | "reacted" | "unreacted" | "membersAdded" | "memberRemoved" | "memberLeft" | "renamed" | "roleChanged" | "settingsChanged";
  name?: string;
  owner?: string;
  role?: GroupRole;
  seq: number;
  target?: number;
  text?: string;
  type: "change";
  users?: string[];
}

/**
 * The answer to `edit`, `delete` and `react`: `seq` is the change entry's (the one stored now, or by
 * an earlier attempt of the same request); absent when nothing changed (a reaction the caller already had,
 * a deleted message deleted again past the entries a retry looks at).
 */
export interface ChangedFrame {
  conversationId: string;
  count?: number;
  kind: "edited" | "deleted" | "reacted" | "unreacted" | "membersAdded" | "memberRemoved" | "memberLeft" | "renamed" | "roleChanged" | "settingsChanged";
  ref?: string;
  seq?: number;
  target: number;
  type: "changed";
}

/** `ack` in the compact format: only what the sender cannot know, and the clientMsgId it answers. */
export interface CompactAckFrame {
  at: number;
  r: string;
  ref?: string;
  s: number;
  t: "ack";
}

/** `change` in the compact format: `k` the kind, `f` who made it; the rest as in the full format. */
export interface CompactChangeFrame {
  at: number;
  c: string;
  count?: number;
  e2e?: Envelope;
  editedAt?: number;
  emoji?: string;
  f: string;
  history?: HistoryVisibility;
  k: "edited" | "deleted" | "reacted" | "unreacted" | "membersAdded" | "memberRemoved" | "memberLeft" | "renamed" | "roleChanged" | "settingsChanged";
  name?: string;
  owner?: string;
  role?: GroupRole;
  s: number;
  t: "chg";
  target?: number;
  text?: string;
  users?: string[];
}

/**
 * `message` in the compact format: no messageId (it is `<c>.<s>`), and no clientMsgId except on the
 * caller's own messages in `history`. Edits, deletion, replies, mentions and reactions keep their
 * camelCase keys (`editedAt`, `deleted`, `replyTo`, `quote`, `mentions`, `reactions`): the short
 * keys below are their own camelCase.
 */
export interface CompactMessageFrame {
  at: number;
  b?: MessageBody;
  c: string;
  deleted?: boolean;
  editedAt?: number;
  /** A user id; or `#system` (the app) or `#bot:<name>` (one of its bots) for a system message. */
  f: string;
  mentions?: string[];
  quote?: Quote;
  r?: string;
  reactions?: Reaction[];
  replyTo?: number;
  s: number;
  t: "msg";
}

export interface ConversationFrame {
  conversation: ConversationInfo;
  ref?: string;
  seq?: number;
  type: "conversation";
}

export interface ConversationInfo {
  conversationId: string;
  createdAt: number;
  createdBy: string;
  e2e?: boolean;
  historyVisibility?: "joined" | "all";
  kind: "direct" | "group";
  lastMessage?: MessageFrame | CompactMessageFrame;
  lastReadSeq?: number;
  members: string[];
  mentions?: number;
  name?: string;
  roles?: Record<string, string>;
  unread?: number;
}

export interface ConversationPreferencesFrame {
  conversationId: string;
  mutedUntil?: number;
  notify?: "push" | "badge" | "passive";
  ref?: string;
  type: "conversationPreferences";
}

export interface ConversationsFrame {
  conversations: ConversationInfo[];
  cursor?: string;
  ref?: string;
  type: "conversations";
}

export interface CreateGroupRequest {
  action: "createGroup";
  e2e?: boolean;
  historyVisibility?: HistoryVisibility;
  members: string[];
  name?: string | null;
  requestId?: string | null;
}

export interface DeleteRequest {
  action: "delete";
  conversationId: string;
  requestId?: string | null;
  seq: number;
}

export interface DeviceFrame {
  platform?: "apns" | "fcm";
  ref?: string;
  registered: boolean;
  type: "device";
}

export interface DeviceKeys {
  deviceId: string;
  identityKey: string;
  prekey: Prekey;
  publishedAt: number;
}

/** The answer to `removeDevice`: the device is not in the directory (`removed`: it was until now). */
export interface DeviceRemovedFrame {
  deviceId: string;
  ref?: string;
  removed: boolean;
  type: "deviceRemoved";
}

/** `text` in a plain conversation; `e2e` (the new envelope) in an end-to-end encrypted one. */
export interface EditRequest {
  action: "edit";
  conversationId: string;
  e2e?: Envelope | null;
  requestId?: string | null;
  seq: number;
  text?: string | null;
}

/** A message (or an edit) of an end-to-end encrypted conversation, as its sender's device wrote it. */
export interface Envelope {
  c: string;
  e: string;
  k: KeyEntry[];
  n: string;
  sd: string;
  sig: string;
  v: 1;
}

/** The stable, machine-readable code of an `error` frame (docs/protocol.md, "Error codes"). */
export type ErrorCode = "attachment_deleted" | "attachment_not_found" | "banned" | "blocked" | "conflict" | "conversation_not_found" | "device_key_conflict" | "e2e_not_enabled" | "e2e_required" | "edit_window_closed" | "file_too_large" | "frame_too_large" | "internal_error" | "invalid_attachment" | "invalid_emoji" | "invalid_frame" | "invalid_json" | "invalid_key_signature" | "invalid_members" | "invalid_mentions" | "invalid_reply" | "invalid_seq" | "message_deleted" | "message_not_found" | "message_rejected" | "moderation_unavailable" | "not_allowed" | "not_group" | "not_member" | "push_unavailable" | "rate_limited" | "stale_last_seq" | "text_too_long" | "throttled" | "too_many_connections" | "too_many_key_devices" | "too_many_reactions" | "unauthorized" | "unknown_action" | "unsupported_media" | "uploads_unavailable";

/** Every error code of the protocol. */
export const ERROR_CODES: readonly ErrorCode[] = ["attachment_deleted", "attachment_not_found", "banned", "blocked", "conflict", "conversation_not_found", "device_key_conflict", "e2e_not_enabled", "e2e_required", "edit_window_closed", "file_too_large", "frame_too_large", "internal_error", "invalid_attachment", "invalid_emoji", "invalid_frame", "invalid_json", "invalid_key_signature", "invalid_members", "invalid_mentions", "invalid_reply", "invalid_seq", "message_deleted", "message_not_found", "message_rejected", "moderation_unavailable", "not_allowed", "not_group", "not_member", "push_unavailable", "rate_limited", "stale_last_seq", "text_too_long", "throttled", "too_many_connections", "too_many_key_devices", "too_many_reactions", "unauthorized", "unknown_action", "unsupported_media", "uploads_unavailable"];

export interface ErrorFrame {
  clientMsgId?: string;
  code: ErrorCode;
  message: string;
  ref?: string;
  retryAfterMs?: number;
  type: "error";
}

export type FrameFormat = "compact" | "full";

/**
 * Exactly one of `userIds` (up to 50 users) and `conversationId` (the members of an end-to-end encrypted
 * conversation the caller is a member of).
 */
export interface GetKeysRequest {
  action: "getKeys";
  conversationId?: string | null;
  requestId?: string | null;
  userIds?: string[] | null;
}

export interface GetPreferencesRequest {
  action: "getPreferences";
  requestId?: string | null;
}

export type GroupRole = "owner" | "admin" | "member";

export interface HistoryFrame {
  conversationId: string;
  hasMore: boolean;
  messages: ((MessageFrame | ChangeFrame)[]) | ((CompactMessageFrame | CompactChangeFrame)[]);
  nextSeq?: number;
  ref?: string;
  type: "history";
}

export interface HistoryRequest {
  action: "history";
  after?: number | null;
  before?: number | null;
  conversationId: string;
  limit?: number;
  requestId?: string | null;
}

/** What a member added to a group sees of the messages from before they joined. */
export type HistoryVisibility = "joined" | "all";

/** The message key wrapped for one device: `crypto_box_easy(K, n, prekey p of device d, e_sk)`. */
export interface KeyEntry {
  d: string;
  n: string;
  p: number;
  /** a user id is 1-128 characters, without whitespace, '#', control or format characters */
  u: string;
  w: string;
}

/**
 * Sent unasked to the online members of every end-to-end encrypted conversation `userId` is in, when a device
 * of theirs was added to the directory or removed from it: fetch their keys again (`getKeys`).
 */
export interface KeysChangedFrame {
  type: "keysChanged";
  userId: string;
}

/** The answer to `getKeys`: every user asked for, in the order asked, each with their current devices. */
export interface KeysFrame {
  ref?: string;
  type: "keys";
  users: UserKeys[];
}

/** The answer to `publishKeys`: the device's keys are in the directory now. */
export interface KeysPublishedFrame {
  deviceId: string;
  prekeyId: number;
  publishedAt: number;
  ref?: string;
  type: "keysPublished";
}

export interface LeaveRequest {
  action: "leave";
  conversationId: string;
  requestId?: string | null;
}

export interface ListBlocksRequest {
  action: "listBlocks";
  requestId?: string | null;
}

export interface ListConversationsRequest {
  action: "listConversations";
  cursor?: string | null;
  limit?: number;
  requestId?: string | null;
}

/**
 * Text, attachments, or both; in an end-to-end encrypted conversation an envelope (`e2e`) and the
 * encrypted files it describes, never text (`parley.messaging.check_e2e_body`).
 */
export interface MessageBody {
  attachments?: Attachment[];
  e2e?: Envelope;
  text?: string;
}

export interface MessageFrame {
  body?: MessageBody;
  clientMsgId: string;
  conversationId: string;
  deleted?: boolean;
  editedAt?: number;
  mentions?: string[];
  messageId: string;
  quote?: Quote;
  reactions?: Reaction[];
  replyTo?: number;
  /** A user id; or `#system` (the app) or `#bot:<name>` (one of its bots) for a system message. */
  senderId: string;
  sentAt: number;
  seq: number;
  type: "message";
}

export type NotifyMode = "push" | "badge" | "passive";

export interface OpenDirectRequest {
  action: "openDirect";
  e2e?: boolean;
  requestId?: string | null;
  /** a user id is 1-128 characters, without whitespace, '#', control or format characters */
  userId: string;
}

/**
 * `ping`: the keepalive. API Gateway answers it itself (no function runs) with `pong`, whatever other
 * fields it has: it is never refused and its answer carries no `ref`.
 */
export interface PingRequest {
  action: "ping";
}

export type Platform = "apns" | "fcm";

/** The answer to `ping`, sent by API Gateway itself (`parley.routes.GATEWAY_ANSWERS`): no `ref`. */
export interface PongFrame {
  type: "pong";
}

export interface PreferencesFrame {
  hideReadReceipts: boolean;
  notify: "push" | "badge" | "passive";
  ref?: string;
  type: "preferences";
  visibility: "visible" | "invisible";
}

export interface Prekey {
  id: number;
  key: string;
  sig: string;
}

export interface PrekeyIn {
  id: number;
  key: string;
  sig: string;
}

export interface PresenceEntry {
  lastSeen?: number;
  status: "online" | "offline";
  userId: string;
}

/** Both the answer to `presence` and the event pushed when a contact's status changes. */
export interface PresenceFrame {
  ref?: string;
  type: "presence";
  users: PresenceEntry[];
}

export interface PresenceRequest {
  action: "presence";
  requestId?: string | null;
  userIds: string[];
}

export interface PublishKeysRequest {
  action: "publishKeys";
  deviceId: string;
  identityKey: string;
  prekey: PrekeyIn;
  requestId?: string | null;
}

/** The message a reply answers, in short: who sent it and the start of its text, or that it is gone. */
export interface Quote {
  attachments?: number;
  deleted?: boolean;
  senderId: string;
  seq: number;
  text?: string;
}

export interface ReactRequest {
  action: "react";
  conversationId: string;
  emoji: string;
  remove?: boolean;
  requestId?: string | null;
  seq: number;
}

export interface Reaction {
  count: number;
  emoji: string;
  me?: boolean;
}

export interface ReadRequest {
  action: "read";
  conversationId: string;
  requestId?: string | null;
  seq: number;
}

export interface ReceiptFrame {
  conversationId: string;
  seq: number;
  type: "receipt";
  userId: string;
}

export interface RegisterDeviceRequest {
  action: "registerDevice";
  platform: Platform;
  requestId?: string | null;
  token: string;
}

export interface RemoveDeviceRequest {
  action: "removeDevice";
  deviceId: string;
  requestId?: string | null;
}

export interface RemoveMemberRequest {
  action: "removeMember";
  conversationId: string;
  requestId?: string | null;
  /** a user id is 1-128 characters, without whitespace, '#', control or format characters */
  userId: string;
}

export interface RenameGroupRequest {
  action: "renameGroup";
  conversationId: string;
  name: string;
  requestId?: string | null;
}

export interface ReportRequest {
  action: "report";
  conversationId: string;
  reason?: string | null;
  requestId?: string | null;
  seq: number;
}

export interface ReportedFrame {
  conversationId: string;
  ref?: string;
  seq: number;
  type: "reported";
}

export interface RequestUploadRequest {
  action: "requestUpload";
  contentType: string;
  conversationId: string;
  requestId?: string | null;
  size: number;
}

export interface SendBody {
  attachments?: AttachmentIn[];
  e2e?: Envelope | null;
  text?: string | null;
}

export interface SendRequest {
  action: "send";
  body: SendBody;
  clientMsgId: string;
  conversationId: string;
  lastSeq?: number | null;
  mentions?: string[] | null;
  replyTo?: number | null;
  requestId?: string | null;
}

/** `notify` / `mutedUntil` given as null clear the override; absent leaves it unchanged. */
export interface SetConversationPreferencesRequest {
  action: "setConversationPreferences";
  conversationId: string;
  mutedUntil?: number | null;
  notify?: NotifyMode | null;
  requestId?: string | null;
}

export interface SetGroupSettingsRequest {
  action: "setGroupSettings";
  conversationId: string;
  historyVisibility: HistoryVisibility;
  requestId?: string | null;
}

export interface SetPreferencesRequest {
  action: "setPreferences";
  hideReadReceipts?: boolean | null;
  notify?: NotifyMode | null;
  requestId?: string | null;
  visibility?: Visibility | null;
}

export interface SetRoleRequest {
  action: "setRole";
  conversationId: string;
  requestId?: string | null;
  role: GroupRole;
  /** a user id is 1-128 characters, without whitespace, '#', control or format characters */
  userId: string;
}

export interface TypingFrame {
  conversationId: string;
  type: "typing";
  userId: string;
}

export interface TypingRequest {
  action: "typing";
  conversationId: string;
  requestId?: string | null;
}

export interface UnreadCountsFrame {
  badge: number;
  conversations: UnreadEntry[];
  ref?: string;
  total: number;
  type: "unreadCounts";
}

export interface UnreadCountsRequest {
  action: "unreadCounts";
  requestId?: string | null;
}

export interface UnreadEntry {
  conversationId: string;
  lastReadSeq: number;
  lastSeq: number;
  mentions: number;
  unread: number;
}

/** The reader's count for one conversation: the answer to `read` and the update to their other devices. */
export interface UnreadFrame {
  conversationId: string;
  lastReadSeq: number;
  mentions?: number;
  ref?: string;
  type: "unread";
  unread: number;
}

export interface UnregisterDeviceRequest {
  action: "unregisterDevice";
  requestId?: string | null;
  token: string;
}

export interface UploadFrame {
  conversationId: string;
  expiresAt: number;
  fields: Record<string, string>;
  key: string;
  ref?: string;
  type: "upload";
  url: string;
}

export interface UserKeys {
  devices: DeviceKeys[];
  userId: string;
}

export type Visibility = "visible" | "invisible";

/** Every action a client may send. */
export type ActionName = "addMembers" | "attachmentUrls" | "block" | "createGroup" | "delete" | "edit" | "getKeys" | "getPreferences" | "history" | "leave" | "listBlocks" | "listConversations" | "openDirect" | "ping" | "presence" | "publishKeys" | "react" | "read" | "registerDevice" | "removeDevice" | "removeMember" | "renameGroup" | "report" | "requestUpload" | "send" | "setConversationPreferences" | "setGroupSettings" | "setPreferences" | "setRole" | "typing" | "unblock" | "unreadCounts" | "unregisterDevice";

/** Each action's request frame. */
export interface Requests {
  addMembers: AddMembersRequest;
  attachmentUrls: AttachmentUrlsRequest;
  block: BlockRequest & {
    action?: "block";
  };
  createGroup: CreateGroupRequest;
  delete: DeleteRequest;
  edit: EditRequest;
  getKeys: GetKeysRequest;
  getPreferences: GetPreferencesRequest;
  history: HistoryRequest;
  leave: LeaveRequest;
  listBlocks: ListBlocksRequest;
  listConversations: ListConversationsRequest;
  openDirect: OpenDirectRequest;
  ping: PingRequest;
  presence: PresenceRequest;
  publishKeys: PublishKeysRequest;
  react: ReactRequest;
  read: ReadRequest;
  registerDevice: RegisterDeviceRequest;
  removeDevice: RemoveDeviceRequest;
  removeMember: RemoveMemberRequest;
  renameGroup: RenameGroupRequest;
  report: ReportRequest;
  requestUpload: RequestUploadRequest;
  send: SendRequest;
  setConversationPreferences: SetConversationPreferencesRequest;
  setGroupSettings: SetGroupSettingsRequest;
  setPreferences: SetPreferencesRequest;
  setRole: SetRoleRequest;
  typing: TypingRequest;
  unblock: BlockRequest & {
    action?: "unblock";
  };
  unreadCounts: UnreadCountsRequest;
  unregisterDevice: UnregisterDeviceRequest;
}

/** The frames that may answer each action (an `error` frame included, except for `ping`). */
export interface Answers {
  addMembers: (ConversationFrame & {
    conversation?: {
      lastMessage?: CompactMessageFrame;
    };
  }) | (ConversationFrame & {
    conversation?: {
      lastMessage?: MessageFrame;
    };
  }) | ErrorFrame;
  attachmentUrls: AttachmentUrlsFrame | ErrorFrame;
  block: BlocksFrame | ErrorFrame;
  createGroup: (ConversationFrame & {
    conversation?: {
      lastMessage?: CompactMessageFrame;
    };
  }) | (ConversationFrame & {
    conversation?: {
      lastMessage?: MessageFrame;
    };
  }) | ErrorFrame;
  delete: ChangedFrame | ErrorFrame;
  edit: ChangedFrame | ErrorFrame;
  getKeys: KeysFrame | ErrorFrame;
  getPreferences: PreferencesFrame | ErrorFrame;
  history: (HistoryFrame & {
    messages?: ((CompactMessageFrame | CompactChangeFrame)[]);
  }) | (HistoryFrame & {
    messages?: ((MessageFrame | ChangeFrame)[]);
  }) | ErrorFrame;
  leave: (ConversationFrame & {
    conversation?: {
      lastMessage?: CompactMessageFrame;
    };
  }) | (ConversationFrame & {
    conversation?: {
      lastMessage?: MessageFrame;
    };
  }) | ErrorFrame;
  listBlocks: BlocksFrame | ErrorFrame;
  listConversations: (ConversationsFrame & {
    conversations?: {
      lastMessage?: CompactMessageFrame;
    }[];
  }) | (ConversationsFrame & {
    conversations?: {
      lastMessage?: MessageFrame;
    }[];
  }) | ErrorFrame;
  openDirect: (ConversationFrame & {
    conversation?: {
      lastMessage?: CompactMessageFrame;
    };
  }) | (ConversationFrame & {
    conversation?: {
      lastMessage?: MessageFrame;
    };
  }) | ErrorFrame;
  ping: PongFrame;
  presence: PresenceFrame | ErrorFrame;
  publishKeys: KeysPublishedFrame | ErrorFrame;
  react: ChangedFrame | ErrorFrame;
  read: UnreadFrame | ErrorFrame;
  registerDevice: DeviceFrame | ErrorFrame;
  removeDevice: DeviceRemovedFrame | ErrorFrame;
  removeMember: (ConversationFrame & {
    conversation?: {
      lastMessage?: CompactMessageFrame;
    };
  }) | (ConversationFrame & {
    conversation?: {
      lastMessage?: MessageFrame;
    };
  }) | ErrorFrame;
  renameGroup: (ConversationFrame & {
    conversation?: {
      lastMessage?: CompactMessageFrame;
    };
  }) | (ConversationFrame & {
    conversation?: {
      lastMessage?: MessageFrame;
    };
  }) | ErrorFrame;
  report: ReportedFrame | ErrorFrame;
  requestUpload: UploadFrame | ErrorFrame;
  send: CompactAckFrame | AckFrame | ErrorFrame;
  setConversationPreferences: ConversationPreferencesFrame | ErrorFrame;
  setGroupSettings: (ConversationFrame & {
    conversation?: {
      lastMessage?: CompactMessageFrame;
    };
  }) | (ConversationFrame & {
    conversation?: {
      lastMessage?: MessageFrame;
    };
  }) | ErrorFrame;
  setPreferences: PreferencesFrame | ErrorFrame;
  setRole: (ConversationFrame & {
    conversation?: {
      lastMessage?: CompactMessageFrame;
    };
  }) | (ConversationFrame & {
    conversation?: {
      lastMessage?: MessageFrame;
    };
  }) | ErrorFrame;
  typing: ErrorFrame;
  unblock: BlocksFrame | ErrorFrame;
  unreadCounts: UnreadCountsFrame | ErrorFrame;
  unregisterDevice: DeviceFrame | ErrorFrame;
}

/** Every frame the server pushes unasked. */
export type PushedFrame = AttachmentReadyFrame | CompactChangeFrame | ChangeFrame | KeysChangedFrame | CompactMessageFrame | MessageFrame | PresenceFrame | ReceiptFrame | TypingFrame | UnreadFrame;

/** Every frame the server sends, in either format. */
export type ServerFrame = AckFrame | AttachmentReadyFrame | AttachmentUrlsFrame | BlocksFrame | ChangeFrame | ChangedFrame | CompactAckFrame | CompactChangeFrame | CompactMessageFrame | ConversationFrame | ConversationPreferencesFrame | ConversationsFrame | DeviceFrame | DeviceRemovedFrame | ErrorFrame | HistoryFrame | KeysChangedFrame | KeysFrame | KeysPublishedFrame | MessageFrame | PongFrame | PreferencesFrame | PresenceFrame | ReceiptFrame | ReportedFrame | TypingFrame | UnreadCountsFrame | UnreadFrame | UploadFrame;
