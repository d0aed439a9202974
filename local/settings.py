"""The local stack's own configuration: one Pydantic model, read from ``PARLEY_LOCAL_*`` once.

The handlers never see this model. The stack turns it into the environment variables that
``parley.config`` reads, exactly as the CDK functions construct does in AWS.
"""

from __future__ import annotations

import os
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Every server of the local stack binds here, and nowhere else.
LOOPBACK = "127.0.0.1"

# A well-known secret so that `parley token` and `parley chat`, run in other terminals, mint tokens the
# running stack accepts. It only ever guards a stack bound to the loopback interface.
DEV_TOKEN_SECRET = "parley-local-dev-secret-do-not-use-in-aws-0123456789"
# The server API's local key pairs (SigV4), as well known as the token secret, for the same reason: `parley admin`
# in another terminal signs with them. The full one stands for the full policy, the read-only one for GET only.
DEV_ADMIN_ACCESS_KEY_ID = "PARLEYLOCALADMIN"
DEV_ADMIN_SECRET_ACCESS_KEY = "parley-local-admin-secret-do-not-use-in-aws"
DEV_READER_ACCESS_KEY_ID = "PARLEYLOCALREADER"
DEV_READER_SECRET_ACCESS_KEY = "parley-local-reader-secret-do-not-use-in-aws"

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message limit, both directions
IDLE_TIMEOUT_SECONDS = 10 * 60  # API Gateway's idle connection timeout
MAX_CONNECTION_SECONDS = 2 * 60 * 60  # API Gateway's maximum connection duration


class LocalSettingsError(ValueError):
    """A ``PARLEY_*`` variable the local stack cannot use: one line naming each variable and its rule, never
    its value (one of them is the token secret)."""

    @classmethod
    def of(cls, exc: ValidationError) -> LocalSettingsError:
        problems = [f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                    for err in exc.errors(include_input=False, include_url=False)]
        return cls("Invalid local stack configuration: " + "; ".join(problems) + " (see docs/local-stack.md)")


class LocalSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    # 0 picks a free port (the tests do that).
    ws_port: int = Field(default=8080, ge=0, le=65535, alias="PARLEY_LOCAL_WS_PORT")
    connections_port: int = Field(default=8081, ge=0, le=65535, alias="PARLEY_LOCAL_CONNECTIONS_PORT")
    moto_port: int = Field(default=8082, ge=0, le=65535, alias="PARLEY_LOCAL_MOTO_PORT")
    # The web chat (local.web): the page, the SDK's browser build and POST /token.
    web_port: int = Field(default=8083, ge=0, le=65535, alias="PARLEY_LOCAL_WEB_PORT")
    server_api_port: int = Field(default=8084, ge=0, le=65535, alias="PARLEY_LOCAL_SERVER_API_PORT")
    # The admin console (local.console): its pages, config.json, the dev sign-in and /console/* to the server API.
    console_port: int = Field(default=8085, ge=0, le=65535, alias="PARLEY_LOCAL_CONSOLE_PORT")
    # Use another AWS endpoint instead of starting moto: DynamoDB Local's URL, or "aws" for the real
    # endpoints with the credentials already in the environment.
    aws_endpoint: str | None = Field(default=None, alias="PARLEY_AWS_ENDPOINT")

    region: str = Field(default="us-east-1", alias="PARLEY_LOCAL_REGION")
    account_id: str = Field(default="123456789012", alias="PARLEY_LOCAL_ACCOUNT_ID")
    api_id: str = Field(default="parleylocl", alias="PARLEY_LOCAL_API_ID")
    stage: str = Field(default="local", pattern=r"^[A-Za-z0-9_-]+$", alias="PARLEY_LOCAL_STAGE")
    table_name: str = Field(default="parley-local", alias="PARLEY_LOCAL_TABLE")
    secret_name: str = Field(default="parley/local/token-secret", alias="PARLEY_LOCAL_SECRET_NAME")
    # HS256 wants a key of at least 32 bytes (RFC 7518, section 3.2).
    token_secret: str = Field(default=DEV_TOKEN_SECRET, min_length=32, alias="PARLEY_LOCAL_TOKEN_SECRET")
    # The same variables the handlers read, so minted tokens and the authorizer agree.
    issuer: str = Field(default="parley-dev", alias="PARLEY_AUTH_ISSUER")
    audience: str = Field(default="parley", alias="PARLEY_AUTH_AUDIENCE")
    # The uploads bucket's CORS origins, as the deployment's (empty: any origin).
    allowed_origins: str = Field(default="", alias="PARLEY_ALLOWED_ORIGINS")

    uploads_bucket: str = Field(default="parley-local-uploads", min_length=3, max_length=63,
                                pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$", alias="PARLEY_LOCAL_UPLOADS_BUCKET")
    # Names the topics (<prefix>-unread-events, <prefix>-moderation), the trigger queues (<prefix>-uploads,
    # <prefix>-notifier, each with a -dlq) and the push platform applications (<prefix>-ios, <prefix>-android).
    resource_prefix: str = Field(default="parley-local", pattern=r"^[A-Za-z0-9_-]{1,40}$",
                                 alias="PARLEY_LOCAL_RESOURCE_PREFIX")

    idle_timeout_seconds: float = Field(default=IDLE_TIMEOUT_SECONDS, gt=0, alias="PARLEY_LOCAL_IDLE_TIMEOUT")
    max_connection_seconds: float = Field(default=MAX_CONNECTION_SECONDS, gt=0,
                                          alias="PARLEY_LOCAL_MAX_CONNECTION_DURATION")
    max_message_bytes: int = Field(default=MAX_MESSAGE_BYTES, ge=1024, alias="PARLEY_LOCAL_MAX_MESSAGE_BYTES")
    # How many handler invocations run at once (Lambda's concurrency, scaled to a laptop).
    lambda_concurrency: int = Field(default=16, ge=1, le=256, alias="PARLEY_LOCAL_LAMBDA_CONCURRENCY")
    # API Gateway gives up on an integration after 29 s.
    integration_timeout_seconds: float = Field(default=29.0, gt=0, alias="PARLEY_LOCAL_INTEGRATION_TIMEOUT")
    log_level: str = Field(default="INFO", alias="PARLEY_LOCAL_LOG_LEVEL")
    # Where `parley chat` connects (default: this machine's stack on ws_port).
    url: str | None = Field(default=None, alias="PARLEY_URL")
    # Where `parley admin` calls the server API (default: this machine's stack on server_api_port).
    server_api_url: str | None = Field(default=None, alias="PARLEY_SERVER_API_URL")
    # The server's typing relay interval, the variable the handlers read: `parley chat` sends `typing` no more
    # often than that while you type.
    # The group a console sign-in must be in, the variable the handlers read: the dev sign-in's "admin" puts
    # the operator in it.
    console_admin_group: str = Field(default="admins", min_length=1, max_length=128,
                                     alias="PARLEY_CONSOLE_ADMIN_GROUP")
    typing_interval_ms: int = Field(default=3000, ge=0, le=60_000, alias="PARLEY_TYPING_INTERVAL_MS")

    @classmethod
    def from_env(cls) -> Self:
        """The settings from the environment; :class:`LocalSettingsError` when a variable breaks its rule."""
        try:
            return cls.model_validate(dict(os.environ))
        except ValidationError as exc:
            raise LocalSettingsError.of(exc) from None

    @property
    def admin_principal_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/parley-local-admin"

    @property
    def reader_principal_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/parley-local-reader"

    @property
    def uses_moto(self) -> bool:
        return not self.aws_endpoint

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]
