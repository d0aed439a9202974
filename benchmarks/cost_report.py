"""The cost part of the results (docs/performance.md's measured section): all-in cost per million messages
against the floor and the goals, by line, the duration model, the usage profile and its sensitivity, and
section 2's inbox rows."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks import duration, prices
from benchmarks.bill import LIFECYCLE, Billable
from benchmarks.cost import CostReport, Measured, ScenarioResult, function_memory_sizes
from benchmarks.markdown import table, usd, verdict
from benchmarks.usage import FLOOR_KEEPALIVE_MINUTES, UsageProfile

GOALS = {"direct": 1.5, "group": 1.3}  # all-in Parley / floor, issue 12
M = prices.MILLION


# What the quantity tables show of a Billable, by row.
_QUANTITIES: tuple[tuple[str, Callable[[Billable], float]], ...] = (
    ("API Gateway messages (in + route responses + posts)", lambda b: b.apigw_messages),
    ("Lambda invocations", lambda b: b.lambda_requests),
    ("Lambda billed GB-s (x1000, modelled)", lambda b: b.lambda_gb_s * 1000),
    ("DynamoDB WRU", lambda b: b.wru),
    ("DynamoDB RRU", lambda b: b.rru),
    ("handler log bytes", lambda b: b.handler_log_bytes),
    ("access log bytes", lambda b: b.access_log_bytes),
    ("X-Ray traces recorded", lambda b: b.traces),
)


def goal(s: ScenarioResult) -> float:
    return GOALS["group" if s.key.startswith("group") else "direct"]


def _per_million(lines: dict[str, float]) -> dict[str, float]:
    return {name: value * M for name, value in lines.items()}


def profile_text(p: UsageProfile, ping_minutes: float) -> str:
    return (f"{p.name}: {p.messages_per_day:g} messages sent a day, {p.connected_minutes_per_day:g} connected "
            f"minutes in {p.sessions_per_day:g} sessions, {p.idle_share:.0%} of them idle. Per message sent: "
            f"{p.sessions_per_message:.3g} sessions, {p.minutes_per_message:.3g} connected minutes, "
            f"{p.pings_per_message(ping_minutes):.3g} pings (the client pings after {ping_minutes:g} minutes "
            f"without sending), {p.floor_keepalives_per_message:.3g} floor keepalives (one per "
            f"{FLOOR_KEEPALIVE_MINUTES:g} idle minutes).")


def cost_section(cost: CostReport) -> str:
    p, pm = cost.profile, cost.ping_minutes
    out = ["### Cost per million messages, all-in", "",
           "Usage profile: " + profile_text(p, pm) + (f" Why: {p.why}" if p.why else ""), ""]
    rows = []
    for s in cost.scenarios:
        all_in = s.all_in(p, pm)
        total, own, floor = all_in.usd() * M, all_in.usd_per_message() * M, s.floor.usd(p) * M
        rows.append([s.title, usd(own), usd(total), usd(floor), f"{own / floor:.2f}x {verdict(own / floor <= goal(s))}",
                     f"{total / floor:.2f}x {verdict(total / floor <= goal(s))}", f"<= {goal(s)}x"])
    out.append(table(["scenario", "Parley per message", "with its sessions", "floor", "ratio per message",
                      "ratio with its sessions", "goal"], rows))
    out += ["", "*Per message*: the message and every line issue 12 lists (its logs, X-Ray, connection minutes, the "
            "keepalive). *With its sessions*: plus each message's share of the connections behind it (the "
            "authorizer, `$connect` and `$disconnect`, from the usage profile), which the floor has no line for. "
            "Both are stated against the goal."]
    totals = [s.all_in(p, pm).usd() * M for s in cost.scenarios]
    out += ["", "```mermaid", "xychart-beta",
            '    title "USD per million messages, all-in: Parley (bars) and the floor (line)"',
            "    x-axis [" + ", ".join(f'"{s.key}"' for s in cost.scenarios) + "]",
            f'    y-axis "USD" 0 --> {max(totals) * 1.1:.0f}',
            "    bar [" + ", ".join(f"{t:.2f}" for t in totals) + "]",
            "    line [" + ", ".join(f"{s.floor.usd(p) * M:.2f}" for s in cost.scenarios) + "]",
            "```", "", "Parley by line (USD per million messages; the last three are the connection's share of "
            "each message, from the usage profile):", ""]
    by_line = [_per_million(s.all_in(p, pm).lines()) for s in cost.scenarios]
    out.append(table(["line", *[s.key for s in cost.scenarios]],
                     [[name, *[usd(lines[name]) for lines in by_line]] for name in by_line[0]]
                     + [["**all-in**", *[f"**{usd(sum(lines.values()))}**" for lines in by_line]]]))
    handed_off = [s.key for s in cost.scenarios if s.message.billable.sqs_requests]
    out += ["", "SQS delivery queue: `send` hands a message's remaining delivery to the queue only when it cannot "
            "finish within its time budget (or a step failed). " + (
                f"In this run it did in {', '.join(handed_off)}: this machine was slower than the budget."
                if handed_off else "In this run it always finished, so the line is 0."), "",
            "The floor by line (USD per million messages):", ""]
    floors = [_per_million(s.floor.lines(p)) for s in cost.scenarios]
    out.append(table(["line", *[s.key for s in cost.scenarios]],
                     [[name, *[usd(lines[name]) for lines in floors]] for name in floors[0]]
                     + [["**floor**", *[f"**{usd(sum(lines.values()))}**" for lines in floors]]]))
    out += ["", _per_message_table(cost), "", _connection_table(cost), "", _duration_tables(cost)]
    for s in cost.scenarios[:2]:
        out += ["", f"Where the message's money goes, {s.title} (per million messages; DynamoDB, API Gateway "
                    "posts and SNS by step):", ""]
        out.append(table(["step", "calls", "WRU", "RRU", "USD / M messages"],
                         [[name, f"{calls:g}", f"{wru:g}", f"{rru:g}", usd(_purpose_usd(row))]
                          for name, row in sorted(s.message.purposes.items(), key=lambda kv: -_purpose_usd(kv[1]))
                          for calls, wru, rru, *_rest in [row]]))
    out += ["", _profiles_table(cost), "", "Sensitivity of the code paths (default usage profile):", ""]
    out.append(table(["variant", "Parley, all-in", "floor", "ratio", "WRU", "RRU"],
                     [[s.title, usd(s.all_in(p, pm).usd() * M), usd(s.floor.usd(p) * M),
                       f"{s.ratio(p, pm):.2f}x", f"{s.message.billable.wru:g}", f"{s.message.billable.rru:g}"]
                      for s in cost.sensitivity]))
    if cost.inbox:
        out += ["", _inbox_table(cost)]
    out += ["", "Item sizes (bytes, computed with `benchmarks/capacity.py`):", "",
            table(["item", "bytes"], [[k, str(v)] for k, v in cost.item_sizes.items()]), "",
            f"Preloaded for the `_others` rows: {cost.others:,} users, conversations and connections "
            f"({cost.preload_items:,} items, BatchWriteItem, {cost.preload_seconds:.0f} s). "
            f"Lambda memory: {cost.memory_mb} MB (infra/constants.py `MEMORY_MB`)"
            + "".join(f", {name} {mb} MB" for name, mb in function_memory_sizes().items())
            + " (`FUNCTION_MEMORY_MB`; each function's duration is billed at its own). "
            f"X-Ray: {cost.xray_share:.0%} of "
            f"requests traced. `ping`: " + (f"the `{cost.ping_function}` Lambda" if cost.ping_function else
                                            "answered by API Gateway (no Lambda)") + " (`parley.routes`)."]
    return "\n".join(out)


def _per_message_table(cost: CostReport) -> str:
    rows = [[label, *[f"{value(s.message.billable):,.3g}" for s in cost.scenarios]] for label, value in (
        *_QUANTITIES, ("SNS publish requests", lambda b: b.sns_requests),
        ("SNS mobile push deliveries", lambda b: b.mobile_pushes), ("SQS requests", lambda b: b.sqs_requests),
        ("bytes sent to clients", lambda b: b.transfer_out_bytes))]
    rows.append(["units min / max of one message",
                 *[f"{s.unit_spread[0]:g} / {s.unit_spread[1]:g}" for s in cost.scenarios]])
    names = sorted({n for s in cost.scenarios for n in s.message.calls})
    rows += [[f"calls: {n}", *[f"{s.message.calls.get(n, 0):g}" for s in cost.scenarios]] for n in names]
    return ("The message itself, per message (averages over the measured messages; every message did the same "
            "work: units min = max unless noted):\n\n" + table(["per message", *[s.key for s in cost.scenarios]], rows))


def _connection_table(cost: CostReport) -> str:
    shown = [s for s in cost.scenarios if s.session is not None and s.ping is not None][:2]
    header = ["per event"] + [f"{kind}, {s.key}" for s in shown for kind in ("session", "ping")]
    events: list[Measured] = [m for s in shown for m in (s.session, s.ping) if m is not None]
    rows = [[label, *[f"{value(m.billable):,.3g}" for m in events]]
            for label, value in (*_QUANTITIES, ("of which presence posts", lambda b: b.posts))]
    rows.append(["USD per million events", *[usd(m.billable.total() * M) for m in events]])
    calls = sorted({n for m in events for n in m.calls})
    rows += [[f"calls: {n}", *[f"{m.calls.get(n, 0):g}" for m in events]] for n in calls]
    return (f"The connection: one session ({LIFECYCLE}: the user's first connection, so `connect` announces them "
            "online to their contacts and `disconnect` offline) and one keepalive `ping`:\n\n" + table(header, rows))


def _duration_tables(cost: CostReport) -> str:
    share = duration.cpu_share(cost.memory_mb)
    out = [f"Lambda duration, modelled (`benchmarks/duration.py`): billed ms = ceil(own CPU ms x "
           f"{duration.CORE_FACTOR:g} / {share:.3f} + modelled wait ms); {cost.memory_mb} MB gets {share:.3f} of a "
           f"vCPU (1,769 MB = 1 vCPU). Means per invocation; wall ms is this machine under in-process moto, for "
           "reference only.", ""]
    rows = []
    for s in cost.scenarios[:2]:
        for kind, m in (("message", s.message), ("session", s.session), ("ping", s.ping)):
            if m is None:
                continue
            for name, t in m.functions.items():
                rows.append([f"{s.key} {kind}", name, f"{t.per_event:g}", f"{t.cpu_ms:.1f}",
                             f"{t.cpu_ms * duration.CORE_FACTOR / share:.0f}", f"{t.wait_ms:.0f}",
                             f"{t.billed_ms:.0f}", f"{t.wall_ms:.0f}"])
    out.append(table(["event", "function", "invocations", "own CPU ms (x86 here)", "CPU ms at the share",
                      "wait ms (modelled)", "billed ms", "wall ms here (p50)"], rows))
    out += ["", "Latencies the wait is modelled with:", "",
            table(["service", "operations", "ms", "source"],
                  [[lat.service, ", ".join(sorted(lat.operations)) or "(the others)", f"{lat.ms:g}", lat.source]
                   for lat in duration.LATENCIES])]
    return "\n".join(out)


def _profiles_table(cost: CostReport) -> str:
    pm = cost.ping_minutes
    direct = next(s for s in cost.scenarios if s.key == "direct")
    group = next(s for s in cost.scenarios if s.key == "group")
    rows = []
    for p in (cost.profile, *cost.profiles):
        cells = [p.name, f"{p.sessions_per_message:.3g}", f"{p.minutes_per_message:.3g}",
                 f"{p.pings_per_message(pm):.3g}"]
        for s in (direct, group):
            cells += [usd(s.all_in(p, pm).usd() * M), usd(s.floor.usd(p) * M), f"{s.ratio(p, pm):.2f}x"]
        rows.append(cells)
    return ("Sensitivity to the usage profile (per message sent; the first row is the default):\n\n"
            + table(["profile", "sessions", "connected min", "pings", "1:1 all-in", "1:1 floor", "1:1 ratio",
                     "group all-in", "group floor", "group ratio"], rows))


def _inbox_table(cost: CostReport) -> str:
    rows = [[str(r.conversations), f"{r.notifier_rru:g}", f"{r.notifier_wru:g}", f"{r.notifier_calls:g}",
             usd(r.notifier_usd * M), usd(r.message_usd * M)] for r in cost.inbox]
    equal = len({(r.notifier_rru, r.notifier_wru) for r in cost.inbox}) == 1
    return ("A group message's cost per offline recipient, by the number of conversations the recipient is in "
            "(issue 12, section 2): a group of the sender (online) and one recipient (offline, one APNs device), "
            "the recipient's other conversations each with unread history. The notifier's work is all for that "
            "one recipient (with the message's own steps: the push ledger claim, the sender's profile).\n\n"
            + table(["recipient's conversations", "notifier RRU", "notifier WRU", "notifier calls",
                     "notifier USD / M messages", "whole message USD / M (no connection share)"], rows)
            + f"\n\nGoal: the same units whatever the recipient's conversations: {verdict(equal)}.")


def _purpose_usd(row: list[float]) -> float:
    _calls, wru, rru, posts, sns_requests, pushes = row
    return M * (wru * prices.DYNAMODB_WRU.usd + rru * prices.DYNAMODB_RRU.usd + posts * prices.APIGW_MESSAGE.usd
                + sns_requests * prices.SNS_REQUEST.usd + pushes * prices.SNS_MOBILE_PUSH.usd)
