"""Parley's single-table design, declared once.

The CDK storage construct, the moto-backed tests and the local stack all build the table from
``TABLE``; the stores build every key with the functions below. Nothing else spells a key.

Item collections (pk / sk):

* ``USER#<uid>`` / ``~CONNS`` -- the user's open WebSocket connections, one item per user: a map (``c``) of
  connection id -> when it opened, when it expires and its frame format, at most
  ``PARLEY_MAX_CONNECTIONS_PER_USER`` entries (``parley.stores.connections``). TTL'd at its newest entry's
  expiry. Fan-out reads the items of all of a message's recipients in one BatchGetItem.
* ``USER#<uid>`` / ``MEMBER#<conversationId>`` -- "uid is a member of conversation": lists my conversations;
  holds the read position (seq and ordinal), the unread mentions (a number set of seqs) and the
  conversation's notification settings. Deleted when the member leaves or is removed.
* ``USER#<uid>`` / ``LEFT#<conversationId>`` -- uid left (or was removed from) that group: written with the
  change that deletes the membership, so that erasure and export find the user's messages in conversations
  they no longer belong to without a Scan (``parley.erasure``). Deleted by erasure.
* ``JOB#<kind>#<uid>`` / ``~`` -- the user's erasure or export job (``parley.jobs``): its status and checkpoint.
  Kept after the erasure (the record that it happened, without any of the user's data), TTL'd 30 days after
  the job finished.
* ``CONV#<cid>`` / ``MSG#<seq:012d>`` -- an entry of the conversation's stream: a message (its current text,
  edit time, reactions as one string set per emoji, reply and mentions; a tombstone once deleted) or a change
  entry (an edit, delete, reaction or membership change, ``parley.models.Change``). History is a range read on
  this collection. Each entry carries its ordinal and the recent senders' newest own messages
  (``parley.read_state``).
* ``USER#<uid>`` / ``~PROFILE`` -- the user's preferences (visibility, notifications), ``lastSeen``, how many
  users they blocked, their push devices (a map by token hash: platform, SNS endpoint, registration time; at
  most ``parley.devices.MAX_DEVICES_PER_USER``) and the badge (conversations with unread messages, and the
  last message counted into it). Everything the push notifier needs of a recipient is in this item and the
  membership (``parley.stores.recipients``).
* ``THROTTLE#<kind>#<uid>#<scope>`` / ``~`` -- a short-lived throttle marker (TTL'd).
* ``USER#<uid>`` / ``BLOCK#<other>`` and ``USER#<other>`` / ``BLOCKEDBY#<uid>`` -- uid blocked other.
* ``REPORT#<cid>`` / ``<seq:012d>#<reporter>`` -- a member's report of a message; in the index (``ix`` =
  ``REPORTS#open`` or ``REPORTS#resolved``, ``ixs`` = ``<reportedAt:013d>#<cid>#<seq>#<reporter>``) from when
  the index exists, with its resolution once resolved (``parley.report_review``). Reports stored before
  carry no ``ix`` and are not listed.
* ``REPORTSOF#<reported>`` and ``REPORTSBY#<reporter>`` / ``<reportedAt:013d>#<cid>#<seq>#<reporter>`` -- a
  reference to each report, written with it (one transaction): a user's reports received and made, counted
  and listed for the admin console without a Scan. Reports stored before the console have none. Erasing the
  reporter deletes their references with their reports.
* ``USER#<uid>`` / ``~BAN`` -- the user's ban in force (until when, or for good; why; who; when), TTL'd at its
  end; in the index as ``BANS`` / ``<bannedAt:013d>#<uid>`` (the bans in force, newest first).
* ``USER#<uid>`` / ``BANLOG#<at:013d>#<action>`` -- the user's ban history: each ban, unban and warning, kept
  (``parley.bans``); in the index as ``BANLOG`` / ``<at:013d>#<uid>`` (everyone's history, newest first).
* ``TOKEN#<jti>`` / ``~`` -- a single-use chat token already used (TTL'd at its expiry).
* ``PUSHTOKEN#<sha256(token)>`` / ``~`` -- which user a device token belongs to now.
* ``PUSHED#<messageId>`` / ``~`` -- the devices already pushed for a message (TTL'd): retries never notify twice.
* ``UPLOAD#<object key>`` / ``~`` -- an uploaded file's message and thumbnail.
* ``DIRECT#<sha256(pair)>`` / ``~META`` -- the one direct conversation of a pair of users.
* Index ``byKey`` (``ix``/``ixs``, sparse, every attribute projected): only items that set ``ix`` are in it,
  so messages cost nothing extra. For lists that must grow with their result, not with the table: the open
  reports, the audit log by target, bans. See ``INDEX``.
* ``AUDIT#<yyyy-mm-dd>`` / ``<at:013d>#<entryId>`` -- one server API call (``parley.audit``): who, what, when,
  the outcome and the target ids; one partition per UTC day, so a time range is a range read per day. TTL'd
  after ``PARLEY_AUDIT_RETENTION_DAYS``.
* ``AUDITREF#<entryId>`` / ``<target>`` -- a copy of the entry per target it names (``user:alice``,
  ``conversation:g_x``...), in index ``byKey`` under ``ix`` = ``AUDIT#<target>``, ``ixs`` = ``<at:013d>#<entryId>``:
  the audit log of one target, newest first. TTL'd with its entry. One more copy per entry, sk ``~caller``, is
  in the index under ``ix`` = ``AUDITBY#<caller>``: the audit log of one caller (an operator), newest first.
* ``CONV#<cid>`` / ``~META`` -- the conversation itself. ``~`` sorts after every ``MSG#`` key, so one
  descending Query returns the conversation and its newest messages together (membership check, next
  sequence number and the idempotency window cost one read).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expiresAt"


@dataclass(frozen=True)
class IndexDesign:
    """A sparse global secondary index: an item is in it only if it has ``partition_key``."""

    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableDesign:
    partition_key: str
    sort_key: str
    ttl_attribute: str
    index: IndexDesign

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for boto3 ``create_table`` (tests and the local stack)."""
        return {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": self.partition_key, "AttributeType": "S"},
                {"AttributeName": self.sort_key, "AttributeType": "S"},
                {"AttributeName": self.index.partition_key, "AttributeType": "S"},
                {"AttributeName": self.index.sort_key, "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": self.partition_key, "KeyType": "HASH"},
                {"AttributeName": self.sort_key, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [{
                "IndexName": self.index.name,
                "KeySchema": [
                    {"AttributeName": self.index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": self.index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }],
        }


# The one secondary index. Its keys are set only on the few item kinds listed in the module docstring
# (never on messages, connections or memberships), so it is small and a Query on it reads only its result.
INDEX = IndexDesign(name="byKey", partition_key="ix", sort_key="ixs")
TABLE = TableDesign(partition_key=PK, sort_key=SK, ttl_attribute=TTL_ATTRIBUTE, index=INDEX)

SEQ_WIDTH = 12
MSG_PREFIX = "MSG#"
MEMBER_PREFIX = "MEMBER#"
BLOCK_PREFIX = "BLOCK#"
BLOCKED_BY_PREFIX = "BLOCKEDBY#"
LEFT_PREFIX = "LEFT#"
JOB_SK = "~"
META_SK = "~META"
PROFILE_SK = "~PROFILE"
THROTTLE_SK = "~"
CONNECTIONS_SK = "~CONNS"
BAN_SK = "~BAN"
BAN_LOG_PREFIX = "BANLOG#"
TIME_WIDTH = 13  # epoch milliseconds, zero-padded so that index sort keys order by time
# Partitions of the index (``ix`` values): each holds one kind of item, read newest first.
IX_BANS = "BANS"
IX_BAN_LOG = "BANLOG"
IX_REPORTS_OPEN = "REPORTS#open"
IX_REPORTS_RESOLVED = "REPORTS#resolved"
ATTR_CONNECTIONS = "c"  # on CONNECTIONS_SK: {connection id: {"at": opened ms, "x": expires s, "f": frame format}}


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def conversation_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def direct_pair_pk(user_a: str, user_b: str) -> str:
    low, high = sorted((user_a, user_b))
    digest = hashlib.sha256(json.dumps([low, high]).encode()).hexdigest()
    return f"DIRECT#{digest}"


def throttle_pk(kind: str, user_id: str, scope: str) -> str:
    return f"THROTTLE#{kind}#{user_id}#{scope}"


def block_sk(blocked: str) -> str:
    return f"{BLOCK_PREFIX}{blocked}"


def blocked_by_sk(blocker: str) -> str:
    return f"{BLOCKED_BY_PREFIX}{blocker}"


def report_pk(conversation_id: str) -> str:
    return f"REPORT#{conversation_id}"


def report_sk(seq: int, reporter: str) -> str:
    return f"{seq:0{SEQ_WIDTH}d}#{reporter}"


def report_ref_pk(role: str, user_id: str) -> str:
    """A user's report references: ``REPORTSOF#<uid>`` (reports naming them), ``REPORTSBY#<uid>`` (made)."""
    return f"{'REPORTSOF' if role == 'reported' else 'REPORTSBY'}#{user_id}"


def report_index_sk(reported_at: int, conversation_id: str, seq: int, reporter: str) -> str:
    return f"{reported_at:0{TIME_WIDTH}d}#{conversation_id}#{seq}#{reporter}"


def ban_log_sk(at: int, action: str) -> str:
    return f"{BAN_LOG_PREFIX}{at:0{TIME_WIDTH}d}#{action}"


def ban_index_sk(at: int, user_id: str) -> str:
    return f"{at:0{TIME_WIDTH}d}#{user_id}"


def token_pk(jti: str) -> str:
    return f"TOKEN#{jti}"


def device_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:40]


def push_token_pk(token_hash: str) -> str:
    return f"PUSHTOKEN#{token_hash}"


def pushed_pk(message_id: str) -> str:
    return f"PUSHED#{message_id}"


def upload_pk(object_key: str) -> str:
    return f"UPLOAD#{object_key}"


def left_sk(conversation_id: str) -> str:
    return f"{LEFT_PREFIX}{conversation_id}"


def job_pk(kind: str, user_id: str) -> str:
    return f"JOB#{kind}#{user_id}"


def audit_day_pk(day: str) -> str:
    """``day``: ``yyyy-mm-dd`` (UTC)."""
    return f"AUDIT#{day}"


def audit_ref_pk(entry_id: str) -> str:
    return f"AUDITREF#{entry_id}"


def audit_target_ix(target: str) -> str:
    return f"AUDIT#{target}"


def audit_caller_ix(caller: str) -> str:
    """The audit log of one caller (an IAM ARN, or ``console:<username>``) in index ``byKey``."""
    return f"AUDITBY#{caller}"


AUDIT_CALLER_SK = "~caller"  # the sk of an entry's copy for its caller (targets never start with ``~``)


def audit_time_key(at_ms: int, entry_id: str) -> str:
    """Sorts entries by time (13 digits of epoch milliseconds hold every date until the year 2286)."""
    return f"{at_ms:013d}#{entry_id}"


def member_sk(conversation_id: str) -> str:
    return f"{MEMBER_PREFIX}{conversation_id}"


def message_sk(seq: int) -> str:
    return f"{MSG_PREFIX}{seq:0{SEQ_WIDTH}d}"


def seq_of(sort_key: str) -> int:
    return int(sort_key[len(MSG_PREFIX):])


# Short attribute names keep a message item under 1 KB (one write unit) for ordinary texts. A message's id is
# derived from its key (``parley.models.message_id_of``), not stored (items written before that carry an
# ``i`` attribute, which is ignored).
ATTR_SENDER = "f"
ATTR_SENT_AT = "t"
ATTR_CLIENT_MSG_ID = "c"
ATTR_BODY = "b"
ATTR_RECENT_SENDERS = "o"  # {user id: [seq, ordinal] of their newest own message}, recent senders (parley.read_state)
ATTR_ORDINAL = "n"  # messages in the stream up to and including this entry (absent: the seq)
ATTR_CHANGE = "e"  # a change entry's content (parley.models.Change); such an entry has no body
ATTR_EDITED_AT = "ed"
ATTR_DELETED_AT = "d"  # a tombstone: the body (and its attachments) are gone
ATTR_REPLY_TO = "rt"
ATTR_MENTIONS = "mn"
REACTION_PREFIX = "R:"  # R:<emoji>: a string set of the users who reacted with that emoji, one attribute each


def reaction_attribute(emoji: str) -> str:
    return f"{REACTION_PREFIX}{emoji}"
