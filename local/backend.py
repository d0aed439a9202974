"""The AWS services behind the handlers: moto's server on the loopback interface (in a process of its own,
``local.moto_server``), or another endpoint (DynamoDB Local, a real account), provisioned with Parley's one
table design and its token secret."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import local
from local.settings import LOOPBACK
from parley.table import TABLE

log = logging.getLogger("parley.local.backend")

# Credentials moto accepts; never used anywhere else.
FAKE_ACCESS_KEY = "testing"
REAL_AWS = "aws"  # PARLEY_AWS_ENDPOINT=aws: boto3's own endpoints and credentials


_START_TIMEOUT_SECONDS = 60  # moto imports its services on start: seconds on a busy laptop
_STOP_TIMEOUT_SECONDS = 10


class MotoBackend:
    """moto's server in a process of its own (``local.moto_server``), bound to 127.0.0.1; stopped with
    its port released. Its process ends with the stack's, even when the stack's is killed."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """moto's process while it runs."""
        return self._process.pid if self._process is not None else None

    def start(self) -> str:
        """Start moto and return its URL; ``OSError`` when its port is taken, ``RuntimeError`` when it
        does not come up."""
        process = self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "local.moto_server", "--port", str(self._port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_child_environment(), process_group=0)
        assert process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], _START_TIMEOUT_SECONDS)
            line = process.stdout.readline() if ready else b""
        finally:
            process.stdout.close()  # one line is all it writes there
        answer = json.loads(line) if line.strip() else {}
        if "port" in answer:
            return f"http://{LOOPBACK}:{int(answer['port'])}"
        self.stop()
        if "errno" in answer:
            raise OSError(int(answer["errno"]), str(answer["error"]))
        raise RuntimeError("moto's server did not start" + (" in time" if not ready else " (see its output above)"))

    def stop(self) -> None:
        """End moto's process (its stdin closes: it stops serving, closes its port and exits)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("moto's server did not stop in %s s; killing it", _STOP_TIMEOUT_SECONDS)
            process.kill()
            process.wait()


def _child_environment() -> dict[str, str]:
    """This environment, with the directories this process imports ``local`` and ``parley`` from first on
    the child's path, so that it runs the same code."""
    import parley

    roots = [str(Path(local.__file__).resolve().parents[1]), str(Path(parley.__file__).resolve().parents[1])]
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*dict.fromkeys(roots), *([inherited] if inherited else [])])}


def aws_session(fake_credentials: bool) -> boto3.session.Session:
    return (boto3.session.Session(aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_ACCESS_KEY)
            if fake_credentials else boto3.session.Session())


@functools.cache
def resources_session(fake_credentials: bool) -> boto3.session.Session:
    """The session of the stack's resource provisioning and its pollers, kept for the process: its clients
    share the loaded service models (S3's take a third of a second to load), also across restarts of the
    stack. Sessions are not thread-safe: only the one running stack makes clients from it, one at a time."""
    return aws_session(fake_credentials)


def aws_client(service: str, endpoint: str | None, region: str, fake_credentials: bool, *,
               session: boto3.session.Session | None = None, read_timeout: float = 60) -> Any:
    session = session or aws_session(fake_credentials)
    return session.client(service, endpoint_url=endpoint, region_name=region,  # type: ignore[call-overload]
                          config=Config(retries={"mode": "standard", "max_attempts": 3},
                                        read_timeout=read_timeout))


def provision(endpoint: str | None, *, region: str, table_name: str, secret_name: str, token_secret: str,
              fake_credentials: bool) -> str:
    """Create the table (from ``parley.table.TABLE``, with its TTL) and the HS256 secret unless they
    exist; returns the secret's id for ``PARLEY_AUTH_SECRET_ID``."""
    session = aws_session(fake_credentials)
    dynamodb = aws_client("dynamodb", endpoint, region, fake_credentials, session=session)
    secrets = aws_client("secretsmanager", endpoint, region, fake_credentials, session=session)
    try:
        try:
            dynamodb.create_table(**TABLE.create_table_kwargs(table_name))
            dynamodb.get_waiter("table_exists").wait(TableName=table_name,
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": TABLE.ttl_attribute})
        except dynamodb.exceptions.ResourceInUseException:
            log.info("table %s exists; using it", table_name)
        try:
            return str(secrets.create_secret(Name=secret_name, SecretString=token_secret)["ARN"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceExistsException":
                raise
            secrets.put_secret_value(SecretId=secret_name, SecretString=token_secret)
            return str(secrets.describe_secret(SecretId=secret_name)["ARN"])
    finally:
        dynamodb.close()
        secrets.close()
