"""edit, delete and react through the real handlers under moto: conditional updates, tombstones that really
remove the content (item attributes and S3 objects), live change frames, and refusals that change nothing."""

from __future__ import annotations

import json
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley import table
from tests.integration.conftest import Chat, FakeConnectionsApi, all_items
from tests.integration.uploads import BUCKET, s3_event, upload
from tests.support.events import message_event
from tests.support.handlers import invoke
from tests.support.images import jpeg_with_gps


def change(chat: Chat, action: str, cid: str, seq: int, **fields: Any) -> dict[str, Any]:
    return chat.call("changes", {"action": action, "conversationId": cid, "seq": seq, **fields})


def group(alice: Chat, *others: str) -> str:
    answer = alice.call("conversations", {"action": "createGroup", "members": list(others), "name": "g"})
    cid: str = answer["conversation"]["conversationId"]
    return cid


def item(ddb: Any, cid: str, seq: int) -> dict[str, Any]:
    found: dict[str, Any] = ddb.get_item(TableName="parley-test", ConsistentRead=True, Key={
        "pk": {"S": table.conversation_pk(cid)}, "sk": {"S": table.message_sk(seq)}})["Item"]
    return found


def test_an_edit_goes_live_and_history_shows_the_new_text(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1", "full").connect()
    cid = group(alice, "bob")
    alice.send(cid, "helo", "c1")
    answer = change(alice, "edit", cid, 1, text="hello", requestId="r1")
    assert answer == {"type": "changed", "conversationId": cid, "kind": "edited", "target": 1, "seq": 2,
                      "ref": "r1"}
    [live] = [f for f in connections_api.frames_for("b1") if f.get("type") == "change"]
    assert (live["kind"], live["target"], live["text"], live["by"]) == ("edited", 1, "hello", "alice")
    assert not [f for f in connections_api.frames_for("a1") if f.get("t") == "chg"]  # it got the answer instead
    [shown] = bob.history(cid)["messages"]
    assert shown["body"] == {"text": "hello"} and shown["editedAt"] == live["editedAt"]


def test_a_conditional_edit_refuses_others_and_late_edits_and_changes_nothing(aws_env: Any, configure: Any) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = group(alice, "bob")
    alice.send(cid, "hello", "c1")
    before = all_items(aws_env)
    assert change(bob, "edit", cid, 1, text="mine")["code"] == "not_allowed"
    configure(PARLEY_EDIT_WINDOW_SECONDS="0")
    assert change(alice, "edit", cid, 1, text="late")["code"] == "edit_window_closed"
    assert all_items(aws_env) == before


def test_a_tombstone_really_removes_the_content(aws_env: Any) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = group(alice, "bob")
    alice.send(cid, "secret", "c1")
    change(alice, "edit", cid, 1, text="secret!")
    change(bob, "react", cid, 1, emoji="👍")
    change(alice, "react", cid, 1, emoji="🎉")
    answer = change(alice, "delete", cid, 1)
    assert answer["kind"] == "deleted" and answer["seq"] == 5
    stored = item(aws_env, cid, 1)
    assert table.ATTR_DELETED_AT in stored
    assert not {table.ATTR_BODY, table.ATTR_EDITED_AT} & set(stored)
    assert not [a for a in stored if a.startswith(table.REACTION_PREFIX)]
    [tombstone] = bob.history(cid)["messages"]
    assert tombstone.get("deleted") is True and "b" not in tombstone and "reactions" not in tombstone
    # deleting again: the same answer, no second entry
    assert change(alice, "delete", cid, 1) == answer
    assert len(Chat("bob", "b1").history(cid, after=0)["messages"]) == 5


def test_reactions_count_users_once_and_history_says_which_are_mine(aws_env: Any) -> None:
    alice, bob, carol = Chat("alice", "a1").connect(), Chat("bob", "b1").connect(), Chat("carol", "c1").connect()
    cid = group(alice, "bob", "carol")
    alice.send(cid, "hi", "m1")
    assert change(bob, "react", cid, 1, emoji="👍")["count"] == 1
    assert change(carol, "react", cid, 1, emoji="👍")["count"] == 2
    again = change(carol, "react", cid, 1, emoji="👍")
    assert again["seq"] == 3 and again["count"] == 2  # already there: the entry that put it there, nothing stored
    assert len(bob.history(cid, after=0)["messages"]) == 3
    [message] = bob.history(cid)["messages"]
    assert message["reactions"] == [{"emoji": "👍", "count": 2, "me": True}]
    [message] = alice.history(cid)["messages"]
    assert message["reactions"] == [{"emoji": "👍", "count": 2, "me": False}]
    assert change(bob, "react", cid, 1, emoji="👍", remove=True)["count"] == 1
    assert item(aws_env, cid, 1)[table.reaction_attribute("👍")] == {"SS": ["carol"]}


def test_deleting_a_photo_deletes_its_objects_and_refuses_its_urls(aws_env: Any, bucket: Any) -> None:
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = alice.open_direct("bob")
    data = jpeg_with_gps(300, 200)
    key = upload(alice, cid, data, "image/jpeg")
    invoke("thumbnails", s3_event(key))
    alice.send_body(cid, {"attachments": [{"key": key, "contentType": "image/jpeg", "size": len(data)}]}, "c1")
    urls = bob.call("uploads", {"action": "attachmentUrls", "conversationId": cid, "keys": [key]})
    assert urls["type"] == "attachmentUrls"
    assert len(bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])) == 3  # upload, served copy, thumbnail
    assert change(alice, "delete", cid, 1)["kind"] == "deleted"
    assert bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []
    refused = bob.call("uploads", {"action": "attachmentUrls", "conversationId": cid, "keys": [key]})
    assert refused["code"] == "attachment_deleted"
    assert "b" not in bob.history(cid)["messages"][0]


def test_a_thumbnail_made_after_the_delete_is_thrown_away(aws_env: Any, bucket: Any) -> None:
    alice = Chat("alice", "a1").connect()
    cid = alice.open_direct("bob")
    data = jpeg_with_gps(300, 200)
    key = upload(alice, cid, data, "image/jpeg")
    alice.send_body(cid, {"attachments": [{"key": key, "contentType": "image/jpeg", "size": len(data)}]}, "c1")
    # the thumbnail maker read the upload before the delete, and writes its copies after it
    original = bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    change(alice, "delete", cid, 1)
    bucket.put_object(Bucket=BUCKET, Key=key, Body=original, ContentType="image/jpeg")
    invoke("thumbnails", s3_event(key))
    assert bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []


REFUSALS = [
    ("edit", {"text": "x"}), ("edit", {"text": ""}), ("edit", {"text": "y" * 65}), ("delete", {}),
    ("react", {"emoji": "👍"}), ("react", {"emoji": "ab"}), ("react", {"emoji": "👍", "remove": "yes"}),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(REFUSALS), user=st.sampled_from(["bob", "mallory", "carol"]),
       seq=st.sampled_from([0, 2, 3, 99, -1, "1", None]), extra=st.booleans())
def test_refused_changes_change_nothing(aws_env: Any, case: tuple[str, dict[str, Any]], user: str, seq: Any,
                                        extra: bool) -> None:
    """Given a group where carol blocked bob (so bob's message 1 is hidden from her), message 2 is deleted and
    3 is a change entry: any change by a non-member, to someone else's message, to a hidden, deleted or
    missing one, or with a bad field is refused with a known code and leaves the table as it was."""
    if not all_items(aws_env):
        alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
        cid = group(alice, "bob", "carol")
        Chat("carol", "c1").call("blocks", {"action": "block", "userId": "bob"})
        bob.send(cid, "from bob", "m1")
        alice.send(cid, "from alice", "m2")
        change(alice, "delete", cid, 2)
        aws_env.put_item(TableName="parley-test", Item={"pk": {"S": "TEST#cid"}, "sk": {"S": "~"},
                                                        "cid": {"S": cid}})
    cid = aws_env.get_item(TableName="parley-test", Key={"pk": {"S": "TEST#cid"}, "sk": {"S": "~"}})["Item"]
    action, fields = case
    body = {"action": action, "conversationId": cid["cid"]["S"], "seq": seq, **fields}
    if extra:
        body["unexpected"] = 1
    if user == "bob" and action == "edit" and seq == 1 and not extra:
        return  # bob's own message: his edit is allowed
    before = all_items(aws_env)
    response = invoke("changes", message_event(user, f"{user}-1", body, route_key=action))
    answer = json.loads(response["body"])
    if action == "react" and seq == 1 and user == "bob" and fields == {"emoji": "👍"} and not extra:
        return  # allowed
    assert answer["type"] == "error", answer
    assert all_items(aws_env) == before


def test_s3_objects_of_a_failed_delete_are_retried(aws_env: Any, bucket: Any, monkeypatch: Any) -> None:
    alice = Chat("alice", "a1").connect()
    cid = alice.open_direct("bob")
    key = upload(alice, cid, b"voice-bytes", "audio/mp4")
    alice.send_body(cid, {"attachments": [{"key": key, "contentType": "audio/mp4", "size": 11}]}, "c1")
    from parley.stores import uploads

    real = uploads._s3()

    class Failing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def delete_objects(self, **_kwargs: Any) -> Any:
            raise boto3.client("s3").exceptions.ClientError(
                {"Error": {"Code": "InternalError", "Message": "injected"}}, "DeleteObjects")

    factory = uploads._s3

    def failing() -> Any:
        return Failing()

    failing.cache_clear = factory.cache_clear  # type: ignore[attr-defined]
    monkeypatch.setattr(uploads, "_s3", failing)
    assert change(alice, "delete", cid, 1)["code"] == "internal_error"
    assert "b" in Chat("bob", "b1").history(cid)["messages"][0]  # still there, with its key: retry can finish
    monkeypatch.setattr(uploads, "_s3", factory)
    assert change(alice, "delete", cid, 1)["kind"] == "deleted"
    assert bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []
