"""Connection records: ``USER#<uid>`` / ``CONN#<slot>``, one per open WebSocket, expired by TTL.

A user has ``max_per_user`` numbered slots. ``$connect`` takes a free one (or one whose record has
expired) with a conditional put, so two handshakes that race each other can never both take the last
slot: the per-user cap holds without a counter to keep in step. The record names its connection id and its
frame format (``fmt``), so fan-out learns each connection's format from the lookup it makes anyway.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Connection, FrameFormat
from parley.ports import ConnectionStore
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated

_CLAIM_ATTEMPTS = 5  # a lost race for a slot is retried with the next free one


def _connection(user_id: str, item: dict[str, Any]) -> Connection:
    # Records written before slots existed are keyed by the connection id itself; those written before frame
    # formats existed belong to clients that expect every field.
    connection_id = item.get("cid") or str(item[table.SK])[len(table.CONN_PREFIX):]
    return Connection(connection_id=str(connection_id), user_id=user_id, connected_at=int(item["at"]),
                      frame_format=FrameFormat(item.get("fmt", FrameFormat.FULL)))


class DynamoConnectionStore(ConnectionStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def claim(self, connection: Connection, expires_at: int, max_per_user: int, now_ms: int) -> bool:
        for _attempt in range(_CLAIM_ATTEMPTS):
            records = self._records(connection.user_id)
            live = {sk: item for sk, item in records.items() if _alive(item, now_ms)}
            if any(_connection(connection.user_id, item).connection_id == connection.connection_id
                   for item in live.values()):
                return True  # already recorded (a retried $connect)
            if len(live) >= max_per_user:
                return False
            slot = next(table.connection_slot_sk(n) for n in range(max_per_user)
                        if table.connection_slot_sk(n) not in live)
            if self._put(connection, slot, expires_at, now_ms):
                return True
        return False  # every free slot was taken under us: as full as it gets

    def _put(self, connection: Connection, slot: str, expires_at: int, now_ms: int) -> bool:
        item = to_item({
            table.PK: table.user_pk(connection.user_id), table.SK: slot, "cid": connection.connection_id,
            "at": connection.connected_at, "fmt": connection.frame_format.value, table.TTL_ATTRIBUTE: expires_at,
        })
        try:
            with translated():
                client("dynamodb").put_item(
                    TableName=self._table, Item=item,
                    ConditionExpression="attribute_not_exists(pk) OR #ttl <= :now OR cid = :cid",
                    ExpressionAttributeNames={"#ttl": table.TTL_ATTRIBUTE},
                    ExpressionAttributeValues={":now": {"N": str(now_ms // 1000)},
                                               ":cid": {"S": connection.connection_id}})
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, user_id: str, connection_id: str) -> None:
        for sk, item in self._records(user_id).items():
            if _connection(user_id, item).connection_id != connection_id:
                continue
            try:  # only while the slot is still this connection's (a new one may have taken it over)
                with translated():
                    client("dynamodb").delete_item(
                        TableName=self._table, Key=key(table.user_pk(user_id), sk),
                        ConditionExpression="attribute_not_exists(cid) OR cid = :cid",
                        ExpressionAttributeValues={":cid": {"S": connection_id}})
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise

    def list_for_user(self, user_id: str, now_ms: int) -> list[Connection]:
        return [_connection(user_id, item) for item in self._records(user_id).values() if _alive(item, now_ms)]

    def _records(self, user_id: str) -> dict[str, dict[str, Any]]:
        kwargs = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": table.user_pk(user_id)},
                                          ":prefix": {"S": table.CONN_PREFIX}},
        }
        found: dict[str, dict[str, Any]] = {}
        with translated():
            for page in client("dynamodb").get_paginator("query").paginate(**kwargs):
                for raw in page["Items"]:
                    item = from_item(raw)
                    found[str(item[table.SK])] = item
        return found


def _alive(item: dict[str, Any], now_ms: int) -> bool:
    # TTL deletion is lazy: a record past its expiry is already gone for us.
    return int(item.get(table.TTL_ATTRIBUTE, 0)) > now_ms // 1000
