"""The admin console's figures from CloudWatch: Parley's own metrics (EMF, namespace ``Parley``, dimensions
``service`` and ``deployment``) and the dead-letter queues' ``ApproximateNumberOfMessagesVisible``, in one
``GetMetricData`` call (followed by its pages) per overview (``parley.figures``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from parley.aws import client
from parley.errors import ThrottledError
from parley.figures import BUCKET_MS, DEAD_LETTERED, NAMESPACE, MetricSource
from parley.observability import SERVICE
from parley.stores.errors import error_code, translated

SQS_NAMESPACE = "AWS/SQS"
DLQ_METRIC = "ApproximateNumberOfMessagesVisible"


class CloudWatchMetrics(MetricSource):
    def __init__(self, *, deployment: str | None, dead_letter_queues: list[str]) -> None:
        self._dimensions = [{"Name": "service", "Value": SERVICE}]
        if deployment:
            self._dimensions.append({"Name": "deployment", "Value": deployment})
        self._queues = dead_letter_queues

    def _queries(self, names: list[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        queries: list[dict[str, Any]] = []
        ids: dict[str, str] = {}
        for i, name in enumerate(names):
            if name == DEAD_LETTERED:
                continue
            ids[f"m{i}"] = name
            queries.append({"Id": f"m{i}", "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": self._dimensions},
                "Period": BUCKET_MS // 1000, "Stat": "Sum"}})
        for j, queue in enumerate(self._queues):
            ids[f"q{j}"] = DEAD_LETTERED
            queries.append({"Id": f"q{j}", "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": SQS_NAMESPACE, "MetricName": DLQ_METRIC,
                           "Dimensions": [{"Name": "QueueName", "Value": queue}]},
                "Period": BUCKET_MS // 1000, "Stat": "Maximum"}})
        return queries, ids

    def sums(self, names: list[str], start_ms: int, end_ms: int) -> dict[str, list[tuple[int, float]]]:
        """A dead-letter queue's figure is the messages waiting in it: its latest 5-minute maximum, not a sum."""
        queries, ids = self._queries(names)
        found: dict[str, dict[int, float]] = {name: {} for name in names}
        latest_dlq: dict[str, tuple[int, float]] = {}
        request: dict[str, Any] = {"MetricDataQueries": queries, "ScanBy": "TimestampAscending",
                                   "StartTime": datetime.fromtimestamp(start_ms / 1000, UTC),
                                   "EndTime": datetime.fromtimestamp(end_ms / 1000, UTC)}
        while True:
            resp = self._page(request)
            for result in resp.get("MetricDataResults", []):
                name = ids.get(str(result.get("Id")))
                if name is None:
                    continue
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    t = int(stamp.timestamp() * 1000)
                    if name == DEAD_LETTERED:
                        queue = str(result["Id"])
                        if queue not in latest_dlq or latest_dlq[queue][0] < t:
                            latest_dlq[queue] = (t, float(value))
                    else:
                        found[name][t] = found[name].get(t, 0.0) + float(value)
            token = resp.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
        if DEAD_LETTERED in found:
            for t, value in latest_dlq.values():
                found[DEAD_LETTERED][t] = found[DEAD_LETTERED].get(t, 0.0) + value
        return {name: sorted(points.items()) for name, points in found.items()}

    @staticmethod
    def _page(request: dict[str, Any]) -> dict[str, Any]:
        """One page; CloudWatch's throttling (``Throttling``, after botocore's retries) is ``ThrottledError``."""
        try:
            with translated():
                return dict(client("cloudwatch").get_metric_data(**request))
        except ClientError as exc:
            if error_code(exc) == "Throttling":
                raise ThrottledError("CloudWatch is throttling requests; read the figures again later.") from exc
            raise

    def source(self, name: str) -> str:
        if name == DEAD_LETTERED:
            return f"cloudwatch:{SQS_NAMESPACE}/{DLQ_METRIC}"
        return f"cloudwatch:{NAMESPACE}/{name}"
