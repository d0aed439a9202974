"""Connection records: one item per user, ``USER#<uid>`` / ``~CONNS``, whose map ``c`` holds each open
WebSocket: connection id -> ``{"at": opened (epoch ms), "x": expires (epoch s), "f": frame format}``.

* ``$connect`` adds its entry with one conditional UpdateItem: the map holds fewer than ``max_per_user``
  entries, or already this connection id (a retried ``$connect``). DynamoDB applies the writes to one item one
  at a time, so handshakes racing each other can never take a user past the cap. An entry past its expiry
  does not count: when the map is full, the update that adds the new entry also removes the expired ones
  (on the condition that they are still there), so a dead connection never blocks a new one.
* ``$disconnect`` and a 410 Gone prune remove their own connection id's entry, and only that.
* The item's TTL (``expiresAt``) is its newest entry's expiry: every connection expires the same time after
  it opened (API Gateway closes every connection after 2 hours), so the item goes after its last connection.
* Fan-out reads the items of all of a message's recipients with BatchGetItem: one call per 100 users,
  eventually consistent (0.5 RRU per user). Keys DynamoDB leaves unprocessed are asked again with backoff; users
  still unprocessed after that are left out of the answer (not known).
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Connection, FrameFormat
from parley.ports import ConnectionStore
from parley.stores.batch import BATCH_GET_MAX
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated

_CLAIM_ATTEMPTS = 5  # a claim whose condition failed is tried again knowing the item as it was then
_BATCH_ATTEMPTS = 5  # calls for the same keys while DynamoDB leaves some unprocessed
_BATCH_BACKOFF_S = 0.02  # doubled after each call that left keys unprocessed (20, 40, 80, 160 ms)
_MAP = "#c"
_PRUNE_MAX = 20  # expired entries removed by one claim (enough to make room; keeps the expression small)


def _connections(user_id: str, item: dict[str, Any] | None, now_ms: int) -> list[Connection]:
    """The live connections in a user's item (expired entries are gone for us: TTL deletion is lazy)."""
    entries: dict[str, Any] = (item or {}).get(table.ATTR_CONNECTIONS) or {}
    return [Connection(connection_id=cid, user_id=user_id, connected_at=int(entry["at"]),
                       frame_format=FrameFormat(entry.get("f", FrameFormat.FULL)))
            for cid, entry in sorted(entries.items(), key=lambda e: int(e[1]["at"]))
            if int(entry["x"]) > now_ms // 1000]


class DynamoConnectionStore(ConnectionStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def claim(self, connection: Connection, expires_at: int, max_per_user: int, now_ms: int) -> bool:
        entry = {"at": connection.connected_at, "x": expires_at, "f": connection.frame_format.value}
        known: dict[str, Any] | None = None  # the item as the last failed attempt saw it (None: not read yet)
        for _attempt in range(_CLAIM_ATTEMPTS):
            entries: dict[str, Any] | None = None if known is None else known.get(table.ATTR_CONNECTIONS)
            if known is not None and entries is None:
                request = self._create(connection.connection_id, entry, expires_at)
            else:
                expired = [cid for cid, e in (entries or {}).items()
                           if int(e["x"]) <= now_ms // 1000 and cid != connection.connection_id][:_PRUNE_MAX]
                if entries is not None and connection.connection_id not in entries \
                        and len(entries) - len(expired) >= max_per_user:
                    return False
                request = self._add(connection.connection_id, entry, expires_at, max_per_user, expired)
            try:
                with translated():
                    client("dynamodb").update_item(TableName=self._table, Key=self._key(connection.user_id),
                                                   ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                old: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
                known = from_item(old)  # raced, full, or no map yet: try again, knowing the item as it was
                continue
            return True
        return False  # other handshakes kept changing the item under us: as full as it gets

    @staticmethod
    def _create(connection_id: str, entry: dict[str, Any], expires_at: int) -> dict[str, Any]:
        """The user's first connection since their item expired: the map, holding this one entry."""
        return {"UpdateExpression": f"SET {_MAP} = :m, #ttl = :ttl",
                "ConditionExpression": f"attribute_not_exists({_MAP})",
                "ExpressionAttributeNames": {_MAP: table.ATTR_CONNECTIONS, "#ttl": table.TTL_ATTRIBUTE},
                "ExpressionAttributeValues": to_item({":m": {connection_id: entry}, ":ttl": expires_at})}

    @staticmethod
    def _add(connection_id: str, entry: dict[str, Any], expires_at: int, max_per_user: int,
             expired: list[str]) -> dict[str, Any]:
        """Add the entry while the map has room once ``expired`` (removed in the same update) are gone."""
        names = {_MAP: table.ATTR_CONNECTIONS, "#id": connection_id, "#ttl": table.TTL_ATTRIBUTE}
        names.update({f"#x{i}": cid for i, cid in enumerate(expired)})
        update = f"SET {_MAP}.#id = :e, #ttl = :ttl"
        condition = f"attribute_exists({_MAP}) AND (size({_MAP}) < :room OR attribute_exists({_MAP}.#id))"
        if expired:
            update += " REMOVE " + ", ".join(f"{_MAP}.#x{i}" for i in range(len(expired)))
            condition += "".join(f" AND attribute_exists({_MAP}.#x{i})" for i in range(len(expired)))
        return {"UpdateExpression": update, "ConditionExpression": condition, "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item({":e": entry, ":ttl": expires_at,
                                                      ":room": max_per_user + len(expired)})}

    def delete(self, user_id: str, connection_id: str) -> None:
        try:  # only this connection's entry, if it is still there
            with translated():
                client("dynamodb").update_item(
                    TableName=self._table, Key=self._key(user_id), UpdateExpression=f"REMOVE {_MAP}.#id",
                    ConditionExpression=f"attribute_exists({_MAP}.#id)",
                    ExpressionAttributeNames={_MAP: table.ATTR_CONNECTIONS, "#id": connection_id})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def list_for_user(self, user_id: str, now_ms: int) -> list[Connection]:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, Key=self._key(user_id), ConsistentRead=True)
        return _connections(user_id, from_item(resp["Item"]) if "Item" in resp else None, now_ms)

    def list_for_users(self, user_ids: list[str], now_ms: int) -> dict[str, list[Connection]]:
        unique = list(dict.fromkeys(user_ids))
        found: dict[str, list[Connection]] = {}
        for start in range(0, len(unique), BATCH_GET_MAX):
            chunk = unique[start:start + BATCH_GET_MAX]
            items = self._batch_get(chunk)
            found.update({uid: _connections(uid, items[uid], now_ms) for uid in chunk if uid in items})
        return found

    def _batch_get(self, user_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """Each user's item (None: none stored); users whose keys stayed unprocessed are left out."""
        items: dict[str, dict[str, Any] | None] = {}
        pending: list[dict[str, Any]] = [self._key(uid) for uid in user_ids]
        for attempt in range(_BATCH_ATTEMPTS):
            if attempt:
                time.sleep(_BATCH_BACKOFF_S * 2 ** (attempt - 1))
            with translated():
                resp = client("dynamodb").batch_get_item(RequestItems={self._table: {"Keys": pending}})
            for raw in resp.get("Responses", {}).get(self._table, []):
                item = from_item(raw)
                items[str(item[table.PK])[len("USER#"):]] = item
            pending = resp.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
            if not pending:
                break
        unknown = {str(k[table.PK]["S"])[len("USER#"):] for k in pending}
        return {uid: items.get(uid) for uid in user_ids if uid not in unknown}

    @staticmethod
    def _key(user_id: str) -> dict[str, Any]:
        return key(table.user_pk(user_id), table.CONNECTIONS_SK)
