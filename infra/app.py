"""The CDK app (cdk.json runs ``.venv/bin/python infra/app.py``). cdk-nag's AWS Solutions checks run at
every synth as a policy-validation plugin: an unacknowledged finding fails the synth.

Deploy-time options are CDK context values, documented in ``infra/context.py``; they become the props of the
``Parley`` construct (``infra/construct.py``), which a host app uses directly instead.
"""

# sys.path must be fixed before the first import of `constructs`, hence imports below code:
# ruff: noqa: E402
import re
import sys
from pathlib import Path

# Run as a script, Python puts infra/ first on sys.path, and infra/constructs/ would shadow the
# `constructs` library. Import infra as a package from the repository root instead.
_INFRA = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _INFRA]
sys.path.insert(0, str(_INFRA.parent))

import aws_cdk as cdk

from infra import compliance, constants
from infra.context import DeploymentConfig
from infra.stack import ParleyStack


def build(app: cdk.App) -> ParleyStack:
    """Parley's stack on ``app``, configured from its context, with cdk-nag's checks registered."""
    config = DeploymentConfig.from_context(app.node.try_get_context)
    name = str(app.node.try_get_context("stackName") or constants.STACK_NAME)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", name):
        raise ValueError(f"stackName {name!r}: a letter, then letters, digits or '-' (128 at most)")
    stack = ParleyStack(app, name, config=config,
                        description="Parley: embeddable real-time chat (WebSocket API, Lambda, DynamoDB)")
    compliance.add_checks(app)
    return stack


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
