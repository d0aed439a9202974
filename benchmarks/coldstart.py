"""Part 2: cold start. Each handler module's import CPU time in a fresh Python process, over a bare
``import boto3`` baseline measured in the same run (rounds interleave the baseline and every handler,
so drift hits them alike), and the extra CPU of its first invocation over a warm one.

CPU (``time.process_time`` in the child), not wall time: the machine is shared. The handler and the layer
are imported from a copy laid out as the deployed assets are (``shipped_copy``): the source files, and the
``.pyc`` files only if the asset bundling ships them, so a layer without bytecode compiles on every cold
start here as it does in Lambda.

First invocation: ``benchmarks/coldstart_probe.py`` imports the handler in a fresh process under in-process
moto (warmed up before the handler is imported) and invokes it with a representative event, then again
with ``WARM_INVOCATIONS`` more; it reports each invocation's CPU beyond the CPU spent inside AWS calls.
"First call extra" is the first invocation's minus the warm ones' median: the work deferred from import to
the first call (lazy imports, clients, models, wiring) is counted there, not hidden.

The child process sees what Lambda gives a function: the function's folder first on ``sys.path`` (the
task root), then the Parley layer's ``python/`` folder (``/opt/python``), then the site-packages that stand
in for the runtime (boto3) and the Powertools layer (powertools, pydantic, aws-xray-sdk). ``LAMBDA_TASK_ROOT``
and the other Lambda variables are set, so Powertools' Tracer is enabled and patches botocore at import, as
with the deployed functions' active tracing. The authorizer's PyJWT[crypto] comes from this virtualenv: the
layer in ``.build/`` holds Linux arm64 wheels that cannot load here.

Also: the size of each function's asset (a zip of ``functions/<name>``, without ``__pycache__``), of the
Parley layer (a zip of ``layers/parley``) and of the authorizer's dependency layer (``.build/``).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.paths import BUILD_DIR, FUNCTIONS_DIR, LAYER_DIR, REPO_ROOT
from benchmarks.progress import ProgressFactory

EXCLUDED_PARTS = {"__pycache__"}
EXCLUDED_SUFFIXES = {".pyc"}
WARM_INVOCATIONS = 4  # 5 invocations in all: within every route's rate-limit burst (report: 5)
PROBE = Path(__file__).with_name("coldstart_probe.py")

_CHILD = """
import sys, time
sys.path[:0] = {paths!r}
t0 = time.process_time()
{body}
elapsed = time.process_time() - t0
print(repr(elapsed), globals().get("uses_boto3", True))
"""
_LOAD_HANDLER = """
import importlib.util
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
assert callable(module.lambda_handler)
uses_boto3 = "boto3" in sys.modules
"""


def lambda_environment(function: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PARLEY_", "AWS_", "_X_AMZN"))}
    env.update({
        "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR / function),
        "AWS_LAMBDA_FUNCTION_NAME": f"parley-{function}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "_HANDLER": "handler.lambda_handler",
        "POWERTOOLS_SERVICE_NAME": "parley",
        "PYTHONDONTWRITEBYTECODE": "1",  # the deployed assets are read-only: nothing is cached between runs
    })
    return env


@dataclass(frozen=True)
class Layout:
    """Where a fresh process finds the code: the functions' folders and the Parley layer's ``python/``."""

    functions: Path
    layer_python: Path

    def paths(self, function: str) -> list[str]:
        return [str(self.functions / function), str(self.layer_python)]

    def handler(self, function: str) -> Path:
        return self.functions / function / "handler.py"


@contextmanager
def shipped_copy(functions_dir: Path = FUNCTIONS_DIR, layer_dir: Path = LAYER_DIR, *,
                 compiled: bool = False) -> Iterator[Layout]:
    """A copy of the functions and the layer as their assets ship them: source only (bytecode caches left
    out, as the asset bundling leaves them out), so every module is compiled in each fresh process.
    ``compiled``: with ``.pyc`` files made by this interpreter (``unchecked-hash``, never checked against the
    source), to show what shipping bytecode would save."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    with tempfile.TemporaryDirectory(prefix="parley-coldstart-") as tmp:
        root = Path(tmp)
        shutil.copytree(functions_dir, root / "functions", ignore=ignore)
        shutil.copytree(layer_dir / "python", root / "layer" / "python", ignore=ignore)
        if compiled:
            # Trusted argv: this interpreter's compileall on the copy just made.
            subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",  # noqa: S603
                            str(root)], check=True, capture_output=True, timeout=300)
        yield Layout(root / "functions", root / "layer" / "python")


def _run(code: str, env: dict[str, str], extra: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    # Trusted argv: this interpreter and code written above.
    return subprocess.run([sys.executable, *(extra or []), "-c", code], env=env, capture_output=True,  # noqa: S603
                          text=True, check=False, timeout=120)


# What any handler on this stack pays beyond boto3, for the breakdown (same child, same environment).
FLOORS = {
    "pydantic and one model": "import boto3\nfrom pydantic import BaseModel\nclass M(BaseModel):\n    a: int\n"
                              "M(a=1)",
    "Powertools Logger and Metrics": "import boto3\nfrom aws_lambda_powertools import Logger, Metrics\n"
                                     "Logger(service='parley'), Metrics(namespace='Parley')",
    "X-Ray SDK, botocore patched": "import boto3\nfrom aws_lambda_powertools import Tracer\n"
                                   "Tracer(service='parley', patch_modules=('botocore',))",
    "X-Ray SDK, patch_all": "import boto3\nfrom aws_lambda_powertools import Tracer\nTracer(service='parley')",
}


def time_floor(code: str) -> float:
    """CPU seconds of ``code`` in a fresh process with Lambda's environment."""
    done = _run(_CHILD.format(paths=[], body=code), lambda_environment("send"))
    if done.returncode != 0:
        raise RuntimeError(f"{code!r} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1].split()[0])


# The example moderation hook is no Parley function and makes no AWS call: its whole import is its cost.
NO_AWS = frozenset({"moderation_hook"})


def _code(layout: Layout | None, function: str | None) -> str:
    """The child's code. Every Parley function calls AWS on its first invocation, if not at import: it pays
    for boto3 either way, so boto3 is imported first and the handler's figure is what it adds on top (a
    handler that imports boto3 lazily is not credited with the boto3 import it pays on its first call)."""
    if function is None or layout is None:
        return _CHILD.format(paths=[], body="import boto3")
    load = _LOAD_HANDLER.format(path=str(layout.handler(function)))
    return _CHILD.format(paths=layout.paths(function), body=load if function in NO_AWS else f"import boto3\n{load}")


def time_import(layout: Layout, function: str | None) -> tuple[float, bool]:
    """CPU seconds to import boto3 (``None``) or the function's handler in a fresh process, and whether
    the handler imported boto3 at all."""
    done = _run(_code(layout, function), lambda_environment(function or "send"))
    if done.returncode != 0:
        raise RuntimeError(f"importing {function or 'boto3'} failed:\n{done.stderr[-2000:]}")
    seconds, uses_boto3 = done.stdout.strip().splitlines()[-1].split()
    return float(seconds), uses_boto3 == "True"


def _imported(layout: Layout, function: str | None) -> list[tuple[str, float]]:
    """(module, self seconds) of every module a fresh process imports (``-X importtime``)."""
    found = []
    done = _run(_code(layout, function), lambda_environment(function or "send"), ["-X", "importtime"])
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            found.append((match.group(2), int(match.group(1)) / 1e6))
    return found


def heaviest_imports(layout: Layout, function: str, baseline: set[str], top: int = 6) -> list[tuple[str, float]]:
    """What a handler imports beyond ``import boto3``, by self time, grouped by package and module
    (``parley.protocol``, ``botocore.docs``, ``aws_xray_sdk.core`` ...)."""
    totals: dict[str, float] = {}
    for module, seconds in _imported(layout, function):
        if module in baseline:
            continue
        group = ".".join(module.split(".")[:2])
        totals[group] = totals.get(group, 0.0) + seconds
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def boto3_modules(layout: Layout) -> set[str]:
    return {module for module, _seconds in _imported(layout, None)}


# -- the first invocation --------------------------------------------------------------------------

SECRET_NAME = "parley/bench/token-secret"
SECRET = "coldstart-secret-0123456789abcdef0123456789"
BUCKET = "parley-bench-uploads"
ISSUER, AUDIENCE = "parley-bench", "parley"


@dataclass
class Seed:
    """The state every first-invocation probe starts from (the table's items, pickled), and what the events
    refer to."""

    items_path: Path
    direct: str  # alice <-> bob, one message from alice
    unread_publish: dict[str, Any]  # the unread event alice's message to carol published (the notifier's event)
    table_kwargs: dict[str, Any]


def _probe_environment(function: str) -> dict[str, str]:
    from benchmarks.sandbox import BASE_ENV, CALLBACK_URL

    env = lambda_environment(function)
    env.update({k: v for k, v in BASE_ENV.items() if not k.startswith("POWERTOOLS_TRACE")})
    env.update({
        "PARLEY_CALLBACK_URL": CALLBACK_URL,
        "PARLEY_AUTH_SECRET_ID": SECRET_NAME, "PARLEY_AUTH_ISSUER": ISSUER, "PARLEY_AUTH_AUDIENCE": AUDIENCE,
        "PARLEY_UPLOADS_BUCKET": BUCKET,
        "PARLEY_PUSH_APNS_APPLICATION_ARN": "arn:aws:sns:us-east-1:123456789012:app/APNS/parley-ios",
        "PARLEY_UNREAD_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:parley-unread-events",
        # Lambda's active tracing: a sampled trace header, the X-Ray daemon's address (nothing listens: UDP)
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "PYTHONWARNINGS": "ignore",
    })
    return env


def seed(folder: Path) -> Seed:
    """Drive the real handlers under moto once (in this process) to make the probes' starting state."""
    import boto3

    from benchmarks.metering import Meter
    from benchmarks.sandbox import TABLE_NAME, moto_sandbox
    from parley import table

    meter = Meter()
    with moto_sandbox(meter) as box:
        for user in ("alice", "bob"):
            box.connect(user, f"{user}-1")
        for i in range(WARM_INVOCATIONS + 1):
            box.connect("dana", f"dana-{i}")
        box.connect("carol", "carol-1")
        box.register_apns("carol", "carol-1", "a1" * 32)
        box.disconnect("carol", "carol-1")
        direct = box.open_direct("alice", "alice-1", "bob")
        to_carol = box.open_direct("alice", "alice-1", "carol")
        mark = meter.mark()
        for conversation in (direct, to_carol):
            box.request("alice", "alice-1", {"action": "send", "conversationId": conversation, "body": {"text": "hi"},
                                             "clientMsgId": f"seed-{conversation}"}, "send")
        [publish] = [c.params for c in meter.since(mark) if c.operation == "Publish"]
        items = boto3.client("dynamodb").scan(TableName=TABLE_NAME)["Items"]
    path = folder / "items.pickle"
    path.write_bytes(pickle.dumps(items))
    return Seed(items_path=path, direct=direct, unread_publish=publish,
                table_kwargs=table.TABLE.create_table_kwargs(TABLE_NAME))


def _token(user: str) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": user, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}, SECRET,
                      algorithm="HS256")


def _events(function: str, s: Seed) -> list[dict[str, Any]] | None:
    """The first event and the warm ones (None: no representative event here), each doing the same work."""
    from benchmarks.lambdas import sns_event
    from tests.support import events

    def route(i: int, body: dict[str, Any]) -> dict[str, Any]:
        return events.message_event("alice", "alice-1", body)

    makers: dict[str, Callable[[int], dict[str, Any]]] = {
        "authorizer": lambda i: events.authorizer_event(query={"token": _token(f"user-{i}")}),
        "connect": lambda i: events.connect_event(f"new-{i}", f"new-{i}-1"),
        "disconnect": lambda i: events.disconnect_event("dana", f"dana-{i}"),
        "default": lambda i: route(i, {"action": "shout"}),
        "send": lambda i: route(i, {"action": "send", "conversationId": s.direct, "clientMsgId": f"m{i}",
                                    "body": {"text": "a message of about twenty"}}),
        "history": lambda i: route(i, {"action": "history", "conversationId": s.direct}),
        "conversations": lambda i: route(i, {"action": "listConversations"}),
        "presence": lambda i: route(i, {"action": "presence", "userIds": ["bob"]}),
        "typing": lambda i: route(i, {"action": "typing", "conversationId": s.direct}),
        "unread": lambda i: route(i, {"action": "unreadCounts"}),
        "preferences": lambda i: route(i, {"action": "getPreferences"}),
        "blocks": lambda i: route(i, {"action": "listBlocks"}),
        "reports": lambda i: route(i, {"action": "report", "conversationId": s.direct, "seq": 1,
                                       "reason": "spam"}),
        "devices": lambda i: route(i, {"action": "registerDevice", "platform": "apns", "token": f"{i:02x}" * 32}),
        "uploads": lambda i: route(i, {"action": "requestUpload", "conversationId": s.direct,
                                       "contentType": "image/jpeg", "size": 1000}),
        "notifier": lambda i: sns_event(s.unread_publish, f"sns-{i}"),
        "deliver": lambda i: {"Records": [events.sqs_record(json.dumps(
            {"conversationId": s.direct, "seq": 1, "live": ["bob"]}))]},
        "moderation_hook": lambda i: {"version": 1, "text": "hello", "now": 0, "senderFirstSeenAt": 0},
    }
    maker = makers.get(function)
    return None if maker is None else [maker(i) for i in range(WARM_INVOCATIONS + 1)]


def first_invocation(layout: Layout, function: str, s: Seed) -> list[float] | None:
    """Own CPU ms of the first invocation, then of each warm one (None: no representative event)."""
    events = _events(function, s)
    if events is None:
        return None
    spec = {"paths": layout.paths(function), "handler": str(layout.handler(function)),
            "repo_root": str(REPO_ROOT), "table": s.table_kwargs, "items": str(s.items_path),
            "secret_name": SECRET_NAME, "secret": SECRET, "bucket": BUCKET, "events": events}
    # Trusted argv: this interpreter and the probe script beside this module.
    done = subprocess.run([sys.executable, str(PROBE)], input=json.dumps(spec), env=_probe_environment(function),  # noqa: S603
                          capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"first invocation of {function} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for answer in report["answers"]:
        if function != "default" and isinstance(answer, dict) and '"error"' in str(answer.get("body", "")):
            raise RuntimeError(f"{function}'s representative event was refused: {answer}")
    return [float(ms) for ms in report["own_ms"]]


def zip_size(folder: Path) -> int:
    """Bytes of a deflated zip of ``folder`` (what CDK uploads), without bytecode caches."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not (EXCLUDED_PARTS & set(path.parts)) and path.suffix not in EXCLUDED_SUFFIXES:
                archive.write(path, path.relative_to(folder))
    return len(buffer.getvalue())


def functions(functions_dir: Path = FUNCTIONS_DIR) -> list[str]:
    return sorted(p.name for p in functions_dir.iterdir() if (p / "handler.py").is_file())


@dataclass
class ColdStartResult:
    repeats: int
    baseline_ms: list[float]
    import_ms: dict[str, list[float]]
    asset_bytes: dict[str, int]
    layer_bytes: int
    dependency_layers: dict[str, int]
    heaviest: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    without_boto3: set[str] = field(default_factory=set)  # handlers that never import boto3
    # own CPU ms of the first invocation and of each warm one, per handler with a representative event
    invocation_ms: dict[str, list[float]] = field(default_factory=dict)
    # import CPU ms with .pyc files beside the sources (this interpreter's), per handler
    compiled_import_ms: dict[str, list[float]] = field(default_factory=dict)
    floor_ms: dict[str, list[float]] = field(default_factory=dict)  # FLOORS, CPU ms (boto3 included)

    @property
    def baseline_p50(self) -> float:
        return statistics.median(self.baseline_ms)

    def over_baseline(self, function: str) -> float:
        """Import CPU beyond ``import boto3``; all of it for a handler that does not import boto3."""
        median = statistics.median(self.import_ms[function])
        return median if function in self.without_boto3 else median - self.baseline_p50

    def compiled_over_baseline(self, function: str) -> float | None:
        runs = self.compiled_import_ms.get(function)
        if not runs:
            return None
        return statistics.median(runs) - (0.0 if function in self.without_boto3 else self.baseline_p50)

    def warm_ms(self, function: str) -> float | None:
        runs = self.invocation_ms.get(function)
        return statistics.median(runs[1:]) if runs else None

    def first_call_extra(self, function: str) -> float | None:
        """The first invocation's own CPU beyond a warm invocation's (median of the warm ones)."""
        runs = self.invocation_ms.get(function)
        return max(0.0, runs[0] - statistics.median(runs[1:])) if runs else None

    def cold_total(self, function: str) -> float:
        """Import over boto3 plus the first call's extra: what a cold start adds to the first request."""
        return self.over_baseline(function) + (self.first_call_extra(function) or 0.0)


def run(*, repeats: int, progress_factory: ProgressFactory, only: list[str] | None = None,
        goal_ms: float = 40.0, functions_dir: Path = FUNCTIONS_DIR, layer_dir: Path = LAYER_DIR,
        first_calls: bool = True) -> ColdStartResult:
    names = only or functions(functions_dir)
    baseline: list[float] = []
    imports: dict[str, list[float]] = {name: [] for name in names}
    compiled: dict[str, list[float]] = {name: [] for name in names}
    floors: dict[str, list[float]] = {}
    without_boto3: set[str] = set()
    invocations: dict[str, list[float]] = {}
    steps = repeats * (2 * len(names) + 1) + (len(names) + 1 if first_calls else 0)
    with shipped_copy(functions_dir, layer_dir) as layout, \
            shipped_copy(functions_dir, layer_dir, compiled=True) as with_pyc, \
            progress_factory("cold start", steps) as bar:
        for _ in range(repeats):
            baseline.append(time_import(layout, None)[0] * 1000)
            bar.update()
            for floor, code in FLOORS.items():
                floors.setdefault(floor, []).append(time_floor(code) * 1000)
            for name in names:
                seconds, uses_boto3 = time_import(layout, name)
                imports[name].append(seconds * 1000)
                if not uses_boto3:
                    without_boto3.add(name)
                compiled[name].append(time_import(with_pyc, name)[0] * 1000)
                bar.update(2)
        if first_calls:
            with tempfile.TemporaryDirectory(prefix="parley-seed-") as tmp:
                seeded = seed(Path(tmp))
                bar.update()
                for name in names:
                    runs = first_invocation(layout, name, seeded)
                    if runs is not None:
                        invocations[name] = runs
                    bar.update()
        result = ColdStartResult(
            repeats=repeats, baseline_ms=baseline, import_ms=imports,
            asset_bytes={name: zip_size(functions_dir / name) for name in names},
            layer_bytes=zip_size(layer_dir),
            dependency_layers={p.name: zip_size(p) for p in sorted(BUILD_DIR.glob("*")) if (p / "python").is_dir()},
            without_boto3=without_boto3, invocation_ms=invocations, compiled_import_ms=compiled,
            floor_ms=floors)
        slow = [name for name in names if result.over_baseline(name) > goal_ms]
        if slow:
            known = boto3_modules(layout)
            result.heaviest = {name: heaviest_imports(layout, name, known) for name in slow}
    return result
