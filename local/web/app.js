// The web chat of `make run`: a small page built on Parley's TypeScript SDK only, and so its living example
// (docs/clients.md). Plain ES modules, no bundler: /sdk/ is the SDK's own build (clients/js/dist).
//
// What it shows of the SDK: a token provider (the local stack's POST /token stands in for a host app's backend),
// the events (message, change, sent, presence, typing, receipt, unread, attachment, state), history and
// catch-up, the offline queue kept in localStorage, uploads through the presigned POST, invisible mode.
import { LocalStorageStorage, ParleyClient } from "/sdk/index.js";

const TYPING_SHOWN_MS = 5000; // docs/protocol.md: hide an indicator after about 5 s without a new one
const HISTORY_PAGE = 50;

const $ = (id) => document.getElementById(id);

const state = {
  me: "",
  url: "",
  token: "", // the first token, used once; every later connection asks POST /token again
  client: null,
  storage: null,
  conversations: new Map(), // conversationId -> Conv
  presence: new Map(), // userId -> {status, lastSeen}
  active: null, // the open conversation's id
  thumbnails: new Map(), // attachment key -> thumbnail URL (presigned GET)
  previewShown: new Set(), // attachment keys whose inline preview was on screen
  earlyAttachments: new Map(), // "cid/seq/key" -> attachment frame that came before its message
};

// -- the token: a host app's backend mints it; here the local stack does -----------------------------------

async function mintToken(userId) {
  const answer = await fetch("/token", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ userId }),
  });
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.message || `the token endpoint answered ${answer.status}`);
  return body;
}

async function provideToken() {
  if (state.token) {
    const token = state.token;
    state.token = "";
    return token;
  }
  return (await mintToken(state.me)).token;
}

// -- conversations ----------------------------------------------------------------------------------------

function conv(cid) {
  let c = state.conversations.get(cid);
  if (!c) {
    c = {
      id: cid, kind: cid.startsWith("g_") ? "group" : "direct", members: [], name: undefined, unread: 0,
      maxSeq: 0, entries: new Map(), pending: new Map(), readBy: new Map(), typing: new Map(), loaded: false,
    };
    state.conversations.set(cid, c);
  }
  return c;
}

function remember(conversation) {
  const c = conv(conversation.conversationId);
  c.kind = conversation.kind;
  c.members = conversation.members;
  c.name = conversation.name;
  if (typeof conversation.unread === "number") c.unread = conversation.unread;
  if (conversation.lastMessage) c.maxSeq = Math.max(c.maxSeq, conversation.lastMessage.seq);
  return c;
}

function others(c) {
  return c.members.filter((m) => m !== state.me);
}

function title(c) {
  if (c.kind === "direct") return others(c)[0] || "…";
  return c.name || others(c).join(", ") || "group";
}

async function loadConversations() {
  const page = await state.client.listConversations({ limit: 100 });
  for (const conversation of page.conversations) {
    const c = remember(conversation);
    // Follow every conversation, so that the SDK catches each up after a reconnect.
    if (state.client.lastSeq(c.id) === undefined) state.client.track(c.id, c.maxSeq);
  }
  await refreshPresence();
  renderConversations();
  if (state.active) await openConversation(state.active);
}

let reloadTimer;
function reloadConversationsSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => loadConversations().catch(showError), 200);
}

async function refreshPresence() {
  const contacts = new Set();
  for (const c of state.conversations.values()) for (const m of others(c)) contacts.add(m);
  const ids = [...contacts].slice(0, 100);
  if (!ids.length) return;
  for (const entry of await state.client.presence(ids)) state.presence.set(entry.userId, entry);
}

async function openConversation(cid) {
  state.active = cid;
  const c = conv(cid);
  if (!c.loaded) {
    const page = await state.client.history(cid, { limit: HISTORY_PAGE });
    for (const entry of page.entries) addEntry(entry, { live: false });
    c.loaded = true;
  }
  setComposerEnabled(true);
  renderConversations();
  renderChat();
  markRead();
}

// -- what arrives ---------------------------------------------------------------------------------------

function addEntry(entry, { live }) {
  const c = conv(entry.conversationId);
  if (!c.members.length) reloadConversationsSoon(); // a conversation someone else just opened with us
  const known = c.entries.has(entry.seq);
  c.entries.set(entry.seq, entry);
  if (entry.type === "change") applyChange(c, entry);
  const isNew = entry.seq > c.maxSeq;
  c.maxSeq = Math.max(c.maxSeq, entry.seq);
  if (entry.type === "message") {
    c.typing.delete(entry.senderId);
    for (const attachment of entry.attachments) {
      const early = state.earlyAttachments.get(`${c.id}/${entry.seq}/${attachment.key}`);
      if (early?.preview && !attachment.preview) attachment.preview = early.preview;
      fetchThumbnail(c.id, attachment).catch(showError);
    }
    if (live && isNew && !known && entry.senderId !== state.me && !(state.active === c.id && pageVisible())) {
      c.unread += 1;
    }
  }
  if (state.active === c.id) markRead();
}

function applyChange(c, change) {
  const target = change.target !== undefined ? c.entries.get(change.target) : undefined;
  if (change.kind === "edited" && target) Object.assign(target, { text: change.text, editedAt: change.editedAt });
  if (change.kind === "deleted" && target) Object.assign(target, { deleted: true, text: undefined, attachments: [] });
  if (["membersAdded", "memberRemoved", "memberLeft"].includes(change.kind)) reloadConversationsSoon();
  if (change.kind === "renamed") c.name = change.name;
}

function onSent({ message, ack }) {
  const c = conv(ack.conversationId);
  const pending = c.pending.get(message.clientMsgId);
  c.pending.delete(message.clientMsgId);
  c.entries.set(ack.seq, {
    type: "message", conversationId: ack.conversationId, seq: ack.seq, senderId: state.me, sentAt: ack.sentAt,
    text: message.body.text, attachments: message.body.attachments || [], localUrl: pending?.localUrl,
    deleted: false, mentions: [], reactions: [],
  });
  c.maxSeq = Math.max(c.maxSeq, ack.seq);
  render(c.id);
}

function onAttachment(frame) {
  const c = conv(frame.conversationId);
  const message = c.entries.get(frame.seq);
  const attachment = message?.attachments?.find((a) => a.key === frame.key);
  if (!attachment) {
    state.earlyAttachments.set(`${frame.conversationId}/${frame.seq}/${frame.key}`, frame);
    return;
  }
  Object.assign(attachment, { preview: frame.preview ?? attachment.preview, width: frame.width, height: frame.height });
  render(c.id);
  fetchThumbnail(c.id, attachment).catch(showError);
}

// The inline preview (a few hundred bytes, in the message or the `attachment` event, or from `attachmentUrls`)
// shows at once; the thumbnail replaces it once it has loaded. It is made about a second after the upload:
// until then `attachmentUrls` has none, and the `attachment` event says when to ask again.
async function fetchThumbnail(cid, attachment) {
  if (state.thumbnails.has(attachment.key) || !attachment.contentType.startsWith("image/")) return;
  const answer = await state.client.attachmentUrls(cid, [attachment.key]);
  const link = answer.attachments.find((a) => a.key === attachment.key);
  if (link?.preview && !attachment.preview) attachment.preview = link.preview;
  render(cid);
  if (!link?.thumbnailUrl || state.thumbnails.has(attachment.key)) return;
  const image = new Image();
  image.src = link.thumbnailUrl;
  await image.decode(); // loaded: no blank frame between the preview and the thumbnail
  state.thumbnails.set(attachment.key, link.thumbnailUrl);
  render(cid);
}

function onTyping({ conversationId, userId }) {
  const c = conv(conversationId);
  c.typing.set(userId, Date.now() + TYPING_SHOWN_MS);
  setTimeout(() => render(conversationId), TYPING_SHOWN_MS + 50);
  render(conversationId);
}

function onReceipt({ conversationId, userId, seq }) {
  const c = conv(conversationId);
  c.readBy.set(userId, Math.max(c.readBy.get(userId) ?? 0, seq));
  render(conversationId);
}

function onUnread({ conversationId, unread }) {
  conv(conversationId).unread = unread;
  renderConversations();
}

function onPresence(entry) {
  state.presence.set(entry.userId, entry);
  renderConversations();
  renderHeader();
}

// -- what we do -----------------------------------------------------------------------------------------

let readTimer;
function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    const c = state.active && conv(state.active);
    if (!c || !pageVisible() || !state.client?.connected || c.maxSeq === 0) return;
    if (c.unread === 0 && c.readSeq === c.maxSeq) return;
    c.readSeq = c.maxSeq;
    state.client.read(c.id, c.maxSeq).catch(showError);
  }, 100);
}

function newClientMsgId() {
  return crypto.randomUUID().replaceAll("-", "");
}

async function sendText(text) {
  const cid = state.active;
  const clientMsgId = newClientMsgId();
  conv(cid).pending.set(clientMsgId, { text, attachments: [] });
  render(cid);
  await state.client.send(cid, text, { clientMsgId });
}

async function sendPhoto(file) {
  const cid = state.active;
  const clientMsgId = newClientMsgId();
  const localUrl = URL.createObjectURL(file);
  conv(cid).pending.set(clientMsgId, { text: "", attachments: [{ key: clientMsgId }], localUrl });
  render(cid);
  let size = {};
  try {
    const bitmap = await createImageBitmap(file);
    size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
  } catch {
    // not decodable here (HEIC in most browsers): send it without its size
  }
  const attachment = await state.client.uploadFile(cid, file, { contentType: file.type, ...size });
  await state.client.send(cid, undefined, { attachments: [attachment], clientMsgId });
}

// -- the connection --------------------------------------------------------------------------------------

async function startClient() {
  const client = new ParleyClient({ url: state.url, token: provideToken, storage: state.storage });
  state.client = client;
  client.on("state", ({ state: s }) => showConnection(s));
  client.on("message", (m) => { addEntry(m, { live: true }); render(m.conversationId); showConnection(client.state); });
  client.on("change", (c) => { addEntry(c, { live: true }); render(c.conversationId); });
  client.on("sent", onSent);
  client.on("sendFailed", ({ message, error }) => {
    conv(message.conversationId).pending.delete(message.clientMsgId);
    showError(error);
    render(message.conversationId);
  });
  client.on("presence", onPresence);
  client.on("typing", onTyping);
  client.on("receipt", onReceipt);
  client.on("unread", onUnread);
  client.on("attachment", onAttachment);
  client.on("error", showError);
  await client.connect();
  // What is still in the offline queue (persisted in localStorage) is sent again by the SDK: show it.
  for (const message of client.pending()) {
    conv(message.conversationId).pending.set(message.clientMsgId, {
      text: message.body.text, attachments: message.body.attachments || [] });
  }
  await loadConversations();
  const preferences = await client.getPreferences();
  $("invisible").checked = preferences.visibility === "invisible";
}

// -- rendering ---------------------------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

function time(epochMs) {
  return new Date(epochMs).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function render(cid) {
  renderConversations();
  if (cid === state.active) renderChat();
}

function renderConversations() {
  const list = $("conversations");
  const items = [...state.conversations.values()].filter((c) => c.members.length)
    .sort((a, b) => b.maxSeq - a.maxSeq || a.id.localeCompare(b.id));
  list.replaceChildren(...items.map((c) => {
    const peer = c.kind === "direct" ? others(c)[0] : undefined;
    const online = peer && state.presence.get(peer)?.status === "online";
    const dot = el("span", { class: `dot ${c.kind === "group" ? "group" : online ? "online" : ""}`,
      "data-testid": "presence-dot", "data-status": c.kind === "group" ? undefined : online ? "online" : "offline" });
    const badge = c.unread > 0 && c.id !== state.active
      ? el("span", { class: "badge", "data-testid": "unread-badge" }, String(c.unread)) : undefined;
    const item = el("li", { class: c.id === state.active ? "active" : "", "data-testid": "conversation",
      "data-conversation": c.id, "data-title": title(c) }, dot, el("span", { class: "name" }, title(c)), badge);
    item.addEventListener("click", () => openConversation(c.id).catch(showError));
    return item;
  }));
}

function renderHeader() {
  const c = state.active && conv(state.active);
  if (!c) return;
  $("chat-title").textContent = title(c);
  const status = $("chat-status");
  if (c.kind === "direct") {
    const p = state.presence.get(others(c)[0]);
    const online = p?.status === "online";
    status.textContent = online ? "online" : p?.lastSeen ? `offline · last seen ${time(p.lastSeen)}` : "offline";
    status.className = `status ${online ? "online" : ""}`;
    status.dataset.status = online ? "online" : "offline";
  } else {
    const online = others(c).filter((m) => state.presence.get(m)?.status === "online");
    status.textContent = `${c.members.length} members, ${online.length} online`;
    status.className = "status";
    delete status.dataset.status;
  }
}

function receiptOf(c, seq) {
  const readers = others(c).filter((m) => (c.readBy.get(m) ?? 0) >= seq);
  if (!readers.length) return "✓ sent";
  return c.kind === "direct" ? "✓✓ read" : `✓✓ read by ${readers.join(", ")}`;
}

function photo(attachment, localUrl) {
  if (localUrl) return el("img", { src: localUrl, alt: "photo", "data-stage": "local", "data-testid": "photo" });
  const thumbnail = state.thumbnails.get(attachment.key);
  if (thumbnail) {
    return el("img", { src: thumbnail, alt: "photo", "data-stage": "thumbnail", "data-testid": "photo",
      "data-preview-shown": state.previewShown.has(attachment.key) });
  }
  if (attachment.preview) {
    state.previewShown.add(attachment.key);
    return el("img", { src: attachment.preview, alt: "photo (preview)", "data-stage": "preview", "data-testid": "photo",
      "data-preview-shown": true });
  }
  return el("span", { class: "status", "data-stage": "waiting", "data-testid": "photo" }, "photo…");
}

function renderMessage(c, m, pending) {
  const mine = m.senderId === state.me || pending;
  const meta = el("span", { class: "meta" }, el("span", {}, mine ? "you" : m.senderId),
    el("span", {}, pending ? "sending…" : time(m.sentAt)),
    mine && !pending ? el("span", { class: "receipt", "data-testid": "receipt" }, receiptOf(c, m.seq)) : undefined);
  const item = el("li", { class: `${mine ? "mine" : ""} ${pending ? "pending" : ""}`, "data-testid": "message",
    "data-seq": m.seq, "data-sender": mine ? state.me : m.senderId }, meta);
  if (m.deleted) item.append(el("em", {}, "(deleted)"));
  if (m.text) item.append(el("div", { class: "text", "data-testid": "message-text" }, m.text));
  if (m.editedAt) item.append(el("span", { class: "status" }, " (edited)"));
  for (const attachment of m.attachments || []) item.append(photo(attachment, m.localUrl));
  return item;
}

const CHANGE_TEXT = {
  membersAdded: (ch) => `${ch.by} added ${(ch.users || []).join(", ")}`,
  memberRemoved: (ch) => `${ch.by} removed ${(ch.users || []).join(", ")}`,
  memberLeft: (ch) => `${ch.by} left`,
  renamed: (ch) => `${ch.by} renamed the group to ${ch.name}`,
  roleChanged: (ch) => `${ch.by} made ${(ch.users || []).join(", ")} ${ch.role}`,
  settingsChanged: (ch) => `${ch.by} changed what new members see: ${ch.history}`,
};

function renderChat() {
  const c = conv(state.active);
  renderHeader();
  const items = [];
  for (const seq of [...c.entries.keys()].sort((a, b) => a - b)) {
    const entry = c.entries.get(seq);
    if (entry.type === "message") items.push(renderMessage(c, entry, false));
    else if (CHANGE_TEXT[entry.kind]) items.push(el("li", { class: "change" }, CHANGE_TEXT[entry.kind](entry)));
  }
  for (const p of c.pending.values()) {
    items.push(renderMessage(c, { senderId: state.me, text: p.text, attachments: p.attachments, localUrl: p.localUrl },
      true));
  }
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
  const now = Date.now();
  const typists = [...c.typing].filter(([, until]) => until > now).map(([user]) => user);
  $("typing").textContent = typists.length ? `${typists.join(", ")} ${typists.length > 1 ? "are" : "is"} typing…` : "";
}

function showConnection(s) {
  const node = $("connection");
  const offline = !navigator.onLine && s !== "open";
  node.textContent = offline ? "offline" : s;
  node.className = `connection ${s}`;
  node.dataset.state = s;
  node.dataset.online = String(navigator.onLine);
  // What the SDK read from history after a reconnect rather than live (the browser test checks it).
  node.dataset.recovered = String(state.client?.stats.recovered ?? 0);
}

function showError(error) {
  const message = error?.code ? `${error.code}: ${error.message}` : String(error?.message ?? error);
  $("app-error").textContent = message;
  setTimeout(() => { if ($("app-error").textContent === message) $("app-error").textContent = ""; }, 8000);
}

function setComposerEnabled(enabled) {
  for (const id of ["text", "photo"]) $(id).disabled = !enabled;
  document.querySelector("#composer button").disabled = !enabled;
}

function pageVisible() {
  return document.visibilityState === "visible";
}


// -- wiring --------------------------------------------------------------------------------------------------

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const minted = await mintToken($("login-name").value.trim());
    Object.assign(state, { me: minted.userId, url: minted.url, token: minted.token });
    state.storage = new LocalStorageStorage();
    $("me-name").textContent = state.me;
    $("login").hidden = true;
    $("app").hidden = false;
    document.title = `${state.me} · Parley`;
    await startClient();
  } catch (error) {
    $("login").hidden = false;
    $("app").hidden = true;
    $("login-error").textContent = String(error.message ?? error);
  }
});

$("direct-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const conversation = await state.client.openDirect($("direct-user").value.trim());
    remember(conversation);
    $("direct-user").value = "";
    await refreshPresence();
    await openConversation(conversation.conversationId);
  } catch (error) {
    showError(error);
  }
});

$("group-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const members = $("group-members").value.split(",").map((m) => m.trim()).filter(Boolean);
  const name = $("group-name").value.trim() || undefined;
  try {
    const conversation = await state.client.createGroup(members, { name });
    remember(conversation);
    $("group-members").value = "";
    $("group-name").value = "";
    await refreshPresence();
    await openConversation(conversation.conversationId);
  } catch (error) {
    showError(error);
  }
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text || !state.active || !state.client) return;
  $("text").value = "";
  sendText(text).catch(showError);
});

$("text").addEventListener("input", () => {
  if (state.active && state.client && $("text").value) state.client.typing(state.active);
});

$("photo").addEventListener("change", () => {
  const file = $("photo").files[0];
  $("photo").value = "";
  if (file && state.active && state.client) sendPhoto(file).catch(showError);
});

$("invisible").addEventListener("change", () => {
  state.client?.setInvisible($("invisible").checked).catch(showError);
});

document.addEventListener("visibilitychange", markRead);
// Offline, nothing more is needed: the SDK closes the socket when the browser goes offline and reconnects when
// it is back (its `watchNetwork` option), then catches up every conversation; what is sent meanwhile waits in
// its offline queue (kept in localStorage, so it survives a reload too).
window.addEventListener("offline", () => showConnection(state.client?.state ?? "offline"));
