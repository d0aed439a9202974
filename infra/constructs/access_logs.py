"""JSON access logs for an API Gateway stage (WebSocket or HTTP API): one object per request, with the fields a
stage names; never a body or a header that could carry a token."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """Access log settings: ``fields`` (name -> ``$context`` variable) as one JSON object per line in
    ``log_group``."""

    def __init__(self, log_group: logs.ILogGroup, fields: Mapping[str, str]) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigw.AccessLogFormat.custom(json.dumps(dict(fields)))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format
