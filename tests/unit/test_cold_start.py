"""What a cold start pays for: each handler, imported in a fresh process as Lambda imports it (its folder, then
the layer, Lambda's environment with active tracing), imports the protocol models of its own routes only,
builds no model before its first invocation, and imports no X-Ray SDK unless subsegments are asked for
(docs/performance.md "Cold start", docs/deploying.md "Logs and traces")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from parley import routes

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "parley" / "python"

# handler -> the protocol modules of its routes (besides base and errors, which every route's edge uses)
PROTOCOL_MODULES = {
    "send": {"messages"}, "history": {"messages"}, "conversations": {"conversations", "messages"},
    "groups": {"groups", "conversations", "messages"},
    "presence": {"presence"}, "typing": {"presence"}, "unread": {"unread"}, "preferences": {"preferences"},
    "blocks": {"safety"}, "reports": {"safety"}, "devices": {"devices"}, "uploads": {"attachments"},
    "changes": {"changes"}, "keys": {"keys"}, "connect": set(), "disconnect": set(), "default": set(),
}

_PROBE = """
import importlib.util, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
spec = importlib.util.spec_from_file_location("handler", sys.argv[1] + "/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import pydantic

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

built = sorted({f"{c.__module__}.{c.__qualname__}" for c in subclasses(pydantic.BaseModel)
                if c.__module__.startswith("parley") and c.__pydantic_complete__})
print(json.dumps({"modules": sorted(m for m in sys.modules if m.startswith(("parley", "aws_", "boto"))),
                  "built": built}))
"""


@cache
def imported(function: str, **env: str) -> dict[str, Any]:
    """What importing ``functions/<function>/handler.py`` in a fresh process leaves behind."""
    lambda_env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PARLEY_"))}
    lambda_env.update({"LAMBDA_TASK_ROOT": str(ROOT / "functions" / function), "AWS_REGION": "us-east-1",
                       "AWS_LAMBDA_FUNCTION_NAME": f"parley-{function}", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
                       "POWERTOOLS_SERVICE_NAME": "parley", **env})
    done = subprocess.run([sys.executable, "-c", _PROBE, str(ROOT / "functions" / function), str(LAYER)],
                          env=lambda_env, capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("function", sorted(PROTOCOL_MODULES))
def test_a_route_handler_imports_the_protocol_models_of_its_own_routes_only(function: str) -> None:
    # given a route's handler, imported cold
    modules = imported(function)["modules"]
    # then the only protocol modules loaded are its routes' (and the error frame every route may answer with)
    loaded = {m.removeprefix("parley.protocol.") for m in modules if m.startswith("parley.protocol.")}
    assert loaded == PROTOCOL_MODULES[function] | {"base", "errors"}


@pytest.mark.parametrize("function", [*sorted(PROTOCOL_MODULES), routes.AUTHORIZER, routes.NOTIFIER,
                                      routes.THUMBNAILS])
def test_a_handler_reads_its_event_as_a_dict(function: str) -> None:
    # given a handler whose event is read field by field, imported cold
    modules = imported(function)["modules"]
    # then Powertools' event data classes are not imported (the deliver function's batch processor still is)
    assert not [m for m in modules if m.startswith("aws_lambda_powertools.utilities.data_classes")]


@pytest.mark.parametrize("function", routes.function_names())
def test_no_handler_builds_a_model_or_imports_the_xray_sdk_before_its_first_invocation(function: str) -> None:
    # given any function, imported cold with Lambda's active tracing on and SDK subsegments left off (the default)
    found = imported(function)
    # then no model is built yet (each is built when first used) but the settings model
    assert set(found["built"]) <= {"parley.config.Settings"}
    # and the X-Ray SDK is not even imported
    assert not [m for m in found["modules"] if m.startswith("aws_xray_sdk")]


def test_every_route_handler_is_covered() -> None:
    assert set(PROTOCOL_MODULES) == set(routes.ROUTES.values())


def test_the_authorizer_imports_none_of_the_routes_code() -> None:
    # given the $connect authorizer, imported cold
    modules = imported(routes.AUTHORIZER)["modules"]
    # then neither the routes' edge, their wiring nor any frame model is loaded
    assert not [m for m in modules if m.startswith(("parley.edge", "parley.wiring", "parley.protocol"))]
