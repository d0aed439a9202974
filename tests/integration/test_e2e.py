"""End-to-end encrypted conversations through the real handlers under moto (docs/e2e.md, docs/protocol.md):
the conversation flag, envelopes only in send and edit, and the key directory with its notices."""

from __future__ import annotations

from typing import Any

import pytest

from parley import table
from tests.integration.conftest import Chat, FakeConnectionsApi, all_items, kind, reset_caches
from tests.support.e2e import Device, envelope, random_b64


def e2e_direct(chat: Chat, peer: str) -> str:
    answer = chat.call("conversations", {"action": "openDirect", "userId": peer, "e2e": True})
    assert answer["conversation"]["e2e"] is True, answer
    cid: str = answer["conversation"]["conversationId"]
    return cid


def e2e_group(chat: Chat, members: list[str]) -> str:
    answer = chat.call("conversations", {"action": "createGroup", "members": members, "e2e": True})
    assert answer["conversation"]["e2e"] is True, answer
    cid: str = answer["conversation"]["conversationId"]
    return cid


def test_an_e2e_direct_conversation_is_the_pairs_second_one_and_says_so(aws_env: Any) -> None:
    # given alice and bob with a plain direct conversation
    alice, bob = Chat("alice", "a1"), Chat("bob", "b1")
    plain = alice.call("conversations", {"action": "openDirect", "userId": "bob"})["conversation"]
    # when either opens the encrypted one
    encrypted = e2e_direct(alice, "bob")
    # then it is another conversation, the same one from both sides, and only it carries e2e
    assert encrypted != plain["conversationId"] and "e2e" not in plain
    assert e2e_direct(bob, "alice") == encrypted
    listed = {c["conversationId"]: c.get("e2e") for c in
              alice.call("conversations", {"action": "listConversations"})["conversations"]}
    assert listed == {plain["conversationId"]: None, encrypted: True}


def test_text_is_refused_in_an_e2e_conversation_and_an_envelope_in_a_plain_one(aws_env: Any) -> None:
    # given an encrypted and a plain conversation
    alice = Chat("alice", "a1")
    encrypted, plain = e2e_direct(alice, "bob"), alice.open_direct("bob")
    before = all_items(aws_env)
    # when alice sends text to the first, text with an envelope, attachments alone, and an envelope to the second
    text = alice.send(encrypted, "secret", "c1")
    both = alice.send_body(encrypted, {"text": "secret", "e2e": envelope("dev-alice-1", [("bob", "dev-bob-01")])},
                           "c2")
    wrong = alice.send_body(plain, {"e2e": envelope("dev-alice-1", [("bob", "dev-bob-01")])}, "c3")
    # then each is refused with its stable code, and nothing is stored
    assert (text["code"], both["code"], wrong["code"]) == ("e2e_required", "e2e_required", "e2e_not_enabled")
    assert text["clientMsgId"] == "c1"
    assert all_items(aws_env) == before


def test_an_envelope_is_stored_and_delivered_untouched_and_nothing_shows_text(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given an encrypted group whose members are online
    alice, bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    Chat("carol", "c1").connect()
    gid = e2e_group(alice, ["bob", "carol"])
    sent = envelope("dev-alice-1", [("alice", "dev-alice-1"), ("bob", "dev-bob-01"), ("carol", "dev-carol-1")])
    # when alice sends it, and bob replies to it
    ack = alice.send_body(gid, {"e2e": sent}, "m1")
    reply = envelope("dev-bob-01", [("alice", "dev-alice-1")])
    bob.call("send", {"action": "send", "conversationId": gid, "clientMsgId": "m2", "body": {"e2e": reply},
                      "replyTo": ack["s"]})
    # then bob's live frame and everyone's history carry the envelope exactly as sent
    [live] = [f for f in connections_api.frames_for("b1") if kind(f) == "msg" and f["s"] == ack["s"]]
    assert live["b"] == {"e2e": sent}
    history = Chat("carol", "c1").history(gid, after=0)["messages"]
    assert [m["b"]["e2e"] for m in history] == [sent, reply]
    # and the reply's quote and the conversation list's last message have no text
    assert history[1]["quote"] == {"seq": ack["s"], "senderId": "alice"}
    [listed] = alice.call("conversations", {"action": "listConversations"})["conversations"]
    assert "text" not in listed["lastMessage"]["b"] and listed["lastMessage"]["b"]["e2e"] == reply


@pytest.mark.parametrize("bad", [
    {"v": 2}, {"e": random_b64(31)}, {"n": "not base64!!" + "=" * 20}, {"sig": random_b64(63)}, {"k": []},
    {"c": random_b64(8)}, {"sd": "short"}, {"extra": 1},
    {"k": [{"u": "bob", "d": "dev-bob-01", "p": 0, "n": random_b64(24), "w": random_b64(48)}]},
    {"k": [{"u": "bob", "d": "dev-bob-01", "p": 1, "n": random_b64(24), "w": random_b64(47)}]},
])
def test_an_envelope_of_another_shape_is_an_invalid_frame(aws_env: Any, bad: dict[str, Any]) -> None:
    alice = Chat("alice", "a1")
    cid = e2e_direct(alice, "bob")
    before = all_items(aws_env)
    answer = alice.send_body(cid, {"e2e": {**envelope("dev-alice-1", [("bob", "dev-bob-01")]), **bad}}, "c1")
    assert answer["code"] == "invalid_frame"
    assert all_items(aws_env) == before


def test_an_edit_takes_an_envelope_and_refuses_text(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given a message in an encrypted conversation, bob online
    alice, _bob = Chat("alice", "a1").connect(), Chat("bob", "b1").connect()
    cid = e2e_direct(alice, "bob")
    seq = alice.send_body(cid, {"e2e": envelope("dev-alice-1", [("bob", "dev-bob-01")])}, "m1")["s"]
    # when alice edits it with text, then with an envelope (twice, as a retry would)
    text = alice.call("changes", {"action": "edit", "conversationId": cid, "seq": seq, "text": "plain"})
    new = envelope("dev-alice-1", [("bob", "dev-bob-01")])
    edited = alice.call("changes", {"action": "edit", "conversationId": cid, "seq": seq, "e2e": new})
    again = alice.call("changes", {"action": "edit", "conversationId": cid, "seq": seq, "e2e": new})
    # then text is refused, the envelope is the message's now, the change carries it, and the retry stores nothing
    assert text["code"] == "e2e_required"
    assert edited["kind"] == "edited" and again["seq"] == edited["seq"]
    [message] = [m for m in alice.history(cid, after=0)["messages"] if m.get("t") == "msg"]
    assert message["b"] == {"e2e": new} and "editedAt" in message
    changes = [f for f in connections_api.frames_for("b1") if kind(f) == "chg"]  # the retry delivers it again
    assert {c["s"] for c in changes} == {edited["seq"]}
    assert all(c["e2e"] == new and "text" not in c for c in changes)


def test_an_envelope_edit_in_a_plain_conversation_is_refused(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    cid = alice.open_direct("bob")
    seq = alice.send(cid, "hi", "m1")["s"]
    answer = alice.call("changes", {"action": "edit", "conversationId": cid, "seq": seq,
                                    "e2e": envelope("dev-alice-1", [("bob", "dev-bob-01")])})
    assert answer["code"] == "e2e_not_enabled"


def keys_item(ddb: Any, user: str) -> dict[str, Any] | None:
    found = [i for i in all_items(ddb) if i["pk"]["S"] == table.user_pk(user) and i["sk"]["S"] == table.KEYS_SK]
    return found[0] if found else None


def test_a_published_device_is_fetched_by_user_and_by_conversation(aws_env: Any) -> None:
    # given bob publishes a device
    alice, bob = Chat("alice", "a1"), Chat("bob", "b1")
    phone = Device("dev-bob-01")
    published = bob.call("keys", {**phone.publish_frame(), "requestId": "r1"})
    assert published["type"] == "keysPublished" and published["deviceId"] == "dev-bob-01"
    assert published["prekeyId"] == 1 and published["ref"] == "r1"
    cid = e2e_direct(alice, "bob")
    # when alice asks for bob's keys, by user and by their encrypted conversation
    by_user = alice.call("keys", {"action": "getKeys", "userIds": ["bob", "carol", "bob"]})
    by_conversation = alice.call("keys", {"action": "getKeys", "conversationId": cid})
    # then both answer bob's device with the keys it published (carol has none)
    device = {"deviceId": "dev-bob-01", "identityKey": phone.identity_key,
              "prekey": {"id": 1, "key": phone.prekey, "sig": phone.prekey_sig()},
              "publishedAt": published["publishedAt"]}
    assert by_user == {"type": "keys", "users": [{"userId": "bob", "devices": [device]},
                                                 {"userId": "carol", "devices": []}]}
    assert by_conversation["users"] == [{"userId": "alice", "devices": []},
                                        {"userId": "bob", "devices": [device]}]
    # and the directory holds public keys only
    stored = keys_item(aws_env, "bob")
    assert stored is not None and set(stored["d"]["M"]["dev-bob-01"]["M"]) == {"ik", "pid", "pk", "ps", "at", "first"}


def test_get_keys_of_a_plain_or_foreign_conversation_is_refused(aws_env: Any) -> None:
    alice = Chat("alice", "a1")
    plain, encrypted = alice.open_direct("bob"), e2e_direct(alice, "bob")
    assert alice.call("keys", {"action": "getKeys", "conversationId": plain})["code"] == "e2e_not_enabled"
    assert Chat("mallory", "m1").call("keys", {"action": "getKeys", "conversationId": encrypted})["code"] \
        == "not_member"
    both = alice.call("keys", {"action": "getKeys", "conversationId": encrypted, "userIds": ["bob"]})
    assert both["code"] == "invalid_frame"


def test_a_bad_signature_or_another_identity_key_is_refused_and_stores_nothing(aws_env: Any) -> None:
    bob = Chat("bob", "b1")
    phone = Device("dev-bob-01")
    forged = bob.call("keys", phone.publish_frame(prekey={"id": 1, "key": random_b64(32), "sig": phone.prekey_sig()}))
    assert forged["code"] == "invalid_key_signature"
    assert keys_item(aws_env, "bob") is None
    bob.call("keys", phone.publish_frame())
    before = all_items(aws_env)
    impostor = Device("dev-bob-01")  # the same device id, new identity key
    assert bob.call("keys", impostor.publish_frame())["code"] == "device_key_conflict"
    assert all_items(aws_env) == before


def test_members_are_told_of_a_new_or_removed_device_but_not_of_a_rotation(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given bob in an encrypted conversation with alice, and in a plain one with carol, all online
    alice, bob, carol = Chat("alice", "a1").connect(), Chat("bob", "b1").connect(), Chat("carol", "c1").connect()
    e2e_direct(alice, "bob")
    carol.open_direct("bob")
    phone = Device("dev-bob-01")

    def notices(connection: str) -> list[dict[str, Any]]:
        return [f for f in connections_api.frames_for(connection) if kind(f) == "keysChanged"]

    # when bob publishes a device, rotates its prekey, then removes it
    bob.call("keys", phone.publish_frame())
    assert notices("a1") == [{"type": "keysChanged", "userId": "bob"}]
    rotated = phone.rotated()
    assert bob.call("keys", rotated.publish_frame())["prekeyId"] == 2
    assert len(notices("a1")) == 1
    removed = bob.call("keys", {"action": "removeDevice", "deviceId": "dev-bob-01"})
    again = bob.call("keys", {"action": "removeDevice", "deviceId": "dev-bob-01"})
    # then alice (and bob's own connections) hear of the new and the removed device, carol never does
    assert removed == {"type": "deviceRemoved", "deviceId": "dev-bob-01", "removed": True}
    assert again["removed"] is False
    assert len(notices("a1")) == 2 and len(notices("b1")) == 2 and notices("c1") == []
    assert alice.call("keys", {"action": "getKeys", "userIds": ["bob"]})["users"][0]["devices"] == []


def test_a_user_keeps_at_most_ten_devices(aws_env: Any) -> None:
    bob = Chat("bob", "b1")
    for n in range(10):
        assert bob.call("keys", Device(f"dev-bob-{n:02d}").publish_frame())["type"] == "keysPublished"
    assert bob.call("keys", Device("dev-bob-10").publish_frame())["code"] == "too_many_key_devices"


def test_a_deployment_can_require_e2e_for_every_new_conversation(aws_env: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PARLEY_E2E_REQUIRED", "true")
    reset_caches()
    alice = Chat("alice", "a1")
    direct = alice.call("conversations", {"action": "openDirect", "userId": "bob"})["conversation"]
    group = alice.call("conversations", {"action": "createGroup", "members": ["bob"]})["conversation"]
    assert direct["e2e"] is True and group["e2e"] is True
    assert alice.send(direct["conversationId"], "hi", "c1")["code"] == "e2e_required"


def test_uploads_of_an_e2e_conversation_are_opaque_files_only(aws_env: Any, monkeypatch: Any) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket="parley-e2e-uploads")
    monkeypatch.setenv("PARLEY_UPLOADS_BUCKET", "parley-e2e-uploads")
    reset_caches()
    alice = Chat("alice", "a1")
    encrypted, plain = e2e_direct(alice, "bob"), alice.open_direct("bob")

    def ask(cid: str, content_type: str) -> dict[str, Any]:
        return alice.call("uploads", {"action": "requestUpload", "conversationId": cid, "contentType": content_type,
                                      "size": 1000})

    assert ask(encrypted, "image/jpeg")["code"] == "unsupported_media"
    assert ask(encrypted, "application/octet-stream")["type"] == "upload"
    assert ask(plain, "application/octet-stream")["code"] == "unsupported_media"


@pytest.mark.parametrize("mode", ["tombstone", "delete"])
def test_erasure_leaves_nothing_of_a_users_keys_envelopes_or_encrypted_pair(aws_env: Any, bucket: Any,
                                                                            configure: Any, mode: str) -> None:
    from parley import wiring
    from parley.models import JobKind
    from tests.integration.erasure_world import BUCKET, configure_jobs, run_jobs
    from tests.support.erasure_reads import Known, traces

    # given alice with a published device, an encrypted direct conversation with bob, a message and its edit
    configure_jobs(configure)
    alice, bob = Chat("alice", "a1"), Chat("bob", "b1")
    assert alice.call("keys", Device("dev-alice-01").publish_frame())["type"] == "keysPublished"
    cid = e2e_direct(alice, "bob")
    seq = alice.send_body(cid, {"e2e": envelope("dev-alice-01", [("bob", "dev-bob-0001")])}, "m1")["s"]
    alice.call("changes", {"action": "edit", "conversationId": cid, "seq": seq,
                           "e2e": envelope("dev-alice-01", [("bob", "dev-bob-0001")])})
    bob.send_body(cid, {"e2e": envelope("dev-bob-0001", [("alice", "dev-alice-01")])}, "m2")
    # when she is erased
    wiring.jobs().start(JobKind.ERASURE, "alice", mode=mode)
    run_jobs()
    # then nothing of hers is found by key: no device keys, no envelope, no edit's envelope, no pair item
    known = Known(user="alice", others=["bob"], conversations=[cid],
                  rate_limit_kinds=sorted(wiring.get_settings().rate_limit_table))
    assert traces(aws_env, "parley-test", known, s3=bucket, bucket=BUCKET, authorless=mode == "delete") == []
    # and bob's message is still his to read
    [his] = [m for m in bob.history(cid, after=0)["messages"] if m.get("f") == "bob"]
    assert his["b"]["e2e"]["sd"] == "dev-bob-0001"


def test_an_export_holds_the_users_public_keys_and_envelopes(aws_env: Any, bucket: Any, configure: Any) -> None:
    import requests

    from parley import wiring
    from parley.models import JobKind
    from tests.integration.erasure_world import configure_jobs, run_jobs

    configure_jobs(configure)
    alice = Chat("alice", "a1")
    phone = Device("dev-alice-01")
    alice.call("keys", phone.publish_frame())
    cid = e2e_direct(alice, "bob")
    sent = envelope("dev-alice-01", [("bob", "dev-bob-0001")])
    alice.send_body(cid, {"e2e": sent}, "m1")
    wiring.jobs().start(JobKind.EXPORT, "alice")
    run_jobs()
    done = wiring.jobs().status(JobKind.EXPORT, "alice")
    assert done is not None and done.download_url
    document = requests.get(done.download_url, timeout=10).json()
    assert [(d["deviceId"], d["identityKey"], d["prekey"]) for d in document["keyDevices"]] == [
        ("dev-alice-01", phone.identity_key, phone.prekey)]
    [message] = document["messages"]
    assert message["e2e"] == sent and "text" not in message


def test_the_server_api_cannot_post_into_an_e2e_conversation_and_says_which_it_is(aws_env: Any) -> None:
    import json

    from tests.support.events import http_api_event
    from tests.support.handlers import invoke

    # given an encrypted group
    cid = e2e_group(Chat("alice", "a1"), ["bob"])
    before = all_items(aws_env)
    # when the backend posts a system message into it
    answer = invoke("server_api", http_api_event("POST", f"/v1/conversations/{cid}/messages",
                                                 {"clientMsgId": "s1", "text": "Welcome!"}))
    # then it is refused with 409 e2e_required and nothing is stored (but the audit entry of the call)
    assert answer["statusCode"] == 409 and json.loads(answer["body"])["error"]["code"] == "e2e_required"
    assert [i for i in all_items(aws_env) if not i["pk"]["S"].startswith("AUDIT")] == before
    # and the conversation's metadata says it is encrypted
    metadata = invoke("server_api", http_api_event("GET", f"/v1/conversations/{cid}"))
    assert json.loads(metadata["body"])["e2e"] is True
