"""An example moderation hook (deploy it and set it as Parley's hook, or write your own).

Parley invokes the hook synchronously with ``{"version": 1, "senderId", "conversationId",
"conversationKind", "text", "now", "senderFirstSeenAt"}`` and expects ``{"verdict": "allow"}``,
``{"verdict": "deny", "reason": "..."}`` or ``{"verdict": "replace", "text": "..."}``.

This one refuses messages with more than ``MAX_LINKS`` links from accounts younger than a day: the
classic shape of link spam from freshly made accounts. It never logs the text.
"""

from __future__ import annotations

import os
import re
from typing import Any

MAX_LINKS = int(os.environ.get("HOOK_MAX_LINKS", "2"))  # this example's own setting, not Parley's core
NEW_ACCOUNT_MS = 24 * 3600 * 1000
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|io|ly|ru|xyz|top|info)\b")


def review(request: dict[str, Any]) -> dict[str, Any]:
    text = request.get("text")
    if not isinstance(text, str):
        return {"verdict": "allow"}
    first_seen = request.get("senderFirstSeenAt")
    now = request.get("now")
    young = not isinstance(first_seen, int) or (isinstance(now, int) and now - first_seen < NEW_ACCOUNT_MS)
    if young and len(_LINK.findall(text)) > MAX_LINKS:
        return {"verdict": "deny", "reason": f"New accounts may send at most {MAX_LINKS} links per message."}
    return {"verdict": "allow"}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return review(event)
