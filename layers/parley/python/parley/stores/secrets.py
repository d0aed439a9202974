"""Secrets Manager reads, cached inside a warm Lambda by Powertools' parameters utility."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from parley.aws import client


@lru_cache(maxsize=1)
def _provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=client("secretsmanager"))


def secret_reader(max_age_seconds: int) -> Callable[[str], str]:
    def read(secret_id: str) -> str:
        value = _provider().get(secret_id, max_age=max_age_seconds)
        if not isinstance(value, str) or not value:
            raise ValueError("the token secret is empty")
        return value

    return read


def reset() -> None:
    _provider.cache_clear()
