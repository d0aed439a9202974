"""What the client raises."""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error this client raises."""


class ServerError(ClientError):
    """The server refused a request with an ``error`` frame; ``code`` is the protocol's stable code."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.ref = ref


class HandshakeRejected(ClientError):
    """The server refused the WebSocket handshake: 401 (no token), 403 (invalid token), 423 (the user is banned,
    ``banned``), 429 (too many connections), or another status."""

    BANNED = 423

    def __init__(self, status: int) -> None:
        super().__init__(f"the server refused the connection: HTTP {status}")
        self.status = status

    @property
    def banned(self) -> bool:
        """The user is banned: reconnecting is refused until the ban ends or is lifted."""
        return self.status == self.BANNED


class ConnectionLost(ClientError):
    """The connection closed while a request that must not be repeated was in flight (or the client closed)."""


class ClientClosed(ClientError):
    """The client was closed, or gave up reconnecting."""


class UploadFailed(ClientError):
    """The storage service refused a file upload (the presigned POST of ``upload_file``)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the upload was refused: HTTP {status}: {detail}")
        self.status = status
        self.detail = detail
