"""Push devices: ``USER#<uid>`` / ``DEVICE#<hash>`` and the owner index ``PUSHTOKEN#<hash>`` / ``~``.

A device token belongs to one user at a time: when another user signs in on the same phone and
registers it, the previous owner's device item is removed in the same transaction."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Device, Platform
from parley.ports import DeviceStore
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated


def _device(item: dict[str, Any]) -> Device:
    return Device(user_id=str(item[table.PK])[len("USER#"):], token_hash=str(item[table.SK])[len(table.DEVICE_PREFIX):],
                  platform=Platform(item["platform"]), endpoint_arn=item["endpoint"], registered_at=int(item["at"]))


class DynamoDeviceStore(DeviceStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def put(self, device: Device) -> str | None:
        owner_key = key(table.push_token_pk(device.token_hash), table.THROTTLE_SK)
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, Key=owner_key, ConsistentRead=True)
        previous = resp.get("Item", {}).get("user", {}).get("S")
        writes: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table, "Item": to_item({
                table.PK: table.user_pk(device.user_id), table.SK: table.device_sk(device.token_hash),
                "platform": device.platform.value, "endpoint": device.endpoint_arn, "at": device.registered_at})}},
            {"Put": {"TableName": self._table, "Item": to_item({
                table.PK: table.push_token_pk(device.token_hash), table.SK: table.THROTTLE_SK,
                "user": device.user_id, "endpoint": device.endpoint_arn})}},
        ]
        if previous and previous != device.user_id:
            writes.append({"Delete": {"TableName": self._table,
                                      "Key": key(table.user_pk(previous), table.device_sk(device.token_hash))}})
        with translated():
            client("dynamodb").transact_write_items(TransactItems=writes)
        return previous if previous != device.user_id else None

    def delete(self, user_id: str, token_hash: str) -> Device | None:
        with translated():
            resp = client("dynamodb").delete_item(
                TableName=self._table, Key=key(table.user_pk(user_id), table.device_sk(token_hash)),
                ReturnValues="ALL_OLD")
        if "Attributes" not in resp:
            return None
        try:  # the owner index, unless the token has moved to another user meanwhile
            with translated():
                client("dynamodb").delete_item(
                    TableName=self._table, Key=key(table.push_token_pk(token_hash), table.THROTTLE_SK),
                    ConditionExpression="#u = :u", ExpressionAttributeNames={"#u": "user"},
                    ExpressionAttributeValues={":u": {"S": user_id}})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        return _device(from_item(resp["Attributes"]))

    def list_for_user(self, user_id: str) -> list[Device]:
        with translated():
            resp = client("dynamodb").query(
                TableName=self._table, KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={":pk": {"S": table.user_pk(user_id)},
                                           ":prefix": {"S": table.DEVICE_PREFIX}})
        return [_device(from_item(raw)) for raw in resp["Items"]]
