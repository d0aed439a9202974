"""The results as Markdown: the tables and Mermaid charts of docs/performance.md's measured section."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata

from benchmarks import goals, prices
from benchmarks.coldstart import ColdStartResult
from benchmarks.conflicts import ConflictsResult
from benchmarks.cost import CostReport
from benchmarks.cost_report import cost_section
from benchmarks.e2e import E2EResult, LoadResult
from benchmarks.fanout import FanoutResult
from benchmarks.fuzz import FuzzResult, Incident
from benchmarks.load import LoadTestResult
from benchmarks.load import section as load_section
from benchmarks.markdown import table as _table
from benchmarks.markdown import verdict as _verdict
from benchmarks.traffic import TrafficResult

COLD_START_GOAL_MS = 40.0  # issue 12: handler import over a bare import boto3
TRAFFIC_GOAL_BYTES = 200


@dataclass
class Results:
    cost: CostReport | None = None
    coldstart: ColdStartResult | None = None
    fanout: list[FanoutResult] | None = None
    e2e: E2EResult | None = None
    load: LoadTestResult | None = None
    traffic: TrafficResult | None = None
    conflicts: ConflictsResult | None = None
    fuzz: FuzzResult | None = None
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in
                         ("boto3", "moto", "aws-lambda-powertools", "pydantic", "websockets"))
    return (f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores; "
            f"Python {sys.version.split()[0]}; {versions}; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def price_table() -> str:
    return _table(["price", "us-east-1", "unit", "source"], [[p.name, p.shown, p.unit, p.source] for p in prices.ALL])


def coldstart_section(c: ColdStartResult) -> str:
    out = ["### Cold start", "",
           f"CPU time (`time.process_time`) in fresh processes. `import boto3` alone: median {c.baseline_p50:.0f} ms "
           f"over {c.repeats} processes. First call extra: the first invocation's own CPU (AWS calls, answered "
           "by in-process moto, left out) over a warm invocation's. With .pyc: the same import with bytecode "
           "beside the sources (compiled by this Python), what shipping it would save.", ""]
    rows = []
    for name in sorted(c.import_ms, key=c.over_baseline):
        over = c.over_baseline(name)
        warm, extra, with_pyc = c.warm_ms(name), c.first_call_extra(name), c.compiled_over_baseline(name)
        rows.append([name, f"{statistics.median(c.import_ms[name]):.0f}", f"{over:.0f}",
                     _verdict(over <= COLD_START_GOAL_MS), "-" if with_pyc is None else f"{with_pyc:.0f}",
                     "-" if extra is None else f"{extra:.0f}", "-" if warm is None else f"{warm:.1f}",
                     f"{c.cold_total(name):.0f}", f"{c.asset_bytes[name] / 1024:.1f}"])
    out.append(_table(["function", "import CPU, median ms", "over boto3, ms", f"goal <= {COLD_START_GOAL_MS:.0f} ms",
                       "over boto3 with .pyc, ms", "first call extra, ms", "warm call, ms",
                       "cold total over boto3, ms", "asset zip KB"], rows))
    if c.floor_ms:
        out += ["", "What any handler on this stack pays, over `import boto3` (median CPU ms, same processes' "
                "environment): " + "; ".join(f"{name} {statistics.median(ms) - c.baseline_p50:.0f}"
                                             for name, ms in c.floor_ms.items()) + "."]
    out += ["", f"Parley layer (zip of layers/parley): {c.layer_bytes / 1024:.1f} KB."]
    for name, size in c.dependency_layers.items():
        out.append(f"Dependency layer `.build/{name}`: {size / 1024 / 1024:.2f} MB.")
    if c.heaviest:
        out += ["", "What the slow ones import beyond boto3 (self time of one `-X importtime` run, by package):", ""]
        out.append(_table(["function", "heaviest"], [[n, ", ".join(f"{m} {s * 1000:.0f} ms" for m, s in h)]
                                                     for n, h in c.heaviest.items()]))
    ordered = sorted(c.import_ms, key=c.over_baseline)
    out += ["", "```mermaid", "xychart-beta", '    title "Handler import time over import boto3 (ms, median)"',
            "    x-axis [" + ", ".join(f'"{n}"' for n in ordered) + "]",
            f'    y-axis "ms" 0 --> {max(c.over_baseline(n) for n in ordered) * 1.1:.0f}',
            "    bar [" + ", ".join(f"{c.over_baseline(n):.0f}" for n in ordered) + "]",
            "    line [" + ", ".join(f"{COLD_START_GOAL_MS:.0f}" for _ in ordered) + "]", "```"]
    return "\n".join(out)


def fanout_section(results: list[FanoutResult]) -> str:
    from benchmarks import duration, fanout
    from benchmarks.cost import function_memory_mb

    rows = []
    for r in results:
        rows.append([str(r.recipients), str(r.members), str(r.workers), str(r.runs), f"{r.wall_p50:.0f}",
                     f"{max(r.wall_ms):.0f}", f"{r.lookup_calls:g}", f"{r.own_cpu_p50:.1f}",
                     f"{r.own_cpu_p50 / max(1.0, r.posts_per_run):.2f}", f"{statistics.median(r.moto_cpu_ms):.1f}",
                     _verdict(r.wall_p50 <= fanout.GOAL_MS) if r.recipients >= 50 else ""])
    out = [f"### Fan-out (posts take {fanout.POST_SECONDS * 1000:.0f} ms each)", "", _table(
        ["recipient connections", "members", "workers", "runs", "send wall p50 ms", "max ms",
         "connection lookups per send", "own CPU p50 ms", "own CPU per post ms", "moto CPU p50 ms (not own)",
         f"goal <= {fanout.GOAL_MS:.0f} ms"], rows)]
    deployed = function_memory_mb("send")
    header = ["recipient connections", "modelled AWS waits ms"] + [
        f"{mb} MB{' (deployed)' if mb == deployed else ''}" for mb in fanout.MEMORY_SIZES]
    model_rows = [[str(r.recipients), f"{r.wait_ms:.0f}"] + [
        f"{m.latency_ms:.0f} ms, ${m.usd_per_million:.2f}/M" for m in r.modelled] for r in results]
    out += ["", f"`send` on Lambda, modelled from the own CPU p50 (latency = own CPU / CPU share + AWS waits; "
                f"CPU share = MB / {duration.FULL_VCPU_MB}; duration cost per million sends, arm64). "
                f"Deployed: send {deployed} MB, deliver {function_memory_mb('deliver')} MB.", "",
            _table(header, model_rows)]
    largest = max(results, key=lambda r: r.recipients)
    if largest.reads:
        read_rows = [[name, f"{calls:g}", f"{rru:g}"] for name, (calls, rru) in sorted(largest.reads.items())]
        read_rows.append(["**all reads**", f"{largest.read_calls:g}", f"{largest.read_units:g}"])
        at = next(m for m in largest.modelled if m.memory_mb == deployed) if deployed in fanout.MEMORY_SIZES \
            else largest.model(deployed)
        out += ["", f"A group of {largest.members}: what `send` reads per message (one send metered with units), "
                    f"and its fan-out: {largest.wall_p50:.0f} ms p50 here, {at.latency_ms:.0f} ms modelled "
                    f"at {deployed} MB.", "", _table(["read", "calls", "RRU"], read_rows)]
    return "\n".join(out)


def e2e_section(e: E2EResult) -> str:
    out = ["### Local end to end vs a bare relay", ""]
    rows = []
    results: list[LoadResult] = [r for r in (e.parley, e.relay) if r is not None]
    for r in results:
        rows.append([r.name, str(r.clients), str(r.delivered), f"{r.throughput:,.1f}", f"{r.percentile(50):.1f}",
                     f"{r.percentile(99):.1f}", str(r.lost), str(r.duplicated), str(r.out_of_order),
                     "; ".join(r.errors) or "-"])
    out.append(_table(["", "clients", "delivered", "messages/s", "p50 ms", "p99 ms", "lost", "duplicated",
                       "out of order", "errors"], rows))
    if e.stack_error:
        out += ["", f"Local stack: {e.stack_error}"]
    return "\n".join(out)


def traffic_section(t: TrafficResult) -> str:
    before, after = t.full, t.compact
    pairs = [(before.request, after.request), (before.ack, after.ack), (before.message, after.message)]
    rows = [[b.name, b.direction, str(len(b.payload)), str(b.header_bytes), str(b.wire_bytes), str(len(a.payload)),
             str(a.header_bytes), f"**{a.wire_bytes}**"] for b, a in pairs]
    rows.append([f"message + ack, beyond the {t.text_bytes} text bytes", "", "", "", str(before.delivered_overhead),
                 "", "", f"**{after.delivered_overhead}**"])
    met = after.delivered_overhead <= TRAFFIC_GOAL_BYTES
    out = [f"### Traffic of one 20-character message (seq {t.seq:,})", "",
           _table(["frame", "direction", "full: JSON", "header", "on the wire", "compact (default): JSON", "header",
                   "on the wire"], rows), "",
           f"Delivered message + ack in the default format, beyond the {t.text_bytes} text bytes: "
           f"**{after.delivered_overhead} bytes** (goal <= {TRAFFIC_GOAL_BYTES}: {_verdict(met)}), "
           f"{before.delivered_overhead} in the full format. The message frame alone: "
           f"{after.message.wire_bytes - t.text_bytes} bytes (full: {before.message.wire_bytes - t.text_bytes}). "
           f"All three frames: {after.total_bytes} bytes (full: {before.total_bytes}).", "",
           "Bytes per field (`\"key\":value` and its separator):", ""]
    for f in (before, after):
        for frame in (f.ack, f.message):
            out.append(f"* {f.frame_format} {frame.name}: " + ", ".join(f"`{k}` {n}" for k, n in frame.fields()))
    out += ["", f"Stored message item: {t.item_bytes} bytes ({t.item_bytes_with_random_id} with the random "
                "16-character message id older versions stored; the id is now derived)."]
    return "\n".join(out)


def conflicts_section(c: ConflictsResult) -> str:
    from benchmarks import seq_model

    out = [f"### One busy conversation: `conflict` answers ({c.members} members of one group, local stack)", ""]
    if c.local:
        out.append(_table(
            ["offered msg/s", "sends", "acked msg/s", "lost races", "retried by the server", "`conflict` answers",
             "share", "ack p50 ms", "ack p99 ms", "errors"],
            [[f"{r.rate:g}", str(r.sends), f"{r.achieved_rate:.2f}", str(r.lost_races), str(r.server_retries),
              str(r.conflicts), f"{r.conflict_share:.1%}", f"{r.percentile(50):.0f}", f"{r.percentile(99):.0f}",
              "; ".join(r.errors) or "-"] for r in c.local]))
    if c.local_error:
        out += ["", f"Local stack: {c.local_error}"]
    m = c.model
    if m is None:
        return "\n".join(out)
    lat = m.latencies
    out += ["", f"Modelled for DynamoDB ({m.sends:,} Poisson sends per rate; Query p50 {lat.query.p50:g} ms / p99 "
            f"{lat.query.p99:g} ms, PutItem p50 {lat.put.p50:g} / p99 {lat.put.p99:g} ms, {lat.first_cpu_ms:g} ms of "
            f"CPU before the first put and {lat.retry_cpu_ms:g} ms before each retry):", "",
            _table(["retry policy", "msg/s", "lost races per send", "`conflict` answers", "retry time p99 ms",
                    "send p99 ms"],
                   [[r.policy, f"{r.rate:g}", f"{r.lost_races / r.sends:.2f}", f"{r.conflict_share:.2%}",
                     f"{r.added_p99_ms:.0f}", f"{r.latency_p99_ms:.0f}"] for r in m.rows]), ""]
    for policy, onset in m.onsets.items():
        doubled = m.onsets_doubled.get(policy)
        met = onset is None or onset > seq_model.GOAL_RATE
        out.append(f"* {policy}: clients start to see `conflict` (over {seq_model.CONFLICT_SHARE_LIMIT:.1%} of sends) "
                   f"at **{_onset(onset)}** (every latency doubled: {_onset(doubled)}); goal: none below "
                   f"{seq_model.GOAL_RATE:g} msg/s: {_verdict(met)}")
    return "\n".join(out)


def _onset(rate: float | None) -> str:
    return "none up to 1,000 msg/s" if rate is None else f"{rate:g} msg/s"


def _codes(answers: dict[str, int], top: int = 4) -> str:
    ordered = sorted(answers.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{answer.removeprefix('error:')} {n:,}" for answer, n in ordered[:top])
    return shown + (", ..." if len(ordered) > top else "")


def _refused(answers: dict[str, int]) -> int:
    return sum(n for answer, n in answers.items() if answer.startswith("error:"))


def _incident(i: Incident) -> str:
    detail = i.detail.replace("\n", " ").replace("|", "\\|")[:400]
    return (f"* round {i.round}, frame {i.index}, {i.caller}, {i.kind} `{i.action}`: **{i.what}**, answered "
            f"`{i.answer}`. Frame: `{i.frame[:200]}`. {detail}")


def fuzz_section(f: FuzzResult) -> str:
    out = ["### Fuzzing over real sockets", "",
           f"{f.frames:,} frames (seed {f.seed}, started {f.started}) in {f.rounds} rounds, each on a fresh local "
           f"stack; {f.production_limit_frames:,} of them with the production rate limits, the rest with every "
           f"limit raised. {f.elapsed_s / 60:.1f} min, {f.scan_s / 60:.1f} of them scanning the table (at most "
           f"{f.table_items_max} items besides `THROTTLE#`). Plus {f.setup_frames} setup frames, {f.reconnects} "
           f"reconnects after a close, {f.pushed} frames pushed between bursts, {f.extra_answers} frames answered "
           f"more than once, {f.log_warnings} WARNING log records. Every frame and its answer: "
           f"`benchmarks/out/fuzz-frames.jsonl`.", "",
           _table(["", "measured", "goal", ""], [
               ["unhandled errors", str(len(f.unhandled)), "0", _verdict(not f.unhandled)],
               ["state changes from refused frames", f"{len(f.state_changes)} (of {f.refused:,} refused frames, each "
                f"compared)", "0", _verdict(not f.state_changes)]]), "",
           "Answers (error frames by code, others by type; `none`: a `typing` relayed, which answers nothing; "
           "`closed 1009`: over 128 KB):", "",
           _table(["answer", "frames"], [[a, f"{n:,}"] for a, n in f.answers.items()]), "",
           "By action (the action a frame was made from; `-`: an unknown action):", "",
           _table(["action", "frames", "error frames", "most frequent answers"],
                  [[a, f"{sum(row.values()):,}", f"{_refused(row):,}", _codes(row)]
                   for a, row in sorted(f.by_action.items())]), "",
           "By kind of frame:", "",
           _table(["kind", "frames", "error frames", "most frequent answers"],
                  [[k, f"{sum(row.values()):,}", f"{_refused(row):,}", _codes(row)]
                   for k, row in sorted(f.by_kind.items(), key=lambda kv: -sum(kv[1].values()))])]
    if f.unhandled or f.state_changes:
        out += ["", "What went wrong (at most 20 shown; all in `results.json`):", ""]
        out += [_incident(i) for i in [*f.unhandled, *f.state_changes][:20]]
    return "\n".join(out)


def part_sections(results: Results) -> dict[str, str]:
    """Each part's section, by part name (the names of ``python -m benchmarks --only``)."""
    found: dict[str, str] = {}
    if results.cost:
        found["cost"] = cost_section(results.cost)
    if results.coldstart:
        found["coldstart"] = coldstart_section(results.coldstart)
    if results.fanout:
        found["fanout"] = fanout_section(results.fanout)
    if results.e2e:
        found["e2e"] = e2e_section(results.e2e)
    if results.load:
        found["load"] = load_section(results.load)
    if results.traffic:
        found["traffic"] = traffic_section(results.traffic)
    if results.conflicts:
        found["conflicts"] = conflicts_section(results.conflicts)
    if results.fuzz:
        found["fuzz"] = fuzz_section(results.fuzz)
    return found


GOALS_LINE = re.compile(r"^<!-- goals: (.*) -->$", re.M)


def part_block(part: str, section: str, stamp: str, goal_rows: list[list[str]]) -> str:
    """A part's section between markers, so that a later run of other parts (``--only``) keeps it, with its
    goal rows (for the goals table of that later run)."""
    return (f"<!-- part:{part} -->\n<!-- goals: {json.dumps(goal_rows)} -->\n*{part}: run {stamp}.*\n\n{section}\n"
            f"<!-- /part:{part} -->")


def kept_goal_rows(block: str) -> list[list[str]]:
    found = GOALS_LINE.search(block)
    return list(json.loads(found.group(1))) if found else []


def render(results: Results, kept: dict[str, str] | None = None, order: tuple[str, ...] = ()) -> str:
    """The whole measured section. ``kept``: part blocks of an earlier run (``part_block``'s form) for the
    parts this run did not run, placed in ``order``."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    ran = part_sections(results)
    parts = [f"Machine: {machine()}. Whole run: {results.seconds / 60:.1f} min"
             + (f" (parts: {', '.join(ran)})" if kept else "") + ".", "", "### Prices", "", price_table()]
    goal_rows = goals.rows_by_part(results)
    blocks = {part: part_block(part, section, stamp, goal_rows.get(part, [])) for part, section in ran.items()}
    in_order = [p for p in order or tuple(blocks) if p in blocks or (kept and p in kept)]
    table_rows = [row for p in in_order
                  for row in (goal_rows.get(p, []) if p in blocks else kept_goal_rows((kept or {})[p]))]
    if table_rows:
        parts += ["", goals.section(table_rows)]
    for part in in_order:
        if part in blocks:
            parts += ["", blocks[part]]
        elif kept and part in kept:
            parts += ["", kept[part]]
    for part, error in results.failures.items():
        parts += ["", f"**{part} failed in this run:** {error}"]
    return "\n".join(parts) + "\n"
