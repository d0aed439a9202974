"""User ids: the one rule for who a chat token names (``sub``) and whom a frame names (``openDirect``,
``createGroup`` members, ``presence``, ``block``/``unblock``).

1-128 characters, none of them ``#`` (the table's key separator) or in a Unicode category that is invisible
or changes how text around it is shown: separators (Z: every kind of space, line and paragraph separator)
and "other" (C: controls such as newline and NUL, format characters such as zero-width spaces and bidi
overrides, surrogates, private use, unassigned). Python's whitespace is exactly Z plus a few controls, so
this refuses every whitespace character too. docs/protocol.md (Connecting) states the rule.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, TypeGuard

from pydantic import AfterValidator, Field, StringConstraints

MAX_LENGTH = 128
RULE = f"a user id is 1-{MAX_LENGTH} characters, without whitespace, '#', control or format characters"


def _allowed(char: str) -> bool:
    return char != "#" and unicodedata.category(char)[0] not in "CZ"


def is_user_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a user id: the whole string is checked, a trailing newline included."""
    return isinstance(value, str) and 1 <= len(value) <= MAX_LENGTH and all(map(_allowed, value))


def _checked(value: str) -> str:
    if not is_user_id(value):
        raise ValueError(RULE)  # the rule, never the value
    return value


# The protocol's field type: a frame naming an invalid user id is refused with ``invalid_frame``. The description
# carries the rule into the JSON Schema (docs/asyncapi.yaml), which has no pattern for Unicode categories.
UserId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH), AfterValidator(_checked),
                   Field(description=RULE)]


# -- senders that are not users (server API system messages, docs/protocol.md "System messages") -----------------
# A user id never contains ``#``, so a sender id that starts with it can never be a user's, and a client
# recognises one by its first character.
SYSTEM_PREFIX = "#"
SYSTEM_SENDER = "#system"  # the app itself
BOT_PREFIX = "#bot:"  # "#bot:<name>": one of the app's named bots
BOT_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def bot_sender(name: str) -> str:
    return f"{BOT_PREFIX}{name}"


def is_system_sender(sender_id: str) -> bool:
    """Whether a message's sender is the system or a bot (never a user)."""
    return sender_id.startswith(SYSTEM_PREFIX)
