"""Part 1: cost per million messages, measured by running the real handlers under moto.

Scenarios (user ids are UUIDs, as a Cognito ``sub`` would be):

* ``direct``: a 1:1 message, both users online (one connection each).
* ``group``: a 50-member group, 10 members online (the sender included, one connection each); the 40
  offline members each have one APNs device and the default ``push`` preference. The unread event the
  send publishes is handed to the notifier, as the SNS subscription does, and its work is counted.
* the same two with ``others`` users, conversations and connections already in the table.

Each scenario first sends ``WARMUP`` messages (warm Lambda, a full idempotency window), then measures
``messages`` messages twice: once computing units from item sizes, once only timing (Lambda duration
comes from that run, so the accounting never inflates it). The sender waits until its rate-limit bucket
is idle before each measured send (a user sending at most 5 per second); the ``burst`` sensitivity row
sends back to back instead.
"""

from __future__ import annotations

import ast
import statistics
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import prices
from benchmarks.lambdas import Invocation, invoke, is_ack, route_body, sns_event
from benchmarks.metering import AwsCall, Meter, Totals, moto_items
from benchmarks.progress import Progress
from benchmarks.sandbox import TABLE_NAME, Sandbox, moto_sandbox, wait_for_idle_bucket
from parley import table
from parley.config import get_settings
from parley.stores.codec import to_item
from tests.support.events import message_event

WARMUP = 11  # more than the idempotency window (10): every measured send reads a full window
TEXT = "See you at 7 then :)"  # 20 characters
GB = 1024.0
REPO_CONSTANTS = "infra/constants.py"


def _constants(constants_path: str = REPO_CONSTANTS) -> dict[str, Any]:
    """The literal module-level constants of infra/constants.py (a dict's values may name another), read
    without importing the CDK."""
    from benchmarks.paths import REPO_ROOT

    found: dict[str, Any] = {}
    for node in ast.parse((REPO_ROOT / constants_path).read_text()).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if not isinstance(target, ast.Name) or value is None:
            continue
        if isinstance(value, ast.Dict):
            found[target.id] = {ast.literal_eval(k): found[v.id] if isinstance(v, ast.Name) else ast.literal_eval(v)
                                for k, v in zip(value.keys, value.values, strict=True) if k is not None}
            continue
        try:
            found[target.id] = ast.literal_eval(value)
        except ValueError:
            continue  # not a literal (a CDK Duration, a path)
    return found


def lambda_memory_mb(constants_path: str = REPO_CONSTANTS) -> int:
    """``MEMORY_MB`` from infra/constants.py: what every function gets unless ``FUNCTION_MEMORY_MB`` says."""
    value = _constants(constants_path).get("MEMORY_MB")
    if not isinstance(value, int):
        raise LookupError("MEMORY_MB not found in infra/constants.py")
    return value


def function_memory_sizes(constants_path: str = REPO_CONSTANTS) -> dict[str, int]:
    """The functions deployed with another memory size than ``MEMORY_MB`` (``FUNCTION_MEMORY_MB``)."""
    return dict(_constants(constants_path).get("FUNCTION_MEMORY_MB", {}))


def function_memory_mb(function: str, constants_path: str = REPO_CONSTANTS) -> int:
    """The memory size ``function`` is deployed with (infra/constants.py ``FUNCTION_MEMORY_MB``, else
    ``MEMORY_MB``)."""
    return function_memory_sizes(constants_path).get(function, lambda_memory_mb(constants_path))


@dataclass
class Chain:
    """One message: the send invocation and the notifier invocations its unread event caused."""

    invocations: list[Invocation]

    @property
    def totals(self) -> Totals:
        return Totals.of([c for i in self.invocations for c in i.calls])


@dataclass
class Quantities:
    """Per message, averaged over the measured messages."""

    inbound: float = 0.0
    responses: float = 0.0
    posts: float = 0.0
    invocations: float = 0.0
    gb_seconds: float = 0.0
    wru: float = 0.0
    rru: float = 0.0
    sns_requests: float = 0.0
    mobile_pushes: float = 0.0
    log_bytes: float = 0.0
    calls: dict[str, float] = field(default_factory=dict)
    # what each step of the work costs: purpose -> [calls, WRU, RRU, API GW posts, SNS requests, pushes]
    purposes: dict[str, list[float]] = field(default_factory=dict)

    @property
    def apigw_messages(self) -> float:
        return self.inbound + self.responses + self.posts


@dataclass
class Floor:
    apigw_messages: int  # inbound + ack + one per recipient connection
    pushes: int  # one per offline device that wants a push

    @property
    def usd(self) -> float:
        return self.apigw_messages * prices.APIGW_MESSAGE.usd + self.pushes * prices.SNS_MOBILE_PUSH.usd


@dataclass
class ScenarioResult:
    key: str
    title: str
    messages: int
    quantities: Quantities
    floor: Floor
    durations_ms: dict[str, list[float]]  # per function, from the timing run
    unit_spread: tuple[float, float]  # min and max units (WRU + RRU) of a single message: same work each time
    notes: list[str] = field(default_factory=list)

    def cost_lines(self, memory_mb: int) -> dict[str, float]:
        """USD per million messages, by line."""
        q = self.quantities
        per_message = {
            "API Gateway messages": q.apigw_messages * prices.APIGW_MESSAGE.usd,
            "Lambda requests": q.invocations * prices.LAMBDA_REQUEST.usd,
            "Lambda duration": q.gb_seconds * prices.LAMBDA_ARM_GB_SECOND.usd,
            "DynamoDB writes": q.wru * prices.DYNAMODB_WRU.usd,
            "DynamoDB reads": q.rru * prices.DYNAMODB_RRU.usd,
            "SNS requests": q.sns_requests * prices.SNS_REQUEST.usd,
            "SNS mobile push": q.mobile_pushes * prices.SNS_MOBILE_PUSH.usd,
        }
        return {line: usd * prices.MILLION for line, usd in per_message.items()}

    def total(self, memory_mb: int) -> float:
        return sum(self.cost_lines(memory_mb).values())

    def logs_usd_per_million(self) -> float:
        return self.quantities.log_bytes * prices.CLOUDWATCH_LOGS_GB.usd * prices.MILLION

    def ratio(self, memory_mb: int) -> float:
        return self.total(memory_mb) / (self.floor.usd * prices.MILLION)


@dataclass
class World:
    """Who is where, in one sandbox."""

    sender: str
    sender_connection: str
    conversation_id: str
    floor: Floor


def _user() -> str:
    return str(uuid.uuid4())


def build_direct(sb: Sandbox) -> World:
    alice, bob = _user(), _user()
    sb.connect(alice, "A-conn-1")
    sb.connect(bob, "B-conn-1")
    cid = sb.open_direct(alice, "A-conn-1", bob)
    return World(alice, "A-conn-1", cid, Floor(apigw_messages=3, pushes=0))


def build_group(sb: Sandbox, members: int = 50, online: int = 10, progress: Progress | None = None) -> World:
    users = [_user() for _ in range(members)]
    for i, user in enumerate(users):
        connection = f"G-conn-{i}"
        sb.connect(user, connection)
        if i >= online:  # an offline member: used the app before, registered a device, then left
            sb.register_apns(user, connection, f"{i:04d}" + "ab" * 30)
            sb.disconnect(user, connection)
        if progress:
            progress.update()
    cid = sb.create_group(users[0], "G-conn-0", users[1:], "Book club")
    return World(users[0], "G-conn-0", cid,
                 Floor(apigw_messages=2 + (online - 1), pushes=members - online))


def other_items(index: int, count: int, now_ms: int) -> list[dict[str, Any]]:
    """Items of one "other" user: a connection, a profile, and a direct conversation with the next user
    (its META, pair index, two memberships and one message)."""
    me, peer = f"other-{index:06d}", f"other-{(index + 1) % count:06d}"
    cid = f"d_other{index:06d}"
    return [to_item(i) for i in (
        {table.PK: table.user_pk(me), table.SK: table.CONNECTIONS_SK, table.TTL_ATTRIBUTE: now_ms // 1000 + 7800,
         table.ATTR_CONNECTIONS: {f"O-conn-{index}": {"at": now_ms, "x": now_ms // 1000 + 7800, "f": "compact"}}},
        {table.PK: table.user_pk(me), table.SK: table.PROFILE_SK, "since": now_ms},
        {table.PK: table.conversation_pk(cid), table.SK: table.META_SK, "cid": cid, "kind": "direct",
         "members": sorted([me, peer]), "by": me, "at": now_ms},
        {table.PK: table.direct_pair_pk(me, peer), table.SK: table.META_SK, "cid": cid},
        {table.PK: table.user_pk(me), table.SK: table.member_sk(cid), "at": now_ms},
        {table.PK: table.user_pk(peer), table.SK: table.member_sk(cid), "at": now_ms},
        {table.PK: table.conversation_pk(cid), table.SK: table.message_sk(1), table.ATTR_SENDER: me,
         table.ATTR_SENT_AT: now_ms, table.ATTR_CLIENT_MSG_ID: f"c{index}",
         table.ATTR_BODY: {"text": "hello there"}, table.ATTR_RECENT_SENDERS: {me: 1}},
    )]


def preload_others(sb: Sandbox, count: int, progress: Progress) -> int:
    """``count`` other users, conversations and connections, written with BatchWriteItem."""
    now_ms = int(time.time() * 1000)
    sb.meter.accounting = False
    written = 0
    batch: list[dict[str, Any]] = []
    try:
        for index in range(count):
            batch.extend({"PutRequest": {"Item": item}} for item in other_items(index, count, now_ms))
            while len(batch) >= 25:
                written += _write_batch(sb, batch[:25])
                del batch[:25]
            progress.update()
        if batch:
            written += _write_batch(sb, batch)
    finally:
        sb.meter.accounting = True
    return written


def _write_batch(sb: Sandbox, requests: list[dict[str, Any]]) -> int:
    pending: dict[str, Any] = {TABLE_NAME: requests}
    while pending:
        pending = sb.ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(requests)


def send_interval_s() -> float:
    rate, _burst = get_settings().rate_limit_table.get("send", (0.0, 1))
    return 1.0 / rate + 0.02 if rate > 0 else 0.0


def send_message(sb: Sandbox, world: World, client_msg_id: str) -> Chain:
    body = {"action": "send", "conversationId": world.conversation_id, "clientMsgId": client_msg_id,
            "body": {"text": TEXT}}
    sent = invoke(sb.meter, "send", message_event(world.sender, world.sender_connection, body))
    answer = route_body(sent)
    if not is_ack(answer):
        raise RuntimeError(f"send was not acked: {answer}")
    chain = [sent]
    for call in sent.calls:
        if call.service == "sns" and call.operation == "Publish" and "TopicArn" in call.params:
            chain.append(invoke(sb.meter, "notifier", sns_event(call.params, str(uuid.uuid4()))))
    return Chain(chain)


def run_messages(sb: Sandbox, world: World, count: int, *, paced: bool, progress: Progress | None,
                 label: str) -> list[Chain]:
    interval = send_interval_s() if paced else 0.0
    last = 0.0
    chains = []
    for n in range(count):
        if paced:
            last = wait_for_idle_bucket(last, interval)
        chains.append(send_message(sb, world, f"{label}.{n}.{uuid.uuid4().hex[:8]}"))
        if progress:
            progress.update()
    return chains


def quantities(accounted: list[Chain], timed: list[Chain], memory_mb: int) -> Quantities:
    n = len(accounted)
    q = Quantities()
    for chain in accounted:
        totals = chain.totals
        q.wru += totals.wru / n
        q.rru += totals.rru / n
        q.posts += totals.apigw_posts / n
        q.sns_requests += totals.sns_requests / n
        q.mobile_pushes += totals.mobile_pushes / n
        for name, count in totals.calls.items():
            q.calls[name] = q.calls.get(name, 0.0) + count / n
        for invocation in chain.invocations:
            for call in invocation.calls:
                row = q.purposes.setdefault(f"{invocation.function}: {purpose(call)}", [0.0] * 6)
                for i, value in enumerate((1, call.wru, call.rru, call.apigw_messages, call.sns_requests,
                                           call.mobile_pushes)):
                    row[i] += value / n
            q.inbound += invocation.inbound_messages / n
            q.responses += invocation.response_messages / n
            q.invocations += 1 / n
            q.log_bytes += invocation.log_bytes / n
    q.gb_seconds = statistics.fmean(sum(i.billed_ms * function_memory_mb(i.function) / GB for i in chain.invocations)
                                    / 1000 for chain in timed)
    return q


def _prefix(value: Any) -> str:
    text = str((value or {}).get("S", "")) if isinstance(value, dict) else ""
    return text.split("#", 1)[0] + "#" if "#" in text else text


def purpose(call: AwsCall) -> str:  # noqa: PLR0911 (one return per kind of step)
    """What a call is for, from its keys: the rows of the cost breakdown."""
    p = call.params
    if call.service == "apigatewaymanagementapi":
        return "post to a connection"
    if call.service == "sns":
        return "push to a device (SNS Publish)" if "TargetArn" in p else "unread event (SNS Publish to topic)"
    values = p.get("ExpressionAttributeValues", {})
    if call.operation == "Query":
        pk, prefix = _prefix(values.get(":pk")), str(values.get(":prefix", {}).get("S", ""))
        if pk == "CONV#":
            return "latest message of a conversation" if p.get("Limit") == 1 else "conversation head (META + last N)"
        return {"CONN#": "connections of a member", "MEMBER#": "memberships of a user (badge)",
                "DEVICE#": "devices of a user", "BLOCKEDBY#": "who blocked the sender"}.get(prefix, f"query {prefix}")
    if call.operation == "BatchGetItem":
        keys = [k for r in p["RequestItems"].values() for k in r["Keys"]]
        sk = str(keys[0]["sk"]["S"]) if keys else ""
        return {"~PROFILE": "profiles (BatchGet)", "~META": "conversations (BatchGet, badge)",
                table.CONNECTIONS_SK: "connections of the recipients (BatchGet)"}.get(sk, "BatchGet")
    key = p.get("Key") or p.get("Item") or {}
    pk, sk = _prefix(key.get("pk")), str(key.get("sk", {}).get("S", ""))
    if pk == "THROTTLE#":
        return "rate-limit bucket"
    if pk == "CONV#" and sk.startswith("MSG#"):
        return "message write"
    if pk == "PUSHED#":
        return "push ledger claim"
    if pk == "USER#" and sk.startswith("MEMBER#"):
        return "membership of a recipient"
    return f"{call.operation} {pk}{sk.split('#', 1)[0]}"


def durations(chains: Iterable[Chain]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for chain in chains:
        for invocation in chain.invocations:
            found.setdefault(invocation.function, []).append(invocation.wall_s * 1000)
    return found


def measure(sb: Sandbox, world: World, key: str, title: str, messages: int, memory_mb: int,
            progress: Progress, *, paced: bool = True, timing: bool = True, warmup: int = WARMUP) -> ScenarioResult:
    run_messages(sb, world, warmup, paced=False, progress=None, label=f"{key}-warm")
    time.sleep(warmup * send_interval_s())  # the warm-up drained the sender's bucket: let it refill
    accounted = run_messages(sb, world, messages, paced=paced, progress=progress, label=f"{key}-acct")
    timed = accounted
    if timing:
        sb.meter.accounting = False
        try:
            timed = run_messages(sb, world, messages, paced=paced, progress=progress, label=f"{key}-time")
        finally:
            sb.meter.accounting = True
    units = [c.totals.wru + c.totals.rru for c in accounted]
    return ScenarioResult(key=key, title=title, messages=messages,
                          quantities=quantities(accounted, timed, memory_mb), floor=world.floor,
                          durations_ms=durations(timed), unit_spread=(min(units), max(units)))


@dataclass
class CostReport:
    memory_mb: int
    others: int
    preload_items: int
    preload_seconds: float
    scenarios: list[ScenarioResult]
    sensitivity: list[ScenarioResult]
    item_sizes: dict[str, int]  # sizes of representative items, for the report


def run(*, messages: int, others: int, group_members: int = 50, group_online: int = 10,
        progress_factory: Callable[[str, int], Progress], warmup: int = WARMUP) -> CostReport:
    memory_mb = lambda_memory_mb()
    scenarios: list[ScenarioResult] = []
    sensitivity: list[ScenarioResult] = []
    meter = Meter(items=moto_items())
    per_scenario = 2 * messages
    item_sizes: dict[str, int] = {}
    with moto_sandbox(meter) as sb:
        with progress_factory("cost: setting up users", 2 + group_members) as bar:
            direct = build_direct(sb)
            bar.update(2)
            group = build_group(sb, group_members, group_online, bar)
        with progress_factory("cost: 1:1 and group messages", 2 * per_scenario) as bar:
            scenarios.append(measure(sb, direct, "direct", "1:1, both online", messages, memory_mb, bar, warmup=warmup))
            scenarios.append(measure(sb, group, "group", f"group of {group_members}, {group_online} online",
                                     messages, memory_mb, bar, warmup=warmup))
        item_sizes = representative_sizes(sb, direct, group)
        preload_items, started = 0, time.monotonic()
        if others:
            with progress_factory(f"cost: preloading {others:,} other users", others) as bar:
                preload_items = preload_others(sb, others, bar)
        preload_seconds = time.monotonic() - started
        with progress_factory("cost: with the others in the table", 2 * per_scenario) as bar:
            scenarios.append(measure(sb, direct, "direct_others", f"1:1, {others:,} others in the table",
                                     messages, memory_mb, bar, warmup=warmup))
            scenarios.append(measure(sb, group, "group_others", f"group, {others:,} others in the table",
                                     messages, memory_mb, bar, warmup=warmup))
        with progress_factory("cost: sensitivity (burst)", messages) as bar:
            burst = measure(sb, direct, "direct-burst", "1:1, sender bursting (partly drained bucket)",
                            messages, memory_mb, bar, paced=False, timing=False)
            burst.notes.append("sent back to back, within the burst of 20: each send finds its bucket partly drained")
            sensitivity.append(burst)
    with moto_sandbox(Meter(items=moto_items()), env={"PARLEY_RATE_LIMITS": ""}) as sb, \
            progress_factory("cost: sensitivity (rate limiting off)", 2 + group_members + 2 * per_scenario) as bar:
        direct = build_direct(sb)
        group = build_group(sb, group_members, group_online, bar)
        sensitivity.append(measure(sb, direct, "direct-nolimit", "1:1, rate limiting off", messages, memory_mb,
                                   bar, warmup=warmup))
        sensitivity.append(measure(sb, group, "group-nolimit", "group, rate limiting off", messages, memory_mb,
                                   bar, warmup=warmup))
    return CostReport(memory_mb=memory_mb, others=others, preload_items=preload_items,
                      preload_seconds=preload_seconds, scenarios=scenarios, sensitivity=sensitivity,
                      item_sizes=item_sizes)


def representative_sizes(sb: Sandbox, direct: World, group: World) -> dict[str, int]:
    """Sizes of the items the send path reads and writes, straight from moto (not metered)."""
    from benchmarks import capacity

    lookup = moto_items()
    sizes: dict[str, int] = {}
    for name, world in (("direct", direct), ("group", group)):
        meta = lookup(TABLE_NAME, {"pk": {"S": table.conversation_pk(world.conversation_id)},
                                   "sk": {"S": table.META_SK}})
        sizes[f"{name} conversation ~META"] = capacity.item_size(meta)
        message = lookup(TABLE_NAME, {"pk": {"S": table.conversation_pk(world.conversation_id)},
                                      "sk": {"S": table.message_sk(1)}})
        sizes[f"{name} message MSG#"] = capacity.item_size(message)
        bucket = lookup(TABLE_NAME, {"pk": {"S": table.throttle_pk("send", world.sender, "bucket")},
                                     "sk": {"S": table.THROTTLE_SK}})
        sizes[f"{name} sender's rate-limit bucket"] = capacity.item_size(bucket)
    return sizes
