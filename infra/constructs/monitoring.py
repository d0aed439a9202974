"""Alarms on what a chat user would notice: failing handlers, an API that cannot reach them, and events
that were given up on (push notifications, photos never given a served copy and thumbnail).

They have no actions yet: subscribe an SNS topic (or a pager) where Parley is operated.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: Iterable[lambda_.Function],
                 api: apigwv2.WebSocketApi, dead_letter_queues: Iterable[sqs.IQueue] = ()) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        for function in functions:
            self.alarms.append(cloudwatch.Alarm(
                self, f"{function.node.id}-errors",
                alarm_description=f"Parley {function.node.id}: the handler raised or timed out",
                metric=function.metric_errors(period=constants.ALARM_PERIOD),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ))
        # IntegrationError counts frames API Gateway could not hand to a function (throttled, missing
        # permission, timeout): the caller gets no answer at all.
        self.alarms.append(cloudwatch.Alarm(
            self, "integration-errors",
            alarm_description="Parley WebSocket API: frames that did not reach their function",
            metric=api.metric("IntegrationError", statistic="Sum", period=constants.ALARM_PERIOD),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ))
        # A dead letter is an event given up on (a push that never went out, a photo never served): worth a
        # look every time.
        for queue in dead_letter_queues:
            self.alarms.append(cloudwatch.Alarm(
                self, f"{queue.node.id}-messages",
                alarm_description=f"Parley {queue.node.id}: events were given up on and wait for an operator",
                metric=queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=constants.ALARM_PERIOD),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ))
