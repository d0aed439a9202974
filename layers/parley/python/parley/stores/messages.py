"""Messages: ``CONV#<cid>`` / ``MSG#<seq>``, in the same item collection as the conversation's
``~META`` item so that ``send`` reads both with one Query."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.envelopes import Envelope
from parley.models import Change, ConversationHead, Message, MessageBody, MessagePage
from parley.ports import MessageStore, SeqTakenError
from parley.stores.batch import batch_get
from parley.stores.codec import from_item, key, to_item
from parley.stores.conversations import conversation_from_item
from parley.stores.errors import error_code, put_unless_there, translated

_MAX_SEQ = 10**table.SEQ_WIDTH - 1


def _position(value: Any) -> tuple[int, int]:
    # Entries stored before change entries existed carry a sender's seq alone: its ordinal then was its seq.
    if isinstance(value, list):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _plain(value: Any) -> Any:
    """A stored map with DynamoDB's numbers as ints (they are all integers): an envelope's model is strict."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value)
    return value


def message_from_item(conversation_id: str, item: dict[str, Any]) -> Message:
    # Items stored before message ids were derived also carry a random id (``i``): it is not read.
    body = item.get(table.ATTR_BODY)
    change = item.get(table.ATTR_CHANGE)
    reactions = {attr[len(table.REACTION_PREFIX):]: tuple(sorted(str(u) for u in users))
                 for attr, users in item.items() if attr.startswith(table.REACTION_PREFIX) and users}
    return Message(
        conversation_id=conversation_id, seq=table.seq_of(item[table.SK]), sender_id=item[table.ATTR_SENDER],
        sent_at=int(item[table.ATTR_SENT_AT]), client_msg_id=item[table.ATTR_CLIENT_MSG_ID],
        body=MessageBody.model_validate(_plain(body)) if body else None,
        ordinal=int(item.get(table.ATTR_ORDINAL, 0)),
        recent_senders={str(u): _position(p) for u, p in item.get(table.ATTR_RECENT_SENDERS, {}).items()},
        change=Change.model_validate(_plain(change)) if change else None,
        edited_at=int(item[table.ATTR_EDITED_AT]) if table.ATTR_EDITED_AT in item else None,
        deleted_at=int(item[table.ATTR_DELETED_AT]) if table.ATTR_DELETED_AT in item else None,
        reply_to=int(item[table.ATTR_REPLY_TO]) if table.ATTR_REPLY_TO in item else None,
        mentions=tuple(str(u) for u in item.get(table.ATTR_MENTIONS, ())), reactions=reactions)


def entry_item(message: Message) -> dict[str, Any]:
    """The item that stores a new stream entry (a message has no edits, deletion or reactions yet)."""
    return to_item({
        table.PK: table.conversation_pk(message.conversation_id), table.SK: table.message_sk(message.seq),
        table.ATTR_SENDER: message.sender_id,
        table.ATTR_SENT_AT: message.sent_at, table.ATTR_CLIENT_MSG_ID: message.client_msg_id,
        table.ATTR_BODY: message.body.model_dump(by_alias=True, exclude_none=True) if message.body else None,
        table.ATTR_ORDINAL: message.ordinal or None,
        table.ATTR_RECENT_SENDERS: {u: list(p) for u, p in message.recent_senders.items()} or None,
        table.ATTR_CHANGE: message.change.model_dump(by_alias=True, exclude_none=True, mode="json")
        if message.change else None,
        table.ATTR_REPLY_TO: message.reply_to,
        table.ATTR_MENTIONS: list(message.mentions) or None,
    })



def _is_message(item: dict[str, Any]) -> bool:
    return str(item[table.SK]).startswith(table.MSG_PREFIX)


class DynamoMessageStore(MessageStore):
    def __init__(self, table_name: str, workers: int = 16) -> None:
        self._table = table_name
        self._workers = workers

    def head(self, conversation_id: str, window: int) -> ConversationHead:
        with translated():
            resp = client("dynamodb").query(
                TableName=self._table, ConsistentRead=True, ScanIndexForward=False, Limit=window + 1,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": table.conversation_pk(conversation_id)}})
        items = [from_item(raw) for raw in resp["Items"]]
        if not items or items[0][table.SK] != table.META_SK:
            return ConversationHead(conversation=None)
        recent = tuple(message_from_item(conversation_id, i) for i in items[1:] if _is_message(i))
        return ConversationHead(conversation=conversation_from_item(items[0]), recent=recent,
                                newest=recent[0] if recent else None)

    def head_after(self, conversation_id: str, last_seq: int, max_messages: int) -> ConversationHead:
        # Forward from the message at last_seq: the messages after it, then ~META (which sorts after every
        # MSG# key) close the page. One strongly consistent Query when few messages follow last_seq.
        with translated():
            resp = client("dynamodb").query(
                TableName=self._table, ConsistentRead=True, ScanIndexForward=True, Limit=max_messages + 2,
                KeyConditionExpression="pk = :pk AND sk >= :from",
                ExpressionAttributeValues={":pk": {"S": table.conversation_pk(conversation_id)},
                                           ":from": {"S": table.message_sk(max(last_seq, 1))}})
        items = [from_item(raw) for raw in resp["Items"]]
        if not items or items[-1][table.SK] != table.META_SK:
            if "LastEvaluatedKey" not in resp:
                return ConversationHead(conversation=None)  # no ~META: no such conversation
            # More than max_messages follow last_seq: the conversation and its newest message only.
            head = self.head(conversation_id, 1)
            return head.model_copy(update={"recent": (), "complete": False})
        messages = [message_from_item(conversation_id, i) for i in items[:-1] if _is_message(i)]
        return ConversationHead(conversation=conversation_from_item(items[-1]),
                                recent=tuple(reversed([m for m in messages if m.seq > last_seq])),
                                newest=messages[-1] if messages else None)

    def get(self, conversation_id: str, seq: int) -> Message | None:
        with translated():
            resp = client("dynamodb").get_item(
                TableName=self._table, ConsistentRead=True,
                Key=key(table.conversation_pk(conversation_id), table.message_sk(seq)))
        return message_from_item(conversation_id, from_item(resp["Item"])) if "Item" in resp else None

    def append(self, message: Message) -> None:
        there = put_unless_there(self._table, entry_item(message))
        if there is None:
            return
        # DynamoDB returns the item that holds the seq; read it if an endpoint did not (entries are never
        # deleted, so it is there: a deleted message stays as its tombstone)
        winner = message_from_item(message.conversation_id, from_item(there)) if there \
            else self.get(message.conversation_id, message.seq)
        if winner is None:
            raise LookupError(f"seq {message.seq} was taken, and then held nothing")  # an error: put it again
        raise SeqTakenError(winner)

    def page(self, conversation_id: str, *, before: int | None, after: int | None, limit: int,
             floor: int = 1) -> MessagePage:
        low = max((after or 0) + 1, floor)
        high = min(before - 1, _MAX_SEQ) if before is not None else _MAX_SEQ
        if low > high:
            return MessagePage(messages=(), has_more=False)
        # With `after` (catch-up) a page goes forward from the gap; otherwise backward from the newest.
        forward = after is not None
        with translated():
            resp = client("dynamodb").query(
                TableName=self._table, ConsistentRead=True, ScanIndexForward=forward, Limit=limit + 1,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                ExpressionAttributeValues={":pk": {"S": table.conversation_pk(conversation_id)},
                                           ":low": {"S": table.message_sk(low)},
                                           ":high": {"S": table.message_sk(high)}})
        messages = [message_from_item(conversation_id, from_item(raw)) for raw in resp["Items"]]
        has_more = len(messages) > limit
        messages = messages[:limit]
        if not forward:
            messages.reverse()
        return MessagePage(messages=tuple(messages), has_more=has_more)

    def get_many(self, conversation_id: str, seqs: list[int]) -> dict[int, Message]:
        keys = [key(table.conversation_pk(conversation_id), table.message_sk(s)) for s in dict.fromkeys(seqs)]
        found = (message_from_item(conversation_id, item) for item in batch_get(self._table, keys, ConsistentRead=True))
        return {m.seq: m for m in found}

    def latest(self, conversation_ids: list[str]) -> dict[str, Message | None]:
        ids = list(dict.fromkeys(conversation_ids))
        if len(ids) <= 1:
            return {cid: self._latest(cid) for cid in ids}
        with ThreadPoolExecutor(max_workers=min(self._workers, len(ids))) as pool:
            return dict(zip(ids, pool.map(self._latest, ids), strict=True))

    def _latest(self, conversation_id: str) -> Message | None:
        with translated():
            resp = client("dynamodb").query(
                TableName=self._table, ScanIndexForward=False, Limit=1,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                ExpressionAttributeValues={":pk": {"S": table.conversation_pk(conversation_id)},
                                           ":low": {"S": table.message_sk(1)},
                                           ":high": {"S": table.message_sk(_MAX_SEQ)}})
        items = resp["Items"]
        return message_from_item(conversation_id, from_item(items[0])) if items else None

    # -- changes to a message (parley.message_changes) ----------------------------------------------------------

    def edit(self, conversation_id: str, seq: int, *, sender_id: str, text: str | None, edited_at: int,
             sent_since: int, envelope: Envelope | None = None) -> Message | None:
        # The body's text, or in an end-to-end encrypted conversation its envelope. An envelope is never the same
        # twice (its signature covers random nonces and keys): the same signature again is a retry, which changes
        # nothing; comparing that one string keeps the condition to strings.
        names = {"#b": table.ATTR_BODY, "#ed": table.ATTR_EDITED_AT, "#f": table.ATTR_SENDER,
                 "#d": table.ATTR_DELETED_AT, "#t": table.ATTR_SENT_AT}
        values: dict[str, Any] = {":at": edited_at, ":me": sender_id, ":since": sent_since}
        if envelope is None:
            names["#text"], values[":text"], values[":same"] = "text", text, text
            same = "#b.#text"
        else:
            names |= {"#text": "e2e", "#sig": "sig"}
            values[":text"], values[":same"] = envelope.model_dump(), envelope.sig
            same = "#b.#text.#sig"
        condition = "#f = :me AND attribute_exists(#b) AND attribute_not_exists(#d) AND #t >= :since " \
                    f"AND (attribute_not_exists({same}) OR {same} <> :same)"
        updated = _update_if(self._table, conversation_id, seq, ReturnValues="ALL_NEW",
                             UpdateExpression="SET #b.#text = :text, #ed = :at", ConditionExpression=condition,
                             ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))
        return message_from_item(conversation_id, updated) if updated is not None else None

    def tombstone(self, conversation_id: str, seq: int, *, deleted_at: int, sender_id: str | None,
                  reactions: tuple[str, ...]) -> Message | None:
        names = {"#b": table.ATTR_BODY, "#ed": table.ATTR_EDITED_AT, "#rt": table.ATTR_REPLY_TO,
                 "#mn": table.ATTR_MENTIONS, "#d": table.ATTR_DELETED_AT}
        names |= {f"#r{i}": table.reaction_attribute(e) for i, e in enumerate(reactions)}
        condition = "attribute_exists(#b) AND attribute_not_exists(#d)"
        values: dict[str, Any] = {":at": deleted_at}
        if sender_id is not None:
            condition += " AND #f = :me"
            names["#f"], values[":me"] = table.ATTR_SENDER, sender_id
        removed = ", ".join(n for n in names if n not in ("#d", "#f"))
        old = _update_if(self._table, conversation_id, seq, ReturnValues="ALL_OLD",
                         UpdateExpression=f"REMOVE {removed} SET #d = :at", ConditionExpression=condition,
                         ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))
        if old is None:
            return None
        # Reactions added between the caller's read and this write: removed too (none can be added any more)
        late = [a for a in old if a.startswith(table.REACTION_PREFIX) and a not in names.values()]
        if late:
            with translated():
                client("dynamodb").update_item(
                    TableName=self._table, Key=key(table.conversation_pk(conversation_id), table.message_sk(seq)),
                    UpdateExpression="REMOVE " + ", ".join(f"#r{i}" for i in range(len(late))),
                    ExpressionAttributeNames={f"#r{i}": a for i, a in enumerate(late)})
        return message_from_item(conversation_id, old)

    def react(self, conversation_id: str, seq: int, *, emoji: str, user_id: str,
              add: bool) -> tuple[bool, int, int] | None:
        attribute = table.reaction_attribute(emoji)
        # ALL_OLD, not UPDATED_OLD: an ADD of a user already in the set updates nothing, and an endpoint may then
        # return nothing for the attribute (moto does), which would read as "no one had reacted"
        old = _update_if(self._table, conversation_id, seq, ReturnValues="ALL_OLD",
                         UpdateExpression=("ADD" if add else "DELETE") + " #r :u",
                         ConditionExpression="attribute_exists(#b) AND attribute_not_exists(#d)",
                         ExpressionAttributeNames={"#r": attribute, "#b": table.ATTR_BODY,
                                                   "#d": table.ATTR_DELETED_AT},
                         ExpressionAttributeValues={":u": {"SS": [user_id]}})
        if old is None:
            return None
        users = {str(u) for u in old.get(attribute, ())}
        others = sum(1 for a in old if a.startswith(table.REACTION_PREFIX) and a != attribute)
        if add:
            return user_id not in users, len(users | {user_id}), others
        return user_id in users, len(users - {user_id}), others


def _update_if(table_name: str, conversation_id: str, seq: int, **update: Any) -> dict[str, Any] | None:
    """A conditional UpdateItem of one stream entry: what it returned (ReturnValues), or None when the condition
    failed (nothing changed)."""
    try:
        with translated():
            resp = client("dynamodb").update_item(
                TableName=table_name, Key=key(table.conversation_pk(conversation_id), table.message_sk(seq)),
                **update)
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return None
        raise
    return from_item(resp.get("Attributes", {}))
