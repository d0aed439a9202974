"""Connection records: ``USER#<uid>`` / ``CONN#<connectionId>``, expired by TTL."""

from __future__ import annotations

from parley import table
from parley.aws import client
from parley.models import Connection
from parley.ports import ConnectionStore
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import translated


class DynamoConnectionStore(ConnectionStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def put(self, connection: Connection, expires_at: int) -> None:
        item = to_item({
            table.PK: table.user_pk(connection.user_id),
            table.SK: table.connection_sk(connection.connection_id),
            "at": connection.connected_at,
            table.TTL_ATTRIBUTE: expires_at,
        })
        with translated():
            client("dynamodb").put_item(TableName=self._table, Item=item)

    def delete(self, user_id: str, connection_id: str) -> None:
        with translated():
            client("dynamodb").delete_item(
                TableName=self._table, Key=key(table.user_pk(user_id), table.connection_sk(connection_id)))

    def list_for_user(self, user_id: str, now_ms: int) -> list[Connection]:
        now_s = now_ms // 1000
        found: list[Connection] = []
        kwargs = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": table.user_pk(user_id)},
                                          ":prefix": {"S": table.CONN_PREFIX}},
        }
        with translated():
            for page in client("dynamodb").get_paginator("query").paginate(**kwargs):
                for raw in page["Items"]:
                    item = from_item(raw)
                    # TTL deletion is lazy: a record past its expiry is already gone for us.
                    if int(item.get(table.TTL_ATTRIBUTE, 0)) <= now_s:
                        continue
                    found.append(Connection(connection_id=item[table.SK][len(table.CONN_PREFIX):],
                                            user_id=user_id, connected_at=int(item["at"])))
        return found
