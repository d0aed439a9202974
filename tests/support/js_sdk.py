"""The TypeScript SDK's build (clients/js/dist), made from its sources for the tests that load it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "clients" / "js"


def build_sdk() -> Path:
    """Compile clients/js/src into clients/js/dist (a few seconds) and return dist; fails the test with tsc's
    output when it does not compile."""
    assert (SDK / "node_modules").is_dir(), "clients/js/node_modules is missing: run `make install`"
    build = subprocess.run(["npm", "--prefix", str(SDK), "run", "build", "--silent"], capture_output=True,
                           text=True, timeout=180, check=False)
    assert build.returncode == 0, f"the SDK does not compile:\n{build.stdout}\n{build.stderr}"
    return SDK / "dist"
