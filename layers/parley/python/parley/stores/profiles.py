"""Profiles: ``USER#<uid>`` / ``~PROFILE`` -- preferences and ``lastSeen``. A missing item is the defaults."""

from __future__ import annotations

from typing import Any

from parley import table
from parley.aws import client
from parley.models import NotifyMode, Profile, Visibility
from parley.ports import ProfileStore
from parley.stores.codec import from_item, key, set_expression
from parley.stores.errors import translated

_BATCH_GET_MAX = 100
BLOCKS_COUNT = "blk"  # kept by parley.stores.blocks in the same transaction as each block and unblock
_FIELDS = {"visibility": "vis", "hide_read_receipts": "hrr", "notify": "ntf", "last_seen": "seen"}


def _profile(user_id: str, item: dict[str, Any] | None) -> Profile:
    if not item:
        return Profile(user_id=user_id, blocks_count=0)
    return Profile(
        user_id=user_id, visibility=Visibility(item.get("vis", Visibility.VISIBLE.value)),
        hide_read_receipts=bool(item.get("hrr", False)), notify=NotifyMode(item.get("ntf", NotifyMode.PUSH.value)),
        last_seen=int(item["seen"]) if "seen" in item else None,
        first_seen=int(item["since"]) if "since" in item else None,
        blocks_count=int(item[BLOCKS_COUNT]) if BLOCKS_COUNT in item else None)


class DynamoProfileStore(ProfileStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def get(self, user_id: str) -> Profile:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, ConsistentRead=True,
                                               Key=key(table.user_pk(user_id), table.PROFILE_SK))
        return _profile(user_id, from_item(resp["Item"]) if "Item" in resp else None)

    def get_many(self, user_ids: list[str]) -> dict[str, Profile]:
        found: dict[str, Profile] = {uid: _profile(uid, None) for uid in user_ids}
        unique = list(dict.fromkeys(user_ids))
        for start in range(0, len(unique), _BATCH_GET_MAX):
            pending: dict[str, Any] = {self._table: {"Keys": [
                key(table.user_pk(uid), table.PROFILE_SK) for uid in unique[start:start + _BATCH_GET_MAX]]}}
            while pending:
                with translated():
                    resp = client("dynamodb").batch_get_item(RequestItems=pending)
                for raw in resp["Responses"].get(self._table, []):
                    item = from_item(raw)
                    uid = str(item[table.PK])[len("USER#"):]
                    found[uid] = _profile(uid, item)
                pending = resp.get("UnprocessedKeys") or {}
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
        return _profile(user_id, from_item(resp["Attributes"]))

    def mark_first_seen(self, user_id: str, now_ms: int) -> None:
        with translated():
            client("dynamodb").update_item(
                TableName=self._table, Key=key(table.user_pk(user_id), table.PROFILE_SK),
                UpdateExpression=f"SET since = if_not_exists(since, :now), {BLOCKS_COUNT} = "
                                 f"if_not_exists({BLOCKS_COUNT}, :zero)",
                ExpressionAttributeValues={":now": {"N": str(now_ms)}, ":zero": {"N": "0"}})
