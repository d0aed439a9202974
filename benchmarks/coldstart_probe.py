"""Run in a fresh process by ``benchmarks.coldstart``: one handler's first invocation and its warm ones.

Reads a JSON spec on stdin (the ``sys.path`` entries Lambda would give, the handler's path, the table to
create, the items to load, the events to invoke) and prints one JSON line: the CPU of each invocation
beyond what was spent inside AWS calls. In-process moto answers those calls; it is set up and exercised
(every service once) before the handler is imported, so its own first-use costs are not counted, and the
thread CPU spent inside each AWS call (moto's work, botocore's serialising and parsing) is subtracted. What
is left is what the handler's own code costs: lazy imports, boto3 clients made on first use, models built on
first use, the wiring. Nothing here imports Parley before the handler does.
"""

from __future__ import annotations

import json
import pickle
import sys
import threading
import time
from typing import Any


class _AwsCpu:
    """Thread CPU spent between a botocore call's parameters and its parsed answer, every thread summed."""

    def __init__(self) -> None:
        self.total = 0.0
        self._lock = threading.Lock()
        self._local = threading.local()

    def hooks(self) -> list[tuple[str, Any]]:
        return [("provide-client-params", self._start), ("after-call", self._stop),
                ("after-call-error", self._stop)]

    def _start(self, **_: Any) -> None:
        self._local.started = time.thread_time()

    def _stop(self, **_: Any) -> None:
        started = getattr(self._local, "started", None)
        if started is not None:
            with self._lock:
                self.total += time.thread_time() - started
            self._local.started = None


def main() -> None:
    spec = json.loads(sys.stdin.read())
    import boto3
    from botocore import handlers as botocore_handlers
    from moto import mock_aws

    aws_cpu = _AwsCpu()
    botocore_handlers.BUILTIN_HANDLERS.extend(aws_cpu.hooks())
    with mock_aws():
        ddb = boto3.client("dynamodb")
        ddb.create_table(**spec["table"])
        with open(spec["items"], "rb") as f:
            items = pickle.load(f)  # noqa: S301 - written by the benchmark a moment ago
        sns = boto3.client("sns")
        app = sns.create_platform_application(Name="parley-ios", Platform="APNS", Attributes={
            "PlatformCredential": "key", "PlatformPrincipal": "cert"})["PlatformApplicationArn"]
        endpoints: dict[str, str] = {}  # the seed's SNS endpoints (moto's ids are random) -> this moto's

        def endpoint(arn: str) -> str:
            if arn not in endpoints:
                endpoints[arn] = sns.create_platform_endpoint(PlatformApplicationArn=app,
                                                              Token=f"{len(endpoints):064x}")["EndpointArn"]
            return endpoints[arn]

        def rewrite(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: endpoint(v) if k == "S" and ":endpoint/" in v else rewrite(v) for k, v in value.items()}
            if isinstance(value, list):
                return [rewrite(v) for v in value]
            return value

        for item in items:
            ddb.put_item(TableName=spec["table"]["TableName"], Item=rewrite(item))
        ddb.get_item(TableName=spec["table"]["TableName"], Key={"pk": {"S": "warm"}, "sk": {"S": "warm"}})
        topic = sns.create_topic(Name="parley-unread-events")["TopicArn"]
        sns.publish(TopicArn=topic, Message="warm")
        boto3.client("secretsmanager").create_secret(Name=spec["secret_name"], SecretString=spec["secret"])
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=spec["bucket"])
        for key, body in spec.get("objects", {}).items():
            s3.put_object(Bucket=spec["bucket"], Key=key, Body=bytes.fromhex(body))

        sys.path[:0] = spec["paths"]
        sys.path.append(spec["repo_root"])  # the tests' fake LambdaContext
        import importlib.util

        from tests.support.lambda_context import FakeLambdaContext

        loaded = importlib.util.spec_from_file_location("handler", spec["handler"])
        assert loaded is not None and loaded.loader is not None
        module = importlib.util.module_from_spec(loaded)
        sys.modules["handler"] = module
        loaded.loader.exec_module(module)

        own_ms, answers = [], []
        for event in spec["events"]:
            aws0, cpu0 = aws_cpu.total, time.process_time()
            answer = module.lambda_handler(event, FakeLambdaContext())
            cpu = time.process_time() - cpu0 - (aws_cpu.total - aws0)
            own_ms.append(max(0.0, cpu) * 1000)
            answers.append(answer)
    sys.stdout.flush()
    print("\n" + json.dumps({"own_ms": own_ms, "answers": answers}, default=str))


if __name__ == "__main__":
    main()
