"""Part 1: cost per million messages, all-in, measured by running the real handlers under moto.

Scenarios (``benchmarks.scenarios``; user ids are UUIDs, as a Cognito ``sub`` would be):

* ``direct``: a 1:1 message, both users online (one connection each).
* ``group``: a 50-member group, 10 members online (the sender included, one connection each); the 40
  offline members each have one APNs device and the default ``push`` preference. The unread event the
  send publishes is handed to the notifier, as the SNS subscription does, and its work is counted.
* the same two with ``others`` users, conversations and connections already in the table.
* sensitivity rows ``direct-edit`` and ``direct-react``: an edit (to a text of the message's size) and a
  reaction (added or taken back) instead of a message, in the 1:1 world; and ``group-member``: a membership
  change (a member added, then removed, in turn) instead of a message, in the group world.

Each scenario first sends ``WARMUP`` messages (warm Lambda, a full idempotency window), then measures
``messages`` messages twice: once computing units from item sizes, once only timing (Lambda's own CPU comes
from that run, so the accounting never inflates it). The sender waits until its rate-limit bucket is idle
before each measured send (a user sending at most 5 per second); the ``burst`` sensitivity row sends back to
back instead. Then, in the same world, as many sessions and pings of the sender (``benchmarks.lifecycle``).

Per message, by meter (``benchmarks.bill.Billable``): units, calls, log bytes and frames from the accounted
run; Lambda duration modelled from the timing run's CPU and calls (``benchmarks.duration``); an access-log
entry per frame, connect and disconnect (``benchmarks.access_logs``); X-Ray traces at the sampled share. A
``UsageProfile`` (``benchmarks.usage``) adds the sessions, pings and connection minutes behind each message.
"""

from __future__ import annotations

import ast
import secrets
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import access_logs, lifecycle
from benchmarks.bill import XRAY_DEFAULT_SAMPLED_SHARE, AllIn, Billable, Floor
from benchmarks.lambdas import Invocation, invoke, is_ack, route_body, sns_event
from benchmarks.metering import AwsCall, Meter, Totals, moto_items
from benchmarks.progress import Progress
from benchmarks.sandbox import Sandbox, moto_sandbox, wait_for_idle_bucket
from benchmarks.scenarios import World, build_direct, build_group, e2e_body, preload_others, representative_sizes
from benchmarks.usage import ACTIVE_USER, SENSITIVITY, UsageProfile, client_ping_minutes
from parley import table
from parley.config import get_settings
from tests.support.events import message_event

WARMUP = 11  # more than the idempotency window (10): every measured send reads a full window
TEXT = "See you at 7 then :)"  # 20 characters
GB = 1024.0
REPO_CONSTANTS = "infra/constants.py"


def infra_constant(name: str, constants_path: str = REPO_CONSTANTS) -> Any:
    """A literal from infra/constants.py, read without importing the CDK (``LookupError`` if not there). A dict's
    values may name an earlier constant (``{"send": FANOUT_MEMORY_MB}``)."""
    from benchmarks.paths import REPO_ROOT

    found: dict[str, Any] = {}
    for node in ast.parse((REPO_ROOT / constants_path).read_text()).body:
        target, value = (node.target, node.value) if isinstance(node, ast.AnnAssign) else \
            (node.targets[0], node.value) if isinstance(node, ast.Assign) and len(node.targets) == 1 else (None, None)
        if not isinstance(target, ast.Name) or value is None:
            continue
        try:
            if isinstance(value, ast.Dict):
                found[target.id] = {ast.literal_eval(k): found[v.id] if isinstance(v, ast.Name) else ast.literal_eval(v)
                                    for k, v in zip(value.keys, value.values, strict=True) if k is not None}
            else:
                found[target.id] = ast.literal_eval(value)
        except (ValueError, KeyError):
            continue  # not a literal (a CDK Duration, a path)
    if name not in found:
        raise LookupError(f"{name} not found in {constants_path}")
    return found[name]


def lambda_memory_mb(constants_path: str = REPO_CONSTANTS) -> int:
    """``MEMORY_MB`` from infra/constants.py: what every function gets unless ``FUNCTION_MEMORY_MB`` says."""
    value = infra_constant("MEMORY_MB", constants_path)
    assert isinstance(value, int)
    return value


def function_memory_sizes(constants_path: str = REPO_CONSTANTS) -> dict[str, int]:
    """The functions deployed with another memory size than ``MEMORY_MB`` (``FUNCTION_MEMORY_MB``)."""
    try:
        return dict(infra_constant("FUNCTION_MEMORY_MB", constants_path))
    except LookupError:
        return {}


def function_memory_mb(function: str, constants_path: str = REPO_CONSTANTS) -> int:
    """The memory size ``function`` is deployed with (``FUNCTION_MEMORY_MB``, else ``MEMORY_MB``)."""
    return function_memory_sizes(constants_path).get(function, lambda_memory_mb(constants_path))


def xray_sampled_share() -> float:
    """The share of requests X-Ray records: ``XRAY_SAMPLING_RATE`` if infra sets one, else the default rule's."""
    try:
        return float(infra_constant("XRAY_SAMPLING_RATE"))
    except LookupError:
        return XRAY_DEFAULT_SAMPLED_SHARE


@dataclass
class Chain:
    """One message: the send invocation and the notifier invocations its unread event caused."""

    invocations: list[Invocation]

    @property
    def totals(self) -> Totals:
        return Totals.of([c for i in self.invocations for c in i.calls])


@dataclass
class FunctionTime:
    """One function's modelled duration (``benchmarks.duration``), per invocation, over the timing run."""

    per_event: float  # invocations per event
    cpu_ms: float  # its own CPU here (this x86 machine), mean
    wait_ms: float  # modelled wait on AWS calls, mean
    billed_ms: float  # mean billed duration at the deployed memory size
    wall_ms: float  # this machine's wall time under in-process moto, p50: for reference, never billed


@dataclass
class Measured:
    """One kind of event (a message, a session, a ping): per event, averaged over the measured ones."""

    billable: Billable
    functions: dict[str, FunctionTime] = field(default_factory=dict)
    calls: dict[str, float] = field(default_factory=dict)
    # what each step of the work costs: purpose -> [calls, WRU, RRU, API GW posts, SNS requests, pushes]
    purposes: dict[str, list[float]] = field(default_factory=dict)


def measured(accounted: list[list[Invocation]], timed: list[list[Invocation]], memory_mb: int, *,
             access_log_bytes: float, traces: float) -> Measured:
    """What one event bills, from its invocations: units from ``accounted``, duration from ``timed``."""
    n = len(accounted)
    b = Billable(access_log_bytes=access_log_bytes, traces=traces)
    result = Measured(billable=b)
    for invocations in accounted:
        totals = Totals.of([c for i in invocations for c in i.calls])
        b.wru += totals.wru / n
        b.rru += totals.rru / n
        b.posts += totals.apigw_posts / n
        b.sns_requests += totals.sns_requests / n
        b.mobile_pushes += totals.mobile_pushes / n
        b.sqs_requests += totals.sqs_requests / n
        b.transfer_out_bytes += totals.post_bytes / n
        for name, count in totals.calls.items():
            result.calls[name] = result.calls.get(name, 0.0) + count / n
        for invocation in invocations:
            for call in invocation.calls:
                row = result.purposes.setdefault(f"{invocation.function}: {purpose(call)}", [0.0] * 6)
                for i, value in enumerate((1, call.wru, call.rru, call.apigw_messages, call.sns_requests,
                                           call.mobile_pushes)):
                    row[i] += value / n
            b.inbound += invocation.inbound_messages / n
            b.responses += invocation.response_messages / n
            b.transfer_out_bytes += invocation.response_bytes / n
            b.lambda_requests += 1 / n
            b.handler_log_bytes += invocation.log_bytes / n
    sizes = function_memory_sizes()  # each function billed at its own memory size; the others at ``memory_mb``
    b.lambda_gb_s = statistics.fmean(
        sum(i.billed_ms(sizes.get(i.function, memory_mb)) * sizes.get(i.function, memory_mb) / GB for i in invocations)
        / 1000 for invocations in timed)
    by_function: dict[str, list[Invocation]] = {}
    for invocations in timed:
        for invocation in invocations:
            by_function.setdefault(invocation.function, []).append(invocation)
    for name, runs in by_function.items():
        result.functions[name] = FunctionTime(
            per_event=len(runs) / len(timed), cpu_ms=statistics.fmean(i.lambda_cpu_s * 1000 for i in runs),
            wait_ms=statistics.fmean(i.waited_ms for i in runs),
            billed_ms=statistics.fmean(i.billed_ms(sizes.get(name, memory_mb)) for i in runs),
            wall_ms=statistics.median(i.wall_s * 1000 for i in runs))
    return result


@dataclass
class ScenarioResult:
    key: str
    title: str
    messages: int
    message: Measured
    floor: Floor
    unit_spread: tuple[float, float]  # min and max units (WRU + RRU) of a single message: same work each time
    session: Measured | None = None
    ping: Measured | None = None
    notes: list[str] = field(default_factory=list)

    def all_in(self, profile: UsageProfile, ping_minutes: float) -> AllIn:
        if self.session is None or self.ping is None:
            raise ValueError(f"{self.key}: sessions and pings were not measured")
        return AllIn(message=self.message.billable, session=self.session.billable, ping=self.ping.billable,
                     ping_minutes=ping_minutes, profile=profile)

    def ratio(self, profile: UsageProfile, ping_minutes: float) -> float:
        return self.all_in(profile, ping_minutes).usd() / self.floor.usd(profile)


def interval_s(limit: str = "send") -> float:
    """The pace that never meets the ``limit`` rate limit (its token rate), with a little to spare."""
    rate, _burst = get_settings().rate_limit_table.get(limit, (0.0, 1))
    return 1.0 / rate + 0.02 if rate > 0 else 0.0


def send_interval_s() -> float:
    return interval_s("send")


def send_message(sb: Sandbox, world: World, client_msg_id: str) -> Chain:
    body = {"action": "send", "conversationId": world.conversation_id, "clientMsgId": client_msg_id,
            "body": e2e_body(world.sender, world.members, TEXT, client_msg_id) if world.e2e else {"text": TEXT}}
    sent = invoke(sb.meter, "send", message_event(world.sender, world.sender_connection, body))
    answer = route_body(sent)
    if not is_ack(answer):
        raise RuntimeError(f"send was not acked: {answer}")
    chain = [sent]
    for call in sent.calls:
        if call.service == "sns" and call.operation == "Publish" and "TopicArn" in call.params:
            chain.append(invoke(sb.meter, "notifier", sns_event(call.params, str(uuid.uuid4()))))
    return Chain(chain)


def run_messages(sb: Sandbox, world: World, count: int, *, paced: bool, progress: Progress | None) -> list[Chain]:
    interval = send_interval_s() if paced else 0.0
    last = 0.0
    chains = []
    for _ in range(count):
        if paced:
            last = wait_for_idle_bucket(last, interval)
        # a clientMsgId as parley_client makes one (16 hex characters): the same size in every scenario
        chains.append(send_message(sb, world, secrets.token_hex(8)))
        if progress:
            progress.update()
    return chains


def run_changes(sb: Sandbox, world: World, kind: str, count: int, *, progress: Progress | None) -> list[Chain]:
    """``count`` edits (each to a new text of the message's size) or reactions (added, then taken back, in
    turn) of one message of the sender's, sent first and not measured; paced like the sends."""
    sent = route_body(invoke(sb.meter, "send", message_event(world.sender, world.sender_connection, {
        "action": "send", "conversationId": world.conversation_id, "clientMsgId": secrets.token_hex(8),
        "body": {"text": TEXT}})))
    if not is_ack(sent):
        raise RuntimeError(f"send was not acked: {sent}")
    seq = int(sent.get("s", sent.get("seq", 0)))
    bodies = [{"action": kind, "conversationId": world.conversation_id, "seq": seq,
               **({"text": f"{i % 10_000:04d}{TEXT[4:]}"} if kind == "edit" else {"emoji": "👍", "remove": i % 2 == 1})}
              for i in range(count)]
    return _run_paced(sb, world, "changes", "changed", bodies, progress)


def _run_paced(sb: Sandbox, world: World, function: str, answer: str, bodies: list[dict[str, Any]],
               progress: Progress | None) -> list[Chain]:
    """Each of ``bodies`` from the world's sender to ``function``, paced under its rate limit; each must be
    answered with an ``answer`` frame naming the change entry it stored."""
    interval, last, chains = interval_s(function), 0.0, []
    for body in bodies:
        last = wait_for_idle_bucket(last, interval)
        changed = invoke(sb.meter, function, message_event(world.sender, world.sender_connection, body))
        answered = route_body(changed)
        if answered.get("type") != answer or answered.get("seq") is None:
            raise RuntimeError(f"{body['action']} changed nothing: {answered}")
        chains.append(Chain([changed]))
        if progress:
            progress.update()
    return chains


def measure_change(sb: Sandbox, world: World, kind: str, title: str, count: int, memory_mb: int,
                   progress: Progress | None, *, warmup: int = WARMUP) -> ScenarioResult:
    """An edit or a reaction instead of a message, in the same world, measured as ``measure`` measures one."""
    return _measure_changes(sb, world, f"direct-{kind}", title, kind, memory_mb, warmup, count, lambda n, bar: (
        run_changes(sb, world, kind, n, progress=bar)), progress)


def run_membership_changes(sb: Sandbox, world: World, count: int, *, progress: Progress | None) -> list[Chain]:
    """``count`` membership changes of the world's group by its owner: a newcomer added, then removed, in turn
    (each a transaction of the group, its change entry and one membership, delivered live like a message)."""
    newcomer = f"newcomer-{secrets.token_hex(4)}"
    add = {"action": "addMembers", "conversationId": world.conversation_id, "userIds": [newcomer]}
    remove = {"action": "removeMember", "conversationId": world.conversation_id, "userId": newcomer}
    # after an odd count the newcomer leaves again, paced like the rest and not measured: the group is as it was
    # for the rows after this one
    bodies = [remove if i % 2 else add for i in range(count + count % 2)]
    return _run_paced(sb, world, "groups", "conversation", bodies, progress)[:count]


def measure_membership_change(sb: Sandbox, world: World, title: str, count: int, memory_mb: int,
                              progress: Progress | None, *, warmup: int = WARMUP) -> ScenarioResult:
    """A membership change instead of a message, in the group world, measured as ``measure`` measures one."""
    return _measure_changes(sb, world, "group-member", title, "addMembers", memory_mb, warmup, count, lambda n, bar: (
        run_membership_changes(sb, world, n, progress=bar)), progress, rest_s=interval_s("groups"))


def _measure_changes(sb: Sandbox, world: World, key: str, title: str, action: str, memory_mb: int, warmup: int,
                     count: int, run: Callable[[int, Progress | None], list[Chain]], progress: Progress | None, *,
                     rest_s: float = 0.0) -> ScenarioResult:
    """``warmup`` changes, then ``count`` measured (``run(n, progress)`` makes ``n``): units, then time."""
    run(warmup, None)
    time.sleep(rest_s)
    accounted, timed = _accounted_and_timed(sb, lambda: run(count, progress), rest_s=rest_s)
    units = [c.totals.wru + c.totals.rru for c in accounted]
    entry = access_logs.entry_bytes(access_logs.Event("MESSAGE", action, world.sender))
    change = measured([c.invocations for c in accounted], [c.invocations for c in timed], memory_mb,
                      access_log_bytes=entry, traces=xray_sampled_share())
    return ScenarioResult(key=key, title=title, messages=count, message=change, floor=world.floor,
                          unit_spread=(min(units), max(units)))


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
        return {"MEMBER#": "memberships of a user (badge)",
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


def _accounted_and_timed(sb: Sandbox, run: Callable[[], Any], *, rest_s: float = 0.0) -> tuple[Any, Any]:
    """``run()`` twice: once computing units, once only timing (no accounting work in the CPU measured), with
    ``rest_s`` between them (for rate-limit buckets to refill)."""
    accounted = run()
    time.sleep(rest_s)
    sb.meter.accounting = False
    try:
        timed = run()
    finally:
        sb.meter.accounting = True
    return accounted, timed


def measure(sb: Sandbox, world: World, key: str, title: str, messages: int, memory_mb: int,
            progress: Progress | None, *, paced: bool = True, warmup: int = WARMUP) -> ScenarioResult:
    """The message itself: ``messages`` sends (and the notifier they cause), after ``warmup`` ones."""
    run_messages(sb, world, warmup, paced=False, progress=None)
    time.sleep(warmup * send_interval_s())  # the warm-up drained the sender's bucket: let it refill
    accounted, timed = _accounted_and_timed(sb, lambda: run_messages(
        sb, world, messages, paced=paced, progress=progress), rest_s=0.0 if paced else messages * send_interval_s())
    units = [c.totals.wru + c.totals.rru for c in accounted]
    entry = access_logs.entry_bytes(access_logs.Event("MESSAGE", "send", world.sender))
    message = measured([c.invocations for c in accounted], [c.invocations for c in timed], memory_mb,
                       access_log_bytes=entry, traces=xray_sampled_share())  # notifier: same trace (SNS passes it)
    return ScenarioResult(key=key, title=title, messages=messages, message=message, floor=world.floor,
                          unit_spread=(min(units), max(units)))


def measure_connection(sb: Sandbox, world: World, result: ScenarioResult, count: int, memory_mb: int) -> None:
    """The sender's sessions and pings, in the scenario's world: ``result.session`` and ``result.ping``."""
    sessions = _accounted_and_timed(sb, lambda: lifecycle.run_sessions(
        sb, world.sender, world.sender_connection, count))
    share = xray_sampled_share()
    result.session = measured([s.invocations for s in sessions[0]], [s.invocations for s in sessions[1]], memory_mb,
                              access_log_bytes=lifecycle.session_access_bytes(world.sender),
                              traces=3 * share)  # three invocations, each starting a trace of its own
    if lifecycle.ping_function() is None:
        result.ping = Measured(billable=lifecycle.mock_ping(world.sender))
        return
    pings = _accounted_and_timed(sb, lambda: lifecycle.run_pings(sb, world.sender, world.sender_connection, count))
    entry = access_logs.entry_bytes(access_logs.Event("MESSAGE", lifecycle.PING, world.sender))
    result.ping = measured([[p] for p in pings[0]], [[p] for p in pings[1]], memory_mb, access_log_bytes=entry,
                           traces=share)


@dataclass
class CostReport:
    memory_mb: int
    others: int
    preload_items: int
    preload_seconds: float
    scenarios: list[ScenarioResult]
    sensitivity: list[ScenarioResult]
    item_sizes: dict[str, int]  # sizes of representative items, for the report
    ping_minutes: float  # the client's keepalive
    ping_function: str | None  # the Lambda ping runs (None: API Gateway answers it)
    xray_share: float
    profile: UsageProfile = ACTIVE_USER
    profiles: tuple[UsageProfile, ...] = SENSITIVITY
    inbox: list[Any] = field(default_factory=list)  # benchmarks.inbox.InboxRow, one per inbox size


def run(*, messages: int, others: int, group_members: int = 50, group_online: int = 10,
        progress_factory: Callable[[str, int], Progress], warmup: int = WARMUP,
        inbox_sizes: tuple[int, ...] = ()) -> CostReport:
    from benchmarks import inbox

    memory_mb = lambda_memory_mb()
    scenarios: list[ScenarioResult] = []
    sensitivity: list[ScenarioResult] = []
    meter = Meter(items=moto_items())
    per_scenario = 2 * messages
    with moto_sandbox(meter, env=lifecycle.connect_limit_deepened()) as sb:
        with progress_factory("cost: setting up users", 2 + group_members) as bar:
            direct = build_direct(sb)
            bar.update(2)
            group = build_group(sb, group_members, group_online, bar)
        with progress_factory("cost: 1:1 and group messages, sessions, pings", 2 * per_scenario) as bar:
            for world, key, title in ((direct, "direct", "1:1, both online"),
                                      (group, "group", f"group of {group_members}, {group_online} online")):
                scenarios.append(measure(sb, world, key, title, messages, memory_mb, bar, warmup=warmup))
                measure_connection(sb, world, scenarios[-1], messages, memory_mb)
        with progress_factory("cost: an edit and a reaction", 2 * messages) as bar:
            # a change instead of a message (E of issue 13): its own rows, against the message's floor
            for kind, title in (("edit", "1:1, an edit (the same text size as the message)"),
                                ("react", "1:1, a reaction (added or taken back)")):
                change = measure_change(sb, direct, kind, title, messages, memory_mb, bar, warmup=warmup)
                change.session, change.ping = scenarios[0].session, scenarios[0].ping
                change.notes.append(f"{kind} of one message of the sender's instead of a message: compare with the "
                                    "1:1 row")
                sensitivity.append(change)
        with progress_factory("cost: a membership change", messages) as bar:
            member = measure_membership_change(sb, group, f"group of {group_members}: a membership change (a member "
                                               "added or removed)", messages, memory_mb, bar, warmup=warmup)
            member.session, member.ping = scenarios[1].session, scenarios[1].ping
            member.notes.append("a member added or removed by the owner instead of a message: compare with the group "
                                "row (its pushes are a message's: a change pushes nobody)")
            sensitivity.append(member)
        with progress_factory("cost: end-to-end encrypted messages", 2 * per_scenario) as bar:
            # the same message in an encrypted 1:1 and group (issue 18): an envelope with a key entry per device
            for world, key, title, plain in (
                    (build_direct(sb, e2e=True), "direct-e2e", "1:1, end-to-end encrypted", scenarios[0]),
                    (build_group(sb, group_members, group_online, e2e=True), "group-e2e",
                     f"group of {group_members}, end-to-end encrypted", scenarios[1])):
                encrypted = measure(sb, world, key, title, messages, memory_mb, bar, warmup=warmup)
                encrypted.session, encrypted.ping = plain.session, plain.ping
                encrypted.notes.append("the same text as an envelope (docs/e2e.md: one key entry per member's "
                                       "device, one device each), pushed content-free: compare with the "
                                       f"{'1:1' if key == 'direct-e2e' else 'group'} row")
                sensitivity.append(encrypted)
        item_sizes = representative_sizes(sb, direct, group)
        preload_items, started = 0, time.monotonic()
        if others:
            with progress_factory(f"cost: preloading {others:,} other users", others) as bar:
                preload_items = preload_others(sb, others, bar)
        preload_seconds = time.monotonic() - started
        with progress_factory("cost: with the others in the table", 2 * per_scenario) as bar:
            for world, key, title, alone in (
                    (direct, "direct_others", f"1:1, {others:,} others in the table", scenarios[0]),
                    (group, "group_others", f"group, {others:,} others in the table", scenarios[1])):
                scenarios.append(measure(sb, world, key, title, messages, memory_mb, bar, warmup=warmup))
                # every access is by key, so a session and a ping do the same work with the others loaded
                scenarios[-1].session, scenarios[-1].ping = alone.session, alone.ping
        with progress_factory("cost: sensitivity (burst)", per_scenario) as bar:
            burst = measure(sb, direct, "direct-burst", "1:1, sender bursting (partly drained bucket)",
                            messages, memory_mb, bar, paced=False, warmup=warmup)
            burst.session, burst.ping = scenarios[0].session, scenarios[0].ping
            burst.notes.append("sent back to back, within the burst of 20: each send finds its bucket partly drained")
            sensitivity.append(burst)
    with moto_sandbox(Meter(items=moto_items()), env={"PARLEY_RATE_LIMITS": ""}) as sb, \
            progress_factory("cost: sensitivity (rate limiting off)", 2 + group_members + 2 * per_scenario) as bar:
        direct = build_direct(sb)
        group = build_group(sb, group_members, group_online, bar)
        for world, key, title in ((direct, "direct-nolimit", "1:1, rate limiting off"),
                                  (group, "group-nolimit", "group, rate limiting off")):
            sensitivity.append(measure(sb, world, key, title, messages, memory_mb, bar, warmup=warmup))
            measure_connection(sb, world, sensitivity[-1], messages, memory_mb)
    rows = inbox.run(inbox_sizes, messages=messages, memory_mb=memory_mb, progress_factory=progress_factory,
                     warmup=warmup) if inbox_sizes else []
    return CostReport(memory_mb=memory_mb, others=others, preload_items=preload_items,
                      preload_seconds=preload_seconds, scenarios=scenarios, sensitivity=sensitivity,
                      item_sizes=item_sizes, ping_minutes=client_ping_minutes(),
                      ping_function=lifecycle.ping_function(), xray_share=xray_sampled_share(), inbox=rows)
