"""End-to-end encrypted conversations (docs/e2e.md) between Python clients over the local stack: a 1:1 chat,
a group whose member adds a device later, encrypted attachments, edits, safety numbers, and the failures a
client must catch (tampered ciphertext, a wrong key, a replay, a removed device), each a typed error and never
text."""

from __future__ import annotations

import asyncio
import copy
import io
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from local.stack import Stack
from parley_client import (
    Change,
    E2EError,
    E2ESession,
    KeyChange,
    Message,
    NoKeyError,
    ParleyClient,
    ReplayedMessageError,
    ServerError,
    TamperedMessageError,
    UnknownDeviceError,
    WrongKeyError,
    e2e,
)
from tests.e2e.harness import connected, eventually, run

pytestmark = pytest.mark.timeout(120)


async def device(stack: Stack, user_id: str, keys_dir: Path, name: str = "phone") -> ParleyClient:
    """A user's device: its keys kept in a directory of its own; connecting publishes them."""
    return await connected(stack, user_id, e2e=E2ESession(keys_dir / f"{user_id}-{name}", user_id))


async def next_item(client: ParleyClient, kinds: tuple[type, ...] = (Message, E2EError),
                    timeout: float = 10.0) -> Any:
    """The next incoming message or typed error (other frames skipped)."""
    async with asyncio.timeout(timeout):
        async for item in client:
            if isinstance(item, kinds):
                return item
    raise AssertionError("the client closed")


async def raw_send(client: ParleyClient, conversation_id: str, envelope: dict[str, Any]) -> None:
    """Send an envelope exactly as given (what a malicious or broken sender could do)."""
    await client.request("send", conversationId=conversation_id, clientMsgId=secrets.token_hex(8),
                         body={"e2e": envelope})


def test_two_python_clients_chat_encrypted_and_the_server_refuses_plaintext(
        stack: Stack, user: Callable[[str], str], tmp_path: Path) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await device(stack, alice_id, tmp_path), await device(stack, bob_id, tmp_path)
        try:
            # given an end-to-end encrypted direct conversation
            conversation = await alice.open_direct(bob_id, e2e=True)
            assert conversation.e2e
            cid = conversation.conversation_id
            assert (await bob.open_direct(alice_id, e2e=True)).conversation_id == cid
            plain = await alice.open_direct(bob_id)
            assert plain.conversation_id != cid and not plain.e2e
            # when alice writes, then bob reads the text, decrypted by his client
            ack = await alice.send(cid, "Meet me at the café at 8 👋")
            message = await next_item(bob)
            assert isinstance(message, Message)
            assert (message.seq, message.sender_id, message.text) == (ack.seq, alice_id, "Meet me at the café at 8 👋")
            assert "text" not in message.body and message.body["e2e"]["v"] == 1
            # and bob answers, and alice reads it
            await bob.send(cid, "see you")
            answer = await next_item(alice)
            assert isinstance(answer, Message) and answer.text == "see you"
            # and an edit is sealed too: bob sees the new text
            await alice.edit(cid, ack.seq, "Meet me at 9")
            edited = await next_item(bob, (Change, E2EError))
            assert isinstance(edited, Change) and (edited.kind, edited.target, edited.text) == (
                "edited", ack.seq, "Meet me at 9")
            # and history gives the envelopes, which decrypt (the edited message with its edit's envelope)
            page = await bob.history(cid, after=0)
            texts = [getattr(await bob.decrypt(m), "text", None) for m in page.messages if isinstance(m, Message)]
            assert texts == ["Meet me at 9", "see you"]
            # and the server refuses text in this conversation, whatever client sends it
            with pytest.raises(ServerError) as refused:
                await alice.request("send", conversationId=cid, clientMsgId="plain-1", body={"text": "in clear"})
            assert refused.value.code == "e2e_required"
            # and both see the same safety number
            assert await alice.safety_number(bob_id) == await bob.safety_number(alice_id)
            assert (await alice.safety_qr_payload(bob_id)).startswith("parley-sn:1:")
            # and a client that never opened the conversation finds out it is encrypted before it sends (the
            # server refuses text there, so a message that arrives was sealed), while the plain one stays plain
            fresh = await connected(stack, bob_id, e2e=E2ESession(tmp_path / "bob-fresh", bob_id))
            try:
                await fresh.send(cid, "sealed without asking")
                await fresh.send(plain.conversation_id, "plain as before")
            finally:
                await fresh.close()
            arrived = {m.conversation_id: m for m in [await next_item(alice), await next_item(alice)]}
            sealed, in_clear = arrived[cid], arrived[plain.conversation_id]
            assert sealed.text == "sealed without asking" and "e2e" in sealed.body
            assert in_clear.body == {"text": "plain as before"}
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario(), timeout=60)


def _png(marker: str) -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    out = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", marker)
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_an_encrypted_photo_goes_up_as_a_blob_and_comes_back_with_its_client_made_preview(
        stack: Stack, user: Callable[[str], str], tmp_path: Path) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    photo = _png("holiday photo")

    async def scenario() -> None:
        alice, bob = await device(stack, alice_id, tmp_path), await device(stack, bob_id, tmp_path)
        try:
            cid = (await alice.open_direct(bob_id, e2e=True)).conversation_id
            await bob.open_direct(alice_id, e2e=True)
            # given alice uploads a photo in the encrypted conversation
            attachment = await alice.upload_file(cid, photo, "image/png", width=64, height=48)
            assert attachment.file_key is not None and attachment.preview is not None
            await alice.send(cid, "look", attachments=[attachment])
            # then bob's message has the real type, size and preview, from the sealed payload
            message = await next_item(bob)
            assert isinstance(message, Message) and message.text == "look"
            [received] = message.attachments
            assert (received.content_type, received.size, received.width, received.height) == (
                "image/png", len(photo), 64, 48)
            assert received.preview is not None and received.preview.startswith("data:image/jpeg;base64,")
            # while the server only ever had an opaque blob
            assert message.body["attachments"] == [{"key": attachment.key, "contentType": "application/octet-stream",
                                                    "size": len(photo) + 40}]
            # and bob downloads and decrypts the very bytes alice sent
            assert await bob.download_attachment(cid, received) == photo
        finally:
            await asyncio.gather(alice.close(), bob.close())

    run(scenario(), timeout=60)


def test_a_group_with_a_device_added_later_that_reads_what_is_sent_after(
        stack: Stack, user: Callable[[str], str], tmp_path: Path) -> None:
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")

    async def scenario() -> None:
        alice, bob, carol = (await device(stack, alice_id, tmp_path), await device(stack, bob_id, tmp_path),
                             await device(stack, carol_id, tmp_path))
        tablet: ParleyClient | None = None
        try:
            # given an encrypted group of three, and a first message
            group = await alice.create_group([bob_id, carol_id], "trip", e2e=True)
            assert group.e2e
            cid = group.conversation_id
            await alice.send(cid, "before the tablet")
            for reader in (bob, carol):
                first = await next_item(reader)
                assert isinstance(first, Message) and first.text == "before the tablet"
            # when bob adds a tablet (a new device publishes its keys), alice is told and sees a key change
            tablet = await device(stack, bob_id, tmp_path, "tablet")
            assert tablet.e2e is not None
            notice = await next_item(alice, (KeyChange,))
            assert notice.user_id == bob_id and notice.added == (tablet.e2e.device_id,) and notice.removed == ()
            tablet.track(cid, 1)
            # then what alice sends next reaches bob's phone, bob's tablet and carol
            await alice.send(cid, "after the tablet")
            for reader in (bob, tablet, carol):
                later = await next_item(reader)
                assert isinstance(later, Message) and later.text == "after the tablet"
            # and the message from before the tablet has no key for it: a typed error, no text
            early = await tablet.decrypt((await tablet.history(cid, after=0)).messages[0])
            assert isinstance(early, NoKeyError) and early.code == "e2e_no_key" and early.seq == 1
            # and bob's tablet writes to the group: everyone, bob's phone included, reads it
            await tablet.send(cid, "from my tablet")
            for reader in (alice, bob, carol):
                from_tablet = await next_item(reader)
                assert isinstance(from_tablet, Message) and from_tablet.text == "from my tablet"
        finally:
            await asyncio.gather(*(c.close() for c in (alice, bob, carol, tablet) if c is not None))

    run(scenario(), timeout=90)


def test_tampering_a_wrong_key_a_replay_and_a_removed_device_are_typed_errors_never_text(
        stack: Stack, user: Callable[[str], str], tmp_path: Path) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        alice, bob = await device(stack, alice_id, tmp_path), await device(stack, bob_id, tmp_path)
        old_phone: ParleyClient | None = None
        try:
            cid = (await alice.open_direct(bob_id, e2e=True)).conversation_id
            await bob.open_direct(alice_id, e2e=True)
            session = alice.e2e
            assert session is not None
            members = [alice_id, bob_id]
            await alice.get_keys(members)

            def sealed(text: str) -> dict[str, Any]:
                return session.seal(cid, session.message_payload(secrets.token_hex(8), text), members)

            # tampered: one bit of the ciphertext flipped on the way
            envelope = sealed("tampered text")
            c = bytearray(e2e.unb64(envelope["c"]))
            c[0] ^= 1
            await raw_send(alice, cid, {**envelope, "c": e2e.b64(bytes(c))})
            tampered = await next_item(bob)
            assert isinstance(tampered, TamperedMessageError) and tampered.code == "e2e_tampered"
            assert (tampered.conversation_id, tampered.sender_id) == (cid, alice_id)

            # a wrong key: bob's entry wrapped with a key that is not the message's
            envelope = sealed("wrong key text")
            other = sealed("another message")
            mine = next(k for k in other["k"] if k["u"] == bob_id)
            wrong = copy.deepcopy(envelope)
            wrong["k"] = [k for k in wrong["k"] if k["u"] != bob_id] + [{**mine, "n": e2e.b64(bytes(24))}]
            await raw_send(alice, cid, wrong)
            wrong_key = await next_item(bob)
            assert isinstance(wrong_key, WrongKeyError) and wrong_key.code == "e2e_wrong_key"

            # a replay: a message bob has read, stored again under a new clientMsgId
            envelope = sealed("pay 10 euros")
            await raw_send(alice, cid, envelope)
            original = await next_item(bob)
            assert isinstance(original, Message) and original.text == "pay 10 euros"
            await raw_send(alice, cid, envelope)
            replayed = await next_item(bob)
            assert isinstance(replayed, ReplayedMessageError) and replayed.code == "e2e_replayed"

            # a removed device: alice's old phone is removed from the directory, and then still sends
            old_phone = await device(stack, alice_id, tmp_path, "old-phone")
            assert old_phone.e2e is not None
            await old_phone.get_keys(members)
            stale = old_phone.e2e.seal(cid, old_phone.e2e.message_payload("stolen-1", "from a lost phone"), members)
            assert await alice.remove_device(old_phone.e2e.device_id)
            await raw_send(old_phone, cid, stale)
            removed = await next_item(bob)
            assert isinstance(removed, UnknownDeviceError) and removed.code == "e2e_unknown_device"

            # and after all that, a good message still reads
            await alice.send(cid, "all good")
            good = await next_item(bob)
            assert isinstance(good, Message) and good.text == "all good"
        finally:
            await asyncio.gather(*(c.close() for c in (alice, bob, old_phone) if c is not None))

    run(scenario(), timeout=90)


def test_a_prekey_that_comes_due_is_rotated_and_published_at_the_next_reconnect(
        stack: Stack, user: Callable[[str], str], tmp_path: Path) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    now = [1_764_633_600_000]

    async def scenario() -> None:
        # given bob's device, whose clock we move, in a conversation with alice
        bob_session = E2ESession(tmp_path / "bob-clock", bob_id, clock=lambda: now[0])
        bob = await connected(stack, bob_id, e2e=bob_session)
        try:
            await rotation(bob)
        finally:
            await bob.close()

    async def rotation(bob: ParleyClient) -> None:
        alice = await device(stack, alice_id, tmp_path)
        try:
            cid = (await alice.open_direct(bob_id, e2e=True)).conversation_id
            await bob.open_direct(alice_id, e2e=True)
            await alice.send(cid, "to prekey 1")
            assert (await next_item(bob)).text == "to prekey 1"
            # when a week passes and the connection is replaced (API Gateway ends every one within 2 hours)
            now[0] += 7 * 86_400_000
            assert bob.websocket is not None
            bob.websocket.transport.abort()

            async def published() -> bool:
                return [d.prekey_id for d in await alice.get_keys([bob_id])] == [2]

            # then bob's device published prekey 2
            await eventually(published, timeout=10, interval=0.1)
        finally:
            await alice.close()
        # and alice's next message (from a client that fetches keys afresh) is wrapped to it, and reads
        alice = await device(stack, alice_id, tmp_path)
        try:
            await alice.send(cid, "to prekey 2")
            later = await next_item(bob)
            assert isinstance(later, Message) and later.text == "to prekey 2"
            assert {k["p"] for k in later.body["e2e"]["k"] if k["u"] == bob_id} == {2}
        finally:
            await alice.close()

    run(scenario(), timeout=60)
