"""The AWS services behind the handlers: moto's server on the loopback interface, or another endpoint
(DynamoDB Local, a real account), provisioned with Parley's one table design and its token secret."""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer

from local.settings import LOOPBACK
from parley.table import TABLE

log = logging.getLogger("parley.local.backend")
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log

# Credentials moto accepts; never used anywhere else.
FAKE_ACCESS_KEY = "testing"
REAL_AWS = "aws"  # PARLEY_AWS_ENDPOINT=aws: boto3's own endpoints and credentials


# SQS long polls wait on the queue (moto's own condition variable) for up to 20 s: they run outside the lock.
_LONG_POLL_TARGET = "AmazonSQS.ReceiveMessage"


def _with_views(app: Callable[..., Any], views: Mapping[str, Callable[[], Any]]) -> Callable[..., Any]:
    """``GET <path>`` of a view answers its JSON (the stack's own read-only views of moto's state); every
    other request goes to moto."""
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        view = views.get(environ.get("PATH_INFO", "")) if environ.get("REQUEST_METHOD") == "GET" else None
        if view is None:
            return app(environ, start_response)
        body = json.dumps(view()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


def _serialized(app: Callable[..., Any]) -> Callable[..., Any]:
    """One request at a time. moto checks a ConditionExpression and writes in two Python steps, so
    concurrent requests could both pass ``attribute_not_exists``; DynamoDB makes that atomic.

    SQS ``ReceiveMessage`` is the exception: a long poll holding the lock would stall every other service.
    It only reads the queue and marks messages received; the writes that race with it (deliveries from
    S3 and SNS, ``DeleteMessage``) still take the lock among themselves."""
    lock = threading.Lock()

    def materialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        result = app(environ, start_response)
        try:
            return list(result)
        finally:
            close = getattr(result, "close", None)
            if callable(close):
                close()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET") == _LONG_POLL_TARGET:
            return materialized(environ, start_response)
        with lock:
            return materialized(environ, start_response)

    return wsgi


class MotoBackend:
    """moto's threaded server, bound to 127.0.0.1, stopped with its port released. ``views``: path ->
    a function whose JSON ``GET <path>`` answers (run under the same lock as moto's requests)."""

    def __init__(self, port: int = 0, views: Mapping[str, Callable[[], Any]] | None = None) -> None:
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
        self._views = dict(views or {})
        self._started = False

    def start(self) -> str:
        self._server.start()
        self._started = True
        wsgi_server = getattr(self._server, "_server", None)
        if isinstance(wsgi_server, BaseWSGIServer):
            wsgi_server.app = _serialized(_with_views(wsgi_server.app, self._views))
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._server.stop()
        # ThreadedMotoServer.stop() ends serve_forever but leaves the listening socket open.
        wsgi_server = getattr(self._server, "_server", None)
        if isinstance(wsgi_server, BaseWSGIServer):
            wsgi_server.server_close()


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
