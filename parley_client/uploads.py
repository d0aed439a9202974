"""The file half of an attachment: a presigned POST straight to S3 (docs/attachments.md), made with the
standard library so the client needs no HTTP package. It blocks: the client runs it in a thread."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping

from parley_client.errors import UploadFailed

_ERROR_DETAIL_BYTES = 500


def multipart_form(fields: Mapping[str, str], data: bytes, content_type: str) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body: every field, then the file as the last part, named ``file`` (S3
    ignores what follows ``file``). Returns the body and its Content-Type."""
    boundary = f"parley-{secrets.token_hex(16)}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post_file(url: str, fields: Mapping[str, str], data: bytes, content_type: str, timeout: float) -> int:
    """POST the file; returns S3's status (204 by default). Raises :class:`UploadFailed` when refused."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an upload URL: {url}")
    body, form_type = multipart_form(fields, data, content_type)
    # http(s) only, checked above (urllib would also open file: URLs)
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": form_type})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        detail = exc.read(_ERROR_DETAIL_BYTES).decode(errors="replace")
        raise UploadFailed(exc.code, detail) from None


def get_file(url: str, timeout: float) -> bytes:
    """GET a download URL (``attachmentUrls``); raises :class:`UploadFailed` with the storage's status."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not a download URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (http(s) only, checked above)
            return bytes(answer.read())
    except urllib.error.HTTPError as exc:
        raise UploadFailed(exc.code, exc.read(_ERROR_DETAIL_BYTES).decode(errors="replace")) from None


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')
