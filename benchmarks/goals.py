"""Every goal of issue 12 (and issue 13's cost of a change) in one table: the figure this run measured, the
goal, and whether it is met. Built from the same results as the sections below it, so it can never disagree
with them; a goal whose part did not run in this run is left out."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from benchmarks.markdown import table, verdict

if TYPE_CHECKING:
    from benchmarks.cost import CostReport
    from benchmarks.report import Results

M = 1_000_000
FANOUT_GOAL_RECIPIENTS = 50
CONFLICT_FREE_RATE = 100.0  # msg/s in one conversation


def rows_by_part(results: Results) -> dict[str, list[list[str]]]:
    """The goal rows of each part that ran (goal, measured, target, verdict)."""
    found: dict[str, list[list[str]]] = {}
    for part, rows_of in (("cost", _cost), ("coldstart", _coldstart), ("fanout", _fanout),
                          ("traffic", _traffic), ("load", _load), ("conflicts", _conflicts)):
        out: list[list[str]] = []

        def add(goal: str, measured: str, target: str, met: bool, out: list[list[str]] = out) -> None:
            out.append([goal, measured, target, verdict(met)])

        rows_of(results, add)
        if out:
            found[part] = out
    return found


def rows(results: Results) -> list[list[str]]:
    return [row for part_rows in rows_by_part(results).values() for row in part_rows]


def section(found: list[list[str]]) -> str:
    if not found:
        return ""
    return "\n".join(["### Goals", "", "Issue 12's goals, and issue 13's cost of a change, from the parts below "
                      "(each part's section has the detail and the time it ran):", "",
                      table(["goal", "measured", "target", ""], found)])


Add = Callable[[str, str, str, bool], None]


def _cost(results: Results, add: Add) -> None:
    from benchmarks.cost_report import GOALS

    cost = results.cost
    if cost is None:
        return
    p, pm = cost.profile, cost.ping_minutes
    for s in cost.scenarios[:2]:  # 1:1 both online, then the group of 50 (benchmarks.cost's first two)
        all_in = s.all_in(p, pm)
        own, total, floor = all_in.usd_per_message() * M, all_in.usd() * M, s.floor.usd(p) * M
        goal = GOALS["group" if s.key.startswith("group") else "direct"]
        add(f"all-in cost / floor: {s.title}, per message", f"{own / floor:.2f}x (${own:,.2f} / ${floor:,.2f} per M)",
            f"<= {goal}x", own / floor <= goal)
        add(f"all-in cost / floor: {s.title}, with its sessions", f"{total / floor:.2f}x (${total:,.2f} per M)",
            f"<= {goal}x", total / floor <= goal)
    _change_costs(cost, add)
    if cost.inbox:
        units = {(r.notifier_rru, r.notifier_wru) for r in cost.inbox}
        sizes = "/".join(str(r.conversations) for r in cost.inbox)
        figures = "; ".join(f"{r.conversations}: {r.notifier_rru:g} RRU + {r.notifier_wru:g} WRU"
                            for r in cost.inbox)
        add(f"notifier units per offline recipient in {sizes} conversations", figures, "equal", len(units) == 1)


# Issue 13: each change (an edit, a reaction, a membership change) costs no more than a message of the same size,
# in the same conversation: its own row against the message row of its world.
CHANGE_ROWS = {"direct-edit": "direct", "direct-react": "direct", "group-member": "group"}


def _change_costs(cost: CostReport, add: Add) -> None:
    p, pm = cost.profile, cost.ping_minutes
    messages = {s.key: s for s in cost.scenarios}
    for key, world in CHANGE_ROWS.items():
        change = next((s for s in cost.sensitivity if s.key == key), None)
        if change is None or world not in messages:
            continue
        own = change.all_in(p, pm).usd_per_message() * M
        message = messages[world].all_in(p, pm).usd_per_message() * M
        add(f"a change costs no more than a message: {change.title}",
            f"${own:,.2f} vs ${message:,.2f} per M ({own / message:.2f}x; {change.message.billable.wru:g} vs "
            f"{messages[world].message.billable.wru:g} WRU)", "<= 1.00x", own <= message)


def _coldstart(results: Results, add: Add) -> None:
    from benchmarks.report import COLD_START_GOAL_MS

    c = results.coldstart
    if c is None:
        return
    over = {name: c.over_baseline(name) for name in c.import_ms}
    worst = max(over, key=lambda name: over[name])
    add("cold start: handler import over `import boto3` (worst handler)", f"{over[worst]:.0f} ms ({worst})",
        f"<= {COLD_START_GOAL_MS:.0f} ms, every handler", over[worst] <= COLD_START_GOAL_MS)


def _fanout(results: Results, add: Add) -> None:
    found = [r for r in results.fanout or [] if r.recipients == FANOUT_GOAL_RECIPIENTS]
    if not found:
        return
    from benchmarks.cost import function_memory_mb
    from benchmarks.fanout import GOAL_MS

    r, memory = found[0], function_memory_mb("send")
    add(f"fan-out to {r.recipients} recipients, 20 ms a post: send wall p50 here", f"{r.wall_p50:.0f} ms",
        f"<= {GOAL_MS:.0f} ms", r.wall_p50 <= GOAL_MS)
    modelled = r.model(memory).latency_ms
    add(f"fan-out to {r.recipients} recipients: send modelled on Lambda at {memory} MB", f"{modelled:.0f} ms",
        f"<= {GOAL_MS:.0f} ms", modelled <= GOAL_MS)


def _traffic(results: Results, add: Add) -> None:
    from benchmarks.report import TRAFFIC_GOAL_BYTES

    t = results.traffic
    if t is None:
        return
    bytes_ = t.compact.delivered_overhead
    add(f"traffic: message + ack beyond a {t.text_bytes}-byte text, default format", f"{bytes_} bytes",
        f"<= {TRAFFIC_GOAL_BYTES} bytes", bytes_ <= TRAFFIC_GOAL_BYTES)


def _conflicts(results: Results, add: Add) -> None:
    from benchmarks import seq_model

    c = results.conflicts
    if c is None:
        return
    if c.local:
        answers = sum(r.conflicts for r in c.local)
        top = max(r.rate for r in c.local)
        add(f"`conflict` answers in one busy group, local stack (up to {top:g} msg/s)",
            f"{answers} of {sum(r.sends for r in c.local)} sends", "0", answers == 0 and not any(r.errors
                                                                                                 for r in c.local))
    if c.model is not None:
        onset = c.model.onsets.get(seq_model.WALK_FORWARD.name)
        add("`conflict` onset in one conversation, modelled at DynamoDB latencies",
            "none up to 1,000 msg/s" if onset is None else f"{onset:g} msg/s",
            f"none below {CONFLICT_FREE_RATE:g} msg/s", onset is None or onset > CONFLICT_FREE_RATE)


def _load(results: Results, add: Add) -> None:
    from benchmarks.load import RUN_TIME_GOAL_S, THROUGHPUT_GOAL

    r = results.load
    if r is None:
        return
    size = f"{r.clients} clients x {r.messages_per_client} messages"
    add(f"local stack throughput ({size})", f"{r.throughput:.1f} msg/s", f">= {THROUGHPUT_GOAL:.1f} msg/s",
        r.throughput >= THROUGHPUT_GOAL)
    add(f"local load test run time ({size})", f"{r.total_s / 60:.1f} min", f"< {RUN_TIME_GOAL_S // 60} min",
        r.total_s < RUN_TIME_GOAL_S)
    add("local load test: lost / duplicated / out of order", f"{r.lost} / {r.duplicated} / {r.out_of_order}",
        "0 / 0 / 0", r.exact and not r.errors)
