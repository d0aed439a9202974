"""Push devices: the ``dev`` map of their user's profile item (``USER#<uid>`` / ``~PROFILE``, see
``parley.stores.profiles``), and the owner index ``PUSHTOKEN#<hash>`` / ``~``: which user a token belongs to now.

A device token belongs to one user at a time: when another user signs in on the same phone and registers
it, it leaves the previous owner's profile in the transaction that gives it to the new one. A user keeps at
most ``max_devices``; registering one more drops the oldest registrations in that transaction too (two
registrations racing each other may leave one over the cap, until the next registration)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.errors import ConflictError
from parley.models import Device
from parley.ports import DeviceStore
from parley.stores.batch import batch_get
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import cancellation_reasons, condition_failed, error_code, translated
from parley.stores.profiles import DEVICES, devices_of

_ATTEMPTS = 3


def _entry(device: Device) -> dict[str, Any]:
    return {"p": device.platform.value, "e": device.endpoint_arn, "at": device.registered_at}


def _owner_key(token_hash: str) -> dict[str, Any]:
    return key(table.push_token_pk(token_hash), table.THROTTLE_SK)


def _profile_key(user_id: str) -> dict[str, Any]:
    return key(table.user_pk(user_id), table.PROFILE_SK)


def _cancelled_items(exc: ClientError) -> set[int] | None:
    """The items of a transaction cancelled by a race (a failed condition, or another transaction on the same
    items) whose condition failed; None if it failed for another reason."""
    reasons = cancellation_reasons(exc)
    if reasons is None or not any(condition_failed(r) or r.get("Code") == "TransactionConflict" for r in reasons):
        return None
    return {i for i, r in enumerate(reasons) if condition_failed(r)}


class DynamoDeviceStore(DeviceStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def put(self, device: Device, max_devices: int) -> list[Device]:
        me, token_hash = device.user_id, device.token_hash
        take_from_previous = True
        for _attempt in range(_ATTEMPTS):
            previous, current = self._owner_and_devices(me, token_hash)
            others = [d for d in current or () if d.token_hash != token_hash]
            dropped = others[:max(0, len(others) + 1 - max_devices)]  # oldest first
            writes = [self._add(device, current is not None, dropped),
                      {"Put": {"TableName": self._table, "Item": {
                          **_owner_key(token_hash), **to_item({"user": me, "endpoint": device.endpoint_arn})}}}]
            writes += [{"Delete": {"TableName": self._table, "Key": _owner_key(d.token_hash)}} for d in dropped]
            moved = take_from_previous and previous is not None and previous != me
            if moved:
                writes.append({"Update": {
                    "TableName": self._table, "Key": _profile_key(str(previous)),
                    "UpdateExpression": f"REMOVE {DEVICES}.#h", "ConditionExpression": f"attribute_exists({DEVICES})",
                    "ExpressionAttributeNames": {"#h": token_hash}}})
            try:
                with translated():
                    client("dynamodb").transact_write_items(TransactItems=writes)
            except ClientError as exc:
                failed = _cancelled_items(exc)
                if failed is None:
                    raise
                if moved and len(writes) - 1 in failed:
                    take_from_previous = False  # the previous owner's profile holds no devices: nothing to take
                continue  # my devices changed since they were read (another registration): read them again
            return dropped
        raise ConflictError("Devices changed while registering this one; register it again.")

    def _owner_and_devices(self, user_id: str, token_hash: str) -> tuple[str | None, list[Device] | None]:
        """The token's current owner, and the user's devices (None: the profile has no ``dev`` map yet)."""
        owner: str | None = None
        devices: list[Device] | None = None
        for item in batch_get(self._table, [_owner_key(token_hash), _profile_key(user_id)], ConsistentRead=True,
                              ProjectionExpression="pk, sk, #u, #d",
                              ExpressionAttributeNames={"#u": "user", "#d": DEVICES}):
            if item[table.SK] == table.PROFILE_SK:
                devices = list(devices_of(user_id, item[DEVICES])) if DEVICES in item else None
            else:
                owner = item.get("user")
        return owner, devices

    def _add(self, device: Device, has_map: bool, dropped: list[Device]) -> dict[str, Any]:
        """The update of the user's profile that adds ``device`` and drops ``dropped``."""
        update: dict[str, Any] = {"TableName": self._table, "Key": _profile_key(device.user_id)}
        if not has_map:  # the first device: create the map (a racing first registration makes this fail)
            return {"Update": {**update, "UpdateExpression": f"SET {DEVICES} = :m",
                               "ConditionExpression": f"attribute_not_exists({DEVICES})",
                               "ExpressionAttributeValues": to_item({":m": {device.token_hash: _entry(device)}})}}
        names = {"#h": device.token_hash, **{f"#o{i}": d.token_hash for i, d in enumerate(dropped)}}
        removes = ", ".join(f"{DEVICES}.#o{i}" for i in range(len(dropped)))
        return {"Update": {**update, "UpdateExpression": f"SET {DEVICES}.#h = :d" + (f" REMOVE {removes}" if removes
                                                                                    else ""),
                           "ConditionExpression": f"attribute_exists({DEVICES})", "ExpressionAttributeNames": names,
                           "ExpressionAttributeValues": to_item({":d": _entry(device)})}}

    def delete(self, user_id: str, token_hash: str) -> Device | None:
        try:
            with translated():
                resp = client("dynamodb").update_item(
                    TableName=self._table, Key=_profile_key(user_id), UpdateExpression=f"REMOVE {DEVICES}.#h",
                    ConditionExpression=f"attribute_exists({DEVICES}.#h)", ExpressionAttributeNames={"#h": token_hash},
                    ReturnValues="UPDATED_OLD")
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None  # not this user's device
            raise
        try:  # the owner index, unless the token has moved to another user meanwhile
            with translated():
                client("dynamodb").delete_item(
                    TableName=self._table, Key=_owner_key(token_hash),
                    ConditionExpression="#u = :u", ExpressionAttributeNames={"#u": "user"},
                    ExpressionAttributeValues={":u": {"S": user_id}})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        # The old value of what was removed: DynamoDB returns the removed entry; moto the whole map before.
        before = from_item(resp["Attributes"])[DEVICES]
        [removed] = devices_of(user_id, {token_hash: before[token_hash]})
        return removed

    def list_for_user(self, user_id: str) -> list[Device]:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, Key=_profile_key(user_id), ConsistentRead=True,
                                               ProjectionExpression="#d", ExpressionAttributeNames={"#d": DEVICES})
        return list(devices_of(user_id, from_item(resp.get("Item", {})).get(DEVICES, {})))
