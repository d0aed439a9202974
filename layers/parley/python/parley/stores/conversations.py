"""Conversations: ``CONV#<cid>`` / ``~META``, the pair index ``DIRECT#<hash>`` / ``~META`` and the
membership items ``USER#<uid>`` / ``MEMBER#<cid>`` that list a user's conversations."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.errors import NotMemberError
from parley.models import Conversation, ConversationKind, GroupRole, HistoryVisibility, Membership, NotifyMode
from parley.ports import ConversationStore
from parley.stores.batch import batch_get
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated

_BATCH_WRITE_MAX = 25
# On a membership of an end-to-end encrypted conversation: how a user's devices changing finds whom to tell.
ATTR_E2E_MEMBER = "x"


def conversation_from_item(item: dict[str, Any]) -> Conversation:
    return Conversation(
        conversation_id=item["cid"], kind=ConversationKind(item["kind"]), members=tuple(item["members"]),
        created_by=item["by"], created_at=int(item["at"]), name=item.get("name"),
        roles={str(u): GroupRole(r) for u, r in item.get("roles", {}).items()},
        history_visibility=HistoryVisibility(item.get("hv", HistoryVisibility.JOINED.value)),
        visible_from={str(u): int(s) for u, s in item.get("vf", {}).items()}, version=int(item.get("v", 0)),
        e2e=bool(item.get("e2e", False)))


def meta_item(c: Conversation) -> dict[str, Any]:
    return to_item({
        table.PK: table.conversation_pk(c.conversation_id), table.SK: table.META_SK, "cid": c.conversation_id,
        "kind": c.kind.value, "members": list(c.members), "by": c.created_by, "at": c.created_at,
        "name": c.name, "roles": {u: r.value for u, r in c.roles.items()} or None,
        "hv": c.history_visibility.value if c.history_visibility is not HistoryVisibility.JOINED else None,
        "vf": c.visible_from or None, "v": c.version or None, "e2e": True if c.e2e else None,
    })


def member_item(user_id: str, c: Conversation, joined_at: int | None = None,
                read: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    """A new membership; ``read``: its read position (seq, ordinal), where a member added later starts."""
    return to_item({table.PK: table.user_pk(user_id), table.SK: table.member_sk(c.conversation_id),
                    "at": c.created_at if joined_at is None else joined_at,
                    ATTR_E2E_MEMBER: True if c.e2e else None,
                    "lr": read[0] or None, "ln": read[1] if read[0] else None})


def membership_from_item(user_id: str, item: dict[str, Any]) -> Membership:
    return Membership(
        user_id=user_id, conversation_id=str(item[table.SK])[len(table.MEMBER_PREFIX):], joined_at=int(item["at"]),
        last_read_seq=int(item.get("lr", 0)), last_read_ordinal=int(item["ln"]) if "ln" in item else None,
        mention_seqs=frozenset(int(s) for s in item.get("ms", ())),
        notify=NotifyMode(item["ntf"]) if "ntf" in item else None,
        muted_until=int(item["mute"]) if "mute" in item else None, e2e=bool(item.get(ATTR_E2E_MEMBER, False)))


class DynamoConversationStore(ConversationStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def get(self, conversation_id: str) -> Conversation | None:
        with translated():
            resp = client("dynamodb").get_item(
                TableName=self._table, ConsistentRead=True,
                Key=key(table.conversation_pk(conversation_id), table.META_SK))
        return conversation_from_item(from_item(resp["Item"])) if "Item" in resp else None

    def find_direct(self, user_a: str, user_b: str, e2e: bool = False) -> Conversation | None:
        with translated():
            resp = client("dynamodb").get_item(
                TableName=self._table, ConsistentRead=True,
                Key=key(table.direct_pair_pk(user_a, user_b), table.direct_pair_sk(e2e)))
        if "Item" not in resp:
            return None
        return self.get(resp["Item"]["cid"]["S"])

    def create(self, conversation: Conversation) -> Conversation:
        if conversation.kind is ConversationKind.DIRECT:
            return self._create_direct(conversation)
        self._create_group(conversation)
        return conversation

    def _create_direct(self, c: Conversation) -> Conversation:
        a, b = c.members
        pair = to_item({table.PK: table.direct_pair_pk(a, b), table.SK: table.direct_pair_sk(c.e2e),
                        "cid": c.conversation_id})
        no_item = "attribute_not_exists(pk)"
        items = [
            {"Put": {"TableName": self._table, "Item": pair, "ConditionExpression": no_item}},
            {"Put": {"TableName": self._table, "Item": meta_item(c), "ConditionExpression": no_item}},
            *({"Put": {"TableName": self._table, "Item": member_item(u, c)}} for u in set(c.members)),
        ]
        try:
            with translated():
                client("dynamodb").transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            # The pair already has its conversation (a concurrent or earlier open): use that one.
            existing = self.find_direct(a, b, c.e2e)
            if existing is None:
                raise
            return existing
        return c

    def _create_group(self, c: Conversation) -> None:
        with translated():
            client("dynamodb").put_item(TableName=self._table, Item=meta_item(c),
                                        ConditionExpression="attribute_not_exists(pk)")
            requests = [{"PutRequest": {"Item": member_item(u, c)}} for u in c.members]
            for start in range(0, len(requests), _BATCH_WRITE_MAX):
                pending: dict[str, Any] = {self._table: requests[start:start + _BATCH_WRITE_MAX]}
                while pending:
                    resp = client("dynamodb").batch_write_item(RequestItems=pending)
                    pending = resp.get("UnprocessedItems") or {}

    def get_many(self, conversation_ids: list[str]) -> dict[str, Conversation]:
        found: dict[str, Conversation] = {}
        keys = [key(table.conversation_pk(cid), table.META_SK) for cid in dict.fromkeys(conversation_ids)]
        for item in batch_get(self._table, keys):
            conv = conversation_from_item(item)
            found[conv.conversation_id] = conv
        return found

    def memberships(self, user_id: str) -> list[Membership]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": table.user_pk(user_id)},
                                          ":prefix": {"S": table.MEMBER_PREFIX}},
        }
        found: list[Membership] = []
        with translated():
            for page in client("dynamodb").get_paginator("query").paginate(**kwargs):
                found.extend(membership_from_item(user_id, from_item(raw)) for raw in page["Items"])
        return found

    def membership(self, user_id: str, conversation_id: str) -> Membership | None:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, ConsistentRead=True,
                                               Key=key(table.user_pk(user_id), table.member_sk(conversation_id)))
        return membership_from_item(user_id, from_item(resp["Item"])) if "Item" in resp else None

    def mark_read(self, user_id: str, conversation_id: str, seq: int,
                  ordinal: int) -> tuple[Membership, Membership]:
        try:
            with translated():
                resp = client("dynamodb").update_item(
                    TableName=self._table, Key=key(table.user_pk(user_id), table.member_sk(conversation_id)),
                    UpdateExpression="SET lr = :seq, ln = :n",
                    ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(lr) OR lr < :seq)",
                    ExpressionAttributeValues={":seq": {"N": str(seq)}, ":n": {"N": str(ordinal)}},
                    ReturnValues="ALL_OLD")
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            current = self.membership(user_id, conversation_id)  # already read that far (another device)
            if current is None:
                raise NotMemberError() from exc
            return current, current
        before = membership_from_item(user_id, from_item(resp["Attributes"]))
        read = {s for s in before.mention_seqs if s <= seq}
        if read:
            self._forget_mentions(user_id, conversation_id, read)
        after = before.model_copy(update={"last_read_seq": seq, "last_read_ordinal": ordinal,
                                          "mention_seqs": before.mention_seqs - read})
        return after, before

    def _forget_mentions(self, user_id: str, conversation_id: str, seqs: set[int]) -> None:
        with translated():
            client("dynamodb").update_item(
                TableName=self._table, Key=key(table.user_pk(user_id), table.member_sk(conversation_id)),
                UpdateExpression="DELETE ms :read", ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":read": {"NS": [str(s) for s in sorted(seqs)]}})

    def add_mention(self, user_ids: list[str], conversation_id: str, seq: int) -> None:
        """Record message ``seq`` as an unread mention of each of ``user_ids`` that is still a member (a set:
        adding it again changes nothing)."""
        for user_id in user_ids:
            try:
                with translated():
                    client("dynamodb").update_item(
                        TableName=self._table, Key=key(table.user_pk(user_id), table.member_sk(conversation_id)),
                        UpdateExpression="ADD ms :seq", ConditionExpression="attribute_exists(pk)",
                        ExpressionAttributeValues={":seq": {"NS": [str(seq)]}})
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise

    def set_preferences(self, user_id: str, conversation_id: str, *, notify: NotifyMode | None,
                        muted_until: int | None, fields: set[str]) -> Membership:
        sets: dict[str, Any] = {}
        removes: list[str] = []
        for field, attr, value in (("notify", "ntf", notify.value if notify else None),
                                   ("muted_until", "mute", muted_until)):
            if field in fields:
                if value is None:
                    removes.append(attr)
                else:
                    sets[attr] = value
        parts = []
        if sets:
            parts.append("SET " + ", ".join(f"{attr} = :{attr}" for attr in sets))
        if removes:
            parts.append("REMOVE " + ", ".join(removes))
        if not parts:
            current = self.membership(user_id, conversation_id)
            if current is None:
                raise NotMemberError()
            return current
        kwargs: dict[str, Any] = {}
        if sets:
            kwargs["ExpressionAttributeValues"] = to_item({f":{attr}": v for attr, v in sets.items()})
        try:
            with translated():
                resp = client("dynamodb").update_item(
                    TableName=self._table, Key=key(table.user_pk(user_id), table.member_sk(conversation_id)),
                    UpdateExpression=" ".join(parts), ConditionExpression="attribute_exists(pk)",
                    ReturnValues="ALL_NEW", **kwargs)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotMemberError() from exc
            raise
        return membership_from_item(user_id, from_item(resp["Attributes"]))
