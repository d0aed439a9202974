"""Which function handles each WebSocket route, and which routes API Gateway answers itself: declared once,
read by the CDK API construct and by the local gateway, so production and the local stack route every action
the same way."""

from __future__ import annotations

from types import MappingProxyType

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"
PING = "ping"

# route key (the frame's "action", or an API Gateway special route) -> functions/<name>/handler.py
ROUTES: MappingProxyType[str, str] = MappingProxyType({
    CONNECT: "connect",
    DISCONNECT: "disconnect",
    DEFAULT: "default",
    "send": "send",
    "history": "history",
    "openDirect": "conversations",
    "createGroup": "conversations",
    "listConversations": "conversations",
    "addMembers": "groups",
    "removeMember": "groups",
    "leave": "groups",
    "renameGroup": "groups",
    "setRole": "groups",
    "setGroupSettings": "groups",
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
    "edit": "changes",
    "delete": "changes",
    "react": "changes",
    "publishKeys": "keys",
    "removeDevice": "keys",
    "getKeys": "keys",
})

AUTHORIZER = "authorizer"  # the $connect REQUEST authorizer's function
NOTIFIER = "notifier"  # subscribed to the unread-events topic, not a route
THUMBNAILS = "thumbnails"  # triggered by uploads to the bucket, not a route
DELIVER = "deliver"  # fed by the delivery queue (what a send could not finish), not a route
SERVER_API = "server_api"  # the server API (HTTP API, IAM-authorized, docs/server-api.md), not a socket route

# Routes API Gateway answers itself, with a MOCK integration: no function runs, nothing is logged by Parley and
# no Lambda is billed. route key -> the frame it answers with (parley.protocol.PongFrame, without ``ref``: API
# Gateway documents no way for a MOCK integration's answer to copy a field of the request, docs/protocol.md
# "ping"). ``ping`` is the keepalive every quiet connection sends every 5 minutes.
GATEWAY_ANSWERS: MappingProxyType[str, str] = MappingProxyType({
    PING: '{"type":"pong"}',
})

# Every route key API Gateway selects by the frame's action; any other action goes to $default.
ROUTE_KEYS = frozenset({*ROUTES, *GATEWAY_ANSWERS})

# Routes that answer the caller (every route but the connection lifecycle).
TWO_WAY_ROUTES = frozenset(k for k in ROUTE_KEYS if k not in (CONNECT, DISCONNECT))


def function_names() -> list[str]:
    return sorted({*ROUTES.values(), AUTHORIZER, NOTIFIER, THUMBNAILS, DELIVER, SERVER_API})
