"""Starting and stopping: ``python -m local.stack`` serves and stops cleanly on a signal, and a stopped
stack leaves no port, thread or environment variable behind."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import local
from local.stack import StackThread
from tests.e2e.harness import bindable, connected, e2e_settings, run, settle

pytestmark = pytest.mark.timeout(90)

ROOT = Path(local.__file__).resolve().parents[1]


def test_a_stopped_stack_releases_its_ports_threads_and_environment() -> None:
    threads_before = set(threading.enumerate())
    env_before = dict(os.environ)
    background = StackThread(e2e_settings())
    stack = background.start()
    ports = {"ws": stack.gateway.port, "@connections": stack.management.port,
             "moto": int(str(stack.aws_endpoint).rsplit(":", 1)[1]), "web chat": stack.web.port,
             "console": stack.console.port}
    assert os.environ["PARLEY_CALLBACK_URL"] == stack.callback_url

    async def traffic_then_stop() -> None:
        # keep-alive connections to moto and @connections, fan-out threads, and a socket still open
        alice, bob = (await connected(stack, "lifecycle-alice", reconnect=False),
                      await connected(stack, "lifecycle-bob", reconnect=False))
        cid = (await alice.open_direct("lifecycle-bob")).conversation_id
        await alice.send(cid, "hello")
        assert (await bob.next_message(timeout=5)).text == "hello"
        assert not any(bindable(port) for port in ports.values())

        await asyncio.to_thread(background.stop)

        # the stop closed the clients' sockets with 1001 (going away)
        for client in (alice, bob):
            with pytest.raises(StopAsyncIteration):
                await asyncio.wait_for(anext(client), 5)
        await asyncio.gather(alice.close(), bob.close())

    run(traffic_then_stop())

    assert {name: bindable(port) for name, port in ports.items()} == dict.fromkeys(ports, True)
    assert settle(lambda: set(threading.enumerate()) <= threads_before, timeout=5), [
        t.name for t in set(threading.enumerate()) - threads_before]
    assert dict(os.environ) == env_before


def test_python_m_local_stack_serves_and_stops_on_sigint(tmp_path: Path) -> None:
    env = {**os.environ, "PARLEY_LOCAL_WS_PORT": "0", "PARLEY_LOCAL_CONNECTIONS_PORT": "0",
           "PARLEY_LOCAL_MOTO_PORT": "0", "PARLEY_LOCAL_WEB_PORT": "0", "PARLEY_LOCAL_CONSOLE_PORT": "0",
           "PARLEY_LOCAL_SERVER_API_PORT": "0",
           "PARLEY_LOCAL_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    output = tmp_path / "stack.out"
    with output.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "local.stack"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            assert settle(lambda: "Chat between two terminals" in output.read_text(), timeout=60), \
                output.read_text()
            banner = output.read_text()
            ws_port = int(re.search(r"WebSocket API\s+ws://127\.0\.0\.1:(\d+)", banner).group(1))  # type: ignore[union-attr]
            connections_port = int(re.search(r"@connections\s+http://127\.0\.0\.1:(\d+)/", banner).group(1))  # type: ignore[union-attr]
            moto_port = int(re.search(r"moto at http://127\.0\.0\.1:(\d+)", banner).group(1))  # type: ignore[union-attr]
            web_port = int(re.search(r"Web chat\s+http://127\.0\.0\.1:(\d+)/", banner).group(1))  # type: ignore[union-attr]
            console_port = int(re.search(r"Admin console\s+http://127\.0\.0\.1:(\d+)/", banner).group(1))  # type: ignore[union-attr]
            assert "-m local.cli token alice" in banner

            async def chat() -> None:
                from local.settings import LocalSettings
                from local.tokens import mint_token
                from parley_client import ParleyClient

                defaults = LocalSettings()
                token = mint_token("sigint-alice", secret=defaults.token_secret, issuer=defaults.issuer,
                                   audience=defaults.audience)
                client = ParleyClient(f"ws://127.0.0.1:{ws_port}", token)
                await client.connect()
                assert await client.ping() >= 0
                await client.close()

            run(chat())
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    text = output.read_text()
    assert "Stopped." in text, text
    assert "Traceback" not in text, text
    assert all(bindable(p) for p in (ws_port, connections_port, moto_port, web_port, console_port))
