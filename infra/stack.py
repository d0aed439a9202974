"""Parley's stack: composes one construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.constructs.auth import Auth
from infra.constructs.functions import Functions
from infra.constructs.monitoring import Monitoring
from infra.constructs.storage import Storage
from infra.constructs.websocket_api import WebSocketApi
from infra.context import DeploymentConfig


class ParleyStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        storage = Storage(self, "Storage")
        auth = Auth(self, "Auth", config=config.auth)
        api = WebSocketApi(self, "WebSocket", throttle=config.throttle)
        functions = Functions(self, "Functions", table=storage.table, auth=auth, stage=api.stage,
                              tuned_settings=config.settings)
        api.add_routes(functions)
        Monitoring(self, "Monitoring", functions=functions.by_name.values(), api=api.api)

        CfnOutput(self, "WebSocketUrl", value=api.stage.url,
                  description="Where chat clients connect (add ?token=<chat token>)")
        CfnOutput(self, "CallbackUrl", value=api.stage.callback_url,
                  description="The @connections management endpoint that delivering functions post to")
        if auth.secret is not None:
            CfnOutput(self, "TokenSecretArn", value=auth.secret.secret_arn,
                      description="The HS256 key the host app's backend signs chat tokens with")
