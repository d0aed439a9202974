"""Python and JavaScript clients in the same end-to-end encrypted conversations (docs/e2e.md, "Construction":
both implement Parley E2E v1 byte for byte): a Python client and the TypeScript SDK's peer script
(clients/js/test/e2e-peer.mjs, driven over its stdin and JSON-line stdout) chat in a 1:1 conversation and in a
group, edit, see each other's encrypted files' keys, and compute the same safety number."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from local.stack import Stack
from parley_client import Change, E2EError, E2ESession, Message, ParleyClient
from tests.e2e.harness import connected, run
from tests.support.js_sdk import SDK, build_sdk

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif(shutil.which("node") is None, reason="the JS peer needs Node >= 18")]

PEER = SDK / "test" / "e2e-peer.mjs"


@pytest.fixture(scope="module", autouse=True)
def sdk_built() -> None:
    build_sdk()


class JsPeer:
    """The SDK's e2e peer as a subprocess: commands on stdin, events (JSON lines) from stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[dict[str, Any]] = []

    async def next(self, event: str, where: Callable[[dict[str, Any]], bool] = lambda _: True,
                   timeout: float = 20.0) -> dict[str, Any]:
        """The next line of this event that matches ``where`` (earlier lines are kept in ``events``)."""
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = await self.process.stdout.readline()
                if not line:
                    stderr = await self.process.stderr.read() if self.process.stderr else b""
                    raise AssertionError(f"the JS peer ended: {self.events}\n{stderr.decode(errors='replace')}")
                item = json.loads(line)
                self.events.append(item)
                if item["event"] == "failure":
                    raise AssertionError(f"the JS peer failed: {item['error']}")
                if item["event"] == event and where(item):
                    return item

    async def command(self, **fields: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(fields) + "\n").encode())
        await self.process.stdin.drain()


@contextlib.asynccontextmanager
async def js_peer(stack: Stack, user_id: str, device_dir: Path, *args: str) -> AsyncIterator[JsPeer]:
    process = await asyncio.create_subprocess_exec(
        "node", str(PEER), "--url", stack.ws_url, "--token", stack.mint_token(user_id), "--device-dir",
        str(device_dir), "--timeout", "120", *args, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=SDK)
    peer = JsPeer(process)
    try:
        yield peer
    finally:
        if process.returncode is None:
            with contextlib.suppress(Exception):
                await peer.command(cmd="quit")
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def python_device(stack: Stack, user_id: str, keys: Path) -> ParleyClient:
    return await connected(stack, user_id, e2e=E2ESession(keys / user_id, user_id))


async def next_entry(client: ParleyClient, kind: type = Message, where: Callable[[Any], bool] = lambda _: True,
                     timeout: float = 20.0) -> Any:
    async with asyncio.timeout(timeout):
        async for item in client:
            if isinstance(item, E2EError):
                raise AssertionError(f"a message did not open: {item.code}: {item.message}")
            if isinstance(item, kind) and where(item):
                return item
    raise AssertionError("closed")


def test_python_and_javascript_chat_in_an_encrypted_direct_conversation(
        stack: Stack, user: Callable[[str], str], tmp_path: Path) -> None:
    alice_id, bob_id = user("alice"), user("bob")

    async def scenario() -> None:
        # given alice on the Python client and bob on the JavaScript SDK, in their e2e direct conversation
        alice = await python_device(stack, alice_id, tmp_path)
        try:
            cid = (await alice.open_direct(bob_id, e2e=True)).conversation_id
            async with js_peer(stack, bob_id, tmp_path / "bob-js", "--direct", alice_id,
                               "--send", "Hallo aus JavaScript \u2713") as bob:
                ready = await bob.next("ready")
                assert ready["conversationId"] == cid
                # when bob (JS) writes, then alice (Python) reads it, decrypted and verified
                sent = await bob.next("sent")
                message = await next_entry(alice)
                assert (message.seq, message.sender_id, message.text) == (
                    sent["seq"], bob_id, "Hallo aus JavaScript \u2713")
                # when alice writes, with an encrypted file, then bob reads the text and the file's sealed key
                attachment = await alice.upload_file(cid, b"%PDF-1.7 a contract", "application/pdf")
                await alice.send(cid, "from Python \U0001f40d", attachments=[attachment])
                got = await bob.next("message", lambda e: e["senderId"] == alice_id)
                assert got["text"] == "from Python \U0001f40d"
                [file] = got["files"]
                assert (file["key"], file["fk"], file["type"], file["size"]) == (
                    attachment.key, attachment.file_key, "application/pdf", len(b"%PDF-1.7 a contract"))
                # and edits cross both ways
                await alice.edit(cid, got["seq"], "edited in Python")
                edit = await bob.next("edit")
                assert (edit["target"], edit["text"], edit["by"]) == (got["seq"], "edited in Python", alice_id)
                await bob.command(cmd="edit", seq=sent["seq"], text="edited in JavaScript")
                change = await next_entry(alice, Change, lambda c: c.by == bob_id)
                assert (change.kind, change.target, change.text) == ("edited", sent["seq"], "edited in JavaScript")
                # and each reads the other's history, opened
                await bob.command(cmd="history")
                history = await bob.next("history")
                texts = [e.get("text") for e in history["entries"] if e["type"] == "message"]
                assert texts == ["edited in JavaScript", "edited in Python"]
                assert not [e for e in history["entries"] if e.get("code")]
                # and both compute the same safety number and QR payload
                await bob.command(cmd="safetyNumber", userId=alice_id)
                number = await bob.next("safetyNumber")
                assert number["number"] == await alice.safety_number(bob_id)
                assert number["qr"] == await alice.safety_qr_payload(bob_id)
        finally:
            await alice.close()

    run(scenario(), timeout=150)


def test_python_and_javascript_in_an_encrypted_group_with_two_python_devices(
        stack: Stack, user: Callable[[str], str], tmp_path: Path) -> None:
    alice_id, bob_id, carol_id = user("alice"), user("bob"), user("carol")

    async def scenario() -> None:
        # given alice (Python, two devices), carol (Python) and bob (JavaScript) in an e2e group
        alice = await python_device(stack, alice_id, tmp_path)
        laptop = await connected(stack, alice_id, e2e=E2ESession(tmp_path / "alice-laptop", alice_id))
        carol = await python_device(stack, carol_id, tmp_path)
        try:
            async with js_peer(stack, bob_id, tmp_path / "bob-js") as bob:
                await bob.next("ready")
                group = await alice.create_group([bob_id, carol_id], "interop", e2e=True)
                cid = group.conversation_id
                laptop.track(cid, 0)
                # when bob (JS) writes to the group
                await bob.command(cmd="send", conversationId=cid, text="hi all, from JS")
                sent = await bob.next("sent")
                # then both Python users read it, alice on both of her devices
                for reader in (alice, laptop, carol):
                    message = await next_entry(reader)
                    assert (message.seq, message.text) == (sent["seq"], "hi all, from JS")
                # and what alice's laptop writes, bob (JS) reads
                await laptop.send(cid, "from alice's laptop")
                got = await bob.next("message", lambda e: e["senderId"] == alice_id)
                assert got["text"] == "from alice's laptop"
                # and so does carol
                carols = await next_entry(carol)
                assert carols.text == "from alice's laptop"
        finally:
            await asyncio.gather(alice.close(), laptop.close(), carol.close())

    run(scenario(), timeout=150)
