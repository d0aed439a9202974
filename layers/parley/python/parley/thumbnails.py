"""Runs when an upload lands in S3: images get a served copy without EXIF location data, a thumbnail and
an inline preview; members are told once the attachment of a sent message is ready."""

from __future__ import annotations

from parley import images
from parley.attachments import (
    AS_UPLOADED_TYPES,
    IMAGE_TYPES,
    PENDING,
    UPLOAD_PREFIX,
    files_of,
    mark_sent,
    served_key,
    thumbnail_key,
)
from parley.clock import Clock, now_ms
from parley.fanout import Fanout
from parley.models import UploadRecord
from parley.observability import logger
from parley.ports import ConversationStore, ObjectStore, UploadRecordStore
from parley.protocol.attachments import AttachmentReadyFrame


class ThumbnailService:
    def __init__(self, objects: ObjectStore, records: UploadRecordStore, conversations: ConversationStore,
                 fanout: Fanout | None, thumbnail_px: int, clock: Clock = now_ms) -> None:
        self._objects = objects
        self._records = records
        self._conversations = conversations
        self._fanout = fanout
        self._px = thumbnail_px
        self._clock = clock

    def close(self) -> None:
        """Stop the fan-out's worker threads (a long-lived host such as the local stack)."""
        if self._fanout is not None:
            self._fanout.close()

    def uploaded(self, key: str) -> UploadRecord | None:
        if not key.startswith(UPLOAD_PREFIX):
            return None  # our own outputs (p/, t/) never trigger work
        stored = self._objects.head(key)
        if stored is None:
            return None
        if stored.content_type in AS_UPLOADED_TYPES:
            record = self._records.update(key, served_key=key)
        elif stored.content_type in IMAGE_TYPES:
            data, _ = self._objects.read(key)
            try:
                made = images.process(data, stored.content_type, self._px)
            except Exception:  # not a decodable image: never served, never thumbnailed
                logger.warning("upload is not a readable image", extra={"key": key})
                return None
            served = served_key(key, stored.content_type)
            self._objects.write(served, made.served, made.served_type, PENDING)
            self._objects.write(thumbnail_key(key), made.thumbnail, "image/webp", PENDING)
            record = self._records.update(key, served_key=served, thumbnail_key=thumbnail_key(key),
                                          preview=made.preview, width=made.width, height=made.height)
        else:
            return None
        if record.deleted_at is not None:  # its message was deleted while this ran: what it made goes too
            self._objects.delete(files_of(key, stored.content_type, record))
            return None
        if record.seq is not None:  # the message was sent before the copies existed: keep them too
            mark_sent(self._objects, record)
        self._announce(record)
        return record

    def _announce(self, record: UploadRecord) -> None:
        if self._fanout is None or record.seq is None or record.conversation_id is None:
            return  # not sent yet: the send path will pick the preview up
        conversation = self._conversations.get(record.conversation_id)
        if conversation is None:
            return
        frame = AttachmentReadyFrame(conversation_id=record.conversation_id, seq=record.seq, key=record.key,
                                     preview=record.preview, width=record.width, height=record.height)
        self._fanout.deliver(conversation.members, frame.to_json().encode(), self._clock())
