"""The optional message-review Lambda, invoked synchronously with a strict timeout and no retries."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from parley.ports import ModerationHook


@lru_cache(maxsize=4)
def _lambda_client(timeout_ms: int) -> Any:
    seconds = max(timeout_ms / 1000, 0.1)
    config = Config(connect_timeout=seconds, read_timeout=seconds, retries={"max_attempts": 0, "mode": "standard"})
    return boto3.session.Session().client("lambda", config=config)


def reset() -> None:
    _lambda_client.cache_clear()


class LambdaModerationHook(ModerationHook):
    def __init__(self, function_name: str, timeout_ms: int) -> None:
        self._function = function_name
        self._timeout_ms = timeout_ms

    def review(self, request: dict[str, object]) -> dict[str, object]:
        resp = _lambda_client(self._timeout_ms).invoke(
            FunctionName=self._function, InvocationType="RequestResponse", Payload=json.dumps(request).encode())
        if resp.get("FunctionError"):
            raise RuntimeError("the moderation hook failed")
        answer = json.loads(resp["Payload"].read())
        if not isinstance(answer, dict):
            raise TypeError("the moderation hook answered something other than an object")
        return answer
