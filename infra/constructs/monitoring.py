"""Alarms on what a chat user would notice: failing handlers, an API that cannot reach them, and events
that were given up on (push notifications, photos never given a served copy and thumbnail); the action they
take (an SNS topic, optionally one this construct makes for an email address); and a CloudWatch dashboard of
the figures an operator looks at first (docs/deploying.md, "Operating it").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants

# The error frames a handler answered, by code: edge.py logs each refusal with its stable code.
ERROR_FRAMES_QUERY = ("fields code | filter message = 'request refused' or message = 'connection refused' "
                      "| stats count(*) as frames by code | sort frames desc")
_DASHBOARD_NAME = re.compile(r"[^A-Za-z0-9_-]")
_WIDTH, _HEIGHT = 8, 6  # three widgets a row


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: Sequence[lambda_.Function],
                 api: apigwv2.WebSocketApi, dead_letter_queues: Sequence[sqs.IQueue] = (),
                 deployment: str = constants.SERVICE_NAME, alarm_topic: sns.ITopic | None = None,
                 alarm_email: str | None = None, removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> None:
        """``deployment``: the ``deployment`` dimension of Parley's custom metrics (``PARLEY_DEPLOYMENT``).
        ``alarm_topic`` / ``alarm_email``: where alarms (and their return to OK) are sent; with an email
        address only, a topic is made for it. Neither: the alarms have no action."""
        super().__init__(scope, construct_id)
        if alarm_topic is not None and alarm_email is not None:
            raise ValueError("alarm_topic and alarm_email: subscribe the address to your topic, or give only "
                             "the address")
        self.alarm_topic = alarm_topic or (self._email_topic(alarm_email, removal_policy) if alarm_email else None)
        self._deployment = deployment
        self._functions = {function.node.id: function for function in functions}
        self.alarms: list[cloudwatch.Alarm] = []
        for function in functions:
            self._alarm(f"{function.node.id}-errors", f"Parley {function.node.id}: the handler raised or timed out",
                        function.metric_errors(period=constants.ALARM_PERIOD))
        # IntegrationError counts frames API Gateway could not hand to a function (throttled, missing
        # permission, timeout): the caller gets no answer at all.
        self._alarm("integration-errors", "Parley WebSocket API: frames that did not reach their function",
                    api.metric("IntegrationError", statistic="Sum", period=constants.ALARM_PERIOD))
        # A dead letter is an event given up on (a push that never went out, a photo never served): worth a
        # look every time.
        for queue in dead_letter_queues:
            self._alarm(f"{queue.node.id}-messages",
                        f"Parley {queue.node.id}: events were given up on and wait for an operator",
                        queue.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                            period=constants.ALARM_PERIOD))
        if self.alarm_topic is not None:
            action = cloudwatch_actions.SnsAction(self.alarm_topic)
            for alarm in self.alarms:
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
        self.dashboard = self._dashboard(api, dead_letter_queues)

    def _alarm(self, construct_id: str, description: str, metric: cloudwatch.IMetric) -> None:
        # One occurrence in 5 minutes: each counts a user-visible failure (docs/deploying.md, "Alarms").
        self.alarms.append(cloudwatch.Alarm(
            self, construct_id, alarm_description=description, metric=metric,
            threshold=constants.ALARM_THRESHOLD, evaluation_periods=constants.ALARM_EVALUATION_PERIODS,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ))

    def _email_topic(self, address: str, removal_policy: RemovalPolicy) -> sns.Topic:
        """A topic for the alarms, encrypted with a key of its own: CloudWatch cannot publish to a topic under
        SNS's AWS managed key, whose policy cannot be changed to let it."""
        key = kms.Key(self, "AlarmsKey", description="Parley alarms topic", enable_key_rotation=True,
                      removal_policy=removal_policy)
        key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],  # "*" in a key policy: this key
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")]))
        topic = sns.Topic(self, "AlarmsTopic", display_name="Parley alarms", master_key=key, enforce_ssl=True)
        topic.add_subscription(subscriptions.EmailSubscription(address))
        return topic

    def _custom(self, name: str, label: str) -> cloudwatch.Metric:
        """One of Parley's own metrics (EMF, namespace Parley) of this deployment, summed per period."""
        dimensions = {"service": constants.SERVICE_NAME, "deployment": self._deployment}
        return cloudwatch.Metric(namespace=constants.METRICS_NAMESPACE, metric_name=name, label=label,
                                 dimensions_map=dimensions, statistic="Sum", period=constants.DASHBOARD_PERIOD)

    def _dashboard(self, api: apigwv2.WebSocketApi, dead_letter_queues: Sequence[sqs.IQueue]) -> cloudwatch.Dashboard:
        period = constants.DASHBOARD_PERIOD
        send = self._functions["send"]
        notifier = self._functions.get("notifier")
        name = _DASHBOARD_NAME.sub("-", self._deployment)[:255]  # <stack>-<stage>: unique in an account and region
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=name,
                                         default_interval=Duration.hours(3))
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Messages and deliveries", width=_WIDTH, height=_HEIGHT, left=[
                self._custom("MessagesSent", "messages stored"),
                self._custom("Deliveries", "deliveries (posts to connections)"),
                self._custom("Redeliveries", "deliveries finished by the delivery queue"),
            ]),
            cloudwatch.GraphWidget(title="Stale connections pruned", width=_WIDTH, height=_HEIGHT, left=[
                self._custom("StaleConnections", "stale connections (410 Gone on a post)"),
            ]),
            cloudwatch.LogQueryWidget(
                title="Error frames by code", width=_WIDTH, height=_HEIGHT, query_string=ERROR_FRAMES_QUERY,
                log_group_names=[f.log_group.log_group_name for f in self._functions.values()][:50],
                view=cloudwatch.LogQueryVisualizationType.TABLE),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="send: duration p50 and p99", width=_WIDTH, height=_HEIGHT, left=[
                send.metric_duration(statistic="p50", period=period, label="p50"),
                send.metric_duration(statistic="p99", period=period, label="p99"),
            ]),
            cloudwatch.GraphWidget(title="Connections and pushes", width=_WIDTH, height=_HEIGHT, left=[
                api.metric("ConnectCount", statistic="Sum", period=period, label="connections opened"),
                self._custom("PushPushed", "pushes sent"),
                *([notifier.metric_errors(period=period, label="push notifier failures (retried)")]
                  if notifier is not None else []),
                self._custom("PushRemovedEndpoints", "pushes to dead devices (endpoint removed)"),
            ]),
            cloudwatch.GraphWidget(title="Throttles and dead letters", width=_WIDTH, height=_HEIGHT, left=[
                cloudwatch.MathExpression(
                    expression="+".join(f"t{i}" for i in range(len(self._functions))), label="Lambda throttles",
                    period=period, using_metrics={f"t{i}": f.metric_throttles(period=period, statistic="Sum")
                                                  for i, f in enumerate(self._functions.values())}),
                api.metric("ClientError", statistic="Sum", period=period, label="API client errors (incl. 429s)"),
            ], right=[
                q.metric_approximate_number_of_messages_visible(statistic="Maximum", period=period,
                                                                label=f"{q.node.id} messages")
                for q in dead_letter_queues
            ]),
        )
        return dashboard
