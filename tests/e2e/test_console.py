"""The admin console of ``make run`` (local/console.py, console/): its server over real HTTP (the pages with their
security headers, config.json, the dev sign-in, /console/* forwarded to the server API, which checks the
operator on every call), and the console itself in headless Chromium (tests/browser/console.spec.mjs): an
operator signs in, opens a report a real WebSocket client made, bans the sender (whose real socket closes) and
finds the ban in the audit log; a non-admin is refused by the server. The spec screenshots every page
(over docs/admin.md's docs/images/admin-*.png with ``PARLEY_UPDATE_SCREENSHOTS=1``)."""

from __future__ import annotations

import asyncio
import json
import os
import runpy
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

import local
from local.console import HEADERS_MODULE
from local.stack import Stack
from parley_client import Backoff, HandshakeRejected, ServerError
from tests.e2e.harness import admin_for, client_for, connected, run

ROOT = Path(local.__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "browser" / "console.spec.mjs"
IMAGES = ROOT / "docs" / "images"
PAGES = ("sign-in", "overview", "reports", "report", "user", "conversation", "audit")

pytestmark = pytest.mark.timeout(300)

Answer = tuple[int, dict[str, str], bytes]


def request(stack: Stack, path: str, *, method: str = "GET", body: object = None, token: str | None = None,
            headers: dict[str, str] | None = None) -> Answer:
    sent = {**({"Content-Type": "application/json"} if body is not None else {}),
            **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    data = json.dumps(body).encode() if body is not None else None
    call = urllib.request.Request(f"{stack.console_url}{path.lstrip('/')}", data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(call, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def sign_in(stack: Stack, username: str, *, admin: bool = True) -> str:
    status, _, body = request(stack, "dev/sign-in", method="POST", body={"username": username, "admin": admin})
    assert status == 200, body
    return str(json.loads(body)["token"])


def error_code(body: bytes) -> str:
    return str(json.loads(body)["error"]["code"])


# -- the pages and their headers ----------------------------------------------------------------------------


def test_the_console_is_served_with_its_security_headers(stack: Stack) -> None:
    # when the browser loads the console
    status, headers, body = request(stack, "")
    # then it gets the page, which loads its code from this origin only
    assert status == 200 and b'<script type="module" src="./app.js"></script>' in body
    assert b"<style" not in body and b" style=" not in body  # no inline style (the CSP forbids it)
    # with the console's security headers, the set CloudFront sends in AWS (infra/console_headers.py)
    policy = headers["Content-Security-Policy"]
    assert policy == runpy.run_path(str(HEADERS_MODULE))["content_security_policy"]()
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    # HSTS is for HTTPS: AWS sends it, plain HTTP on the loopback does not
    assert "Strict-Transport-Security" not in headers


def test_every_console_file_is_plain_html_css_or_an_es_module(stack: Stack) -> None:
    files = sorted(p for p in (ROOT / "console").rglob("*") if p.is_file())
    for path in files:
        relative = path.relative_to(ROOT / "console").as_posix()
        status, headers, body = request(stack, relative)
        assert status == 200, relative
        assert headers["Content-Type"].split(";")[0] in ("text/html", "text/css", "text/javascript"), relative
        # nothing the CSP would refuse: no inline handlers, no eval, no innerHTML of API text
        for forbidden in (b"onclick=", b"eval(", b".innerHTML", b"localStorage.", b"document.cookie"):
            assert forbidden not in body, f"{relative} has {forbidden!r}"


def test_the_config_says_dev_sign_in_and_the_api_under_its_own_origin(stack: Stack) -> None:
    status, headers, body = request(stack, "config.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"mode": "local", "apiBase": "/console", "cognito": None}


@pytest.mark.parametrize("path", ["../pyproject.toml", "%2e%2e/pyproject.toml", "pages/../../package.json",
                                  ".hidden", "nothing-here.js", "config.py"])
def test_nothing_outside_the_console_is_served(stack: Stack, path: str) -> None:
    status, _, _ = request(stack, path)
    assert status == 404


def test_the_dev_sign_in_answers_only_its_own_page(stack: Stack) -> None:
    good = {"username": "ops", "admin": True}
    # a page of another origin gets no token
    status, _, body = request(stack, "dev/sign-in", method="POST", body=good,
                              headers={"Origin": "https://evil.example"})
    assert (status, error_code(body)) == (403, "wrong_origin")
    # a form post (no preflight) is refused for its content type
    status, _, body = request(stack, "dev/sign-in", method="POST", body=good,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, error_code(body)) == (415, "unsupported_media")
    # a name that resolves to this machine (DNS rebinding) is not this server
    status, _, body = request(stack, "dev/sign-in", method="POST", body=good,
                              headers={"Host": f"rebound.example:{stack.console.port}"})
    assert (status, error_code(body)) == (421, "wrong_host")
    # a name that is not one, or an admin flag that is not a boolean
    for bad in ({"username": "a b"}, {"username": "ops", "admin": "yes"}, ["ops"]):
        status, _, body = request(stack, "dev/sign-in", method="POST", body=bad)
        assert status == 400 and "token" not in json.loads(body)
    # and the page itself, at its own origin, gets one
    status, _, body = request(stack, "dev/sign-in", method="POST", body=good,
                              headers={"Origin": stack.console_url.rstrip("/")})
    assert status == 200 and json.loads(body)["token"]


# -- the server API through the console's origin ----------------------------------------------------------------


def test_an_operator_reads_the_server_api_through_the_console(stack: Stack) -> None:
    token = sign_in(stack, "ops-reader")
    status, _, body = request(stack, "console/v1/console/whoami", token=token)
    assert status == 200, body
    assert json.loads(body)["operator"] == "console:ops-reader" and json.loads(body)["admin"] is True


def test_a_non_admin_is_refused_by_the_server_and_nothing_changes(stack: Stack, user: Callable[[str], str]) -> None:
    target = user("innocent")
    # given an operator signed in outside the admins group
    token = sign_in(stack, "not-an-admin", admin=False)
    # when they read reports or ban a user through the console's origin (the page is not asked)
    for method, path, body in (("GET", "console/v1/reports", None),
                               ("POST", "console/v1/bans", {"userId": target})):
        status, _, answer = request(stack, path, method=method, body=body, token=token)
        # then the server API refuses each call
        assert (status, error_code(answer)) == (403, "forbidden"), answer
    # and the user is not banned
    assert admin_for(stack).user_bans(target)["ban"] is None
    # and a call with no sign-in at all is refused too
    status, _, answer = request(stack, "console/v1/reports")
    assert status in (401, 403), answer


# -- in the browser ---------------------------------------------------------------------------------------------


def test_an_operator_bans_a_reported_sender_in_the_browser(stack: Stack, tmp_path: Path) -> None:
    node, chromium = shutil.which("node"), shutil.which("chromium")
    if node is None or chromium is None:
        pytest.skip(f"needs node and Debian's chromium on PATH (missing: "
                    f"{', '.join(n for n, p in (('node', node), ('chromium', chromium)) if p is None)}; "
                    "bash .ci/run installs chromium)")
    sender_id, reporter_id = "mallory", "rita"  # this module's stack is the test's own: plain names for the shots

    async def scenario() -> None:
        # given a conversation where rita reports one of mallory's messages, over real sockets
        mallory = await connected(stack, sender_id, backoff=Backoff(initial=0.05, maximum=0.2))
        rita = await connected(stack, reporter_id)
        try:
            conversation = await rita.open_direct(sender_id)
            cid = conversation.conversation_id
            await rita.send(cid, "Hi! Is the bike still for sale?")
            await mallory.send(cid, "Yes. Pay upfront by gift card, then I ship it.")
            bad = await mallory.send(cid, "Send the codes now or the deal is off, idiot.")
            await rita.send(cid, "That is not OK. Reporting you.")
            await rita.report(cid, bad.seq, "harassment")
            # (and an error frame for the overview: mallory writes where she is no member)
            with pytest.raises(ServerError):
                await mallory.send("g_nobody-here", "anyone?")
            # and mallory's socket is open
            assert await mallory.ping() >= 0
            # when an operator signs in to the console, opens the report and bans mallory (tests/browser/...)
            spec = await asyncio.create_subprocess_exec(
                node, str(SPEC), cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, "PARLEY_CONSOLE_URL": stack.console_url, "PARLEY_CHROMIUM": chromium,
                     "PARLEY_SENDER": sender_id, "PARLEY_REPORTER": reporter_id, "PARLEY_CONVERSATION": cid,
                     "PARLEY_SCREENSHOTS": str(tmp_path)})
            output, _ = await asyncio.wait_for(spec.communicate(), 240)
            # then every step in the browser held (the script names the one that did not)
            assert spec.returncode == 0, output.decode()
            # and mallory's socket was closed by the ban, and her app's reconnect is refused as banned
            with pytest.raises(HandshakeRejected) as refused:
                async with asyncio.timeout(10):
                    async for _ in mallory:
                        pass
            assert refused.value.banned and not mallory.connected
        finally:
            await mallory.close()
            await rita.close()
        with pytest.raises(HandshakeRejected):
            await client_for(stack, sender_id).connect()

    run(scenario(), timeout=280)
    # and every page was screenshot: in the test's directory, and over docs/admin.md's with
    # PARLEY_UPDATE_SCREENSHOTS=1 (so an ordinary run leaves the working tree as it was)
    for page in PAGES:
        shot = tmp_path / f"admin-{page}.png"
        assert shot.stat().st_size > 0, page
        if os.environ.get("PARLEY_UPDATE_SCREENSHOTS") == "1":
            (IMAGES / shot.name).write_bytes(shot.read_bytes())
