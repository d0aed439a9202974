"""The optional moderation hook (docs/security.md): a Lambda function that reviews each message before it
is stored, either the host app's own (``moderationFunctionArn``) or the example in
``functions/moderation_hook`` (``deployExampleModerationHook``)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants
from infra.constructs.runtime import DEFAULT_RUNTIME, RuntimeOptions, lambda_function
from infra.context import ModerationConfig


class Moderation(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: ModerationConfig,
                 runtime: RuntimeOptions = DEFAULT_RUNTIME) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.example_hook: lambda_.Function | None = None
        if config.deploy_example_hook:
            # A plain handler without Parley's layers: it shows what a host app's own hook looks like.
            self.example_hook = lambda_function(
                self, "ExampleHook",
                code=constants.EXAMPLE_MODERATION_HOOK_DIR,
                description="Parley example moderation hook: refuses link spam from new accounts",
                timeout=constants.EXAMPLE_HOOK_TIMEOUT,
                environment={"HOOK_MAX_LINKS": str(constants.EXAMPLE_HOOK_MAX_LINKS)},
                runtime_reason="python3.13 on purpose: the example hook runs on the runtime of every other "
                               "Parley function, so the stack has one runtime to test and patch.",
                options=runtime,
            )
        self.hook_arn: str | None = (self.example_hook.function_arn if self.example_hook is not None
                                     else config.function_arn)

    @property
    def functions(self) -> list[lambda_.Function]:
        """The functions this construct deploys (to be monitored like the others)."""
        return [self.example_hook] if self.example_hook is not None else []

    def review_environment(self) -> dict[str, str]:
        """Settings field name -> value, for the function that has messages reviewed (nothing without a hook)."""
        if self.hook_arn is None:
            return {}
        return {
            "moderation_function": self.hook_arn,
            "moderation_timeout_ms": str(self.config.timeout_ms),
            "moderation_fail_open": str(self.config.fail_open).lower(),
        }

    def grant_review(self, grantee: iam.IGrantable) -> None:
        """Invoking exactly the hook: the ARN send calls, neither its other versions nor any other function."""
        if self.hook_arn is not None:
            iam.Grant.add_to_principal(grantee=grantee, actions=["lambda:InvokeFunction"],
                                       resource_arns=[self.hook_arn])
