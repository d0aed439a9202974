"""docs/openapi.json, the server API as data (OpenAPI 3.1), generated from the API's own routes and pydantic models.

``.venv/bin/python -m tools.openapi`` writes the document; ``--check`` only compares it with the checked-in one
(exit 1 when stale). Powertools builds the paths and schemas from ``parley.server_api.app``; this tool adds what
is the same for every operation: SigV4 as the security scheme, and the error answers (``{"error": {"code",
"message"}}``, every code from ``parley.errors``) in place of Powertools' default 422. docs/server-api.md is
the prose contract.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from parley import errors
from parley.server_api.app import TITLE, VERSION, app
from tools import generated

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
ERROR = "#/components/schemas/Error"
DESCRIPTION = ("Parley's server API for the host app's backend: IAM-authorized (SigV4, service `execute-api`). "
               "The admin console calls every path under the prefix `/console` (`/console/v1/...`) with a "
               "Bearer token of its Cognito user pool instead, and must be in the admins group. "
               "See docs/server-api.md and docs/admin.md.")


def error_codes() -> list[str]:
    """Every stable error code (``parley.errors``), sorted: the server API may answer any of them."""
    return sorted({cls.code for cls in errors.error_classes()})


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object", "title": "Error", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "enum": error_codes(),
                         "description": "Stable: see docs/server-api.md, \"Errors\"."},
                "message": {"type": "string", "description": "For people; may change."}}}},
    }


def _answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ERROR}}}}


ERROR_ANSWERS = {
    "400": "Refused: invalid input or a rule of the operation (`invalid_request`, ...); nothing changed.",
    "403": "Refused: signature or IAM policy (API Gateway), or a rule such as `not_allowed` or `blocked`.",
    "404": "No such route (`route_not_found`) or resource (`conversation_not_found`, ...).",
    "500": "Failed (`internal_error`); retry where the operation is idempotent.",
}


def document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION,
                                                                  description=DESCRIPTION))
    doc["servers"] = [
        {"url": "https://{apiId}.execute-api.{region}.amazonaws.com",
         "description": "A deployment (its ServerApiUrl output)",
         "variables": {"apiId": {"default": "abc123"}, "region": {"default": "us-east-1"}}},
        {"url": "http://127.0.0.1:8084", "description": "The local stack (make run)"},
    ]
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas["Error"] = _error_schema()
    components["securitySchemes"] = {"sigv4": {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "AWS Signature Version 4 (service `execute-api`), as API Gateway's AWS_IAM authorizer "
                       "checks it: sign with botocore (parley_server) or any AWS SDK.",
        "x-amazon-apigateway-authtype": "awsSigv4"}}
    doc["security"] = [{"sigv4": []}]
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            answers.pop("422", None)
            for status, description in ERROR_ANSWERS.items():
                answers.setdefault(status, _answer(description))
            operation["responses"] = dict(sorted(answers.items()))
    doc["paths"] = dict(sorted(doc.get("paths", {}).items()))
    return doc


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated.main(argv, module="tools.openapi", description=__doc__.splitlines()[0], output=DOCUMENT,
                          render=render)


if __name__ == "__main__":
    sys.exit(main())
