"""Dev and prod in one account: every custom metric of a deployment carries its name (``PARLEY_DEPLOYMENT``,
set by the CDK construct) as the ``deployment`` dimension, so their dashboards never mix figures.

Each case runs in a fresh interpreter: the metrics singleton reads the setting once, at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_EMIT = """
from parley.observability import metrics
metrics.add_metric(name="MessagesSent", unit="Count", value=1)
metrics.flush_metrics()
"""


def emitted(deployment: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARLEY_", "POWERTOOLS_"))}
    if deployment is not None:
        env["PARLEY_DEPLOYMENT"] = deployment
    out = subprocess.run([sys.executable, "-c", _EMIT], env=env, capture_output=True, text=True, check=True,
                         timeout=60).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("deployment", ["ChatHost-dev", "ChatHost-prod"])
def test_a_deployments_metrics_carry_its_name(deployment: str) -> None:
    # given a function of one deployment / when it records a metric
    line = emitted(deployment)
    # then the metric is filed under that deployment, next to the service
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Parley"
    assert sorted(directive["Dimensions"][0]) == ["deployment", "service"]
    assert line["deployment"] == deployment


def test_without_a_deployment_name_the_metrics_have_the_service_dimension_only() -> None:
    (directive,) = emitted(None)["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service"]]
