"""Throttle markers: ``THROTTLE#<kind>#<uid>#<scope>`` / ``~``. One conditional write decides, across
every connection and Lambda instance, whether an action may happen again yet."""

from __future__ import annotations

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.ports import ThrottleStore
from parley.stores.codec import key, to_item
from parley.stores.errors import error_code, translated


class DynamoThrottleStore(ThrottleStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def acquire(self, kind: str, user_id: str, scope: str, interval_ms: int, now_ms: int) -> bool:
        values = to_item({":now": now_ms, ":next": now_ms + interval_ms,
                          ":exp": (now_ms + interval_ms) // 1000 + 60})
        try:
            with translated():
                client("dynamodb").update_item(
                    TableName=self._table, Key=key(table.throttle_pk(kind, user_id, scope), table.THROTTLE_SK),
                    UpdateExpression="SET nextAt = :next, #ttl = :exp",
                    ConditionExpression="attribute_not_exists(nextAt) OR nextAt <= :now",
                    ExpressionAttributeNames={"#ttl": table.TTL_ATTRIBUTE}, ExpressionAttributeValues=values)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
