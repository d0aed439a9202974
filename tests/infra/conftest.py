"""The infrastructure tier: one real ``npx cdk synth`` per test session, shared by every test.

Synthesizing through the CLI (not in-process) proves what a fresh machine does: cdk.json's app command,
asset staging, the authorizer's dependency build and the cdk-nag plugin, which fails the synth on any
unacknowledged finding. That synth is the default deployment. Deployments configured through context
(push, single-use tokens, a moderation hook, a new account) are synthesized once each, in-process, from the
same app code.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.infra.synthesis import (
    CONFIGURED_CONTEXT,
    EXAMPLE_HOOK_CONTEXT,
    NEW_ACCOUNT_CONTEXT,
    REPO_ROOT,
    Synth,
    synth_example_host_app,
    synth_in_process,
)

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
    return Synth.load(outdir)


def _in_process(tmp_path_factory: pytest.TempPathFactory, name: str, context: dict[str, str]) -> Synth:
    try:
        return synth_in_process(tmp_path_factory.mktemp(name), context)
    except RuntimeError as exc:  # jsii's error for a failed synth, cdk-nag's findings included
        pytest.fail(f"cdk synth with {context} failed:\n{exc}", pytrace=False)


@pytest.fixture(scope="session")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack with push, single-use tokens, an Origin allowlist and a host app's moderation hook."""
    return _in_process(tmp_path_factory, "configured", CONFIGURED_CONTEXT)


@pytest.fixture(scope="session")
def example_hook(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack with the example moderation hook deployed and wired."""
    return _in_process(tmp_path_factory, "example-hook", EXAMPLE_HOOK_CONTEXT)


@pytest.fixture(scope="session")
def new_account(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack with no reserved concurrency and a table without deletion protection."""
    return _in_process(tmp_path_factory, "new-account", NEW_ACCOUNT_CONTEXT)


@pytest.fixture(scope="session")
def host_app(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """examples/host_app: a host's stack with Parley dev (destroyed with the stack, tracing off, a week of logs,
    alarms by email) and prod (Cognito access tokens, a custom domain, alarms to the host's topic)."""
    try:
        return synth_example_host_app(tmp_path_factory.mktemp("host-app"))
    except RuntimeError as exc:
        pytest.fail(f"cdk synth of examples/host_app failed:\n{exc}", pytrace=False)
