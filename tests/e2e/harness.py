"""Helpers for the end-to-end tier: scenarios on their own event loops, clients, and views of the stack's
state (the gateway's open connections, the connection records in DynamoDB)."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import boto3
from botocore.credentials import Credentials

from local.settings import LocalSettings
from local.stack import Stack, StackThread
from parley import table
from parley.config import Settings
from parley_client import Backoff, ParleyClient, Received
from parley_server import ParleyAdmin

T = TypeVar("T")
F = TypeVar("F")


def run(coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
    """Run one scenario on a fresh event loop, bounded in time."""
    async def bounded() -> T:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


def e2e_settings(**overrides: Any) -> LocalSettings:
    """Free ports, a secret of its own, quiet logs."""
    values: dict[str, Any] = {"ws_port": 0, "connections_port": 0, "moto_port": 0, "server_api_port": 0,
                              "web_port": 0, "console_port": 0,
                              "log_level": "WARNING",
                              "token_secret": secrets.token_urlsafe(32), "table_name": "parley-e2e"}
    values.update(overrides)
    return LocalSettings(**values)


def generous_rate_limits(rate: int = 10_000) -> str:
    """The core's default ``PARLEY_RATE_LIMITS`` with every limit raised to ``rate`` per second (and burst)."""
    default = str(Settings.model_fields["rate_limits"].default)
    kinds = [entry.split("=", 1)[0].strip() for entry in default.split(",") if entry.strip()]
    return ",".join(f"{kind}={rate}:{rate}" for kind in kinds)


def client_for(stack: Stack, user_id: str, **options: Any) -> ParleyClient:
    options.setdefault("backoff", Backoff(initial=0.05, maximum=0.5))
    return ParleyClient(stack.ws_url, stack.mint_token(user_id), **options)


def admin_for(stack: Stack, *, read_only: bool = False) -> ParleyAdmin:
    """The server SDK against the stack's server API, signing with its local full (or read-only) key."""
    from local.settings import (
        DEV_ADMIN_ACCESS_KEY_ID,
        DEV_ADMIN_SECRET_ACCESS_KEY,
        DEV_READER_ACCESS_KEY_ID,
        DEV_READER_SECRET_ACCESS_KEY,
    )

    key, secret = (DEV_READER_ACCESS_KEY_ID, DEV_READER_SECRET_ACCESS_KEY) if read_only \
        else (DEV_ADMIN_ACCESS_KEY_ID, DEV_ADMIN_SECRET_ACCESS_KEY)
    return ParleyAdmin(stack.server_api_url, credentials=Credentials(key, secret), region=stack.settings.region)


async def connected(stack: Stack, user_id: str, **options: Any) -> ParleyClient:
    client = client_for(stack, user_id, **options)
    await client.connect()
    return client


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0,
                     interval: float = 0.02) -> None:
    """Wait until ``check`` holds (state that another loop or thread changes)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def next_frame(client: ParleyClient, kind: type[F], where: Callable[[F], bool] = lambda _: True,
                     timeout: float = 5.0) -> F:
    """The next incoming item of type ``kind`` (``Presence``, ``Receipt``, ...) that matches ``where``;
    everything before it is skipped."""
    async with asyncio.timeout(timeout):
        async for item in client:
            if isinstance(item, kind) and where(item):
                return item
    raise AssertionError(f"the client closed before a {kind.__name__} arrived")


async def received(client: ParleyClient) -> list[Received]:
    """What the client has received and nobody has read yet. After a request's answer (``ping``), that is
    everything the server sent the connection before it answered."""
    items: list[Received] = []
    while True:
        try:
            items.append(await asyncio.wait_for(anext(client), 0.05))
        except (TimeoutError, StopAsyncIteration):
            return items


async def settled(stack: Stack, invocations_before: int, timeout: float = 5.0) -> None:
    """Wait until the stack has invoked a function since ``invocations_before`` (``stack.runtime.invocations``
    read earlier) and no invocation is running: for what a closed socket or a ``typing`` frame sets off,
    which answers nothing."""
    runtime = stack.runtime
    await eventually(lambda: runtime.invocations > invocations_before and runtime.in_flight == 0, timeout)


def open_connection_ids(stack_thread: StackThread, user_id: str) -> set[str]:
    """The user's connections the gateway holds open (read on the stack's loop)."""
    async def read() -> set[str]:
        return {c.connection_id for c in stack_thread.stack.gateway.connections()
                if (c.info.authorizer or {}).get("principalId") == user_id}

    return stack_thread.call(read())


def stored_connection_ids(stack: Stack, user_id: str) -> set[str]:
    """The user's connection records in DynamoDB (the entries of their ``~CONNS`` item)."""
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.aws_endpoint, region_name=stack.settings.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    try:
        item = dynamodb.get_item(TableName=stack.settings.table_name, ConsistentRead=True,
                                 Key={"pk": {"S": f"USER#{user_id}"}, "sk": {"S": table.CONNECTIONS_SK}}).get("Item")
    finally:
        dynamodb.close()
    return set((item or {}).get(table.ATTR_CONNECTIONS, {}).get("M", {}))


def bindable(port: int) -> bool:
    """Can a server listen on this port again (as a restarted stack would, with SO_REUSEADDR)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
    return True


def settle(check: Callable[[], bool], timeout: float) -> bool:
    """Whether ``check`` comes to hold within ``timeout`` seconds (polled; for state another process changes)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
