"""An in-process Lambda runtime for the production handlers.

Each ``functions/<name>/handler.py`` is imported by file path under a unique module name and invoked
like Lambda does it: a JSON-serialisable event in, a JSON round-trip of the result out, with a fake
``LambdaContext``. Handlers are synchronous, so every invocation runs in a thread pool and the event
loop never blocks.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"
MODULE_PREFIX = "parley_local_function_"
# The error message with which an authorizer tells API Gateway to answer 401.
UNAUTHORIZED = "Unauthorized"


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes Powertools' ``inject_lambda_context`` reads from a real LambdaContext."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    deadline_ms: int = field(default=0)

    def get_remaining_time_in_millis(self) -> int:
        return max(self.deadline_ms - int(time.time() * 1000), 0)


class FunctionError(Exception):
    """The handler raised (Lambda's ``FunctionError: Unhandled``) or ran out of time."""

    def __init__(self, function: str, error_type: str, error_message: str) -> None:
        super().__init__(f"{function}: {error_type}: {error_message}")
        self.function = function
        self.error_type = error_type
        self.error_message = error_message


def load_handler(name: str, functions_dir: Path = FUNCTIONS_DIR) -> ModuleType:
    """Import ``functions/<name>/handler.py`` afresh (every handler file is called handler.py, so each
    gets its own module name)."""
    path = functions_dir / name / "handler.py"
    module_name = f"{MODULE_PREFIX}{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and typing look modules up here while executing
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    if not callable(getattr(module, "lambda_handler", None)):
        raise AttributeError(f"{path} has no lambda_handler")
    return module


class LambdaRuntime:
    """Loads the named functions and invokes them in a bounded thread pool."""

    def __init__(self, names: Iterable[str], *, region: str, account_id: str, concurrency: int = 16,
                 timeout_seconds: float = 29.0, memory_mb: int = 128,
                 functions_dir: Path = FUNCTIONS_DIR) -> None:
        self._names = tuple(names)
        self._region = region
        self._account = account_id
        self._timeout = timeout_seconds
        self._memory_mb = memory_mb
        self._functions_dir = functions_dir
        self._modules: dict[str, ModuleType] = {}
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="lambda")
        self.invocations = 0
        self.in_flight = 0
        self.peak_in_flight = 0  # the most invocations that ran at once
        # Called with (function name, event) before each invocation: tests record events with it.
        self.observers: list[Callable[[str, dict[str, Any]], None]] = []

    def load(self) -> None:
        """Import every handler. Call it after the environment is configured: the core reads it once."""
        self._modules = {name: load_handler(name, self._functions_dir) for name in self._names}

    def unload(self) -> None:
        for name in self._modules:
            sys.modules.pop(f"{MODULE_PREFIX}{name}", None)
        self._modules = {}

    def shutdown(self) -> None:
        """Wait for running invocations (threads cannot be cancelled) and stop the pool."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.unload()

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self._region}:{self._account}:function:parley-{name}"

    async def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Invoke one function with a copy of ``event``; returns what Lambda would return to API Gateway."""
        module = self._modules[name]
        payload = json.loads(json.dumps(event))  # the handler gets its own copy, as over the wire
        context = FakeLambdaContext(
            function_name=f"parley-{name}", invoked_function_arn=self.arn(name),
            aws_request_id=str(uuid.uuid4()), memory_limit_in_mb=self._memory_mb,
            log_group_name=f"/aws/lambda/parley-{name}", log_stream_name="local",
            deadline_ms=int(time.time() * 1000 + self._timeout * 1000))
        self.invocations += 1
        for observe in self.observers:
            observe(name, payload)
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        future = loop.run_in_executor(self._executor, _call, module.lambda_handler, payload, context)
        try:
            result = await asyncio.wait_for(asyncio.shield(future), timeout=self._timeout)
        except TimeoutError:
            raise FunctionError(name, "Sandbox.Timedout", "Task timed out") from None
        except Exception as exc:
            raise FunctionError(name, type(exc).__name__, str(exc)) from exc
        finally:
            self.in_flight -= 1
        try:
            return json.loads(json.dumps(result))  # what is not JSON cannot leave a Lambda either
        except (TypeError, ValueError) as exc:
            raise FunctionError(name, "Runtime.MarshalError", str(exc)) from None


def _call(handler: Any, event: dict[str, Any], context: FakeLambdaContext) -> Any:
    try:
        return handler(event, context)
    except Exception as exc:
        # Lambda logs the stack trace to CloudWatch; the local stack's terminal is our CloudWatch. An
        # authorizer's "Unauthorized" is an answer, not a failure.
        if str(exc) != UNAUTHORIZED:
            traceback.print_exc()
        raise
