"""The stream's items on DynamoDB (moto): change entries and message state round-trip, entries stored before
change entries existed still count right, and read positions keep their ordinal and forget read mentions."""

from __future__ import annotations

from typing import Any

from parley import table
from parley.models import Change, ChangeKind, Message, MessageBody
from parley.read_state import read_position, unread_between
from parley.stores.codec import key
from parley.stores.conversations import DynamoConversationStore
from parley.stores.messages import DynamoMessageStore
from tests.integration.conftest import TABLE_NAME

CID = "g_stream"


def put_raw(ddb: Any, seq: int, **attrs: Any) -> None:
    item = {"pk": {"S": table.conversation_pk(CID)}, "sk": {"S": table.message_sk(seq)},
            "f": {"S": "bob"}, "t": {"N": str(1000 + seq)}, "c": {"S": f"b-{seq}"}, **attrs}
    ddb.put_item(TableName=TABLE_NAME, Item=item)


def test_a_change_entry_and_a_messages_state_round_trip(aws_env: Any) -> None:
    store = DynamoMessageStore(TABLE_NAME)
    message = Message(conversation_id=CID, seq=1, sender_id="bob", sent_at=1, client_msg_id="b-1",
                      body=MessageBody(text="hi"), ordinal=1, recent_senders={"bob": (1, 1)}, reply_to=None,
                      mentions=("alice",))
    entry = Message(conversation_id=CID, seq=2, sender_id="alice", sent_at=2, client_msg_id="~c", ordinal=1,
                    recent_senders={"bob": (1, 1)}, change=Change(kind=ChangeKind.REACTED, target=1, emoji="👍",
                                                                  count=1))
    store.append(message)
    store.append(entry)
    # a reaction kept on the message as a string set per emoji
    aws_env.update_item(TableName=TABLE_NAME, Key=key(table.conversation_pk(CID), table.message_sk(1)),
                        UpdateExpression="ADD #r :u", ExpressionAttributeNames={"#r": table.reaction_attribute("👍")},
                        ExpressionAttributeValues={":u": {"SS": ["alice"]}})
    got = store.get_many(CID, [1, 2, 3])
    assert set(got) == {1, 2}
    assert got[1].mentions == ("alice",) and got[1].reactions == {"👍": ("alice",)} and got[1].count == 1
    assert got[2] == entry and got[2].body is None


def test_entries_stored_before_change_entries_existed_count_by_their_seq(aws_env: Any) -> None:
    # given two messages in the old shape: no ordinal, recent senders as bare seqs
    put_raw(aws_env, 1, b={"M": {"text": {"S": "a"}}}, o={"M": {"bob": {"N": "1"}}})
    put_raw(aws_env, 2, b={"M": {"text": {"S": "b"}}}, o={"M": {"bob": {"N": "2"}}})
    store = DynamoMessageStore(TABLE_NAME)
    newest = store.latest([CID])[CID]
    assert newest is not None and newest.count == 2 and newest.recent_senders == {"bob": (2, 2)}
    # and a membership read up to 1 in the old shape (no ordinal) has one unread message
    aws_env.put_item(TableName=TABLE_NAME, Item={"pk": {"S": table.user_pk("alice")},
                                                 "sk": {"S": table.member_sk(CID)}, "at": {"N": "1"},
                                                 "lr": {"N": "1"}})
    membership = DynamoConversationStore(TABLE_NAME).membership("alice", CID)
    assert membership is not None
    assert unread_between(read_position(membership, newest), newest) == 1


def test_reading_keeps_the_ordinal_and_forgets_the_mentions_read(aws_env: Any) -> None:
    conversations = DynamoConversationStore(TABLE_NAME)
    aws_env.put_item(TableName=TABLE_NAME, Item={"pk": {"S": table.user_pk("alice")},
                                                 "sk": {"S": table.member_sk(CID)}, "at": {"N": "1"}})
    conversations.add_mention(["alice", "not-a-member"], CID, 3)
    conversations.add_mention(["alice"], CID, 3)  # twice is once
    conversations.add_mention(["alice"], CID, 9)
    before = conversations.membership("alice", CID)
    assert before is not None and before.mention_seqs == {3, 9} and before.unread_mentions(0) == 2
    after, was = conversations.mark_read("alice", CID, 5, 4)
    assert was.last_read_seq == 0 and after.last_read_seq == 5 and after.read_ordinal == 4
    stored = conversations.membership("alice", CID)
    assert stored is not None and stored.mention_seqs == {9} and stored.read_ordinal == 4
    # nobody who is not a member gets a membership item from a mention
    assert "Item" not in aws_env.get_item(TableName=TABLE_NAME,
                                          Key=key(table.user_pk("not-a-member"), table.member_sk(CID)))
