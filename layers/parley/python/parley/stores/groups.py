"""Group changes: ``CONV#<cid>`` / ``~META``, the change entry ``CONV#<cid>`` / ``MSG#<seq>`` and the memberships
``USER#<uid>`` / ``MEMBER#<cid>`` it creates or deletes (with a ``USER#<uid>`` / ``LEFT#<cid>`` marker for each
member it removes), written in one TransactWriteItems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Conversation, Message
from parley.ports import GroupChangedError, GroupStore, SeqTakenError
from parley.stores.codec import from_item, key, to_item
from parley.stores.conversations import member_item, meta_item
from parley.stores.errors import cancellation_reasons, condition_failed, translated
from parley.stores.messages import entry_item, message_from_item

# A transaction's items, in this order: the group, the change entry, then the memberships.
_META, _ENTRY = 0, 1


class DynamoGroupStore(GroupStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def apply(self, before: Conversation, after: Conversation, entry: Message, joined: list[str],
              left: list[str]) -> None:
        version = ("v = :v", {":v": {"N": str(before.version)}}) if before.version \
            else ("attribute_not_exists(v)", {})
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table, "Item": meta_item(after),
                     "ConditionExpression": f"attribute_exists(pk) AND {version[0]}",
                     **({"ExpressionAttributeValues": version[1]} if version[1] else {})}},
            {"Put": {"TableName": self._table, "Item": entry_item(entry),
                     "ConditionExpression": "attribute_not_exists(pk)",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            *({"Put": {"TableName": self._table,
                       "Item": member_item(u, after, entry.sent_at, read=(entry.seq, entry.ordinal))}}
              for u in joined),
            *({"Delete": {"TableName": self._table,
                          "Key": key(table.user_pk(u), table.member_sk(after.conversation_id))}} for u in left),
            # where erasure and export find the messages of those who left (parley.erasure)
            *({"Put": {"TableName": self._table, "Item": to_item({
                table.PK: table.user_pk(u), table.SK: table.left_sk(after.conversation_id), "at": entry.sent_at})}}
              for u in left),
        ]
        try:
            with translated():
                client("dynamodb").transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if reasons is None:
                raise
            failed = [condition_failed(r) for r in reasons]
            if len(failed) > _ENTRY and failed[_ENTRY]:
                raise SeqTakenError(self._winner(entry, reasons[_ENTRY])) from exc
            if failed and failed[_META]:
                raise GroupChangedError() from exc
            raise  # another transaction on the same items at that moment, or throttling: an error, retried

    def _winner(self, entry: Message, reason: Mapping[str, Any]) -> Message:
        there = reason.get("Item")
        if there:
            return message_from_item(entry.conversation_id, from_item(dict(there)))
        with translated():  # an endpoint that did not return the item: read it
            resp = client("dynamodb").get_item(
                TableName=self._table, ConsistentRead=True,
                Key=key(table.conversation_pk(entry.conversation_id), table.message_sk(entry.seq)))
        if "Item" not in resp:
            raise LookupError(f"seq {entry.seq} was taken, and then held nothing")
        return message_from_item(entry.conversation_id, from_item(resp["Item"]))



