"""Part 2: cold start. Each handler module's import time in a fresh Python process, over a bare
``import boto3`` baseline measured in the same run (rounds interleave the baseline and every handler,
so drift hits them alike).

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
import os
import re
import statistics
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.paths import BUILD_DIR, FUNCTIONS_DIR, LAYER_DIR
from benchmarks.progress import ProgressFactory

EXCLUDED_PARTS = {"__pycache__"}
EXCLUDED_SUFFIXES = {".pyc"}

_CHILD = """
import sys, time
sys.path[:0] = {paths!r}
t0 = time.perf_counter()
{body}
elapsed = time.perf_counter() - t0
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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PARLEY_", "AWS_"))}
    env.update({
        "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR / function),
        "AWS_LAMBDA_FUNCTION_NAME": f"parley-{function}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "_HANDLER": "handler.lambda_handler",
        "POWERTOOLS_SERVICE_NAME": "parley",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def _run(code: str, env: dict[str, str], extra: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    # Trusted argv: this interpreter and code written above.
    return subprocess.run([sys.executable, *(extra or []), "-c", code], env=env, capture_output=True,  # noqa: S603
                          text=True, check=False, timeout=120)


def time_import(function: str | None) -> tuple[float, bool]:
    """Seconds to import boto3 (``None``) or the function's handler in a fresh process, and whether
    the handler imported boto3 at all."""
    if function is None:
        code = _CHILD.format(paths=[], body="import boto3")
        env = lambda_environment("send")
    else:
        folder = FUNCTIONS_DIR / function
        code = _CHILD.format(paths=[str(folder), str(LAYER_DIR / "python")],
                             body=_LOAD_HANDLER.format(path=str(folder / "handler.py")))
        env = lambda_environment(function)
    done = _run(code, env)
    if done.returncode != 0:
        raise RuntimeError(f"importing {function or 'boto3'} failed:\n{done.stderr[-2000:]}")
    seconds, uses_boto3 = done.stdout.strip().splitlines()[-1].split()
    return float(seconds), uses_boto3 == "True"


def _imported(function: str | None) -> list[tuple[str, float]]:
    """(module, self seconds) of every module a fresh process imports (``-X importtime``)."""
    if function is None:
        code, env = _CHILD.format(paths=[], body="import boto3"), lambda_environment("send")
    else:
        folder = FUNCTIONS_DIR / function
        code = _CHILD.format(paths=[str(folder), str(LAYER_DIR / "python")],
                             body=_LOAD_HANDLER.format(path=str(folder / "handler.py")))
        env = lambda_environment(function)
    found = []
    for line in _run(code, env, ["-X", "importtime"]).stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            found.append((match.group(2), int(match.group(1)) / 1e6))
    return found


def heaviest_imports(function: str, baseline: set[str], top: int = 6) -> list[tuple[str, float]]:
    """What a handler imports beyond ``import boto3``, by self time, grouped by package and module
    (``parley.protocol``, ``botocore.docs``, ``aws_xray_sdk.core`` ...)."""
    totals: dict[str, float] = {}
    for module, seconds in _imported(function):
        if module in baseline:
            continue
        group = ".".join(module.split(".")[:2])
        totals[group] = totals.get(group, 0.0) + seconds
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def boto3_modules() -> set[str]:
    return {module for module, _seconds in _imported(None)}


def zip_size(folder: Path) -> int:
    """Bytes of a deflated zip of ``folder`` (what CDK uploads), without bytecode caches."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not (EXCLUDED_PARTS & set(path.parts)) and path.suffix not in EXCLUDED_SUFFIXES:
                archive.write(path, path.relative_to(folder))
    return len(buffer.getvalue())


def functions() -> list[str]:
    return sorted(p.name for p in FUNCTIONS_DIR.iterdir() if (p / "handler.py").is_file())


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

    @property
    def baseline_p50(self) -> float:
        return statistics.median(self.baseline_ms)

    def over_baseline(self, function: str) -> float:
        """Import time beyond ``import boto3``; all of it for a handler that does not import boto3."""
        median = statistics.median(self.import_ms[function])
        return median if function in self.without_boto3 else median - self.baseline_p50


def run(*, repeats: int, progress_factory: ProgressFactory, only: list[str] | None = None,
        goal_ms: float = 60.0) -> ColdStartResult:
    names = only or functions()
    baseline: list[float] = []
    imports: dict[str, list[float]] = {name: [] for name in names}
    without_boto3: set[str] = set()
    with progress_factory("cold start imports", repeats * (len(names) + 1)) as bar:
        for _ in range(repeats):
            baseline.append(time_import(None)[0] * 1000)
            bar.update()
            for name in names:
                seconds, uses_boto3 = time_import(name)
                imports[name].append(seconds * 1000)
                if not uses_boto3:
                    without_boto3.add(name)
                bar.update()
    result = ColdStartResult(
        repeats=repeats, baseline_ms=baseline, import_ms=imports,
        asset_bytes={name: zip_size(FUNCTIONS_DIR / name) for name in names},
        layer_bytes=zip_size(LAYER_DIR),
        dependency_layers={p.name: zip_size(p) for p in sorted(BUILD_DIR.glob("*")) if (p / "python").is_dir()},
        without_boto3=without_boto3)
    slow = [name for name in names if result.over_baseline(name) > goal_ms]
    if slow:
        known = boto3_modules()
        result.heaviest = {name: heaviest_imports(name, known) for name in slow}
    return result
