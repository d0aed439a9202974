"""Loads the real Lambda handlers by path, as the Lambda runtime would."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.support.lambda_context import FakeLambdaContext

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
_loaded: dict[str, ModuleType] = {}


def handler_module(name: str) -> ModuleType:
    if name not in _loaded:
        spec = importlib.util.spec_from_file_location(f"parley_fn_{name}", FUNCTIONS / name / "handler.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[name] = module
    return _loaded[name]


def invoke(name: str, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handler_module(name).lambda_handler(event, FakeLambdaContext())
    return result


def frame(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON frame a route response carries back to the caller ({} when the route answers nothing)."""
    assert response["statusCode"] == 200, response
    if "body" not in response:
        return {}
    body: dict[str, Any] = json.loads(response["body"])
    return body
