"""``python -m benchmarks``: every Parley benchmark, one after another; see docs/performance.md.

Writes ``benchmarks/out/results.md`` (the tables and charts) and ``benchmarks/out/results.json``, prints the
Markdown, and with ``--update-docs`` replaces the measured section of docs/performance.md with it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import time
import traceback
from typing import Any

from benchmarks.paths import DOCS_PERFORMANCE, OUT_DIR

PARTS = ("cost", "coldstart", "fanout", "e2e", "load", "traffic", "conflicts", "fuzz")
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
PART_BLOCK = re.compile(r"<!-- part:(\w+) -->\n.*?<!-- /part:\1 -->", re.S)


@dataclasses.dataclass(frozen=True)
class Sizes:
    messages: int = 20  # measured messages per cost scenario (each measured twice: units, then timing)
    warmup: int = 11  # messages sent before measuring: more than the idempotency window (10), so it is full
    others: int = 100_000  # other users, conversations and connections preloaded for the (c) rows
    group_members: int = 50
    group_online: int = 10
    inbox_conversations: tuple[int, ...] = (1, 20, 200)  # the offline recipient's conversations (section 2)
    coldstart_repeats: int = 15
    fanout_runs: int = 15
    fanout_recipients: tuple[int, ...] = (2, 50, 100)
    e2e_clients: int = 20
    e2e_messages: int = 25
    load_clients: int = 200
    load_messages: int = 100  # per client
    load_group_size: int = 5
    load_group_share: float = 0.5  # of each client's messages, to its group (the rest to its direct peer)
    fuzz_frames: int = 10_000
    fuzz_round_frames: int = 500  # frames per fresh stack (the table stays small, so scanning it stays quick)
    fuzz_seed: int = 20261201
    conflicts_members: int = 5
    conflicts_rates: tuple[float, ...] = (1, 2, 4, 8)  # messages/s into one group, all members together
    conflicts_sends: int = 100  # per rate
    conflicts_model_sends: int = 20_000  # per modelled rate


QUICK = Sizes(messages=2, warmup=2, others=200, group_members=6, group_online=3, inbox_conversations=(1, 3),
              coldstart_repeats=1, fanout_runs=2,
              fanout_recipients=(2, 5), e2e_clients=4, e2e_messages=3, load_clients=10, load_messages=5,
              load_group_size=3, fuzz_frames=200, fuzz_round_frames=100,
              conflicts_members=3, conflicts_rates=(2,), conflicts_sends=6, conflicts_model_sends=2_000)


def run(parts: tuple[str, ...], sizes: Sizes, *, progress: bool, functions: list[str] | None = None) -> Any:
    from benchmarks.progress import factory
    from benchmarks.report import Results

    bars = factory(progress)
    results = Results()
    started = time.monotonic()
    for part in PARTS:
        if part not in parts:
            continue
        try:
            _run_part(part, sizes, results, bars, functions)
        except Exception as exc:  # one broken part must not lose the others' figures
            traceback.print_exc()
            results.failures[part] = f"{type(exc).__name__}: {exc}"
    results.seconds = time.monotonic() - started
    return results


def _run_part(part: str, sizes: Sizes, results: Any, bars: Any, functions: list[str] | None) -> None:
    parts = (part,)
    if "cost" in parts:
        from benchmarks import cost

        results.cost = cost.run(messages=sizes.messages, others=sizes.others, group_members=sizes.group_members,
                                group_online=sizes.group_online, inbox_sizes=sizes.inbox_conversations,
                                warmup=sizes.warmup, progress_factory=bars)
    if "coldstart" in parts:
        from benchmarks import coldstart

        results.coldstart = coldstart.run(repeats=sizes.coldstart_repeats, progress_factory=bars, only=functions)
    if "fanout" in parts:
        from benchmarks import fanout

        results.fanout = fanout.run(recipient_counts=sizes.fanout_recipients, runs=sizes.fanout_runs,
                                    progress_factory=bars)
    if "traffic" in parts:
        from benchmarks import traffic

        results.traffic = traffic.run()
    if "e2e" in parts:
        from benchmarks import e2e

        results.e2e = e2e.run(clients=sizes.e2e_clients, messages=sizes.e2e_messages)
    if "load" in parts:
        from benchmarks import load

        results.load = load.run(clients=sizes.load_clients, messages=sizes.load_messages,
                                group_size=sizes.load_group_size, group_share=sizes.load_group_share,
                                progress_factory=bars)
    if "conflicts" in parts:
        from benchmarks import conflicts

        results.conflicts = conflicts.run(members=sizes.conflicts_members, rates=sizes.conflicts_rates,
                                          sends=sizes.conflicts_sends, model_sends=sizes.conflicts_model_sends)
    if "fuzz" in parts:
        from benchmarks import fuzz

        OUT_DIR.mkdir(parents=True, exist_ok=True)
        results.fuzz = fuzz.run(frames=sizes.fuzz_frames, seed=sizes.fuzz_seed, round_frames=sizes.fuzz_round_frames,
                                progress_factory=bars, journal=OUT_DIR / "fuzz-frames.jsonl")


def kept_parts(ran: set[str]) -> dict[str, str]:
    """The part blocks of docs/performance.md that this run does not replace (``--only`` a few parts): each
    keeps the time of the run that made it."""
    text = DOCS_PERFORMANCE.read_text()
    return {m.group(1): m.group(0) for m in PART_BLOCK.finditer(text) if m.group(1) not in ran}


def update_docs(markdown: str) -> None:
    text = DOCS_PERFORMANCE.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOCS_PERFORMANCE} has no {BEGIN} ... {END} section to replace")
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    DOCS_PERFORMANCE.write_text(f"{head}{BEGIN}\n\n{markdown}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a minute): check that it all runs")
    parser.add_argument("--others", type=int, help="users/conversations/connections to preload (default 100000)")
    parser.add_argument("--messages", type=int, help="measured messages per cost scenario (default 20)")
    parser.add_argument("--repeats", type=int, help="fresh processes per handler for cold start (default 15)")
    parser.add_argument("--frames", type=int, help="frames the fuzz sends (default 10000)")
    parser.add_argument("--seed", type=int, help=f"the fuzz's seed (default {Sizes.fuzz_seed})")
    parser.add_argument("--clients", type=int, help=f"load test: clients (default {Sizes.load_clients})")
    parser.add_argument("--client-messages", type=int,
                        help=f"load test: messages each client sends (default {Sizes.load_messages})")
    parser.add_argument("--group-size", type=int,
                        help=f"load test: members per group (default {Sizes.load_group_size})")
    parser.add_argument("--group-share", type=float,
                        help=f"load test: share of each client's messages sent to its group, the rest to its direct "
                             f"peer (default {Sizes.load_group_share})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--update-docs", action="store_true", help="write the results into docs/performance.md")
    args = parser.parse_args(argv)
    parts = tuple(p.strip() for p in args.only.split(",") if p.strip())
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    sizes = QUICK if args.quick else Sizes()
    if args.others is not None:
        sizes = dataclasses.replace(sizes, others=args.others)
    if args.messages is not None:
        sizes = dataclasses.replace(sizes, messages=args.messages)
    if args.repeats is not None:
        sizes = dataclasses.replace(sizes, coldstart_repeats=args.repeats)
    if args.frames is not None:
        sizes = dataclasses.replace(sizes, fuzz_frames=args.frames)
    if args.seed is not None:
        sizes = dataclasses.replace(sizes, fuzz_seed=args.seed)
    for option, size in (("clients", "load_clients"), ("client_messages", "load_messages"),
                         ("group_size", "load_group_size"), ("group_share", "load_group_share")):
        if getattr(args, option) is not None:
            sizes = dataclasses.replace(sizes, **{size: getattr(args, option)})
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from benchmarks.report import render

    results = run(parts, sizes, progress=not args.no_progress)
    kept = kept_parts(set(parts)) if args.update_docs else {}
    markdown = render(results, kept=kept, order=PARTS)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / ".gitignore").write_text("*\n")
    (OUT_DIR / "results.md").write_text(markdown)
    (OUT_DIR / "results.json").write_text(json.dumps(dataclasses.asdict(results), indent=1, default=str))
    print(markdown)
    if args.update_docs:
        update_docs(markdown)
        print(f"updated {DOCS_PERFORMANCE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
