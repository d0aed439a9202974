"""docs/openapi.json, the server API as data: up to date with the API's routes and models, a valid OpenAPI 3.1
document, and saying what the API does: SigV4 on every operation, every error in the one error shape."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from parley.server_api.app import app
from tools import openapi

DOC: dict[str, Any] = json.loads(openapi.DOCUMENT.read_text(encoding="utf-8"))


def test_the_checked_in_document_is_up_to_date() -> None:
    # a route or model changed without `python -m tools.openapi`: this fails (and so does `--check` in CI)
    assert openapi.main(["--check"]) == 0, "docs/openapi.json is stale: run .venv/bin/python -m tools.openapi"


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"].startswith("3.1")
    validate(DOC)


def test_every_route_of_the_app_is_documented() -> None:
    routes = {(r.method.lower(), r.path.replace("<", "{").replace(">", "}"))
              for r in app._static_routes + app._dynamic_routes}
    documented = {(method, path) for path, operations in DOC["paths"].items() for method in operations}
    assert routes == documented


def test_every_operation_is_signed_and_answers_errors_in_one_shape() -> None:
    assert DOC["security"] == [{"sigv4": []}]
    for path, operations in DOC["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert "422" not in answers, (method, path)  # refused input is 400 invalid_request
            for status in ("400", "403", "404", "500"):
                assert answers[status]["content"]["application/json"]["schema"] == {"$ref": openapi.ERROR}


def test_the_error_codes_are_the_servers() -> None:
    codes = DOC["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
    assert {"invalid_request", "route_not_found", "conversation_not_found", "internal_error"} <= set(codes)
    assert codes == openapi.error_codes()
