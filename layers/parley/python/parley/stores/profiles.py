"""Profiles: ``USER#<uid>`` / ``~PROFILE`` -- preferences, ``lastSeen``, the push devices and the badge. A
missing item is the defaults.

Devices and the badge live on the profile so that the push notifier reads everything it needs of a
recipient in one item (``parley.stores.recipients``). ``dev`` maps each device's token hash to its
platform (``p``), SNS endpoint (``e``) and registration time (``at``); ``parley.stores.devices`` keeps it.
``bdg`` is the badge (conversations with unread messages) and ``bdgk`` the last message counted into it,
so that a retried event does not count its conversation twice."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Device, NotifyMode, Platform, Profile, Visibility
from parley.ports import ProfileStore
from parley.stores.batch import batch_get
from parley.stores.codec import from_item, key, set_expression
from parley.stores.errors import error_code, translated

BLOCKS_COUNT = "blk"  # kept by parley.stores.blocks in the same transaction as each block and unblock
DEVICES = "dev"  # kept by parley.stores.devices
BADGE = "bdg"
BADGE_MARKER = "bdgk"
_FIELDS = {"visibility": "vis", "hide_read_receipts": "hrr", "notify": "ntf", "last_seen": "seen"}


def devices_of(user_id: str, entries: dict[str, Any]) -> tuple[Device, ...]:
    """The devices of a ``dev`` map, oldest registration first."""
    found = [Device(user_id=user_id, token_hash=token_hash, platform=Platform(entry["p"]), endpoint_arn=entry["e"],
                    registered_at=int(entry["at"])) for token_hash, entry in entries.items()]
    return tuple(sorted(found, key=lambda d: (d.registered_at, d.token_hash)))


def profile_from_item(user_id: str, item: dict[str, Any] | None) -> Profile:
    if not item:
        return Profile(user_id=user_id, blocks_count=0)
    return Profile(
        user_id=user_id, visibility=Visibility(item.get("vis", Visibility.VISIBLE.value)),
        hide_read_receipts=bool(item.get("hrr", False)), notify=NotifyMode(item.get("ntf", NotifyMode.PUSH.value)),
        last_seen=int(item["seen"]) if "seen" in item else None,
        first_seen=int(item["since"]) if "since" in item else None,
        blocks_count=int(item[BLOCKS_COUNT]) if BLOCKS_COUNT in item else None,
        devices=devices_of(user_id, item.get(DEVICES, {})), badge=max(0, int(item.get(BADGE, 0))))


class DynamoProfileStore(ProfileStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def get(self, user_id: str) -> Profile:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, ConsistentRead=True,
                                               Key=key(table.user_pk(user_id), table.PROFILE_SK))
        return profile_from_item(user_id, from_item(resp["Item"]) if "Item" in resp else None)

    def get_many(self, user_ids: list[str]) -> dict[str, Profile]:
        found: dict[str, Profile] = {uid: profile_from_item(uid, None) for uid in user_ids}
        keys = [key(table.user_pk(uid), table.PROFILE_SK) for uid in dict.fromkeys(user_ids)]
        for item in batch_get(self._table, keys):
            uid = str(item[table.PK])[len("USER#"):]
            found[uid] = profile_from_item(uid, item)
        return found

    def update(self, user_id: str, **changes: Any) -> Profile:
        values = {_FIELDS[name]: (v.value if isinstance(v, (Visibility, NotifyMode)) else v)
                  for name, v in changes.items() if v is not None}
        if not values:
            return self.get(user_id)
        with translated():
            resp = client("dynamodb").update_item(
                TableName=self._table, Key=key(table.user_pk(user_id), table.PROFILE_SK), ReturnValues="ALL_NEW",
                **set_expression(values))
        return profile_from_item(user_id, from_item(resp["Attributes"]))

    def mark_first_seen(self, user_id: str, now_ms: int) -> None:
        with translated():
            client("dynamodb").update_item(
                TableName=self._table, Key=key(table.user_pk(user_id), table.PROFILE_SK),
                UpdateExpression=f"SET since = if_not_exists(since, :now), {BLOCKS_COUNT} = "
                                 f"if_not_exists({BLOCKS_COUNT}, :zero)",
                ExpressionAttributeValues={":now": {"N": str(now_ms)}, ":zero": {"N": "0"}})

    def count_unread(self, user_id: str, marker: str) -> int | None:
        try:
            with translated():
                resp = client("dynamodb").update_item(
                    TableName=self._table, Key=key(table.user_pk(user_id), table.PROFILE_SK),
                    UpdateExpression=f"SET {BADGE} = if_not_exists({BADGE}, :zero) + :one, {BADGE_MARKER} = :m",
                    ConditionExpression=f"attribute_not_exists({BADGE_MARKER}) OR {BADGE_MARKER} <> :m",
                    ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}, ":m": {"S": marker}},
                    ReturnValues="UPDATED_NEW")
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None  # counted already: this event is a retry
            raise
        return int(resp["Attributes"][BADGE]["N"])

    def uncount_unread(self, user_id: str) -> None:
        try:
            with translated():
                client("dynamodb").update_item(
                    TableName=self._table, Key=key(table.user_pk(user_id), table.PROFILE_SK),
                    UpdateExpression=f"SET {BADGE} = {BADGE} - :one", ConditionExpression=f"{BADGE} > :zero",
                    ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise  # already 0: nothing to take

    def set_badge(self, user_id: str, badge: int) -> None:
        with translated():
            client("dynamodb").update_item(
                TableName=self._table, Key=key(table.user_pk(user_id), table.PROFILE_SK),
                UpdateExpression=f"SET {BADGE} = :b", ExpressionAttributeValues={":b": {"N": str(badge)}})
