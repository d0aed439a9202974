"""One scenario, run with a fault at one AWS call, and the promises checked after it.

The scenario: a group of five. alice sends from her phone (her laptop is online too), bob is online (and
has a stale connection API Gateway answers 410 for), carol (an iPhone) and dave (an Android phone) are
offline with push devices, erin is offline without one. alice sends three messages; the second carries a
voice message. The fault hits the phase the case names, once or on every attempt of that invocation:

* ``send``: the first attempt at sending the second message. The app resends, as apps do, when it gets no
  ack: a retryable error frame, or no answer at all (API Gateway's "Internal server error" when the Lambda
  died).
* ``race``: the same, but the second message first loses the race for its seq to a message bob sends (from
  a third connection) between alice's read of the conversation and her put; the fault hits the put after
  that, at the next seq.
* ``deliver``: the first run of the deliver function (the send of the second message was made to hand off,
  by failing every connection lookup of it).
* ``notifier``: the first run of the notifier on the first message's unread event, the one that turns the
  conversation unread for the offline members, so it counts their badge (Lambda retries an asynchronous
  invocation twice).

After the queues are drained, ``check`` asserts the promises of docs/protocol.md "Delivery guarantees":
every acked message stored exactly once; every stored message delivered live to each open connection of
each member or given to the unread path, and pushed to their devices; no device shown a push twice; each
pushed member's badge counting the conversation once; and each app's view in order.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns import sns_backends

from parley import table
from parley.attachments import conversation_prefix, uploader_segment
from parley_client.frames import Message as ClientMessage
from parley_client.timeline import Timeline
from tests.integration.conftest import FakeConnectionsApi
from tests.support.events import connect_event, message_event, sqs_record
from tests.support.faults import Call, Fault, FaultInjector, LambdaKilled, Rule, always, batch_of, injected, is_item_of
from tests.support.handlers import invoke

TABLE_NAME = "parley-faults"
BUCKET = "parley-faults-uploads"
DELIVERY_QUEUE = "parley-faults-delivery"
# Error codes after which an app resends the same clientMsgId (docs/protocol.md, error codes).
RESENDABLE = {"throttled", "internal_error", "conflict"}
SEND_ATTEMPTS = 4
MENTIONED = ("carol", "erin")  # the members the second message mentions (carol has a device, erin none)
DELIVER_ATTEMPTS = 5  # the delivery queue's receive count before its dead-letter queue
NOTIFIER_ATTEMPTS = 3  # an asynchronous invocation and Lambda's two retries
KILLED = "killed"


@dataclass
class Environment:
    api: FakeConnectionsApi
    ddb: Any
    sqs: Any
    s3: Any
    delivery_queue: str
    capture_queue: str


@dataclass(frozen=True)
class FaultCase:
    phase: str  # "send", "race", "deliver" or "notifier"
    point: str  # what the call does, for the report
    rule: Rule

    def __str__(self) -> str:
        return f"{self.phase}: {self.point}: {self.rule.fault}" + (" (every attempt)" if self.rule.times is None
                                                                     else "")

    @property
    def fault_phase(self) -> str:
        """The phase of the scenario the fault hits (a race is on the send path)."""
        return "send" if self.phase == "race" else self.phase


@dataclass
class Run:
    """What one case did and saw."""

    env: Environment
    case: FaultCase
    injector: FaultInjector = field(default_factory=FaultInjector)
    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    table_name: str = TABLE_NAME
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    conversation: str = ""
    killed: int = 0

    def user(self, name: str) -> str:
        return f"{name}-{self.prefix}"

    def conn(self, name: str) -> str:
        return f"{name}-{self.prefix}"

    # -- invocations, each one a Lambda invocation the fault may hit ---------------------------------

    def invoke(self, function: str, event: dict[str, Any], *, faulty: bool) -> Any:
        self.injector.rules = self._rules() if faulty else []
        try:
            return invoke(function, event)
        except LambdaKilled:
            self.killed += 1
            return KILLED
        finally:
            self.injector.rules = []
            self.injector.revive()

    def _rules(self) -> list[Rule]:
        if self.case.phase != "race":
            return [self.case.rule]
        # bob's message takes the seq of alice's first message put; the case's fault meets the put after it
        rival = Rule("dynamodb", "PutItem", Fault.RACE, when=is_item_of(table.MSG_PREFIX), rival=self._rival)
        return [rival, self.case.rule]

    def _rival(self) -> None:
        """bob's send, run to its end while alice's put waits (its own calls meet no fault)."""
        rules, self.injector.rules = self.injector.rules, []
        try:
            frame = {"action": "send", "conversationId": self.conversation, "clientMsgId": "rival",
                     "body": {"text": "me first"}}
            answer = json.loads(invoke("send", message_event(self.user("bob"), self.conn("b2"), frame))["body"])
            assert answer["t"] == "ack", answer  # a compact ack: t, r (clientMsgId), s (seq), at
            self.acks["rival"] = answer
        finally:
            self.injector.rules = rules

    def call(self, user: str, connection: str, body: dict[str, Any], *, faulty: bool = False) -> Any:
        function = "send" if body["action"] == "send" else {
            "createGroup": "conversations", "registerDevice": "devices"}[body["action"]]
        answer = self.invoke(function, message_event(self.user(user), self.conn(connection), body), faulty=faulty)
        return answer if answer == KILLED else json.loads(answer["body"])

    # -- the scenario ----------------------------------------------------------------------------------

    def play(self) -> None:
        with injected(services=("dynamodb", "sns", "sqs", "s3")) as self.injector:
            self.env.api.injector = self.injector
            try:
                self._setup()
                self._send("m1", {"text": "first"})
                self.env.api.stale.add(self.conn("b0"))  # bob's old socket is gone: API Gateway answers 410
                self._send("m2", {"text": "second", "attachments": [self._voice_message()]}, fault_phase="send",
                           mentions=MENTIONED)
                self._send("m3", {"text": "third"})
                self._drain()
            finally:
                self.env.api.injector = None

    def _setup(self) -> None:
        # alice's other device reads full frames, every other connection compact ones (the default)
        connections = [("alice", "a1", "compact"), ("alice", "a2", "full"), ("bob", "b0", "compact"),
                       ("bob", "b1", "compact")]
        if self.case.phase == "race":
            connections.append(("bob", "b2", "compact"))  # where bob's rival message comes from
        for user, connection, fmt in connections:
            assert self.invoke("connect", connect_event(self.user(user), self.conn(connection), fmt),
                               faulty=False)["statusCode"] == 200
        for user, platform, token in (("carol", "apns", self.prefix * 8), ("dave", "fcm", f"fcm-{self.prefix}" * 5)):
            device = self.call(user, "x", {"action": "registerDevice", "platform": platform, "token": token})
            assert device["registered"], device
        created = self.call("alice", "a1", {"action": "createGroup", "name": "faults", "members": [
            self.user(u) for u in ("bob", "carol", "dave", "erin")]})
        self.conversation = created["conversation"]["conversationId"]

    def _voice_message(self) -> dict[str, Any]:
        key = (f"{conversation_prefix(self.conversation)}{uploader_segment(self.user('alice'))}/"
               f"{uuid.uuid4().hex[:12]}")
        self.env.s3.put_object(Bucket=BUCKET, Key=key, Body=b"voice" * 20, ContentType="audio/mp4",
                               Tagging="parley-state=pending")
        # S3 invoked the thumbnail maker for it: a voice message is served as uploaded, so sending tags it
        processed = self.invoke("thumbnails", {"Records": [{"s3": {"bucket": {"name": BUCKET},
                                                                    "object": {"key": key}}}]}, faulty=False)
        assert processed == {"processed": 1}, processed
        return {"key": key, "contentType": "audio/mp4", "size": 100}

    def _send(self, cmid: str, body: dict[str, Any], fault_phase: str | None = None,
              mentions: tuple[str, ...] = ()) -> None:
        faulty = fault_phase == self.case.fault_phase
        frame = {"action": "send", "conversationId": self.conversation, "clientMsgId": cmid, "body": body,
                 "lastSeq": len(self.acks)}
        if mentions:
            frame["mentions"] = [self.user(u) for u in mentions]
        if self.case.phase == "deliver" and cmid == "m2":  # make this send hand its delivery off
            self.injector.rules = [Rule("dynamodb", "BatchGetItem", Fault.THROTTLE,
                                        when=batch_of(table.CONNECTIONS_SK), times=None)]
            answer = invoke("send", message_event(self.user("alice"), self.conn("a1"), frame))
            self.injector.rules = []
            self.acks[cmid] = json.loads(answer["body"])
            return
        for attempt in range(SEND_ATTEMPTS):
            answer = self.call("alice", "a1", frame, faulty=faulty and attempt == 0)
            if answer == KILLED:
                continue  # no ack: API Gateway's "Internal server error"; the app resends
            if answer.get("t") == "ack":
                self.acks[cmid] = answer
                return
            # an error frame means that nothing was stored
            assert cmid not in [m["c"]["S"] for m in self._stored().values()], f"{answer} but {cmid} is stored"
            assert answer["code"] in RESENDABLE, answer
        raise AssertionError(f"{cmid} was never acked")

    def _drain(self) -> None:
        """Run the deliver function and the notifier until nothing is left, as SQS and Lambda would."""
        deliver_attempts: Counter[str] = Counter()
        notified: set[str] = set()
        for _round in range(20):
            records = self._take(self.env.delivery_queue)
            for body in records:
                deliver_attempts[body] += 1
                faulty = self.case.phase == "deliver" and sum(deliver_attempts.values()) == 1
                try:
                    answer = self.invoke("deliver", {"Records": [sqs_record(body)]}, faulty=faulty)
                except Exception:  # every record failed: the batch fails
                    answer = KILLED
                if (answer == KILLED or answer.get("batchItemFailures")) \
                        and deliver_attempts[body] < DELIVER_ATTEMPTS:
                    self.env.sqs.send_message(QueueUrl=self.env.delivery_queue, MessageBody=body)
            notifications = [json.loads(b) for b in self._take(self.env.capture_queue)]
            for notification in notifications:
                event = json.loads(notification["Message"])
                self.events.append(event)
                faulty = (self.case.phase == "notifier" and event["seq"] == 1 and 1 not in
                          {json.loads(n)["seq"] for n in notified})
                notified.add(notification["Message"])
                for attempt in range(NOTIFIER_ATTEMPTS):
                    try:
                        answer = self.invoke("notifier", _sns_event(notification), faulty=faulty and attempt == 0)
                    except Exception:  # the invocation failed: Lambda retries it
                        continue
                    if answer != KILLED:
                        break
            if not records and not notifications:
                return
        raise AssertionError("the queues never drained")

    def _take(self, queue: str) -> list[str]:
        bodies = []
        while True:
            batch = self.env.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return bodies
            for m in batch:
                bodies.append(m["Body"])
                self.env.sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])

    # -- the promises ----------------------------------------------------------------------------------

    def check(self) -> None:
        stored = self._stored()
        # every acked message is stored exactly once, as acked
        assert sorted(stored) == list(range(1, len(stored) + 1)), "gaps or repeats in seq"
        cmids = [m["c"]["S"] for m in stored.values()]
        assert sorted(cmids) == sorted(set(cmids)) == sorted(self.acks), f"stored {cmids}, acked {sorted(self.acks)}"
        for cmid, ack in self.acks.items():
            assert stored[ack["s"]]["c"]["S"] == cmid and int(stored[ack["s"]]["t"]["N"]) == ack["at"]
        pushes = self._pushes()
        for seq in stored:
            message_id = f"{self.conversation}.{seq}"  # derived: <conversationId>.<seq>
            unread = {u for e in self.events if e["seq"] == seq for u in e["recipients"]}
            # each member's open connections got it live, or the member is on the unread path and pushed
            for user, connections in (("alice", ["a2"]), ("bob", ["b1"]), ("carol", []), ("dave", []),
                                      ("erin", [])):
                live = connections and all(seq in self._seqs_received(c) for c in connections)
                if not live:
                    assert self.user(user) in unread, f"#{seq} reached {user} neither live nor as unread"
                    for endpoint in self._devices(user):
                        assert pushes.get((endpoint, message_id)), f"#{seq} was not pushed to {user}'s device"
        # no device shows a push twice: a repeat is possible only if a push's answer was lost or the notifier
        # died after pushing, and then it carries the message id APNs collapses on (FCM: tag and messageId)
        repeats = {k: v for k, v in pushes.items() if len(v) > 1}
        if repeats:
            assert self.case.phase == "notifier" and self.case.rule.fault in (Fault.LOST_RESPONSE, Fault.KILL), \
                f"pushed twice: {sorted(repeats)}"
            for (endpoint, message_id), collapse_ids in repeats.items():
                if "/APNS/" in endpoint:
                    assert set(collapse_ids) == {message_id}, collapse_ids
        # the members the second message mentions have it recorded as an unread mention (once: a set)
        for user in MENTIONED:
            assert self.acks["m2"]["s"] in self._mention_seqs(user), f"{user}'s mention of m2 was not recorded"
        # each pushed member's badge counts the conversation once, however many times its events ran (erin, with
        # no device, is not pushed: her badge is not kept)
        for user, badge in (("carol", 1), ("dave", 1), ("erin", 0)):
            assert self._badge(user) == badge, f"{user}'s badge is {self._badge(user)}"
        # and each app's view of the conversation is in order: live frames, then a catch-up for what it missed
        for connection in ("a2", "b1"):
            timeline = Timeline(last_seq=0)
            seen = [m.seq for seq in self._seqs_received(connection) for m in timeline.offer(self._message(seq))]
            if timeline.has_gap or (timeline.last_seq or 0) < len(stored):  # the app reads history after it
                seen += [m.seq for seq in sorted(stored) if seq > (timeline.last_seq or 0)
                         for m in timeline.offer(self._message(seq))]
            assert seen == sorted(stored), f"{connection} saw {seen}"

    def lost_races(self) -> int:
        """alice's puts at the seq bob's rival message took."""
        taken = table.message_sk(self.acks["rival"]["s"]) if "rival" in self.acks else None
        return sum(1 for call, _fault in self.injector.log
                   if call.operation == "PutItem" and call.params.get("Item", {}).get("sk", {}).get("S") == taken
                   and call.params["Item"]["c"]["S"] != "rival")

    def _stored(self) -> dict[int, dict[str, Any]]:
        items = self.env.ddb.query(
            TableName=self.table_name, ConsistentRead=True, KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
            ExpressionAttributeValues={":pk": {"S": table.conversation_pk(self.conversation)},
                                       ":m": {"S": table.MSG_PREFIX}})["Items"]
        return {table.seq_of(i["sk"]["S"]): i for i in items}

    def _seqs_received(self, connection: str) -> list[int]:
        """The seqs of the message frames a connection got, in either format."""
        frames = self.env.api.frames_for(self.conn(connection))
        return [f["seq"] if "seq" in f else f["s"] for f in frames
                if (f.get("type"), f.get("conversationId")) == ("message", self.conversation)
                or (f.get("t"), f.get("c")) == ("msg", self.conversation)]

    def _message(self, seq: int) -> ClientMessage:
        item = self._stored()[seq]
        return ClientMessage(conversation_id=self.conversation, seq=seq, message_id=f"{self.conversation}.{seq}",
                             sender_id=item["f"]["S"], sent_at=int(item["t"]["N"]), client_msg_id=item["c"]["S"],
                             text="")

    def _mention_seqs(self, user: str) -> set[int]:
        item = self.env.ddb.get_item(TableName=self.table_name, ConsistentRead=True, Key={
            "pk": {"S": table.user_pk(self.user(user))}, "sk": {"S": table.member_sk(self.conversation)}})["Item"]
        return {int(s) for s in item.get("ms", {}).get("NS", [])}

    def _badge(self, user: str) -> int:
        item = self.env.ddb.get_item(TableName=self.table_name, ConsistentRead=True, Key={
            "pk": {"S": table.user_pk(self.user(user))}, "sk": {"S": table.PROFILE_SK}}).get("Item", {})
        return int(item.get("bdg", {}).get("N", 0))

    def _devices(self, user: str) -> list[str]:
        backend = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        return [arn for arn, e in backend.platform_endpoints.items()
                if e.attributes.get("CustomUserData") == self.user(user)]

    def _pushes(self) -> dict[tuple[str, str], list[str | None]]:
        """(endpoint, message id) -> the collapse id of each push that reached the device."""
        found: dict[tuple[str, str], list[str | None]] = {}
        for call, fault in self.injector.log:
            if call.service != "sns" or call.operation != "Publish" or "TargetArn" not in call.params:
                continue
            if fault not in (None, Fault.LOST_RESPONSE):
                continue  # never reached SNS
            structure = json.loads(call.params["Message"])
            payload = json.loads(next(v for k, v in structure.items() if k != "default"))
            ids = payload.get("parley") or payload["fcmV1Message"]["message"]["data"]
            found.setdefault((call.params["TargetArn"], ids["messageId"]), []).append(_collapse_id(call))
        return found


# The faults each call meets: on every attempt of the invocation (botocore's retries included), and once
# for a lost answer (botocore's retry then meets the call's own effect) and a killed Lambda.
FAULTS = [(Fault.THROTTLE, None), (Fault.SERVER_ERROR, None), (Fault.TIMEOUT, None),
          (Fault.LOST_RESPONSE, None), (Fault.LOST_RESPONSE, 1), (Fault.KILL, 1)]
Point = tuple[str, str, str, Callable[[Call], bool] | None]  # what the call does, service, operation, which


# What a batch read meets besides: keys left unprocessed on every call, and once.
BATCH_FAULTS = [(Fault.UNPROCESSED, None), (Fault.UNPROCESSED, 1)]


def cases(phase: str, points: list[Point], faults: list[tuple[Fault, int | None]] = FAULTS) -> list[FaultCase]:
    return [FaultCase(phase, point, Rule(service, operation, fault, when=when or always, times=times))
            for point, service, operation, when in points for fault, times in faults]


def key_of(prefix: str) -> Callable[[Call], bool]:
    """A single-item DynamoDB call on an item whose partition key starts with ``prefix``."""
    def check(call: Call) -> bool:
        item = call.params.get("Item") or call.params.get("Key") or {}
        return str(item.get("pk", {}).get("S", "")).startswith(prefix)
    return check


def topic_publish(call: Call) -> bool:
    return "TopicArn" in call.params


def device_publish(call: Call) -> bool:
    return "TargetArn" in call.params


def _collapse_id(call: Call) -> str | None:
    entries = {k: v for k, v in call.params.items() if k.startswith("MessageAttributes.entry.")}
    for key, value in entries.items():
        if key.endswith(".Name") and value == "AWS.SNS.MOBILE.APNS.COLLAPSE_ID":
            return str(entries[key.replace(".Name", ".Value.StringValue")])
    return None


def _sns_event(notification: dict[str, Any]) -> dict[str, Any]:
    attributes = {k: {"Type": v["Type"], "Value": v["Value"]}
                  for k, v in notification.get("MessageAttributes", {}).items()}
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:s",
                         "Sns": {"Type": "Notification", "MessageId": notification["MessageId"],
                                 "TopicArn": notification["TopicArn"], "Subject": None,
                                 "Message": notification["Message"], "Timestamp": notification["Timestamp"],
                                 "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://x",
                                 "UnsubscribeUrl": "https://x", "MessageAttributes": attributes}}]}


