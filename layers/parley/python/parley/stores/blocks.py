"""Blocks: ``USER#<blocker>`` / ``BLOCK#<blocked>`` plus the reverse ``USER#<blocked>`` / ``BLOCKEDBY#<blocker>``,
written together, so both "whom did I block" and "who blocked me" are one Query on one user's partition."""

from __future__ import annotations

from typing import Any

from parley import table
from parley.aws import client
from parley.ports import BlockStore
from parley.stores.codec import key, to_item
from parley.stores.errors import translated


class DynamoBlockStore(BlockStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def block(self, blocker: str, blocked: str, now_ms: int) -> None:
        items = [
            to_item({table.PK: table.user_pk(blocker), table.SK: table.block_sk(blocked), "at": now_ms}),
            to_item({table.PK: table.user_pk(blocked), table.SK: table.blocked_by_sk(blocker), "at": now_ms}),
        ]
        with translated():
            client("dynamodb").transact_write_items(
                TransactItems=[{"Put": {"TableName": self._table, "Item": item}} for item in items])

    def unblock(self, blocker: str, blocked: str) -> None:
        keys = [key(table.user_pk(blocker), table.block_sk(blocked)),
                key(table.user_pk(blocked), table.blocked_by_sk(blocker))]
        with translated():
            client("dynamodb").transact_write_items(
                TransactItems=[{"Delete": {"TableName": self._table, "Key": k}} for k in keys])

    def blocked_by(self, user_id: str) -> set[str]:
        return self._others(user_id, table.BLOCKED_BY_PREFIX)

    def blocks_of(self, user_id: str) -> set[str]:
        return self._others(user_id, table.BLOCK_PREFIX)

    def has_blocked(self, blocker: str, blocked: str) -> bool:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, ConsistentRead=True,
                                               Key=key(table.user_pk(blocker), table.block_sk(blocked)))
        return "Item" in resp

    def _others(self, user_id: str, prefix: str) -> set[str]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ProjectionExpression": "sk",
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": table.user_pk(user_id)}, ":prefix": {"S": prefix}},
        }
        found: set[str] = set()
        with translated():
            for page in client("dynamodb").get_paginator("query").paginate(**kwargs):
                found.update(item[table.SK]["S"][len(prefix):] for item in page["Items"])
        return found
