"""The server API's audit log: ``AUDIT#<day>`` / ``<at>#<entryId>`` (by time) and ``AUDITREF#<entryId>`` /
``<target>`` copies in index ``byKey`` (by target). See ``parley.table``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from parley import table
from parley.audit import AuditEntry, AuditPage, AuditStore
from parley.aws import client
from parley.errors import InvalidRequestError
from parley.stores.codec import from_item, to_item
from parley.stores.errors import translated

BATCH_WRITE_MAX = 25
# Days one time-range request reads at most before it answers (with a cursor, if the range goes on).
DAYS_PER_PAGE = 31


def _day(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d")


_INDEX_KEY = {table.PK, table.SK, table.INDEX.partition_key, table.INDEX.sort_key}


def _parse_day(day: object) -> datetime:
    try:
        return datetime.strptime(str(day), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequestError("cursor: not a cursor this API returned.") from None


def _entry(item: dict[str, Any]) -> AuditEntry:
    data = from_item(item)
    return AuditEntry(entry_id=data["entryId"], at=int(data["at"]), caller=data["caller"],
                      operation=data["operation"], status=int(data["status"]),
                      targets=tuple(data.get("targets") or ()), request_id=data.get("requestId"))


def _encode(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def _decode(cursor: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestError("cursor: not a cursor this API returned.") from None
    if not isinstance(decoded, dict):
        raise InvalidRequestError("cursor: not a cursor this API returned.")
    return decoded


class DynamoAuditStore(AuditStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def put(self, entry: AuditEntry, *, expires_at: int) -> None:
        fields = {"entryId": entry.entry_id, "at": entry.at, "caller": entry.caller, "operation": entry.operation,
                  "status": entry.status, "targets": list(entry.targets) or None, "requestId": entry.request_id,
                  table.TTL_ATTRIBUTE: expires_at}
        time_key = table.audit_time_key(entry.at, entry.entry_id)
        with translated():
            client("dynamodb").put_item(TableName=self._table, Item=to_item(
                {table.PK: table.audit_day_pk(_day(entry.at)), table.SK: time_key, **fields}))
        copies = [to_item({table.PK: table.audit_ref_pk(entry.entry_id), table.SK: target,
                           table.INDEX.partition_key: table.audit_target_ix(target),
                           table.INDEX.sort_key: time_key, **fields}) for target in entry.targets]
        copies.append(to_item({table.PK: table.audit_ref_pk(entry.entry_id), table.SK: table.AUDIT_CALLER_SK,
                               table.INDEX.partition_key: table.audit_caller_ix(entry.caller),
                               table.INDEX.sort_key: time_key, **fields}))
        for start in range(0, len(copies), BATCH_WRITE_MAX):
            pending: dict[str, Any] = {self._table: [{"PutRequest": {"Item": c}}
                                                     for c in copies[start:start + BATCH_WRITE_MAX]]}
            while pending:
                with translated():
                    pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    def by_time(self, start: int, end: int, limit: int, cursor: str | None) -> AuditPage:
        """Newest first, one day's partition after another, from ``end``'s day back to ``start``'s; a request
        reads at most ``DAYS_PER_PAGE`` days (then answers with a cursor)."""
        position = _decode(cursor) if cursor else {}
        day = _parse_day(position.get("d", _day(end)))
        first_day = _parse_day(_day(start))
        after = position.get("k")
        entries: list[AuditEntry] = []
        for _ in range(DAYS_PER_PAGE):
            if day < first_day:
                return AuditPage(entries=tuple(entries), cursor=None)
            day_pk = table.audit_day_pk(day.strftime("%Y-%m-%d"))
            kwargs: dict[str, Any] = {
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": to_item({":pk": day_pk, ":lo": table.audit_time_key(start, ""),
                                                      ":hi": table.audit_time_key(end, "~")}),
                "Limit": limit - len(entries)}
            if isinstance(after, str):
                kwargs["ExclusiveStartKey"] = to_item({table.PK: day_pk, table.SK: after})
            with translated():
                resp = client("dynamodb").query(TableName=self._table, ScanIndexForward=False, **kwargs)
            entries += [_entry(i) for i in resp.get("Items", [])]
            last = resp.get("LastEvaluatedKey")
            if last:
                return AuditPage(entries=tuple(entries),
                                 cursor=_encode({"d": day.strftime("%Y-%m-%d"), "k": last[table.SK]["S"]}))
            day, after = day - timedelta(days=1), None
            if len(entries) >= limit:
                break
        more = day >= first_day
        return AuditPage(entries=tuple(entries), cursor=_encode({"d": day.strftime("%Y-%m-%d")}) if more else None)

    def by_target(self, target: str, start: int, end: int, limit: int, cursor: str | None,
                  caller: str | None = None) -> AuditPage:
        return self._by_index(table.audit_target_ix(target), start, end, limit, cursor, caller)

    def by_caller(self, caller: str, start: int, end: int, limit: int, cursor: str | None) -> AuditPage:
        return self._by_index(table.audit_caller_ix(caller), start, end, limit, cursor, None)

    def _by_index(self, ix: str, start: int, end: int, limit: int, cursor: str | None,
                  caller: str | None) -> AuditPage:
        kwargs: dict[str, Any] = {
            "IndexName": table.INDEX.name,
            "KeyConditionExpression": "#ix = :ix AND #ixs BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#ix": table.INDEX.partition_key, "#ixs": table.INDEX.sort_key},
            "ExpressionAttributeValues": to_item({":ix": ix, ":lo": table.audit_time_key(start, ""),
                                                  ":hi": table.audit_time_key(end, "~")}),
            "Limit": limit,
        }
        if caller is not None:  # a target's entries by one caller: a page may hold fewer than ``limit``
            kwargs["FilterExpression"] = "caller = :caller"
            kwargs["ExpressionAttributeValues"][":caller"] = {"S": caller}
        if cursor:
            start_key = _decode(cursor)
            if set(start_key) != _INDEX_KEY or not all(isinstance(v, str) for v in start_key.values()):
                raise InvalidRequestError("cursor: not a cursor this API returned.")
            kwargs["ExclusiveStartKey"] = to_item(start_key)
        with translated():
            resp = client("dynamodb").query(TableName=self._table, ScanIndexForward=False, **kwargs)
        last = resp.get("LastEvaluatedKey")
        return AuditPage(entries=tuple(_entry(i) for i in resp.get("Items", [])),
                         cursor=_encode(from_item(last)) if last else None)
