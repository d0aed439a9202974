"""``requestUpload`` and ``attachmentUrls``, and the frame pushed when an attachment is ready.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from parley.protocol.base import Identifier, Inbound, MediaType, Outbound, UploadKey


class RequestUploadRequest(Inbound):
    action: Literal["requestUpload"]
    conversation_id: Identifier
    content_type: MediaType
    size: Annotated[int, Field(ge=1)]


class AttachmentUrlsRequest(Inbound):
    action: Literal["attachmentUrls"]
    conversation_id: Identifier
    keys: Annotated[list[UploadKey], Field(min_length=1, max_length=20)]


class UploadFrame(Outbound):
    type: Literal["upload"] = "upload"
    conversation_id: str
    key: str
    url: str
    fields: dict[str, str]
    expires_at: int
    ref: str | None = None


class AttachmentUrl(Outbound):
    key: str
    url: str | None = None  # absent while an image is still being cleaned of its location data
    thumbnail_url: str | None = None
    preview: str | None = None
    width: int | None = None
    height: int | None = None


class AttachmentUrlsFrame(Outbound):
    type: Literal["attachmentUrls"] = "attachmentUrls"
    conversation_id: str
    attachments: list[AttachmentUrl]
    expires_at: int
    ref: str | None = None


class AttachmentReadyFrame(Outbound):
    """Pushed to members when an attachment's thumbnail and preview are ready."""

    type: Literal["attachment"] = "attachment"
    conversation_id: str
    seq: int
    key: str
    preview: str | None = None
    width: int | None = None
    height: int | None = None
