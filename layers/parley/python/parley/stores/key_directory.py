"""The key directory: ``USER#<uid>`` / ``~KEYS``, one item per user holding a map (``d``) of their devices' public
keys, and a version (``v``) that every write is conditioned on, so that two publications racing each other
never lose one (docs/e2e.md)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.errors import ConflictError, DeviceKeyConflictError, TooManyKeyDevicesError
from parley.models import PublishedDevice
from parley.ports import KeyDirectoryStore
from parley.stores.batch import batch_get
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated

_ATTEMPTS = 3
DEVICES, VERSION = "d", "v"


def _entry(device: PublishedDevice) -> dict[str, Any]:
    return {"ik": device.identity_key, "pid": device.prekey_id, "pk": device.prekey, "ps": device.prekey_sig,
            "at": device.published_at, "first": device.first_published_at}


def _device(device_id: str, entry: dict[str, Any]) -> PublishedDevice:
    return PublishedDevice(device_id=device_id, identity_key=entry["ik"], prekey_id=int(entry["pid"]),
                           prekey=entry["pk"], prekey_sig=entry["ps"], published_at=int(entry["at"]),
                           first_published_at=int(entry["first"]))


def devices_of(item: dict[str, Any]) -> list[PublishedDevice]:
    found = [_device(str(d), e) for d, e in item.get(DEVICES, {}).items()]
    return sorted(found, key=lambda d: (d.first_published_at, d.device_id))


def _user_of(item: dict[str, Any]) -> str:
    return str(item[table.PK])[len(table.user_pk("")):]


class DynamoKeyDirectoryStore(KeyDirectoryStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def _key(self, user_id: str) -> dict[str, Any]:
        return key(table.user_pk(user_id), table.KEYS_SK)

    def _read(self, user_id: str) -> tuple[list[PublishedDevice], int | None]:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, Key=self._key(user_id), ConsistentRead=True)
        if "Item" not in resp:
            return [], None
        item = from_item(resp["Item"])
        return devices_of(item), int(item.get(VERSION, 0))

    def devices(self, user_ids: list[str]) -> dict[str, list[PublishedDevice]]:
        users = list(dict.fromkeys(user_ids))
        found: dict[str, list[PublishedDevice]] = {u: [] for u in users}
        for item in batch_get(self._table, [self._key(u) for u in users]):
            found[_user_of(item)] = devices_of(item)
        return found

    def put(self, user_id: str, device: PublishedDevice, max_devices: int) -> bool:
        for _attempt in range(_ATTEMPTS):
            current, version = self._read(user_id)
            known = next((d for d in current if d.device_id == device.device_id), None)
            if known is not None and known.identity_key != device.identity_key:
                raise DeviceKeyConflictError()
            if known is None and len(current) >= max_devices:
                raise TooManyKeyDevicesError()
            stored = device.model_copy(update={"first_published_at": known.first_published_at}) if known else device
            devices = {d.device_id: _entry(d) for d in current} | {device.device_id: _entry(stored)}
            if self._write(user_id, devices, version):
                return known is None
        raise ConflictError()

    def remove(self, user_id: str, device_id: str) -> bool:
        for _attempt in range(_ATTEMPTS):
            current, version = self._read(user_id)
            if all(d.device_id != device_id for d in current):
                return False
            if self._write(user_id, {d.device_id: _entry(d) for d in current if d.device_id != device_id}, version):
                return True
        raise ConflictError()

    def erase(self, user_id: str) -> int:
        with translated():
            resp = client("dynamodb").delete_item(TableName=self._table, Key=self._key(user_id),
                                                  ReturnValues="ALL_OLD")
        return len(devices_of(from_item(resp["Attributes"]))) if "Attributes" in resp else 0

    def _write(self, user_id: str, devices: dict[str, dict[str, Any]], version: int | None) -> bool:
        """Store the user's devices over the version read (None: there was no item): False when another write
        came first."""
        item = {**self._key(user_id), **to_item({DEVICES: devices, VERSION: (version or 0) + 1})}
        condition = "attribute_not_exists(pk)" if version is None else "#v = :v"
        extra: dict[str, Any] = {} if version is None else {
            "ExpressionAttributeNames": {"#v": VERSION}, "ExpressionAttributeValues": {":v": {"N": str(version)}}}
        try:
            with translated():
                client("dynamodb").put_item(TableName=self._table, Item=item, ConditionExpression=condition, **extra)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
