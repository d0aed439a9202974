"""Blocks: ``USER#<blocker>`` / ``BLOCK#<blocked>`` plus the reverse ``USER#<blocked>`` / ``BLOCKEDBY#<blocker>``,
written together, so both "whom did I block" and "who blocked me" are one Query on one user's partition."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import BlockRelations
from parley.ports import BlockStore
from parley.stores.codec import key, to_item
from parley.stores.errors import cancellation_reasons, condition_failed, translated
from parley.stores.profiles import BLOCKS_COUNT


class DynamoBlockStore(BlockStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def block(self, blocker: str, blocked: str, now_ms: int) -> None:
        items = [
            to_item({table.PK: table.user_pk(blocker), table.SK: table.block_sk(blocked), "at": now_ms}),
            to_item({table.PK: table.user_pk(blocked), table.SK: table.blocked_by_sk(blocker), "at": now_ms}),
        ]
        # Only a new block counts: blocking someone twice fails the condition and changes nothing.
        self._transact([
            {"Put": {"TableName": self._table, "Item": items[0], "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._table, "Item": items[1]}},
            self._count(blocker, +1),
        ])

    def unblock(self, blocker: str, blocked: str) -> None:
        self._transact([
            {"Delete": {"TableName": self._table, "Key": key(table.user_pk(blocker), table.block_sk(blocked)),
                        "ConditionExpression": "attribute_exists(pk)"}},
            {"Delete": {"TableName": self._table, "Key": key(table.user_pk(blocked), table.blocked_by_sk(blocker))}},
            self._count(blocker, -1),
        ])

    def _count(self, blocker: str, change: int) -> dict[str, Any]:
        """The blocker's profile keeps how many users they blocked: readers that get the profile anyway (the
        push notifier's badge) skip reading the blocks of the many users who blocked nobody."""
        return {"Update": {
            "TableName": self._table, "Key": key(table.user_pk(blocker), table.PROFILE_SK),
            "UpdateExpression": f"ADD {BLOCKS_COUNT} :n", "ExpressionAttributeValues": {":n": {"N": str(change)}}}}

    def _transact(self, items: list[dict[str, Any]]) -> None:
        try:
            with translated():
                client("dynamodb").transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if reasons is None or not any(condition_failed(r) for r in reasons):
                raise
            # already blocked (or not blocked): nothing to change

    def blocked_by(self, user_id: str) -> set[str]:
        return self._others(user_id, table.BLOCKED_BY_PREFIX)

    def blocks_of(self, user_id: str) -> set[str]:
        return self._others(user_id, table.BLOCK_PREFIX)

    def relations(self, user_id: str) -> BlockRelations:
        # BLOCK#<other> and BLOCKEDBY#<other> share the prefix "BLOCK": both directions in one Query.
        found = self._keys(user_id, table.BLOCK_PREFIX.rstrip("#"))
        return BlockRelations(
            blocks=frozenset(k[len(table.BLOCK_PREFIX):] for k in found if k.startswith(table.BLOCK_PREFIX)),
            blocked_by=frozenset(k[len(table.BLOCKED_BY_PREFIX):] for k in found
                                 if k.startswith(table.BLOCKED_BY_PREFIX)))

    def has_blocked(self, blocker: str, blocked: str) -> bool:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, ConsistentRead=True,
                                               Key=key(table.user_pk(blocker), table.block_sk(blocked)))
        return "Item" in resp

    def _others(self, user_id: str, prefix: str) -> set[str]:
        return {k[len(prefix):] for k in self._keys(user_id, prefix)}

    def _keys(self, user_id: str, prefix: str) -> list[str]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ProjectionExpression": "sk",
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": table.user_pk(user_id)}, ":prefix": {"S": prefix}},
        }
        found: list[str] = []
        with translated():
            for page in client("dynamodb").get_paginator("query").paginate(**kwargs):
                found.extend(item[table.SK]["S"] for item in page["Items"])
        return found
