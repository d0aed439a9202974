"""Evaluates a Lambda authorizer's IAM policy against the ``$connect`` route ARN, as API Gateway does:
an explicit Deny wins, then an Allow that matches; anything else is a Deny."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

INVOKE_ACTION = "execute-api:Invoke"


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class PolicyError(ValueError):
    """The authorizer returned something that is not an authorizer response (API Gateway answers 500)."""


def _wildcard(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: ``*`` is any run of characters, ``?`` any one character."""
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _as_list(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise PolicyError("Action and Resource must be a string or a list of strings")
    return values


def _matches(patterns: list[str], value: str) -> bool:
    return any(_wildcard(p).fullmatch(value) for p in patterns)


def evaluate(response: Any, method_arn: str) -> Decision:
    if not isinstance(response, Mapping) or not isinstance(response.get("principalId"), str):
        raise PolicyError("an authorizer response needs a principalId")
    document = response.get("policyDocument")
    if not isinstance(document, Mapping):
        raise PolicyError("an authorizer response needs a policyDocument")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError("policyDocument.Statement must be a list")
    context = response.get("context")
    if context is not None and (not isinstance(context, Mapping) or
                                not all(isinstance(v, str | int | float | bool) for v in context.values())):
        raise PolicyError("context values must be strings, numbers or booleans")

    allowed = False
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise PolicyError("a Statement must be an object")
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError("Effect must be Allow or Deny")
        if not _matches(_as_list(statement.get("Action")), INVOKE_ACTION):
            continue
        if not _matches(_as_list(statement.get("Resource")), method_arn):
            continue
        if effect == "Deny":
            return Decision.DENY
        allowed = True
    return Decision.ALLOW if allowed else Decision.DENY
