"""moto's server runs in a process of its own (``local.moto_server``): it starts with the stack, ends with
it (also when the stack's process is killed), frees its port, and a taken port is refused in one line."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import local
from local.push import PUSHES_PATH
from local.stack import StackThread
from tests.e2e.harness import bindable, e2e_settings, settle

pytestmark = pytest.mark.timeout(120)

ROOT = Path(local.__file__).resolve().parents[1]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _port_of(url: str | None) -> int:
    return int(str(url).rsplit(":", 1)[1])


def test_moto_serves_from_a_process_of_its_own_that_ends_with_the_stack() -> None:
    # given a running stack on moto
    background = StackThread(e2e_settings())
    stack = background.start()
    try:
        pid, port = stack.moto_pid, _port_of(stack.aws_endpoint)
        # then moto is another process, serving the stack's own views too
        assert pid is not None and pid != os.getpid() and _running(pid)
        with urllib.request.urlopen(f"{stack.aws_endpoint}{PUSHES_PATH}", timeout=10) as answer:
            assert answer.status == 200
    finally:
        # when the stack stops
        background.stop()
    # then moto's process has ended and its port is free
    assert not _running(pid)
    assert bindable(port)


def _start_stack(env: dict[str, str], output: Path) -> subprocess.Popen[bytes]:
    with output.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "local.stack"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _stack_env(**overrides: str) -> dict[str, str]:
    return {**os.environ, "PARLEY_LOCAL_WS_PORT": "0", "PARLEY_LOCAL_CONNECTIONS_PORT": "0",
            "PARLEY_LOCAL_MOTO_PORT": "0", "PARLEY_LOCAL_WEB_PORT": "0", "PARLEY_LOCAL_SERVER_API_PORT": "0",
            "PARLEY_LOCAL_CONSOLE_PORT": "0",
            "PARLEY_LOCAL_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **overrides}


def test_moto_does_not_outlive_a_killed_stack(tmp_path: Path) -> None:
    # given `python -m local.stack` serving
    output = tmp_path / "stack.out"
    process = _start_stack(_stack_env(), output)
    try:
        assert settle(lambda: "Chat between two terminals" in output.read_text(), timeout=60), output.read_text()
        moto_port = int(re.search(r"moto at http://127\.0\.0\.1:(\d+)", output.read_text()).group(1))  # type: ignore[union-attr]
        assert not bindable(moto_port)
        # when its process is killed outright (no clean stop)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # then moto's process notices and ends: its port is free again
    assert settle(lambda: bindable(moto_port), timeout=10), f"moto still holds port {moto_port}"


def test_a_taken_moto_port_is_refused_in_one_line(tmp_path: Path) -> None:
    # given another program listening on the port moto should take
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # when the stack starts
        result = subprocess.run([sys.executable, "-m", "local.stack"], cwd=ROOT, capture_output=True, text=True,
                                env=_stack_env(PARLEY_LOCAL_MOTO_PORT=str(port)), timeout=90, check=False)
    # then it says which port, and stops without a traceback
    assert result.returncode == 1
    assert f"Cannot start: port {port} is in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
