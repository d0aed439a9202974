"""The web chat of ``make run`` (local/web.py, local/web/): its server over real HTTP, and the page itself in
headless Chromium, where alice and bob chat (tests/browser/web_chat.spec.mjs) and a screenshot of them is
saved (over README's docs/images/web-chat.png with ``PARLEY_UPDATE_SCREENSHOTS=1``)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

import local
from local.stack import Stack
from local.web import SDK_DIR
from parley.user_ids import MAX_LENGTH
from tests.e2e.harness import run
from tests.support.js_sdk import build_sdk

ROOT = Path(local.__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "browser" / "web_chat.spec.mjs"
SCREENSHOT = ROOT / "docs" / "images" / "web-chat.png"

pytestmark = pytest.mark.timeout(300)


def post_token(stack: Stack, body: bytes, *, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, object]]:
    request = urllib.request.Request(f"{stack.web_url}token", data=body, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def get(stack: Stack, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(f"{stack.web_url}{path}", timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


# -- the token endpoint ---------------------------------------------------------------------------------------


def test_a_token_from_the_web_chat_connects_as_that_user(stack: Stack) -> None:
    # given the web chat's token endpoint
    # when the page asks for a token for "Zoë"
    status, _, body = post_token(stack, json.dumps({"userId": "Zoë"}).encode())
    # then it gets one, with the WebSocket API's URL, and the stack accepts it as Zoë
    assert status == 200, body
    assert body["userId"] == "Zoë" and body["url"] == stack.ws_url
    from parley_client import ParleyClient

    async def whoami() -> str:
        async with ParleyClient(str(body["url"]), str(body["token"])) as client:
            conversation = await client.open_direct("web-bob")
            return next(m for m in conversation.members if m != "web-bob")

    assert run(whoami()) == "Zoë"


@pytest.mark.parametrize("user_id", ["", "alice bob", "alice\n", "a#b", "x" * (MAX_LENGTH + 1), 42, None])
def test_the_token_endpoint_refuses_what_the_server_would_not_take_as_a_user_id(stack: Stack,
                                                                                user_id: object) -> None:
    # when the page asks for a token for something that is not a user id
    status, _, body = post_token(stack, json.dumps({"userId": user_id}).encode())
    # then it gets 400 with the server's own rule, and no token
    assert status == 400
    assert body["error"] == "invalid_user_id" and "token" not in body
    assert "1-128 characters" in str(body["message"])


def test_the_token_endpoint_answers_only_its_own_page(stack: Stack) -> None:
    good = json.dumps({"userId": "alice"}).encode()
    # a page of another origin (its fetch carries Origin) gets no token
    status, _, body = post_token(stack, good, headers={"Origin": "https://evil.example"})
    assert (status, body["error"]) == (403, "wrong_origin")
    # a form post (no preflight) is refused for its content type
    status, _, body = post_token(stack, b"userId=alice", content_type="application/x-www-form-urlencoded")
    assert (status, body["error"]) == (415, "unsupported_media")
    # a name that resolves to this machine (DNS rebinding) is not this server
    status, _, body = post_token(stack, good, headers={"Host": f"rebound.example:{stack.web.port}"})
    assert (status, body["error"]) == (421, "wrong_host")
    # and the page itself, at its own origin, gets one
    status, _, body = post_token(stack, good, headers={"Origin": stack.web_url.rstrip("/")})
    assert status == 200 and body["token"]


# -- the page ---------------------------------------------------------------------------------------------------


def test_the_page_is_served_with_security_headers(stack: Stack) -> None:
    status, headers, body = get(stack, "")
    assert status == 200 and b'<script type="module" src="/app.js">' in body
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    # the page may reach the WebSocket API and the uploads endpoint (moto's S3), nothing else
    assert f"connect-src 'self' {stack.ws_url} {stack.aws_endpoint}" in policy
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_the_page_imports_the_sdk_build_it_serves(stack: Stack) -> None:
    status, headers, body = get(stack, "app.js")
    assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert b'from "/sdk/index.js"' in body
    status, headers, body = get(stack, "sdk/index.js")
    assert status == 200, "the SDK is not built: make install builds clients/js/dist"
    assert b"ParleyClient" in body


@pytest.mark.parametrize("path", ["../pyproject.toml", "%2e%2e/pyproject.toml", "sdk/../../package.json",
                                  ".hidden", "web.py", "nothing-here.js"])
def test_nothing_outside_the_page_and_the_sdk_is_served(stack: Stack, path: str) -> None:
    status, _, _ = get(stack, path)
    assert status == 404


# -- in the browser -------------------------------------------------------------------------------------------


def photo_jpeg() -> bytes:
    """A small picture: an evening sky over the sea."""
    image = Image.new("RGB", (960, 640))
    draw = ImageDraw.Draw(image)
    for y in range(400):
        draw.line([(0, y), (960, y)], fill=(40 + y // 3, 60 + y // 4, 140 + y // 6))
    draw.ellipse([600, 250, 760, 410], fill=(255, 196, 90))
    draw.rectangle([0, 400, 960, 640], fill=(20, 70, 110))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def side_by_side(left: Path, right: Path, target: Path) -> None:
    images = [Image.open(left), Image.open(right)]
    gap = 16
    width = sum(i.width for i in images) + gap
    canvas = Image.new("RGB", (width, max(i.height for i in images)), (120, 126, 140))
    canvas.paste(images[0], (0, 0))
    canvas.paste(images[1], (images[0].width + gap, 0))
    target.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(target, optimize=True)


def test_alice_and_bob_chat_in_the_browser(stack: Stack, tmp_path: Path) -> None:
    node, chromium = shutil.which("node"), shutil.which("chromium")
    if node is None or chromium is None:
        pytest.skip(f"needs node and Debian's chromium on PATH (missing: "
                    f"{', '.join(n for n, p in (('node', node), ('chromium', chromium)) if p is None)}; "
                    "bash .ci/run installs chromium)")
    assert build_sdk() == SDK_DIR  # the page imports the SDK as it is now
    photo = tmp_path / "evening.jpg"
    photo.write_bytes(photo_jpeg())
    # given the web chat of a running local stack
    # when alice and bob chat in two browser contexts: text, typing, a photo, invisible, a reconnect
    done = subprocess.run(
        [node, str(SPEC)], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, "PARLEY_WEB_URL": stack.web_url, "PARLEY_CHROMIUM": chromium, "PARLEY_PHOTO": str(photo),
             "PARLEY_SCREENSHOTS": str(tmp_path)})
    # then every step held (the script names the one that did not)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    # and the screenshot of both is saved: in the test's directory, and over README's with PARLEY_UPDATE_SCREENSHOTS=1
    # (so an ordinary run leaves the working tree as it was)
    side_by_side(tmp_path / "alice.png", tmp_path / "bob.png", tmp_path / SCREENSHOT.name)
    assert (tmp_path / SCREENSHOT.name).stat().st_size > 0
    if os.environ.get("PARLEY_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.write_bytes((tmp_path / SCREENSHOT.name).read_bytes())
