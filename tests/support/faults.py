"""Faults injected where they happen: at the HTTP layer of botocore, below its retries.

A ``FaultInjector`` takes the place of moto's ``before-send`` handler on Parley's own boto3 clients (the
ones ``parley.aws.client`` caches), so botocore's standard retry mode sees a throttling answer, a 500, a read
timeout or a lost answer exactly as it would from AWS, and retries what it retries. Each ``Rule`` names
the service and operation, optionally which calls (``when``), how many matching calls to let through
first (``skip``) and how many to break (``times``; None: every one, retries included).

* ``THROTTLE`` / ``SERVER_ERROR`` -- the service answers 400 throttling / 500; nothing happened.
* ``TIMEOUT`` -- no answer within the read timeout; nothing happened.
* ``UNPROCESSED`` -- a BatchGetItem answers 200 with every key in ``UnprocessedKeys`` (DynamoDB does this
  when a partition is busy); botocore does not retry it, the caller must.
* ``LOST_RESPONSE`` -- the call took effect (moto applied it) but its answer never arrived.
* ``KILL`` -- the Lambda dies here: ``LambdaKilled`` (a BaseException) escapes every handler, as a
  timeout or an out-of-memory kill ends an invocation mid-way. From then on the injector is ``dead``: every
  later call of that invocation dies too (a ``finally`` block or another thread gets no AWS call through),
  until ``revive()`` starts the next invocation.
* ``RACE`` -- not a fault: another writer gets there first. The rule's ``rival`` runs (it makes its own
  calls, for example another user's ``send``), then the call goes through and meets what the rival did.

The fake @connections API of the integration tier asks the same injector about each post.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from parley import aws
from parley.stores import uploads


class Fault(StrEnum):
    THROTTLE = "throttle"
    UNPROCESSED = "unprocessed"  # a BatchGetItem that reads none of its keys: all come back in UnprocessedKeys
    SERVER_ERROR = "5xx"
    TIMEOUT = "timeout"
    LOST_RESPONSE = "lost-response"
    KILL = "kill"
    RACE = "race"


class LambdaKilled(BaseException):
    """The invocation ends here, as a Lambda timeout or a crash ends it: nothing after this point runs."""


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]  # the request body, decoded (JSON or form fields)


def always(_call: Call) -> bool:
    return True


@dataclass
class Rule:
    service: str
    operation: str
    fault: Fault
    when: Callable[[Call], bool] = always
    skip: int = 0
    times: int | None = 1
    rival: Callable[[], None] | None = None  # RACE: what the other writer does first
    matched: int = 0
    injected: int = 0

    def applies(self, call: Call) -> bool:
        if call.service != self.service or call.operation != self.operation or not self.when(call):
            return False
        self.matched += 1
        if self.matched <= self.skip or (self.times is not None and self.injected >= self.times):
            return False
        self.injected += 1
        return True

    def __str__(self) -> str:
        return f"{self.fault} on {self.service}.{self.operation}" + (f" after {self.skip}" if self.skip else "")


_JSON_SERVICES = {"dynamodb": "com.amazonaws.dynamodb.v20120810", "sqs": "com.amazonaws.sqs",
                  "secretsmanager": "com.amazonaws.secretsmanager", "cloudwatch": "com.amazonaws.cloudwatch"}
_THROTTLING = {"dynamodb": "ProvisionedThroughputExceededException", "sns": "Throttling", "cloudwatch": "Throttling"}


@dataclass
class FaultInjector:
    rules: list[Rule] = field(default_factory=list)
    log: list[tuple[Call, Fault | None]] = field(default_factory=list)
    dead: bool = False

    def decide(self, call: Call) -> Fault | None:
        rule = None if self.dead else next((rule for rule in self.rules if rule.applies(call)), None)
        fault = Fault.KILL if self.dead else rule.fault if rule else None
        if fault is Fault.KILL:
            self.dead = True
        self.log.append((call, fault))
        if rule is not None and rule.rival is not None:
            rule.rival()
        return fault

    def revive(self) -> None:
        """A new invocation: a killed one's calls stop failing."""
        self.dead = False

    @property
    def injected(self) -> int:
        return sum(rule.injected for rule in self.rules)

    def __call__(self, event_name: str, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".", 2)
        call = Call(service, operation, _params(request))
        fault = self.decide(call)
        if fault is None or fault is Fault.RACE:
            return botocore_stubber(event_name, request)  # moto answers, as it would without us
        if fault is Fault.KILL:
            raise LambdaKilled(f"killed at {service}.{operation}")
        if fault is Fault.TIMEOUT:
            raise ReadTimeoutError(endpoint_url=request.url)
        if fault is Fault.UNPROCESSED:
            return _unprocessed_response(request.url, call.params)
        if fault is Fault.LOST_RESPONSE:
            botocore_stubber(event_name, request)  # moto applies it...
            raise ReadTimeoutError(endpoint_url=request.url)  # ...and the answer is lost on the way back
        if service == "s3":  # S3 throttles with 503 SlowDown
            status, code = (503, "SlowDown") if fault is Fault.THROTTLE else (500, "InternalError")
        else:
            status, code = (400, _THROTTLING.get(service, "ThrottlingException")) if fault is Fault.THROTTLE \
                else (500, "InternalServerError")
        return _error_response(request.url, service, status, code)


def _params(request: AWSPreparedRequest) -> dict[str, Any]:
    body = request.body or b""
    try:
        text = body.decode() if isinstance(body, bytes) else str(body)
    except UnicodeDecodeError:  # a binary body (CloudWatch's CBOR protocol): no parameters to match on
        return {}
    if not text:
        return {}
    try:
        decoded = json.loads(text)
    except ValueError:
        return dict(parse_qsl(text))
    return decoded if isinstance(decoded, dict) else {}


def _unprocessed_response(url: str, params: dict[str, Any]) -> AWSResponse:
    requests = params.get("RequestItems", {})
    body = json.dumps({"Responses": {t: [] for t in requests}, "UnprocessedKeys": requests})
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
    return AWSResponse(url, 200, headers, MockRawResponse(body))


def _error_response(url: str, service: str, status: int, code: str) -> AWSResponse:
    if service in _JSON_SERVICES:
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
        body = json.dumps({"__type": f"{_JSON_SERVICES[service]}#{code}", "message": "injected fault"})
    elif service == "s3":
        headers = {"Content-Type": "application/xml", "x-amz-request-id": "fault"}
        body = f"<Error><Code>{code}</Code><Message>injected fault</Message><RequestId>fault</RequestId></Error>"
    else:  # the query protocol (SNS): an XML error document
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": "fault"}
        kind = "Sender" if status < 500 else "Receiver"
        body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected fault</Message>"
                "</Error><RequestId>fault</RequestId></ErrorResponse>")
    return AWSResponse(url, status, headers, MockRawResponse(body))


@contextmanager
def injected(*rules: Rule, services: tuple[str, ...] = ("dynamodb", "sns", "sqs")) -> Iterator[FaultInjector]:
    """Break the calls ``rules`` name, on Parley's own clients of ``services``, until the block ends."""
    injector = FaultInjector(list(rules))
    clients = [uploads._s3() if service == "s3" else aws.client(service)  # S3 has a client of its own (SigV4)
               for service in services]
    for client in clients:
        # botocore runs every before-send handler and takes the first answer, so moto would still carry out a
        # call we fail: the injector stands in for moto's handler on these clients and calls it itself.
        client.meta.events.unregister("before-send", botocore_stubber)
        client.meta.events.register_first("before-send", injector)
    try:
        yield injector
    finally:
        for client in clients:
            client.meta.events.unregister("before-send", injector)
            client.meta.events.register("before-send", botocore_stubber)


def is_query_of(prefix: str) -> Callable[[Call], bool]:
    """A DynamoDB Query of one item kind (``MSG#`` messages, ``MEMBER#`` memberships, ...)."""
    def check(call: Call) -> bool:
        values = call.params.get("ExpressionAttributeValues", {})
        return any(isinstance(v, dict) and str(v.get("S", "")).startswith(prefix) for v in values.values())
    return check


def batch_of(sort_key: str) -> Callable[[Call], bool]:
    """A BatchGetItem of items with this sort key (``~PROFILE``, ``~META``, ``~CONNS``)."""
    def check(call: Call) -> bool:
        requests = call.params.get("RequestItems", {}).values()
        return any(k.get("sk", {}).get("S") == sort_key for r in requests for k in r.get("Keys", []))
    return check


def is_item_of(prefix: str) -> Callable[[Call], bool]:
    """A single-item DynamoDB call on an item whose sort key starts with ``prefix`` (``MSG#``, ``~PROFILE``)."""
    def check(call: Call) -> bool:
        item = call.params.get("Item") or call.params.get("Key") or {}
        return str(item.get("sk", {}).get("S", "")).startswith(prefix)
    return check
