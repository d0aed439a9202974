"""The frames of the fuzz benchmark (``benchmarks.fuzz``): a seeded generator of valid frames for every action
of docs/protocol.md and of malformed frames made from them.

Plain ``random.Random``: the same seed makes the same choices. The ids the server assigns (conversation ids,
cursors) differ from run to run, so the bytes do too, but not what each frame tries.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.settings import MAX_MESSAGE_BYTES
from parley import routes
from parley.attachments import ALLOWED_TYPES
from parley.protocol import MAX_FRAME_BYTES

ACTIONS = tuple(sorted(k for k in routes.ROUTE_KEYS if not k.startswith("$")))
CONVERSATION_ACTIONS = ("send", "history", "typing", "read", "report", "setConversationPreferences",
                        "requestUpload", "attachmentUrls", "edit", "delete", "react")
# The numbers each action takes: where huge and negative values go.
NUMBER_FIELDS: dict[str, tuple[str, ...]] = {
    "send": ("lastSeq",), "history": ("before", "after", "limit"), "listConversations": ("limit",),
    "read": ("seq",), "report": ("seq",), "setConversationPreferences": ("mutedUntil",), "requestUpload": ("size",),
    "edit": ("seq",), "delete": ("seq",), "react": ("seq",),
}
# Fields that name something (ids, tokens, keys): where control, bidi and lone surrogate characters go.
NAME_FIELDS = ("conversationId", "clientMsgId", "userId", "members", "userIds", "token", "keys", "cursor",
               "requestId", "name", "reason")

# Invisible, reversing or key-breaking characters: controls, bidi overrides and isolates, zero-width ones, the
# byte order mark, separators, private use, a tag character, an unassigned code point, '#'.
SNEAKY = ("\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\u202e", "\u202a", "\u2066", "\u2069", "\u200b", "\u200d",
          "\ufeff", "\u2028", "\u00a0", "\u3000", "\ue000", "\U000e0001", "\u0378", "#", " ")
TEXTS = ("hi", "See you at 7 then :)", "Zoë 🙂 用户 مرحبا שלום", "<script>alert(1)</script>", "' OR 1=1 --",
         "${jndi:ldap://x}", "%s%n%x", "\u202egnp.exe", "a\u0000b", "🙂" * 50, "line\nbreak")
HUGE_INTS = (2**31, 2**53 + 1, 2**63, 2**64, 10**38, 10**39, 10**100, -(2**63), -(10**40), 2**1000)
HUGE_LITERAL_DIGITS = (4301, 5000, 20_000)  # beyond Python's 4300-digit int parsing limit
FORGED = ("senderId", "sentAt", "seq", "messageId", "userId", "createdBy", "type", "connectionId", "members",
          "kind", "unread", "principalId")
JUNK: tuple[Any, ...] = (None, True, False, 0, -1, 1.5, 1e308, "", "x", [], {}, [1, "a"], {"a": {"b": None}},
                         "🙂", 2**64)


@dataclass(frozen=True)
class Frame:
    action: str  # the action it was made from ("-": none)
    kind: str  # "valid", or how it is malformed
    payload: str | bytes

    def shown(self, limit: int = 240) -> str:
        """The frame for a report: its start, and its size when cut."""
        text = repr(self.payload[:limit])
        return text if len(self.payload) <= limit else f"{text}... ({len(self.payload)} bytes)"


@dataclass
class World:
    """What the generator knows of the stack: who is connected, the conversations and their newest seqs, the
    cursors and device tokens the server handed out. ``learn`` keeps it current from the answers."""

    users: tuple[str, ...]
    strangers: tuple[str, ...]  # valid user ids that never connect
    members: dict[str, set[str]] = field(default_factory=dict)  # conversation id -> members
    newest: dict[str, int] = field(default_factory=dict)  # conversation id -> newest seq seen
    cursors: dict[str, list[str]] = field(default_factory=dict)  # user -> cursors issued to them
    devices: dict[str, list[str]] = field(default_factory=dict)  # user -> push tokens they registered
    client_msg_ids: dict[str, list[str]] = field(default_factory=dict)  # user -> clientMsgIds they sent

    def conversations_of(self, user: str) -> list[str]:
        return sorted(c for c, members in self.members.items() if user in members)

    def foreign_to(self, user: str) -> list[str]:
        return sorted(c for c, members in self.members.items() if user not in members)

    def learn(self, caller: str, answer: dict[str, Any], request: dict[str, Any]) -> None:
        """Learn from ``answer`` to ``request``, in either frame format (compact: ``t``, ``c``, ``s``...)."""
        kind = answer.get("type", answer.get("t"))
        if kind == "conversation":
            info = answer.get("conversation") or {}
            self.members[info["conversationId"]] = set(info.get("members", ()))
            self.newest.setdefault(info["conversationId"], 0)
        elif kind == "ack":  # a compact ack does not repeat the conversation: the request names it
            self._seen(answer.get("conversationId", request.get("conversationId")), answer.get("seq", answer.get("s")))
        elif kind == "conversations" and answer.get("cursor"):
            self.cursors.setdefault(caller, []).append(answer["cursor"])
        elif kind == "history":
            for message in answer.get("messages", ()):
                self._seen(message.get("conversationId", message.get("c")), message.get("seq", message.get("s")))

    def _seen(self, conversation_id: Any, seq: Any) -> None:
        if isinstance(conversation_id, str) and isinstance(seq, int):
            self.newest[conversation_id] = max(self.newest.get(conversation_id, 0), seq)


class FrameGenerator:
    """``frame(caller)``: the next frame for ``caller`` to send, valid or malformed."""

    def __init__(self, rng: random.Random, world: World) -> None:
        self.rng = rng
        self.world = world
        # An action to make every frame of from now on, where the kind allows: a burst of one action drains
        # its rate-limit bucket (the production limits are per user and action class).
        self.focus: str | None = None
        self._kinds: dict[str, tuple[float, Callable[[str], Frame]]] = {
            "valid": (30, self._valid_frame), "wrong_type": (8, self._wrong_type),
            "missing_field": (5, self._missing_field), "unknown_field": (5, self._unknown_field),
            "control_chars": (7, self._control_chars), "huge_int": (5, self._huge_int),
            "negative_number": (4, self._negative_number), "nested_junk": (3, self._nested_junk),
            "foreign_conversation": (6, self._foreign_conversation), "last_seq_beyond": (2, self._last_seq_beyond),
            "forged_fields": (4, self._forged_fields), "not_json": (4, self._not_json),
            "not_object": (3, self._not_object), "duplicate_keys": (1, self._duplicate_keys),
            "binary": (2.5, self._binary), "unknown_action": (3, self._unknown_action),
            "bad_request_id": (2, self._bad_request_id), "lone_surrogate": (2, self._lone_surrogate),
            "forged_cursor": (1, self._forged_cursor), "oversized": (2.5, self._oversized),
            "over_api_gateway_limit": (0.3, self._over_api_gateway_limit),
        }
        self._builders: dict[str, Callable[[str], dict[str, Any]]] = {
            "send": self._send, "history": self._history, "openDirect": self._open_direct,
            "createGroup": self._create_group, "listConversations": self._list_conversations,
            "ping": lambda _: {"action": "ping"}, "presence": self._presence,
            "typing": lambda c: {"action": "typing", "conversationId": self._conversation(c)},
            "read": self._read, "unreadCounts": lambda _: {"action": "unreadCounts"},
            "getPreferences": lambda _: {"action": "getPreferences"}, "setPreferences": self._set_preferences,
            "setConversationPreferences": self._conversation_preferences,
            "block": lambda c: {"action": "block", "userId": self._other_user(c)},
            "unblock": lambda c: {"action": "unblock", "userId": self._other_user(c)},
            "listBlocks": lambda _: {"action": "listBlocks"}, "report": self._report,
            "registerDevice": self._register_device, "unregisterDevice": self._unregister_device,
            "requestUpload": self._request_upload, "attachmentUrls": self._attachment_urls,
            # group changes: the world's memberships stay as they are (strangers added and removed; leave,
            # rename, roles and settings asked of conversations the caller is not in, or refused by role)
            "addMembers": lambda c: {"action": "addMembers", "conversationId": self._conversation(c),
                                     "userIds": [self.rng.choice(list(self.world.strangers))]},
            "removeMember": lambda c: {"action": "removeMember", "conversationId": self._conversation(c),
                                       "userId": self.rng.choice(list(self.world.strangers))},
            "leave": lambda _: {"action": "leave", "conversationId": self._unknown_conversation()},
            "renameGroup": lambda _: {"action": "renameGroup", "conversationId": self._unknown_conversation(),
                                      "name": self.rng.choice(TEXTS)},
            "setRole": lambda _: {"action": "setRole", "conversationId": self._unknown_conversation(),
                                  "userId": self.rng.choice(list(self.world.strangers)), "role": "admin"},
            "setGroupSettings": lambda _: {"action": "setGroupSettings",
                                           "conversationId": self._unknown_conversation(),
                                           "historyVisibility": self.rng.choice(("joined", "all"))},
            "edit": self._edit, "delete": self._delete, "react": self._react,
            # the key directory (docs/e2e.md): real signatures, some of them over another prekey
            "publishKeys": self._publish_keys,
            "removeDevice": lambda _: {"action": "removeDevice", "deviceId": self._device_id()},
            "getKeys": lambda c: {"action": "getKeys", "userIds": [self._other_user(c)]}
            if self.rng.random() < 0.5 else {"action": "getKeys", "conversationId": self._conversation(c)},
        }
        missing = set(ACTIONS) - set(self._builders)
        if missing:
            raise RuntimeError(f"no valid frame for {sorted(missing)}: add them to the fuzz generator")

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def frame(self, caller: str) -> Frame:
        names = list(self._kinds)
        kind = self.rng.choices(names, weights=[self._kinds[n][0] for n in names])[0]
        return self._kinds[kind][1](caller)

    def valid(self, action: str, caller: str) -> dict[str, Any]:
        frame = self._builders[action](caller)
        if self.rng.random() < 0.4:
            frame["requestId"] = f"r-{self.rng.getrandbits(40):x}"
        return frame

    # -- valid frames ----------------------------------------------------------------------------

    def _valid_frame(self, caller: str) -> Frame:
        action = self._pick()
        return self._frame(action, "valid", self.valid(action, caller))

    def _conversation(self, caller: str) -> str:
        mine = self.world.conversations_of(caller)
        return self.rng.choice(mine) if mine and self.rng.random() < 0.9 else self._any_conversation()

    def _any_conversation(self) -> str:
        known = sorted(self.world.members)
        if known and self.rng.random() < 0.9:
            return self.rng.choice(known)
        return self._unknown_conversation()

    def _unknown_conversation(self) -> str:
        return self.rng.choice(("d_", "g_")) + base64.urlsafe_b64encode(self.rng.randbytes(16)).decode().rstrip("=")

    def _other_user(self, caller: str) -> str:
        others = [u for u in self.world.users if u != caller]
        if self.rng.random() < 0.03:
            return caller
        return self.rng.choice(others if self.rng.random() < 0.7 else list(self.world.strangers))

    def _text(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.6:
            return r.choice(TEXTS)
        if roll < 0.95:
            return "".join(r.choice(string.printable + "äöüß€🙂中文") for _ in range(r.randint(1, 300)))
        return "x" * r.choice((4095, 4096))  # at the text limit

    def _client_msg_id(self, caller: str) -> str:
        used = self.world.client_msg_ids.setdefault(caller, [])
        if used and self.rng.random() < 0.1:
            return self.rng.choice(used)  # a resend: the original ack comes back
        cmid = f"{caller[:3]}-{self.rng.getrandbits(48):x}"
        used.append(cmid)
        return cmid

    def _newest(self, conversation_id: str) -> int:
        return self.world.newest.get(conversation_id, 0)

    def _send(self, caller: str) -> dict[str, Any]:
        cid = self._conversation(caller)
        frame: dict[str, Any] = {"action": "send", "conversationId": cid, "clientMsgId": self._client_msg_id(caller),
                                 "body": {"text": self._text()}}
        if self.rng.random() < 0.3:
            frame["lastSeq"] = self._newest(cid)
        if self.rng.random() < 0.05:
            frame["body"]["attachments"] = [{"key": self._upload_key(cid), "contentType": "image/jpeg",
                                             "size": self.rng.randint(1, 10**6), "width": 640, "height": 480}]
        return frame

    def _history(self, caller: str) -> dict[str, Any]:
        cid = self._conversation(caller)
        frame: dict[str, Any] = {"action": "history", "conversationId": cid}
        newest = self._newest(cid)
        if self.rng.random() < 0.4:
            frame["after"] = self.rng.randint(0, newest + 1)
        if self.rng.random() < 0.3:
            frame["before"] = self.rng.randint(1, newest + 2)
        if self.rng.random() < 0.5:
            frame["limit"] = self.rng.randint(1, 100)
        return frame

    def _open_direct(self, caller: str) -> dict[str, Any]:
        return {"action": "openDirect", "userId": self._other_user(caller)}

    def _create_group(self, caller: str) -> dict[str, Any]:
        pool = [u for u in (*self.world.users, *self.world.strangers) if u != caller]
        roll = self.rng.random()
        if roll < 0.03:
            members: list[str] = []
        elif roll < 0.05:
            members = [f"member-{i}" for i in range(101)]
        else:
            members = self.rng.sample(pool, self.rng.randint(1, min(4, len(pool))))
        frame: dict[str, Any] = {"action": "createGroup", "members": members}
        if self.rng.random() < 0.6:
            frame["name"] = self.rng.choice(("Book club", "🙂" * 100, "x", "Ünïcödé group"))
        return frame

    def _list_conversations(self, caller: str) -> dict[str, Any]:
        frame: dict[str, Any] = {"action": "listConversations"}
        if self.rng.random() < 0.5:
            frame["limit"] = self.rng.randint(1, 100)
        cursors = self.world.cursors.get(caller, [])
        if cursors and self.rng.random() < 0.5:
            frame["cursor"] = self.rng.choice(cursors)
        return frame

    def _presence(self, caller: str) -> dict[str, Any]:
        pool = [*self.world.users, *self.world.strangers]
        return {"action": "presence", "userIds": self.rng.sample(pool, self.rng.randint(1, len(pool)))}

    def _read(self, caller: str) -> dict[str, Any]:
        cid = self._conversation(caller)
        return {"action": "read", "conversationId": cid, "seq": self.rng.randint(0, self._newest(cid))}

    def _set_preferences(self, caller: str) -> dict[str, Any]:
        frame: dict[str, Any] = {"action": "setPreferences"}
        for name, values in (("visibility", ("visible", "invisible")), ("hideReadReceipts", (True, False)),
                             ("notify", ("push", "badge", "passive"))):
            if self.rng.random() < 0.5:
                frame[name] = self.rng.choice(values)
        return frame

    def _conversation_preferences(self, caller: str) -> dict[str, Any]:
        frame: dict[str, Any] = {"action": "setConversationPreferences", "conversationId": self._conversation(caller)}
        if self.rng.random() < 0.7:
            frame["notify"] = self.rng.choice(("push", "badge", "passive", None))
        if self.rng.random() < 0.5:
            frame["mutedUntil"] = self.rng.choice((None, 0, 1_767_225_600_000, 4_102_444_800_000))
        return frame

    def _edit(self, caller: str) -> dict[str, Any]:
        cid = self._conversation(caller)
        return {"action": "edit", "conversationId": cid, "seq": self.rng.randint(1, self._newest(cid) + 1),
                "text": self.rng.choice(("fixed", "é" * 100, "🙂"))}

    def _delete(self, caller: str) -> dict[str, Any]:
        cid = self._conversation(caller)
        return {"action": "delete", "conversationId": cid, "seq": self.rng.randint(1, self._newest(cid) + 1)}

    def _react(self, caller: str) -> dict[str, Any]:
        cid = self._conversation(caller)
        frame: dict[str, Any] = {"action": "react", "conversationId": cid,
                                 "seq": self.rng.randint(1, self._newest(cid) + 1),
                                 "emoji": self.rng.choice(("👍", "❤️", "👨‍👩‍👧", "🇫🇷", "1️⃣", "x", "👍👍"))}
        if self.rng.random() < 0.3:
            frame["remove"] = True
        return frame

    def _report(self, caller: str) -> dict[str, Any]:
        cid = self._conversation(caller)
        frame: dict[str, Any] = {"action": "report", "conversationId": cid,
                                 "seq": self.rng.randint(1, self._newest(cid) + 1)}
        if self.rng.random() < 0.5:
            frame["reason"] = self.rng.choice(("spam", "r" * 500, "🙂"))
        return frame

    def _register_device(self, caller: str) -> dict[str, Any]:
        token = "".join(self.rng.choices(string.ascii_letters + string.digits, k=self.rng.randint(8, 64)))
        self.world.devices.setdefault(caller, []).append(token)
        return {"action": "registerDevice", "platform": self.rng.choice(("apns", "fcm")), "token": token}

    def _unregister_device(self, caller: str) -> dict[str, Any]:
        tokens = self.world.devices.get(caller, [])
        token = self.rng.choice(tokens) if tokens and self.rng.random() < 0.7 \
            else f"unknown-{self.rng.getrandbits(32):x}"
        return {"action": "unregisterDevice", "token": token}

    def _device_id(self) -> str:
        return f"dev-{self.rng.getrandbits(40):010x}"

    def _publish_keys(self, _caller: str) -> dict[str, Any]:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        identity = Ed25519PrivateKey.from_private_bytes(self.rng.randbytes(32))
        device, prekey_id = self._device_id(), self.rng.randint(1, 5)
        prekey = base64.b64encode(self.rng.randbytes(32)).decode()
        signed = prekey if self.rng.random() < 0.7 else base64.b64encode(self.rng.randbytes(32)).decode()
        sig = identity.sign(f"parley-e2e-v1/prekey\n{device}\n{prekey_id}\n{signed}".encode())
        return {"action": "publishKeys", "deviceId": device,
                "identityKey": base64.b64encode(identity.public_key().public_bytes(Encoding.Raw,
                                                                                   PublicFormat.Raw)).decode(),
                "prekey": {"id": prekey_id, "key": prekey, "sig": base64.b64encode(sig).decode()}}

    def _upload_key(self, cid: str) -> str:
        return f"u/{cid}/{self.rng.getrandbits(80):020x}/{self.rng.getrandbits(64):x}"

    def _request_upload(self, caller: str) -> dict[str, Any]:
        return {"action": "requestUpload", "conversationId": self._conversation(caller),
                "contentType": self.rng.choice((*sorted(ALLOWED_TYPES), "image/gif", "text/html")),
                "size": self.rng.choice((1, 1000, 5 * 1024 * 1024, 10**9))}

    def _attachment_urls(self, caller: str) -> dict[str, Any]:
        cid = self._conversation(caller)
        return {"action": "attachmentUrls", "conversationId": cid,
                "keys": [self._upload_key(cid) for _ in range(self.rng.randint(1, 3))]}

    # -- malformed frames ------------------------------------------------------------------------

    def _frame(self, action: str, kind: str, frame: Any, **dumps: Any) -> Frame:
        return Frame(action, kind, json.dumps(frame, **dumps))

    def _pick(self, actions: tuple[str, ...] = ACTIONS) -> str:
        return self.focus if self.focus in actions else self.rng.choice(actions)

    def _wrong_type(self, caller: str) -> Frame:
        action = self._pick()
        frame = self.valid(action, caller)
        frame.setdefault("requestId", "r-1")
        name = self.rng.choice([k for k in frame if k != "action"] + ["body.text"] * (action == "send"))
        if name == "body.text":
            frame["body"]["text"] = self._unlike("")
        else:
            frame[name] = self._unlike(frame[name])
        return self._frame(action, "wrong_type", frame)

    def _unlike(self, value: Any) -> Any:
        """A JSON value of another type than ``value`` (bool and int count as different)."""
        return self.rng.choice([j for j in JUNK if type(j) is not type(value)])

    def _missing_field(self, caller: str) -> Frame:
        action = self._pick()
        frame = self.valid(action, caller)
        del frame[self.rng.choice(list(frame))]
        return self._frame(action, "missing_field", frame)

    def _unknown_field(self, caller: str) -> Frame:
        action = self._pick()
        frame = self.valid(action, caller)
        name = self.rng.choice(("extra", "Action", "conversationid", "__proto__", "constructor", "", " ", "a" * 300,
                                "body.text", "$where", "🙂"))
        frame[name] = self.rng.choice(JUNK)
        return self._frame(action, "unknown_field", frame)

    def _control_chars(self, caller: str) -> Frame:
        action, frame = self._with_name_field(caller)
        name = self.rng.choice([k for k in frame if k in NAME_FIELDS])
        sneaky = self.rng.choice(SNEAKY)
        frame[name] = self._spliced(frame[name], sneaky)
        return self._frame(action, "control_chars", frame, ensure_ascii=self.rng.random() < 0.5)

    def _with_name_field(self, caller: str) -> tuple[str, dict[str, Any]]:
        action = self._pick()
        frame = self.valid(action, caller)
        if not any(k in NAME_FIELDS for k in frame):
            frame["requestId"] = "r-1"
        return action, frame

    def _spliced(self, value: Any, insert: str) -> Any:
        if isinstance(value, list) and value:
            i = self.rng.randrange(len(value))
            return [*value[:i], self._spliced(value[i], insert), *value[i + 1:]]
        text = value if isinstance(value, str) else "x"
        at = self.rng.choice((0, len(text), self.rng.randint(0, len(text))))
        return text[:at] + insert + text[at:]

    def _huge_int(self, caller: str) -> Frame:
        action = self._pick(tuple(NUMBER_FIELDS))
        frame = self.valid(action, caller)
        name = self.rng.choice(NUMBER_FIELDS[action])
        if self.rng.random() < 0.25:  # a literal longer than Python parses: spliced into the text
            frame[name] = "__HUGE__"
            digits = "9" * self.rng.choice(HUGE_LITERAL_DIGITS)
            return Frame(action, "huge_int", json.dumps(frame).replace('"__HUGE__"', digits))
        frame[name] = self.rng.choice((*HUGE_INTS, 1e308, 1.0, -0.0))
        return self._frame(action, "huge_int", frame)

    def _negative_number(self, caller: str) -> Frame:
        action = self._pick(tuple(NUMBER_FIELDS))
        frame = self.valid(action, caller)
        frame[self.rng.choice(NUMBER_FIELDS[action])] = self.rng.choice((-1, -2, 0, -(2**31), -100))
        return self._frame(action, "negative_number", frame)

    def _nested_junk(self, caller: str) -> Frame:
        action = self._pick()
        frame = self.valid(action, caller)
        name = self.rng.choice([k for k in frame if k != "action"] + ["junk"])
        opener, closer = self.rng.choice((("[", "]"), ('{"a":', "}")))
        # deeper than any parser recurses, still under API Gateway's 128 KB
        depth = self.rng.choice((5, 50, 500, 990, 5000, 100_000 // (len(opener) + len(closer))))
        frame[name] = "__NESTED__"
        nested = opener * depth + "0" + closer * depth
        return Frame(action, "nested_junk", json.dumps(frame).replace('"__NESTED__"', nested))

    def _foreign_conversation(self, caller: str) -> Frame:
        action = self._pick(CONVERSATION_ACTIONS)
        frame = self.valid(action, caller)
        foreign = self.world.foreign_to(caller)
        frame["conversationId"] = self.rng.choice(foreign) if foreign and self.rng.random() < 0.8 \
            else self._unknown_conversation()
        return self._frame(action, "foreign_conversation", frame)

    def _last_seq_beyond(self, caller: str) -> Frame:
        frame = self.valid("send", caller)
        frame["lastSeq"] = self._newest(frame["conversationId"]) + self.rng.choice((1, 2, 1000, 10**9))
        return self._frame("send", "last_seq_beyond", frame)

    def _forged_fields(self, caller: str) -> Frame:
        action = self._pick()
        frame = self.valid(action, caller)
        victim = self._other_user(caller)
        for name in self.rng.sample([f for f in FORGED if f not in frame], self.rng.randint(1, 3)):
            frame[name] = {"senderId": victim, "userId": victim, "createdBy": victim, "principalId": victim,
                           "members": [caller, victim], "sentAt": 0, "seq": 1, "unread": 0, "type": "ack",
                           "kind": "group"}.get(name, "forged")
        return self._frame(action, "forged_fields", frame)

    def _not_json(self, caller: str) -> Frame:
        action = self._pick()
        text = json.dumps(self.valid(action, caller))
        r = self.rng
        payload = r.choice((
            text[: r.randint(1, len(text) - 1)], text + r.choice(("}", ",", "x", " {}")), text.replace('"', "'"),
            "{action: " + action + "}", "", "   ", "\ufeff" + text, "// " + text, text[:-1] + ",}", "undefined",
            "".join(r.choice(string.printable) for _ in range(r.randint(1, 200))), "\u202e" + text, "{" * 3,
        ))
        return Frame(action, "not_json", payload)

    def _not_object(self, caller: str) -> Frame:
        action = self._pick()
        value = self.rng.choice(([self.valid(action, caller)], "send", 42, -1.5, None, True, [], "NaN",
                                 [action, {"action": action}]))
        return Frame(action, "not_object", "NaN" if value == "NaN" else json.dumps(value))

    def _duplicate_keys(self, caller: str) -> Frame:
        action = self._pick()
        other = self._pick()
        text = json.dumps(self.valid(action, caller))
        spliced = f'{{"action": "{other}", ' + text[1:] if self.rng.random() < 0.5 \
            else text[:-1] + f', "action": "{other}"}}'
        return Frame(action, "duplicate_keys", spliced)

    def _binary(self, caller: str) -> Frame:
        action = self._pick()
        r = self.rng
        payload = r.choice((json.dumps(self.valid(action, caller)).encode(), r.randbytes(r.randint(1, 2000)), b"",
                            b"\xff\xfe" + json.dumps({"action": "ping"}).encode("utf-16-le"), b"\x80\x81{}"))
        return Frame(action, "binary", payload)

    def _unknown_action(self, caller: str) -> Frame:
        frame = self.valid(self._pick(), caller)
        frame["action"] = self.rng.choice((
            "Send", "SEND", "send ", " ping", "$connect", "$disconnect", "$default", "", "sendMessage", "destroy",
            "admin", 123, None, ["send"], {"action": "send"}, True, "a" * 5000, "send\x00", "🙂",
            f"x-{self.rng.getrandbits(32):x}"))
        return self._frame("-", "unknown_action", frame)

    def _bad_request_id(self, caller: str) -> Frame:
        action = self._pick()
        frame = self.valid(action, caller)
        frame["requestId"] = self.rng.choice(("", "r" * 65, "a b", "../x", "é", 123, None, ["r"], "r\n", "🙂"))
        return self._frame(action, "bad_request_id", frame)

    def _lone_surrogate(self, caller: str) -> Frame:
        action, frame = self._with_name_field(caller)
        if action == "send" and self.rng.random() < 0.5:
            frame["body"]["text"] = self._spliced(frame["body"]["text"], "\ud83d")
        else:
            name = self.rng.choice([k for k in frame if k in NAME_FIELDS])
            frame[name] = self._spliced(frame[name], self.rng.choice(("\ud800", "\udfff", "\ud83d")))
        return self._frame(action, "lone_surrogate", frame)  # json.dumps writes them as \\ud800 escapes

    def _forged_cursor(self, caller: str) -> Frame:
        made = self.rng.choice((
            [1, "x"], [10**40, ""], [1.5, "x"], ["a", "b"], [True, "x"], [-1, "d_" + "A" * 22], [], {"a": 1}, None,
            "[" * 700 + "]" * 700,
        ))
        raw = (made if isinstance(made, str) else json.dumps(made)).encode()
        cursor = self.rng.choice((base64.urlsafe_b64encode(raw).decode(), "!!!", "=", "A" * 1024, "e30",
                                  base64.urlsafe_b64encode(b"\xff\xfe\x00").decode()))
        frame = self.valid("listConversations", caller)
        frame["cursor"] = cursor[:1024]
        return self._frame("listConversations", "forged_cursor", frame)

    def _oversized(self, caller: str) -> Frame:
        """Over the text limit, around the 32 KB frame limit, and up to API Gateway's 128 KB."""
        frame = self.valid("send", caller)
        target = self.rng.choice((4097, 8000, MAX_FRAME_BYTES - 1, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1,
                                  self.rng.randint(MAX_FRAME_BYTES, MAX_MESSAGE_BYTES - 1), MAX_MESSAGE_BYTES))
        return Frame("send", "oversized", self._padded(frame, target))

    def _over_api_gateway_limit(self, caller: str) -> Frame:
        """Over 128 KB: API Gateway closes the socket with 1009 (the caller reconnects)."""
        frame = self.valid(self._pick(), caller)
        target = self.rng.randint(MAX_MESSAGE_BYTES + 1, MAX_MESSAGE_BYTES + 64 * 1024)
        if self.rng.random() < 0.2:
            return Frame(frame["action"], "over_api_gateway_limit", self.rng.randbytes(target))
        return Frame(frame["action"], "over_api_gateway_limit", self._padded(frame, target))

    def _padded(self, frame: dict[str, Any], size: int) -> str:
        """``frame`` grown to ``size`` bytes of UTF-8: by its text for a send, else by an unknown field."""
        holder, name = (frame["body"], "text") if frame["action"] == "send" else (frame, "padding")
        holder[name] = ""
        room = size - len(json.dumps(frame).encode())
        holder[name] = "x" * max(0, room)
        return json.dumps(frame)
