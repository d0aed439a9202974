"""The ``$connect`` REQUEST authorizer: verifies the chat token and passes the user id (``sub``) to
every route through the authorizer context. A missing token is 401, an invalid one 403."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponseWebSocket,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.auth import TokenVerifier, build_verifier, token_from_request
from parley.config import get_settings
from parley.edge import USER_ID_KEY
from parley.errors import TokenError
from parley.observability import logger, metrics, tracer
from parley.stores.secrets import secret_reader


@lru_cache(maxsize=1)
def verifier() -> TokenVerifier:
    settings = get_settings()
    return build_verifier(settings, secret_reader(settings.auth_key_cache_seconds))


def authorize(event: APIGatewayAuthorizerRequestEvent) -> dict[str, Any]:
    token = token_from_request(event.query_string_parameters, event.headers)
    if not token:
        metrics.add_metric(name="AuthMissingToken", unit="Count", value=1)
        raise Exception("Unauthorized")
    policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(event.method_arn, principal_id="anonymous")
    try:
        user_id = verifier().verify(token)
    except TokenError as exc:
        logger.info("token refused", extra={"reason": str(exc)})  # the reason, never the token
        metrics.add_metric(name="AuthRefused", unit="Count", value=1)
        policy.deny_all_routes()
        return policy.asdict()
    policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
        event.method_arn, principal_id=user_id, context={USER_ID_KEY: user_id})
    policy.allow_all_routes()
    return policy.asdict()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(APIGatewayAuthorizerRequestEvent(event))
