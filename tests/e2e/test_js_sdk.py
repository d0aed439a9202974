"""The TypeScript SDK (clients/js) against the local stack, over real sockets: Node's test runner runs
clients/js/test/ with this module's stack. The scenarios themselves are in JavaScript (stack.test.mjs);
this test builds the SDK, hands Node the stack's URL and what it needs to mint tokens, and fails with Node's
output when any scenario fails."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from local.stack import Stack
from tests.e2e.harness import generous_rate_limits
from tests.support.images import jpeg_with_gps
from tests.support.js_sdk import build_sdk

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "clients" / "js"
NODE = shutil.which("node")
CHROMIUM = shutil.which("chromium")
BROWSER_SPEC = ROOT / "tests" / "browser" / "sdk_scenarios.spec.mjs"
PHOTO_SIZE = (640, 480)


@pytest.fixture(scope="module")
def handler_env() -> dict[str, str]:
    # No leeway on token expiry, so the token-refresh scenario needs only a token that lived 2 seconds.
    return {"PARLEY_RATE_LIMITS": generous_rate_limits(), "PARLEY_AUTH_LEEWAY_SECONDS": "0"}


@pytest.mark.skipif(NODE is None, reason="node is not installed: the TypeScript SDK's tests need Node >= 18")
def test_the_typescript_sdk_scenarios_pass_against_the_local_stack(stack: Stack, tmp_path: Path) -> None:
    # given the SDK built from its sources
    build_sdk()
    # and a running stack, with what the scenarios need to mint tokens it accepts
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_gps(*PHOTO_SIZE))
    settings = stack.settings
    config = {"wsUrl": stack.ws_url, "tokenSecret": settings.token_secret, "issuer": settings.issuer,
              "audience": settings.audience, "photo": str(photo), "photoWidth": PHOTO_SIZE[0],
              "photoHeight": PHOTO_SIZE[1]}
    (tmp_path / "stack.json").write_text(json.dumps(config), encoding="utf-8")

    # when Node's test runner runs the SDK's tests
    test_files = sorted(str(path) for path in (SDK / "test").glob("*.test.mjs"))
    run = subprocess.run([str(NODE), "--test", "--test-reporter=spec", *test_files],
                         env={"PATH": str(Path(str(NODE)).parent), "PARLEY_JS_STACK": str(tmp_path / "stack.json")},
                         capture_output=True, text=True, timeout=280, check=False, cwd=SDK)

    # then every scenario passed
    output = f"{run.stdout}\n{run.stderr}"
    assert run.returncode == 0, f"node --test failed ({run.returncode}):\n{output}"
    assert re.search(r"^\S+ fail 0$", output, re.MULTILINE), output
    assert re.search(r"^\S+ skipped 0$", output, re.MULTILINE), f"a scenario was skipped:\n{output}"


@pytest.mark.skipif(NODE is None or CHROMIUM is None,
                    reason="needs node and Debian's chromium on PATH (bash .ci/run installs chromium)")
def test_the_same_scenarios_pass_in_headless_chromium(stack: Stack) -> None:
    # given the SDK's browser build, served by the stack's web chat on 127.0.0.1
    build_sdk()
    # when headless Chromium runs the scenarios shared with Node (clients/js/test/scenarios.mjs) in a page of it,
    # with the browser's own WebSocket, fetch and localStorage
    run = subprocess.run([str(NODE), str(BROWSER_SPEC)], cwd=ROOT, capture_output=True, text=True, timeout=240,
                         check=False, env={"PATH": str(Path(str(NODE)).parent), "PARLEY_WEB_URL": stack.web_url,
                                           "PARLEY_CHROMIUM": str(CHROMIUM)})
    # then every one of them passed, as in Node
    output = f"{run.stdout}\n{run.stderr}"
    assert run.returncode == 0, f"the browser scenarios failed ({run.returncode}):\n{output}"
    shared = (SDK / "test" / "scenarios.mjs").read_text(encoding="utf-8").count("    name: ")
    assert len(re.findall(r"^ok - ", output, re.MULTILINE)) == shared >= 4, output
