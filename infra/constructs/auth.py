"""How a handshake is checked: the authorizer's settings (token verification, Origin allowlist, single-use
tokens), in hs256 mode the signing secret, and in single-use mode the record of used tokens."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import compliance, constants
from infra.context import AuthConfig
from parley.config import AuthMode
from parley.table import token_pk

# The partition keys of every used single-use token.
TOKEN_KEYS = token_pk("*")


class Auth(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: AuthConfig, table: dynamodb.ITable) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self._table = table
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
                "rotation needs that backend's cooperation and no rotation Lambda can do it alone. It is "
                "rotated in two steps (docs/deploying.md): put a new value, and once the authorizer has "
                "read it (PARLEY_AUTH_KEY_CACHE_SECONDS) switch the backend to it; the authorizer accepts "
                "the AWSCURRENT and AWSPREVIOUS versions, so live tokens keep working.",
            )

    def grant_verify(self, grantee: iam.IGrantable) -> None:
        """What verifying a token needs: reading the signing secret (nothing in jwks mode), and in single-use
        mode recording its ``jti``."""
        if self.secret is not None:
            self.secret.grant_read(grantee)
        if self.config.single_use_tokens:
            # A conditional put of TOKEN#<jti> items only: the authorizer can neither read nor change chat data.
            iam.Grant.add_to_principal(
                grantee=grantee, actions=["dynamodb:PutItem"], resource_arns=[self._table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TOKEN_KEYS]}})

    def environment(self) -> dict[str, str]:
        """Settings field name -> value, for the authorizer."""
        values = {
            "auth_mode": self.config.mode.value,
            "auth_algorithms": self.config.algorithms,
            "auth_issuer": ",".join(self.config.issuers),
            "auth_audience": ",".join(self.config.audiences),
            "auth_audience_claim": self.config.audience_claim,
        }
        if self.secret is not None:
            values["auth_secret_id"] = self.secret.secret_arn
        if self.config.jwks_url:
            values["auth_jwks_url"] = self.config.jwks_url
        if self.config.token_lifetime_cap_seconds is not None:
            values["auth_max_token_lifetime_seconds"] = str(self.config.token_lifetime_cap_seconds)
        if self.config.allowed_origins:
            values["allowed_origins"] = ",".join(self.config.allowed_origins)
            values["allow_missing_origin"] = str(self.config.allow_missing_origin).lower()
        if self.config.single_use_tokens:
            values["single_use_tokens"] = "true"
            values["max_token_lifetime_seconds"] = str(self.config.max_token_lifetime_seconds)
            values["table_name"] = self._table.table_name
        return values
