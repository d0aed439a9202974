"""No plaintext leaks (docs/e2e.md, "What the server sees"): a marker text, a marker edit and a marker inside an
attachment go through an end-to-end encrypted 1:1 conversation and group, with a member offline so that pushes
are sent, on a stack that logs at DEBUG and whose push mode is ``full``. Then every item of the table, every
object in storage, every push and every log line the stack wrote are read: the marker is nowhere, while the
members' clients read it."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.push import pushes
from local.stack import Stack, StackThread
from parley_client import E2ESession, Message, ParleyClient, e2e
from tests.e2e.harness import connected, e2e_settings, eventually, generous_rate_limits, run, settled
from tests.support.tracing import parley_log

pytestmark = pytest.mark.timeout(180)

MARKER = f"MARKER{uuid.uuid4().hex[:16]}"  # ASCII: no JSON escaping hides it


def _forms(marker: str) -> list[bytes]:
    """The marker as bytes, and as the middle of its base64 at each of the three alignments."""
    forms = [marker.encode()]
    for pad in ("", "x", "xx"):
        encoded = base64.b64encode((pad + marker).encode())
        forms.append(encoded[4:-4])
    return forms


def _leaks(blob: bytes | str, marker: str = MARKER) -> bool:
    data = blob.encode() if isinstance(blob, str) else blob
    return any(form in data for form in _forms(marker))


class _Records(logging.Handler):
    """Every log record of every logger in this process, its message and every attribute."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.dumps({**record.__dict__, "message": record.getMessage()}, default=str))


@contextmanager
def every_log_record() -> Iterator[_Records]:
    handler = _Records()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict))]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


async def _device(stack: Stack, user_id: str, keys_dir: Path) -> ParleyClient:
    return await connected(stack, user_id, e2e=E2ESession(keys_dir / user_id, user_id))


async def _next_message(client: ParleyClient) -> Message:
    async with asyncio.timeout(10):
        async for item in client:
            if isinstance(item, Message):
                return item
    raise AssertionError("closed")


def _aws(stack: Stack) -> dict[str, Any]:
    """How a test reaches the stack's moto."""
    return {"endpoint_url": stack.aws_endpoint, "region_name": stack.settings.region,
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def test_the_marker_is_nowhere_in_the_table_storage_pushes_or_logs(tmp_path: Path,
                                                                    capfd: pytest.CaptureFixture[str]) -> None:
    alice_id, bob_id, carol_id = (f"{n}-{uuid.uuid4().hex[:8]}" for n in ("alice", "bob", "carol"))
    apns_token = secrets.token_hex(32)
    settings = e2e_settings(log_level="DEBUG", table_name=f"parley-leak-{uuid.uuid4().hex[:6]}")
    handler_env = {"PARLEY_RATE_LIMITS": generous_rate_limits(), "PARLEY_PUSH_CONTENT": "full"}
    photo = b"\x89PNG not really, but the bytes of a file with " + MARKER.encode() + b" inside"
    read_back: dict[str, Any] = {}

    with parley_log() as parley_lines, every_log_record() as records:
        background = StackThread(settings, handler_env=handler_env)
        stack = background.start()
        try:
            async def scenario() -> None:
                # given bob registered a phone for pushes and went offline
                bob = await _device(stack, bob_id, tmp_path)
                await bob.register_device("apns", apns_token)
                direct = (await bob.open_direct(alice_id, e2e=True)).conversation_id
                before = stack.runtime.invocations
                await bob.close()
                await settled(stack, before)
                # when alice sends the marker in a direct conversation and a group, edits it, and attaches it
                alice, carol = await _device(stack, alice_id, tmp_path), await _device(stack, carol_id, tmp_path)
                try:
                    group = (await alice.create_group([bob_id, carol_id], "plans", e2e=True)).conversation_id
                    ack = await alice.send(direct, f"the code is {MARKER}")
                    await alice.edit(direct, ack.seq, f"the code is still {MARKER}")
                    attachment = await alice.upload_file(direct, photo, "image/png")
                    await alice.send(direct, f"{MARKER} attached", attachments=[attachment],
                                     reply_to=ack.seq)
                    await alice.send(group, f"to the group: {MARKER}")
                    read_back["carol"] = (await _next_message(carol)).text
                    # (pushes reach bob's offline phone)
                    await eventually(lambda: asyncio.to_thread(
                        lambda: len([p for p in pushes(str(stack.aws_endpoint)) if p.token == apns_token]) >= 2),
                        timeout=15, interval=0.2)
                finally:
                    await asyncio.gather(alice.close(), carol.close())
                # (and bob, back online, reads all of it: the marker did travel)
                bob = await _device(stack, bob_id, tmp_path)
                try:
                    page = await bob.history(direct, after=0)
                    opened = [await bob.decrypt(m) for m in page.messages]
                    read_back["bob"] = [m.text for m in opened if isinstance(m, Message)]
                    read_back["files"] = [a for m in opened if isinstance(m, Message) for a in m.attachments]
                finally:
                    await bob.close()

            run(scenario(), timeout=120)
            assert read_back["carol"] == f"to the group: {MARKER}"
            assert read_back["bob"] == [f"the code is still {MARKER}", f"{MARKER} attached"]

            # then: every item of the table (a Scan: this is a test, not a request path)
            dynamodb = boto3.client("dynamodb", **_aws(stack))
            items = [item for page in dynamodb.get_paginator("scan").paginate(TableName=settings.table_name)
                     for item in page["Items"]]
            assert len(items) > 10  # messages, conversations, members, keys, ...
            leaking = [item for item in items if _leaks(json.dumps(item))]
            assert leaking == []
            # every object in storage (the encrypted blob is there, the file is not)
            s3 = boto3.client("s3", **_aws(stack))
            objects = [(b["Name"], o["Key"]) for b in s3.list_buckets()["Buckets"]
                       for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b["Name"])
                       for o in page.get("Contents", [])]
            stored = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for bucket, key in objects}
            assert [key for key, data in stored.items() if _leaks(data)] == []
            [file] = read_back["files"]  # (the blob is the file, for whoever has the key from the sealed payload)
            assert file.file_key is not None
            assert e2e.decrypt_file(stored[file.key], e2e.unb64(file.file_key)) == photo
            # every push (bob's phone got them: content-free, though the push mode is "full")
            pushed = pushes(str(stack.aws_endpoint))
            assert len([p for p in pushed if p.token == apns_token]) >= 2
            assert [p for p in pushed if _leaks(json.dumps(p.payload))] == []
        finally:
            background.stop()

    # and every log line: Parley's logger at DEBUG, every other logger, and all the processes printed
    output = capfd.readouterr()
    lines = [*parley_lines.getvalue().splitlines(), *records.lines, *output.out.splitlines(),
             *output.err.splitlines()]
    assert len(lines) > 20
    assert [line for line in lines if _leaks(line)] == []
