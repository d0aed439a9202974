"""Photos, files and voice messages: direct uploads to S3 (never through the socket), attachment checks
before a message is stored, and short-lived download URLs for members only.

Object keys: ``u/<conversationId>/<uploader>/<uploadId>`` is what the app uploads; ``p/...`` is the copy
that is served (images re-encoded without EXIF location data) and ``t/....webp`` the thumbnail. ``exports/...``
holds users' data exports (``parley.export``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService
from parley.errors import (
    AttachmentDeletedError,
    AttachmentNotFoundError,
    FileTooLargeError,
    InvalidAttachmentError,
    UnsupportedMediaError,
    UploadsUnavailableError,
)
from parley.models import Attachment, Message, UploadRecord, UploadTicket
from parley.ports import ObjectStore, UploadRecordStore

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
AUDIO_TYPES = frozenset({"audio/mp4", "audio/x-m4a", "audio/aac", "audio/ogg"})  # voice messages
ALLOWED_TYPES = IMAGE_TYPES | AUDIO_TYPES
# End-to-end encrypted conversations (docs/e2e.md): every file is encrypted by the client before its upload, so
# its type is this one and only this one there; no thumbnail is made and no EXIF data stripped (nothing can be).
E2E_TYPE = "application/octet-stream"
E2E_TYPES = frozenset({E2E_TYPE})
# Served as uploaded (the upload is its own served copy, kept once sent): voice messages and encrypted files.
AS_UPLOADED_TYPES = AUDIO_TYPES | E2E_TYPES


def accepted_types(e2e: bool) -> frozenset[str]:
    return E2E_TYPES if e2e else ALLOWED_TYPES
UPLOAD_PREFIX, SERVED_PREFIX, THUMBNAIL_PREFIX = "u/", "p/", "t/"
EXPORT_PREFIX = "exports/"  # a user's data export (parley.export), in the same bucket, expired by its lifecycle
# Every object starts "pending"; sending a message that uses it marks it (and its copies) "sent". The
# bucket's lifecycle rule deletes pending objects after a day: abandoned uploads do not linger.
STATE_TAG = "parley-state"
PENDING, SENT = {STATE_TAG: "pending"}, {STATE_TAG: "sent"}


def uploader_segment(user_id: str) -> str:
    """A key-safe, stable stand-in for a user id (ids may hold characters S3 keys should not)."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:20]


def conversation_prefix(conversation_id: str) -> str:
    return f"{UPLOAD_PREFIX}{conversation_id}/"


def conversation_of(object_key: str) -> str | None:
    parts = object_key.split("/")
    return parts[1] if len(parts) == 4 and parts[0] + "/" == UPLOAD_PREFIX else None


def served_key(upload_key: str, content_type: str) -> str:
    rest = upload_key[len(UPLOAD_PREFIX):]
    return f"{SERVED_PREFIX}{rest}" if content_type in IMAGE_TYPES else upload_key


def thumbnail_key(upload_key: str) -> str:
    return f"{THUMBNAIL_PREFIX}{upload_key[len(UPLOAD_PREFIX):]}.webp"


@dataclass(frozen=True)
class DeclaredAttachment:
    key: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class AttachmentLink:
    key: str
    url: str | None
    thumbnail_url: str | None
    record: UploadRecord | None


class AttachmentService:
    def __init__(self, conversations: ConversationService, objects: ObjectStore | None, records: UploadRecordStore,
                 *, max_bytes: int, upload_ttl_seconds: int, download_ttl_seconds: int,
                 clock: Clock = now_ms) -> None:
        self._conversations = conversations
        self._objects = objects
        self._records = records
        self._max_bytes = max_bytes
        self._upload_ttl = upload_ttl_seconds
        self._download_ttl = download_ttl_seconds
        self._clock = clock

    def _store(self) -> ObjectStore:
        if self._objects is None:
            raise UploadsUnavailableError()
        return self._objects

    def request_upload(self, me: str, conversation_id: str, content_type: str, size: int) -> UploadTicket:
        objects = self._store()
        accepted = accepted_types(self._conversations.require_member(conversation_id, me).e2e)
        if content_type not in accepted:
            raise UnsupportedMediaError(f"Accepted types: {', '.join(sorted(accepted))}.")
        if size > self._max_bytes:
            raise FileTooLargeError(f"Files are limited to {self._max_bytes} bytes.")
        key = f"{conversation_prefix(conversation_id)}{uploader_segment(me)}/{secrets.token_urlsafe(12)}"
        url, fields = objects.presign_post(key, content_type, self._max_bytes, self._upload_ttl, PENDING)
        return UploadTicket(key=key, url=url, fields=fields, expires_at=self._clock() + self._upload_ttl * 1000)

    def verify(self, me: str, conversation_id: str, declared: Sequence[DeclaredAttachment]) -> tuple[Attachment, ...]:
        """Each file must exist, have been uploaded by ``me`` for this conversation, and match its
        declared type and size. Runs before anything is stored."""
        objects = self._store()
        accepted = accepted_types(self._conversations.require_member(conversation_id, me).e2e)
        mine = f"{conversation_prefix(conversation_id)}{uploader_segment(me)}/"
        checked = []
        for item in declared:
            if not item.key.startswith(mine) or item.key.count("/") != 3:
                raise InvalidAttachmentError("An attachment was not uploaded by you for this conversation.")
            found = objects.head(item.key)
            if found is None:
                raise AttachmentNotFoundError()
            if found.content_type != item.content_type or found.size != item.size \
                    or found.content_type not in accepted or found.size > self._max_bytes:
                raise InvalidAttachmentError("An attachment does not match its declared type and size.")
            checked.append(Attachment(key=item.key, content_type=item.content_type, size=item.size,
                                      width=item.width, height=item.height))
        return tuple(checked)

    def link(self, message: Message) -> Message:
        """After storing: tie each upload to its message and add previews that are already made."""
        body = message.body
        if body is None or not body.attachments:
            return message
        objects = self._store()
        linked = []
        for attachment in body.attachments:
            record = self._records.update(attachment.key, conversation_id=message.conversation_id, seq=message.seq)
            mark_sent(objects, record)
            linked.append(attachment.model_copy(update={
                "preview": record.preview, "width": record.width or attachment.width,
                "height": record.height or attachment.height}))
        return message.model_copy(update={"body": body.model_copy(update={"attachments": tuple(linked)})})

    def links(self, me: str, conversation_id: str, keys: Sequence[str]) -> tuple[list[AttachmentLink], int]:
        """Short-lived download URLs, for members only. Images are served only once their copy without
        location data exists."""
        objects = self._store()
        self._conversations.require_member(conversation_id, me)
        prefix = conversation_prefix(conversation_id)
        if any(not k.startswith(prefix) or k.count("/") != 3 for k in keys):
            raise InvalidAttachmentError("A key does not belong to this conversation.")
        records = self._records.get_many(list(keys))
        if any(r.deleted_at is not None for r in records.values()):
            raise AttachmentDeletedError()
        found = []
        for k in dict.fromkeys(keys):
            record = records.get(k)
            served = record.served_key if record else None
            found.append(AttachmentLink(
                key=k, url=objects.presign_get(served, self._download_ttl) if served else None,
                thumbnail_url=(objects.presign_get(record.thumbnail_key, self._download_ttl)
                               if record and record.thumbnail_key else None),
                record=record))
        return found, self._clock() + self._download_ttl * 1000

    def discard(self, message: Message) -> None:
        """A message is being deleted: its uploads' records are marked deleted first (``attachmentUrls`` refuses
        them from then on, and a thumbnail made later is thrown away), then every object of each upload goes:
        the upload, its served copy and its thumbnail. Safe to repeat."""
        body = message.body
        if body is None or not body.attachments:
            return
        at = self._clock()
        doomed: list[str] = []
        for attachment in body.attachments:
            record = self._records.update(attachment.key, deleted_at=at)
            doomed += files_of(attachment.key, attachment.content_type, record)
        if self._objects is not None:
            self._objects.delete(doomed)


def files_of(upload_key: str, content_type: str, record: UploadRecord) -> list[str]:
    """Every object an upload may have: itself, its served copy and its thumbnail (those it will have too)."""
    keys = [upload_key, served_key(upload_key, content_type), record.served_key, record.thumbnail_key]
    if content_type in IMAGE_TYPES:
        keys.append(thumbnail_key(upload_key))
    return list(dict.fromkeys(k for k in keys if k))


def mark_sent(objects: ObjectStore, record: UploadRecord) -> None:
    """Keep what a sent message serves: the served copy and the thumbnail made so far. A photo's original,
    with its EXIF location data, stays pending and expires with the lifecycle rule; an audio original is
    its own served copy, so it is kept."""
    for key in dict.fromkeys(k for k in (record.served_key, record.thumbnail_key) if k):
        objects.set_tags(key, SENT)
