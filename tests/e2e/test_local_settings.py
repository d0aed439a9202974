"""A local stack configuration the stack cannot use is refused by every entry point that reads it, with one
clear line on stderr and exit status 1: no traceback, and never the offending value (it may be the secret)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import local

pytestmark = pytest.mark.timeout(120)

ROOT = Path(local.__file__).resolve().parents[1]
SHORT_SECRET = "only-31-characters-long-secret!"  # one short of HS256's 32

ENTRY_POINTS = {
    "make run": ["-m", "local.stack"],
    "cli run": ["-m", "local.cli", "run"],
    "cli token": ["-m", "local.cli", "token", "alice"],
    "cli chat": ["-m", "local.cli", "chat", "--as", "alice", "--to", "bob"],
    "cli pushes": ["-m", "local.cli", "pushes"],
    "cli admin": ["-m", "local.cli", "admin", "audit"],
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PARLEY_LOCAL_WS_PORT": "0", "PARLEY_LOCAL_CONNECTIONS_PORT": "0",
                   "PARLEY_LOCAL_MOTO_PORT": "0", "PARLEY_LOCAL_SERVER_API_PORT": "0", "PARLEY_LOCAL_WEB_PORT": "0",
                   "PARLEY_LOCAL_CONSOLE_PORT": "0",
                   **env}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=90, check=False)


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_a_token_secret_shorter_than_32_characters_is_refused_in_one_line(entry_point: str) -> None:
    # given PARLEY_LOCAL_TOKEN_SECRET one character too short
    assert len(SHORT_SECRET) == 31
    # when the entry point starts
    done = run(ENTRY_POINTS[entry_point], PARLEY_LOCAL_TOKEN_SECRET=SHORT_SECRET)
    # then it exits 1 with one line on stderr naming the variable and the rule
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "PARLEY_LOCAL_TOKEN_SECRET" in lines[0] and "at least 32 characters" in lines[0]
    # and it starts nothing, prints no traceback and never shows the secret
    assert done.stdout == ""
    assert SHORT_SECRET not in done.stderr


def test_a_token_secret_of_32_characters_signs_tokens() -> None:
    done = run(ENTRY_POINTS["cli token"], PARLEY_LOCAL_TOKEN_SECRET="x" * 32)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2  # header.payload.signature
