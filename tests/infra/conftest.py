"""The infrastructure tier: one real ``npx cdk synth`` per test session, shared by every test.

Synthesizing through the CLI (not in-process) proves what a fresh machine does: cdk.json's app command,
asset staging, the authorizer's dependency build and the cdk-nag plugin, which fails the synth on any
unacknowledged finding.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from aws_cdk.assertions import Template

from tests.infra.synthesis import REPO_ROOT, STACK, Synth

_CLI_ENV = {"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1", "CDK_DISABLE_CLI_TELEMETRY": "true"}


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    # No AWS credentials or profile (tests/conftest.py sets fake ones): synth must need no AWS account.
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return subprocess.run(command, cwd=REPO_ROOT, env={**env, **_CLI_ENV}, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    if not (REPO_ROOT / "node_modules" / ".bin" / "cdk").exists():
        installed = _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"])
        assert installed.returncode == 0, f"npm install failed:\n{installed.stderr}"
    outdir = tmp_path_factory.mktemp("cdk.out")
    # --no: use the CLI pinned in package.json, never download another one.
    result = _run(["npx", "--no", "--", "cdk", "synth", "--quiet", "--no-notices", "--output", str(outdir)])
    if result.returncode != 0:
        pytest.fail(f"cdk synth failed (exit {result.returncode}):\n{result.stdout[-5000:]}\n"
                    f"{result.stderr[-10000:]}", pytrace=False)
    template_json = json.loads((outdir / f"{STACK}.template.json").read_text())
    return Synth(outdir=outdir, template_json=template_json, template=Template.from_json(template_json))
