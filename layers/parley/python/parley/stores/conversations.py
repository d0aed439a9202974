"""Conversations: ``CONV#<cid>`` / ``~META``, the pair index ``DIRECT#<hash>`` / ``~META`` and the
membership items ``USER#<uid>`` / ``MEMBER#<cid>`` that list a user's conversations."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.errors import InvalidFrameError
from parley.models import Conversation, ConversationKind, ConversationPage
from parley.ports import ConversationStore
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated

_BATCH_GET_MAX = 100
_BATCH_WRITE_MAX = 25


def conversation_from_item(item: dict[str, Any]) -> Conversation:
    return Conversation(
        conversation_id=item["cid"], kind=ConversationKind(item["kind"]), members=tuple(item["members"]),
        created_by=item["by"], created_at=int(item["at"]), name=item.get("name"))


def _meta_item(c: Conversation) -> dict[str, Any]:
    return to_item({
        table.PK: table.conversation_pk(c.conversation_id), table.SK: table.META_SK, "cid": c.conversation_id,
        "kind": c.kind.value, "members": list(c.members), "by": c.created_by, "at": c.created_at,
        "name": c.name,
    })


def _member_item(user_id: str, c: Conversation) -> dict[str, Any]:
    return to_item({table.PK: table.user_pk(user_id), table.SK: table.member_sk(c.conversation_id),
                    "at": c.created_at})


def _encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key[table.SK]["S"]).encode()).decode()


def _decode_cursor(user_id: str, cursor: str) -> dict[str, Any]:
    try:
        sort_key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidFrameError("cursor is not one this server issued") from exc
    if not isinstance(sort_key, str) or not sort_key.startswith(table.MEMBER_PREFIX):
        raise InvalidFrameError("cursor is not one this server issued")
    return key(table.user_pk(user_id), sort_key)


class DynamoConversationStore(ConversationStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def get(self, conversation_id: str) -> Conversation | None:
        with translated():
            resp = client("dynamodb").get_item(
                TableName=self._table, ConsistentRead=True,
                Key=key(table.conversation_pk(conversation_id), table.META_SK))
        return conversation_from_item(from_item(resp["Item"])) if "Item" in resp else None

    def find_direct(self, user_a: str, user_b: str) -> Conversation | None:
        with translated():
            resp = client("dynamodb").get_item(
                TableName=self._table, ConsistentRead=True,
                Key=key(table.direct_pair_pk(user_a, user_b), table.META_SK))
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
        pair = to_item({table.PK: table.direct_pair_pk(a, b), table.SK: table.META_SK, "cid": c.conversation_id})
        no_item = "attribute_not_exists(pk)"
        items = [
            {"Put": {"TableName": self._table, "Item": pair, "ConditionExpression": no_item}},
            {"Put": {"TableName": self._table, "Item": _meta_item(c), "ConditionExpression": no_item}},
            *({"Put": {"TableName": self._table, "Item": _member_item(u, c)}} for u in set(c.members)),
        ]
        try:
            with translated():
                client("dynamodb").transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            # The pair already has its conversation (a concurrent or earlier open): use that one.
            existing = self.find_direct(a, b)
            if existing is None:
                raise
            return existing
        return c

    def _create_group(self, c: Conversation) -> None:
        with translated():
            client("dynamodb").put_item(TableName=self._table, Item=_meta_item(c),
                                        ConditionExpression="attribute_not_exists(pk)")
            requests = [{"PutRequest": {"Item": _member_item(u, c)}} for u in c.members]
            for start in range(0, len(requests), _BATCH_WRITE_MAX):
                pending: dict[str, Any] = {self._table: requests[start:start + _BATCH_WRITE_MAX]}
                while pending:
                    resp = client("dynamodb").batch_write_item(RequestItems=pending)
                    pending = resp.get("UnprocessedItems") or {}

    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> ConversationPage:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": table.user_pk(user_id)},
                                          ":prefix": {"S": table.MEMBER_PREFIX}},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(user_id, cursor)
        with translated():
            resp = client("dynamodb").query(**kwargs)
        ids = [item[table.SK]["S"][len(table.MEMBER_PREFIX):] for item in resp["Items"]]
        found = self._batch_get(ids)
        conversations = tuple(found[cid] for cid in ids if cid in found)
        last = resp.get("LastEvaluatedKey")
        return ConversationPage(conversations=conversations, cursor=_encode_cursor(last) if last else None)

    def _batch_get(self, ids: list[str]) -> dict[str, Conversation]:
        found: dict[str, Conversation] = {}
        for start in range(0, len(ids), _BATCH_GET_MAX):
            keys = [key(table.conversation_pk(cid), table.META_SK) for cid in ids[start:start + _BATCH_GET_MAX]]
            pending: dict[str, Any] = {self._table: {"Keys": keys}}
            while pending:
                with translated():
                    resp = client("dynamodb").batch_get_item(RequestItems=pending)
                for raw in resp["Responses"].get(self._table, []):
                    conv = conversation_from_item(from_item(raw))
                    found[conv.conversation_id] = conv
                pending = resp.get("UnprocessedKeys") or {}
        return found
