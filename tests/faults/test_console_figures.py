"""Faults at the admin console's one new AWS call, CloudWatch ``GetMetricData`` (the overview's figures): a
passing fault is retried and the operator sees the figures; a lasting one is answered with a stable code, nothing
else is affected, and the call is in the audit log like any other."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.support.events import console_event, http_api_event
from tests.support.faults import Fault, Rule, injected
from tests.support.handlers import invoke


def overview() -> tuple[int, Any]:
    answer = invoke("server_api", console_event("GET", "/console/v1/console/overview"))
    return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture
def figures(aws_env: Any, configure: Any) -> None:
    """Five messages counted in CloudWatch, as the send function's EMF lines would put them there."""
    configure(PARLEY_DEPLOYMENT="parley-prod")
    boto3.client("cloudwatch").put_metric_data(Namespace="Parley", MetricData=[{
        "MetricName": "MessagesSent", "Value": 5, "Unit": "Count",
        "Dimensions": [{"Name": "service", "Value": "parley"}, {"Name": "deployment", "Value": "parley-prod"}]}])


@pytest.mark.parametrize("fault", [Fault.THROTTLE, Fault.SERVER_ERROR, Fault.TIMEOUT])
def test_a_passing_fault_is_retried_and_the_figures_are_shown(figures: None, fault: Fault) -> None:
    with injected(Rule("cloudwatch", "GetMetricData", fault, times=1), services=("cloudwatch",)) as injector:
        status, body = overview()
    assert injector.injected == 1
    assert (status, body["last24h"]["messagesSent"]) == (200, 5)
    assert body["sources"]["messagesSent"] == "cloudwatch:Parley/MessagesSent"


@pytest.mark.parametrize(("fault", "code"), [(Fault.THROTTLE, "throttled"), (Fault.SERVER_ERROR, "internal_error"),
                                             (Fault.TIMEOUT, "internal_error")])
def test_a_lasting_fault_is_a_stable_error_and_the_call_is_audited(figures: None, fault: Fault, code: str) -> None:
    with injected(Rule("cloudwatch", "GetMetricData", fault, times=None), services=("cloudwatch",)):
        status, body = overview()
        # the rest of the console keeps working while CloudWatch does not answer
        whoami = invoke("server_api", console_event("GET", "/console/v1/console/whoami"))
    assert status >= 500 and body["error"]["code"] == code
    assert whoami["statusCode"] == 200
    read = invoke("server_api", http_api_event("GET", "/v1/audit", query={"caller": "console:ops"}))
    audit = json.loads(read["body"])
    assert ("GET /v1/console/overview", status) in [(e["operation"], e["status"]) for e in audit["entries"]]
