"""The ``$connect`` REQUEST authorizer: checks the Origin (when an allowlist is configured), verifies the
chat token (and, in single-use mode, that it was never used before), and passes the user id (``sub``) and
the frame format asked for (``?format=``) to every route through the authorizer context. A missing token is
401; anything refused, an unknown format included, is 403."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.auth import (
    TokenVerifier,
    build_verifier,
    check_single_use,
    frame_format_from_request,
    origin_allowed,
    token_from_request,
)
from parley.authorizer_context import FRAME_FORMAT_KEY, USER_ID_KEY
from parley.config import get_settings
from parley.errors import TokenError
from parley.observability import logger, metrics, tracer
from parley.stores.secrets import secret_reader
from parley.stores.used_tokens import DynamoUsedTokenStore


@lru_cache(maxsize=1)
def verifier() -> TokenVerifier:
    settings = get_settings()
    return build_verifier(settings, secret_reader(settings.auth_key_cache_seconds))


def policy(event: dict[str, Any], effect: str, principal_id: str,
           context: dict[str, str] | None = None) -> dict[str, Any]:
    """The IAM policy API Gateway expects: ``effect`` on every route of this API's stage
    (``arn:...:{api}/{stage}/$connect`` -> ``arn:...:{api}/{stage}/*``), with the context passed to the routes."""
    api_and_stage = "/".join(str(event.get("methodArn", "")).split("/")[:2])
    answer: dict[str, Any] = {"principalId": principal_id, "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": [f"{api_and_stage}/*"]}]}}
    if context:
        answer["context"] = context
    return answer


def _deny(event: dict[str, Any], reason: str) -> dict[str, Any]:
    logger.info("connection refused", extra={"reason": reason})  # the reason, never the token
    metrics.add_metric(name="AuthRefused", unit="Count", value=1)
    return policy(event, "Deny", "anonymous")


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    """Reads the REQUEST authorizer event as a dict (Powertools' event class costs a cold start)."""
    settings = get_settings()
    headers, query = event.get("headers") or {}, event.get("queryStringParameters") or {}
    if not origin_allowed(headers, settings.origins, settings.allow_missing_origin):
        return _deny(event, "origin not allowed")
    token = token_from_request(query, headers)
    if not token:
        metrics.add_metric(name="AuthMissingToken", unit="Count", value=1)
        raise Exception("Unauthorized")
    frame_format = frame_format_from_request(query)
    if frame_format is None:
        return _deny(event, "unknown frame format")
    try:
        verified = verifier().verify(token)
        if settings.single_use_tokens:
            check_single_use(verified, settings.max_token_lifetime_seconds,
                             DynamoUsedTokenStore(settings.table_name).first_use)
    except TokenError as exc:
        return _deny(event, str(exc))
    return policy(event, "Allow", verified.user_id,
                  {USER_ID_KEY: verified.user_id, FRAME_FORMAT_KEY: frame_format.value})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(event)
