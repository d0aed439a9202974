"""Bans: ``USER#<uid>`` / ``~BAN`` (the ban in force, TTL'd at its end, in the index as ``BANS``) and the
history ``USER#<uid>`` / ``BANLOG#<at>#<action>`` (in the index as ``BANLOG``)."""

from __future__ import annotations

from typing import Any

from parley import table
from parley.aws import client
from parley.models import Ban, BanAction, BanEntry
from parley.ports import BanStore
from parley.stores.batch import transact_unless_first_fails
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import translated
from parley.stores.pages import decode_cursor, encode_cursor

_INDEX_KEYS = (table.PK, table.SK, table.INDEX.partition_key, table.INDEX.sort_key)


def _ban_item(ban: Ban) -> dict[str, Any]:
    return to_item({
        table.PK: table.user_pk(ban.user_id), table.SK: table.BAN_SK,
        table.INDEX.partition_key: table.IX_BANS, table.INDEX.sort_key: table.ban_index_sk(ban.banned_at, ban.user_id),
        "uid": ban.user_id, "at": ban.banned_at, "until": ban.until, "reason": ban.reason, "by": ban.by,
        # DynamoDB deletes a temporary ban some time after it ends; until then it is read as ended
        table.TTL_ATTRIBUTE: None if ban.until is None else ban.until // 1000 + 1,
    })


def _entry_item(entry: BanEntry) -> dict[str, Any]:
    return to_item({
        table.PK: table.user_pk(entry.user_id), table.SK: table.ban_log_sk(entry.at, entry.action.value),
        table.INDEX.partition_key: table.IX_BAN_LOG,
        table.INDEX.sort_key: table.ban_index_sk(entry.at, entry.user_id),
        "uid": entry.user_id, "action": entry.action.value, "at": entry.at, "by": entry.by, "until": entry.until,
        "reason": entry.reason,
    })


def _ban(item: dict[str, Any]) -> Ban:
    until = item.get("until")
    return Ban(user_id=str(item["uid"]), banned_at=int(item["at"]), until=None if until is None else int(until),
               reason=item.get("reason"), by=str(item["by"]))


def _entry(item: dict[str, Any]) -> BanEntry:
    until = item.get("until")
    return BanEntry(user_id=str(item["uid"]), action=BanAction(item["action"]), at=int(item["at"]),
                    by=str(item["by"]), until=None if until is None else int(until), reason=item.get("reason"))


class DynamoBanStore(BanStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def ban(self, ban: Ban) -> None:
        entry = BanEntry(user_id=ban.user_id, action=BanAction.BANNED, at=ban.banned_at, by=ban.by,
                         until=ban.until, reason=ban.reason)
        with translated():
            client("dynamodb").transact_write_items(TransactItems=[
                {"Put": {"TableName": self._table, "Item": _ban_item(ban)}},
                {"Put": {"TableName": self._table, "Item": _entry_item(entry)}},
            ])

    def unban(self, user_id: str, entry: BanEntry) -> bool:
        return transact_unless_first_fails([
            {"Delete": {"TableName": self._table, "Key": key(table.user_pk(user_id), table.BAN_SK),
                        "ConditionExpression": "attribute_exists(pk)"}},
            {"Put": {"TableName": self._table, "Item": _entry_item(entry)}},
        ])

    def record(self, entry: BanEntry) -> None:
        with translated():
            client("dynamodb").put_item(TableName=self._table, Item=_entry_item(entry))

    def get(self, user_id: str, *, consistent: bool = True) -> Ban | None:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, Key=key(table.user_pk(user_id), table.BAN_SK),
                                               ConsistentRead=consistent)
        return _ban(from_item(resp["Item"])) if "Item" in resp else None

    def page(self, limit: int, cursor: str | None) -> tuple[list[Ban], str | None]:
        items, after = self._index_page(table.IX_BANS, limit, cursor)
        return [_ban(i) for i in items], after

    def history(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[BanEntry], str | None]:
        request: dict[str, Any] = {
            "TableName": self._table, "Limit": limit, "ScanIndexForward": False,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": table.user_pk(user_id), ":prefix": table.BAN_LOG_PREFIX})}
        start = decode_cursor(cursor, (table.PK, table.SK))
        if start is not None:
            request["ExclusiveStartKey"] = start
        with translated():
            resp = client("dynamodb").query(**request)
        return [_entry(from_item(i)) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey"))

    def _index_page(self, partition: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        request: dict[str, Any] = {
            "TableName": self._table, "IndexName": table.INDEX.name, "Limit": limit, "ScanIndexForward": False,
            "KeyConditionExpression": "ix = :ix", "ExpressionAttributeValues": to_item({":ix": partition})}
        start = decode_cursor(cursor, _INDEX_KEYS)
        if start is not None:
            request["ExclusiveStartKey"] = start
        with translated():
            resp = client("dynamodb").query(**request)
        return [from_item(i) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey"))
