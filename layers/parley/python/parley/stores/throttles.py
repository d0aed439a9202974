"""Throttle state: ``THROTTLE#<kind>#<uid>#<scope>`` / ``~``, shared by every connection and Lambda instance.

``acquire`` is a minimum interval (typing indicators); ``take`` is a token bucket in its GCRA form: the
item holds one number, the bucket's "theoretical arrival time", so a request costs one conditional write
(two when the bucket is partly drained), never a read-modify-write race."""

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

    def take(self, kind: str, user_id: str, rate_per_second: float, burst: int, now_ms: int, count: int = 1) -> int:
        interval = max(1, round(1000 / rate_per_second))
        limit = now_ms + (burst - count) * interval  # the latest arrival time ``count`` tokens may still be taken at
        item_key = key(table.throttle_pk(kind, user_id, "bucket"), table.THROTTLE_SK)
        names = {"#ttl": table.TTL_ATTRIBUTE}
        expires = (limit + count * interval) // 1000 + 60
        ddb = client("dynamodb")
        try:  # an idle bucket (the common case): restart it from now
            with translated():
                ddb.update_item(TableName=self._table, Key=item_key,
                                UpdateExpression="SET tat = :next, #ttl = :exp",
                                ConditionExpression="attribute_not_exists(tat) OR tat <= :now",
                                ExpressionAttributeNames=names,
                                ExpressionAttributeValues=to_item({":now": now_ms, ":next": now_ms + count * interval,
                                                                   ":exp": expires}))
            return 0
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        try:  # a partly drained bucket: admit while within the burst
            with translated():
                ddb.update_item(TableName=self._table, Key=item_key,
                                UpdateExpression="SET tat = tat + :interval, #ttl = :exp",
                                ConditionExpression="tat <= :limit", ExpressionAttributeNames=names,
                                ExpressionAttributeValues=to_item({":interval": count * interval, ":limit": limit,
                                                                   ":exp": expires}),
                                ReturnValuesOnConditionCheckFailure="ALL_OLD")
            return 0
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            item: dict[str, dict[str, str]] = exc.response.get("Item") or {}  # type: ignore[assignment]
            old = item.get("tat", {}).get("N")
            return int(old) - limit if old is not None else interval
