"""How chat tokens are verified: the authorizer's settings and, in hs256 mode, the signing secret."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import compliance, constants
from infra.context import AuthConfig
from parley.config import AuthMode


class Auth(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: AuthConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.secret: secretsmanager.Secret | None = None
        if config.mode is AuthMode.HS256:
            self.secret = secretsmanager.Secret(
                self, "TokenSigningSecret",
                description="Parley chat tokens: the HS256 key the host app's backend signs them with",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=constants.TOKEN_SECRET_LENGTH, exclude_punctuation=True),
            )
            compliance.acknowledge(
                self.secret, "AwsSolutions-SMG4",
                "The HS256 key is shared with the host app's backend, which signs tokens with it, so "
                "rotation needs that backend's cooperation and no rotation Lambda can do it alone; "
                "rotate by putting a new value (the authorizer re-reads it after "
                "PARLEY_AUTH_KEY_CACHE_SECONDS).",
            )

    def grant_verify(self, grantee: iam.IGrantable) -> None:
        """What verifying a token needs: reading the signing secret (nothing in jwks mode)."""
        if self.secret is not None:
            self.secret.grant_read(grantee)

    def environment(self) -> dict[str, str]:
        """Settings field name -> value, for the authorizer."""
        values = {
            "auth_mode": self.config.mode.value,
            "auth_algorithms": self.config.algorithms,
            "auth_issuer": self.config.issuer,
            "auth_audience": self.config.audience,
        }
        if self.secret is not None:
            values["auth_secret_id"] = self.secret.secret_arn
        if self.config.jwks_url:
            values["auth_jwks_url"] = self.config.jwks_url
        return values
