"""The results as Markdown: the tables and Mermaid charts of docs/performance.md's measured section."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata

from benchmarks import prices
from benchmarks.coldstart import ColdStartResult
from benchmarks.conflicts import ConflictsResult
from benchmarks.cost import CostReport
from benchmarks.e2e import E2EResult, LoadResult
from benchmarks.fanout import FanoutResult
from benchmarks.fuzz import FuzzResult, Incident
from benchmarks.traffic import TrafficResult

COLD_START_GOAL_MS = 40.0  # import over boto3 (issue 12)
TRAFFIC_GOAL_BYTES = 200
GOALS = {"direct": 1.5, "group": 1.3}


@dataclass
class Results:
    cost: CostReport | None = None
    coldstart: ColdStartResult | None = None
    fanout: list[FanoutResult] | None = None
    e2e: E2EResult | None = None
    traffic: TrafficResult | None = None
    conflicts: ConflictsResult | None = None
    fuzz: FuzzResult | None = None
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.995 else f"${value:,.3f}"


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


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def cost_section(cost: CostReport) -> str:
    m = cost.memory_mb
    out = ["### Cost per million messages", ""]
    rows = []
    for s in cost.scenarios:
        goal = GOALS["group" if s.key.startswith("group") else "direct"]
        rows.append([s.title, _usd(s.total(m)), _usd(s.floor.usd * prices.MILLION), f"{s.ratio(m):.2f}x",
                     f"<= {goal}x", _verdict(s.ratio(m) <= goal), _usd(s.logs_usd_per_million())])
    out.append(_table(["scenario", "Parley", "floor", "ratio", "goal", "", "+ CloudWatch Logs (not in the ratio)"],
                      rows))
    out += ["", "```mermaid", "xychart-beta",
            '    title "USD per million messages: Parley (bars) and the floor (line)"',
            "    x-axis [" + ", ".join(f'"{s.key}"' for s in cost.scenarios) + "]",
            f'    y-axis "USD" 0 --> {max(s.total(m) for s in cost.scenarios) * 1.1:.0f}',
            "    bar [" + ", ".join(f"{s.total(m):.2f}" for s in cost.scenarios) + "]",
            "    line [" + ", ".join(f"{s.floor.usd * prices.MILLION:.2f}" for s in cost.scenarios) + "]",
            "```", ""]
    lines = list(cost.scenarios[0].cost_lines(m))
    out.append("By line (USD per million messages):\n")
    out.append(_table(["line", *[s.key for s in cost.scenarios]],
                      [[line, *[_usd(s.cost_lines(m)[line]) for s in cost.scenarios]] for line in lines]))
    out += ["", "Per message (averages over the measured messages; every message did the same work: "
            "units per message min = max in every scenario unless noted):", ""]
    header = ["per message", *[s.key for s in cost.scenarios]]
    quantity_rows: list[tuple[str, str]] = [
        ("API Gateway messages (in + route responses + posts)", "apigw"),
        ("Lambda invocations", "invocations"), ("Lambda billed GB-s (x1000)", "gbs"),
        ("DynamoDB WRU", "wru"), ("DynamoDB RRU", "rru"), ("SNS requests", "sns_requests"),
        ("SNS mobile pushes", "mobile_pushes"), ("log bytes", "log_bytes")]
    rows = []
    for label, attr in quantity_rows:
        cells = []
        for s in cost.scenarios:
            q = s.quantities
            value = {"apigw": q.apigw_messages, "gbs": q.gb_seconds * 1000}.get(attr, getattr(q, attr, 0.0))
            cells.append(f"{value:,.3g}")
        rows.append([label, *cells])
    rows.append(["units min / max of one message",
                 *[f"{s.unit_spread[0]:g} / {s.unit_spread[1]:g}" for s in cost.scenarios]])
    names = sorted({n for s in cost.scenarios for n in s.quantities.calls})
    rows += [[f"calls: {n}", *[f"{s.quantities.calls.get(n, 0):g}" for s in cost.scenarios]] for n in names]
    out.append(_table(header, rows))
    out += ["", "Lambda wall time per invocation (ms, timing run, in-process moto; p50 / max):", ""]
    functions = sorted({f for s in cost.scenarios for f in s.durations_ms})
    out.append(_table(["function", *[s.key for s in cost.scenarios]],
                      [[f, *[(f"{statistics.median(s.durations_ms[f]):.0f} / {max(s.durations_ms[f]):.0f}"
                              if f in s.durations_ms else "-") for s in cost.scenarios]] for f in functions]))
    for s in cost.scenarios[:2]:
        out += ["", f"Where the money goes, {s.title} (per million messages):", ""]
        rows = []
        for name, (calls, wru, rru, posts, sns_requests, pushes) in sorted(
                s.quantities.purposes.items(), key=lambda kv: -_purpose_usd(kv[1])):
            rows.append([name, f"{calls:g}", f"{wru:g}", f"{rru:g}", _usd(_purpose_usd([calls, wru, rru, posts,
                                                                                         sns_requests, pushes]))])
        out.append(_table(["step", "calls", "WRU", "RRU", "USD / M messages"], rows))
    out += ["", "Sensitivity:", ""]
    out.append(_table(["variant", "Parley", "floor", "ratio", "WRU", "RRU"],
                      [[s.title, _usd(s.total(m)), _usd(s.floor.usd * prices.MILLION), f"{s.ratio(m):.2f}x",
                        f"{s.quantities.wru:g}", f"{s.quantities.rru:g}"] for s in cost.sensitivity]))
    out += ["", "Item sizes (bytes, computed with `benchmarks/capacity.py`):", "",
            _table(["item", "bytes"], [[k, str(v)] for k, v in cost.item_sizes.items()]), "",
            f"Preloaded for the `_others` rows: {cost.others:,} users, conversations and connections "
            f"({cost.preload_items:,} items, BatchWriteItem, {cost.preload_seconds:.0f} s). "
            f"Lambda memory: {m} MB (infra/constants.py `MEMORY_MB`)."]
    return "\n".join(out)


def _purpose_usd(row: list[float]) -> float:
    _calls, wru, rru, posts, sns_requests, pushes = row
    return prices.MILLION * (wru * prices.DYNAMODB_WRU.usd + rru * prices.DYNAMODB_RRU.usd
                             + posts * prices.APIGW_MESSAGE.usd + sns_requests * prices.SNS_REQUEST.usd
                             + pushes * prices.SNS_MOBILE_PUSH.usd)


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
    rows = []
    for r in results:
        rows.append([str(r.recipients), str(r.workers), str(r.runs), f"{r.wall_p50:.0f}",
                     f"{max(r.wall_ms):.0f}", f"{statistics.median(r.lookup_ms):.0f}",
                     f"{statistics.median(r.own_cpu_ms):.1f}", f"{statistics.median(r.aws_cpu_ms):.1f}",
                     _verdict(r.wall_p50 <= r.budget_ms) if r.recipients >= 50 else ""])
    return "\n".join(["### Fan-out (posts take 20 ms each)", "", _table(
        ["recipient connections", "workers", "runs", "send wall p50 ms", "max ms", "connection lookups p50 ms",
         "own CPU p50 ms", "CPU in AWS calls (moto) p50 ms", "goal <= 100 ms"], rows)])


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


def render(results: Results) -> str:
    parts = [f"Machine: {machine()}. Whole run: {results.seconds / 60:.1f} min.", "", "### Prices", "",
             price_table()]
    if results.cost:
        parts += ["", cost_section(results.cost)]
    if results.coldstart:
        parts += ["", coldstart_section(results.coldstart)]
    if results.fanout:
        parts += ["", fanout_section(results.fanout)]
    if results.e2e:
        parts += ["", e2e_section(results.e2e)]
    if results.traffic:
        parts += ["", traffic_section(results.traffic)]
    if results.conflicts:
        parts += ["", conflicts_section(results.conflicts)]
    if results.fuzz:
        parts += ["", fuzz_section(results.fuzz)]
    for part, error in results.failures.items():
        parts += ["", f"**{part} failed in this run:** {error}"]
    return "\n".join(parts) + "\n"
