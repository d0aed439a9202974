"""The AWS services behind the handlers: moto's server on the loopback interface, or another endpoint
(DynamoDB Local, a real account), provisioned with Parley's one table design and its token secret."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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


def _serialized(app: Callable[..., Any]) -> Callable[..., Any]:
    """One request at a time. moto checks a ConditionExpression and writes in two Python steps, so
    concurrent requests could both pass ``attribute_not_exists``; DynamoDB makes that atomic."""
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with lock:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if callable(close):
                    close()

    return wsgi


class MotoBackend:
    """moto's threaded server, bound to 127.0.0.1, stopped with its port released."""

    def __init__(self, port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
        self._started = False

    def start(self) -> str:
        self._server.start()
        self._started = True
        wsgi_server = getattr(self._server, "_server", None)
        if isinstance(wsgi_server, BaseWSGIServer):
            wsgi_server.app = _serialized(wsgi_server.app)
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


def aws_client(service: str, endpoint: str | None, region: str, fake_credentials: bool) -> Any:
    session = (boto3.session.Session(aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_ACCESS_KEY)
               if fake_credentials else boto3.session.Session())
    return session.client(service, endpoint_url=endpoint, region_name=region,  # type: ignore[call-overload]
                          config=Config(retries={"mode": "standard", "max_attempts": 3}))


def provision(endpoint: str | None, *, region: str, table_name: str, secret_name: str, token_secret: str,
              fake_credentials: bool) -> str:
    """Create the table (from ``parley.table.TABLE``, with its TTL) and the HS256 secret unless they
    exist; returns the secret's id for ``PARLEY_AUTH_SECRET_ID``."""
    dynamodb = aws_client("dynamodb", endpoint, region, fake_credentials)
    secrets = aws_client("secretsmanager", endpoint, region, fake_credentials)
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
