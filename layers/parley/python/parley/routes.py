"""Which function handles each WebSocket route: declared once, read by the CDK API construct and by the
local gateway, so production and the local stack route every action the same way."""

from __future__ import annotations

from types import MappingProxyType

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"

# route key (the frame's "action", or an API Gateway special route) -> functions/<name>/handler.py
ROUTES: MappingProxyType[str, str] = MappingProxyType({
    CONNECT: "connect",
    DISCONNECT: "disconnect",
    DEFAULT: "default",
    "ping": "default",
    "send": "send",
    "history": "history",
    "openDirect": "conversations",
    "createGroup": "conversations",
    "listConversations": "conversations",
    "presence": "presence",
    "typing": "typing",
    "read": "unread",
    "unreadCounts": "unread",
    "getPreferences": "preferences",
    "setPreferences": "preferences",
    "setConversationPreferences": "preferences",
    "block": "blocks",
    "unblock": "blocks",
    "listBlocks": "blocks",
    "report": "reports",
    "registerDevice": "devices",
    "unregisterDevice": "devices",
    "requestUpload": "uploads",
    "attachmentUrls": "uploads",
})

AUTHORIZER = "authorizer"  # the $connect REQUEST authorizer's function
NOTIFIER = "notifier"  # subscribed to the unread-events topic, not a route
THUMBNAILS = "thumbnails"  # triggered by uploads to the bucket, not a route
DELIVER = "deliver"  # fed by the delivery queue (what a send could not finish), not a route

# Routes whose function's answer is sent back to the caller (every route but the connection lifecycle).
TWO_WAY_ROUTES = frozenset(k for k in ROUTES if k not in (CONNECT, DISCONNECT))


def function_names() -> list[str]:
    return sorted({*ROUTES.values(), AUTHORIZER, NOTIFIER, THUMBNAILS, DELIVER})
