"""A user's data, found by key, for erasure and export (``parley.erasure``, ``parley.export``).

Their conversations are the ``MEMBER#`` and ``LEFT#`` items of their own partition; their messages are found by
walking each of those conversations' streams (a Query per page, filtered to their entries): the work grows with
the user's conversations, never with the table. No Scan."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Message, Report
from parley.ports import UserDataStore
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated
from parley.stores.messages import message_from_item

_MAX_SEQ = 10**table.SEQ_WIDTH - 1
_BATCH_WRITE_MAX = 25
_CONTENT = (table.ATTR_BODY, table.ATTR_EDITED_AT, table.ATTR_REPLY_TO, table.ATTR_MENTIONS)


class DynamoUserDataStore(UserDataStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def next_conversation(self, user_id: str, prefix: str, after: str | None) -> str | None:
        request: dict[str, Any] = {
            "TableName": self._table, "Limit": 1, "ProjectionExpression": "sk",
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": table.user_pk(user_id)}, ":prefix": {"S": prefix}}}
        if after is not None:
            request["ExclusiveStartKey"] = key(table.user_pk(user_id), f"{prefix}{after}")
        with translated():
            items = client("dynamodb").query(**request)["Items"]
        return str(items[0][table.SK]["S"])[len(prefix):] if items else None

    def stream_page(self, conversation_id: str, user_id: str, cursor: int, limit: int, *,
                    with_positions: bool) -> tuple[list[Message], int | None]:
        names = {"#f": table.ATTR_SENDER}
        mine = "#f = :me"
        if with_positions:
            names |= {"#o": table.ATTR_RECENT_SENDERS, "#me": user_id}
            mine += " OR attribute_exists(#o.#me)"
        with translated():
            resp = client("dynamodb").query(
                TableName=self._table, ConsistentRead=True, Limit=limit,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high", FilterExpression=mine,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":pk": {"S": table.conversation_pk(conversation_id)},
                                           ":low": {"S": table.message_sk(cursor + 1)},
                                           ":high": {"S": table.message_sk(_MAX_SEQ)}, ":me": {"S": user_id}})
        found = [message_from_item(conversation_id, from_item(raw)) for raw in resp["Items"]]
        last = resp.get("LastEvaluatedKey")
        return found, table.seq_of(last[table.SK]["S"]) if last else None

    def erase_message(self, message: Message, user_id: str, deleted_at: int, *, placeholder: bool) -> bool:
        item_key = key(table.conversation_pk(message.conversation_id), table.message_sk(message.seq))
        try:
            with translated():
                if placeholder:  # the whole item replaced: nothing of it is left but its place in the stream
                    client("dynamodb").put_item(
                        TableName=self._table, ConditionExpression="#f = :me", ExpressionAttributeNames={
                            "#f": table.ATTR_SENDER}, ExpressionAttributeValues={":me": {"S": user_id}},
                        Item={**item_key, **to_item({
                            table.ATTR_SENDER: "", table.ATTR_CLIENT_MSG_ID: "", table.ATTR_SENT_AT: message.sent_at,
                            table.ATTR_ORDINAL: message.ordinal or None,
                            table.ATTR_RECENT_SENDERS: {u: list(p) for u, p in message.recent_senders.items()
                                                        if u != user_id} or None,
                            table.ATTR_DELETED_AT: message.deleted_at or deleted_at})})
                    return True
                names = {f"#c{i}": a for i, a in enumerate(_CONTENT)}
                names |= {f"#r{i}": table.reaction_attribute(e) for i, e in enumerate(message.reactions)}
                names |= {"#f": table.ATTR_SENDER, "#d": table.ATTR_DELETED_AT}
                removed = ", ".join(n for n in names if n not in ("#f", "#d"))
                client("dynamodb").update_item(
                    TableName=self._table, Key=item_key, UpdateExpression=f"REMOVE {removed} SET #d = if_not_exists("
                    "#d, :at)", ConditionExpression="#f = :me", ExpressionAttributeNames=names,
                    ExpressionAttributeValues={":me": {"S": user_id}, ":at": {"N": str(deleted_at)}})
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def scrub_change(self, entry: Message, user_id: str, *, placeholder: bool) -> None:
        # an edit's text, or in an end-to-end encrypted conversation its envelope
        names = {"#e": table.ATTR_CHANGE, "#text": "text", "#env": "e2e", "#f": table.ATTR_SENDER}
        update = "REMOVE #e.#text, #e.#env"
        if placeholder:
            names |= {"#o": table.ATTR_RECENT_SENDERS, "#me": user_id}
            update = "REMOVE #e.#text, #e.#env, #o.#me SET #f = :nobody"
        self._update_if(entry.conversation_id, entry.seq, UpdateExpression=update, ConditionExpression="#f = :me",
                        ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(
                            {":me": user_id, **({":nobody": ""} if placeholder else {})}))

    def forget_position(self, conversation_id: str, seq: int, user_id: str) -> None:
        self._update_if(conversation_id, seq, UpdateExpression="REMOVE #o.#me",
                        ConditionExpression="attribute_exists(#o.#me)",
                        ExpressionAttributeNames={"#o": table.ATTR_RECENT_SENDERS, "#me": user_id})

    def remove_reaction(self, conversation_id: str, seq: int, emoji: str, user_id: str) -> None:
        self._update_if(conversation_id, seq, UpdateExpression="DELETE #r :me",
                        ConditionExpression="contains(#r, :one)",
                        ExpressionAttributeNames={"#r": table.reaction_attribute(emoji)},
                        ExpressionAttributeValues={":me": {"SS": [user_id]}, ":one": {"S": user_id}})

    def _update_if(self, conversation_id: str, seq: int, **update: Any) -> None:
        """A conditional update of one stream entry; a failed condition means it is done already."""
        try:
            with translated():
                client("dynamodb").update_item(
                    TableName=self._table, Key=key(table.conversation_pk(conversation_id), table.message_sk(seq)),
                    **update)
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def reports_by(self, conversation_id: str, user_id: str) -> list[Report]:
        request: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :pk", "FilterExpression": "reporter = :me",
            "ExpressionAttributeValues": {":pk": {"S": table.report_pk(conversation_id)}, ":me": {"S": user_id}}}
        found: list[Report] = []
        with translated():
            for page in client("dynamodb").get_paginator("query").paginate(**request):
                for raw in page["Items"]:
                    item = from_item(raw)
                    seq = int(str(item[table.SK]).split("#", 1)[0])
                    found.append(Report(conversation_id=conversation_id, seq=seq,
                                        message_id=str(item.get("messageId", "")),
                                        reported_user_id=str(item.get("reported", "")), reporter_id=user_id,
                                        reason=item.get("reason"), text="", reported_at=int(item.get("at", 0))))
        return found

    def delete(self, keys: list[tuple[str, str]]) -> None:
        requests = [{"DeleteRequest": {"Key": key(pk, sk)}} for pk, sk in dict.fromkeys(keys)]
        for start in range(0, len(requests), _BATCH_WRITE_MAX):
            pending: dict[str, Any] = {self._table: requests[start:start + _BATCH_WRITE_MAX]}
            while pending:
                with translated():
                    resp = client("dynamodb").batch_write_item(RequestItems=pending)
                pending = resp.get("UnprocessedItems") or {}

    def ban_keys(self, user_id: str) -> list[tuple[str, str]]:
        """The keys of the user's ban in force and of every entry of their ban history (parley.stores.bans)."""
        keys = [(table.user_pk(user_id), table.BAN_SK)]
        request: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True, "ProjectionExpression": "pk, sk",
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :log)",
            "ExpressionAttributeValues": {":pk": {"S": table.user_pk(user_id)}, ":log": {"S": table.BAN_LOG_PREFIX}}}
        while True:
            with translated():
                page = client("dynamodb").query(**request)
            keys += [(item["pk"]["S"], item["sk"]["S"]) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return keys
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def connection_ids(self, user_id: str) -> list[str]:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, ConsistentRead=True,
                                               Key=key(table.user_pk(user_id), table.CONNECTIONS_SK))
        return sorted(from_item(resp.get("Item", {})).get(table.ATTR_CONNECTIONS, {}))
