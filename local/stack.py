"""The whole of Parley on this machine: ``python -m local.stack`` (what ``make run`` runs).

It starts moto on the loopback interface and provisions what the CDK stack deploys: the table, the token
secret, the uploads bucket, the unread-events and moderation topics and the push platform applications.
It points the production handlers at them through the environment variables of ``parley.config``, serves
the WebSocket API, its @connections endpoint and the web chat (``local.web``), and polls the queues that
stand in for S3's and SNS's Lambda triggers (thumbnails, notifier). Ctrl-C (or SIGTERM) closes every
socket, stops the pollers and moto, and frees the ports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

import boto3

from local.attachments import provision_uploads
from local.backend import FAKE_ACCESS_KEY, REAL_AWS, MotoBackend, aws_client, provision, resources_session
from local.console import ConsoleServer
from local.console_tokens import issue_console_token, new_signing_key
from local.gateway import Limits, WebSocketGateway
from local.lambdas import FUNCTIONS_DIR, LambdaRuntime
from local.management import ManagementApi
from local.push import provision_platform_applications, subscribe_notifier
from local.server_api import LocalKey, LocalServerApi
from local.settings import (
    DEV_ADMIN_ACCESS_KEY_ID,
    DEV_ADMIN_SECRET_ACCESS_KEY,
    DEV_READER_ACCESS_KEY_ID,
    DEV_READER_SECRET_ACCESS_KEY,
    LOOPBACK,
    LocalSettings,
    LocalSettingsError,
)
from local.tokens import DEFAULT_TTL_SECONDS, mint_token
from local.topics import Topics, provision_topics
from local.triggers import (
    LONG_POLL_SECONDS,
    Queue,
    QueueTrigger,
    provision_work_queue,
    s3_event,
    sns_event,
    sqs_event,
)
from local.web import WebChat
from parley import routes
from parley.figures import local_counters

log = logging.getLogger("parley.local")
T = TypeVar("T")


@dataclass
class Resources:
    """What the stack provisioned besides the table and the secret. A part another endpoint does not offer
    (DynamoDB Local has no S3) stays None, and the feature is off, as in a deployment without it."""

    uploads_bucket: str | None = None
    uploads_queue: Queue | None = None  # S3 ObjectCreated (u/) -> thumbnails
    topics: Topics | None = None
    notifier_queue: Queue | None = None  # unread-events topic -> notifier
    delivery_queue: Queue | None = None  # what send hands off -> deliver
    jobs_queue: Queue | None = None  # erasure and export batches -> the server API function's worker
    notifier_subscription: str | None = None
    push_applications: dict[str, str] = field(default_factory=dict)  # "apns" / "fcm" -> platform application ARN


class Stack:
    """The local stack. One per process at a time: the core reads its configuration once per process."""

    _active: ClassVar[Stack | None] = None

    def __init__(self, settings: LocalSettings | None = None, *,
                 handler_env: Mapping[str, str] | None = None) -> None:
        """``handler_env``: more of the core's settings for the handlers (for example ``PARLEY_RATE_LIMITS``),
        set while the stack runs. Core settings already in the environment reach the handlers as they are."""
        self.settings = s = settings or LocalSettings.from_env()
        self._handler_env = dict(handler_env or {})
        self.runtime = LambdaRuntime(routes.function_names(), region=s.region, account_id=s.account_id,
                                     concurrency=s.lambda_concurrency,
                                     timeout_seconds=s.integration_timeout_seconds, functions_dir=FUNCTIONS_DIR)
        self.gateway = WebSocketGateway(
            self.runtime, api_id=s.api_id, stage=s.stage, region=s.region, account_id=s.account_id,
            limits=Limits(max_message_bytes=s.max_message_bytes, idle_timeout_seconds=s.idle_timeout_seconds,
                          max_connection_seconds=s.max_connection_seconds))
        self.management = ManagementApi(self.gateway, s.stage)
        self.server_api = LocalServerApi(self.runtime, [
            LocalKey(DEV_ADMIN_ACCESS_KEY_ID, DEV_ADMIN_SECRET_ACCESS_KEY, s.admin_principal_arn),
            LocalKey(DEV_READER_ACCESS_KEY_ID, DEV_READER_SECRET_ACCESS_KEY, s.reader_principal_arn, read_only=True),
        ], region=s.region, account_id=s.account_id, api_id=f"{s.api_id}srv")
        self.web = WebChat(self.mint_token)
        self.console = ConsoleServer(self.mint_console_token, admin_group=s.console_admin_group)
        self.aws_endpoint: str | None = None
        self.secret_id = ""
        self.resources = Resources()
        self.triggers: list[QueueTrigger] = []
        self._moto: MotoBackend | None = None
        self._saved_env: dict[str, str | None] = {}
        self._started = False

    # -- what clients need --------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.gateway.port}"

    @property
    def callback_url(self) -> str:
        return self.management.url

    @property
    def server_api_url(self) -> str:
        return self.server_api.url

    @property
    def web_url(self) -> str:
        return self.web.url

    @property
    def console_url(self) -> str:
        return self.console.url

    @property
    def moto_pid(self) -> int | None:
        """The process moto's server runs in (None when the stack uses another endpoint, or is stopped)."""
        return self._moto.pid if self._moto is not None else None

    def mint_token(self, user_id: str, ttl_seconds: int = DEFAULT_TTL_SECONDS, *, secret: str | None = None,
                   issuer: str | None = None, audience: str | None = None) -> str:
        """A token this stack accepts (or, with another secret, issuer or audience, one it refuses)."""
        s = self.settings
        return mint_token(user_id, secret=secret or s.token_secret, issuer=issuer or s.issuer,
                          audience=audience or s.audience, ttl_seconds=ttl_seconds)

    def mint_console_token(self, username: str, groups: list[str]) -> str:
        """A console operator's token (the JWT the console's Cognito user pool would issue) this stack accepts."""
        return issue_console_token(username, groups)

    # -- lifecycle ------------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if Stack._active is not None:
            raise RuntimeError("a local stack is already running in this process")
        Stack._active = self
        self._started = True
        s = self.settings
        try:
            fake_credentials = s.aws_endpoint != REAL_AWS
            if s.uses_moto:
                self._moto = MotoBackend(s.moto_port)
                self.aws_endpoint = await asyncio.to_thread(self._moto.start)
            else:
                self.aws_endpoint = None if s.aws_endpoint == REAL_AWS else s.aws_endpoint
            # Both finish before anything is stopped (a thread cannot be cancelled).
            secret_id, resources = await asyncio.gather(
                asyncio.to_thread(provision, self.aws_endpoint, region=s.region, table_name=s.table_name,
                                  secret_name=s.secret_name, token_secret=s.token_secret,
                                  fake_credentials=fake_credentials),
                asyncio.to_thread(self._provision_resources, fake_credentials), return_exceptions=True)
            for outcome in (secret_id, resources):
                if isinstance(outcome, BaseException):
                    raise outcome
            assert isinstance(secret_id, str) and isinstance(resources, Resources)
            self.secret_id, self.resources = secret_id, resources
            await self.management.start(s.connections_port)
            self._configure_environment(fake_credentials)
            new_signing_key()  # the console's dev sign-in: tokens of an earlier stack are refused
            local_counters.clear()
            _reset_core()
            self.runtime.load()
            for trigger in self.triggers:
                trigger.start()
            await self.gateway.start(s.ws_port)
            await self.server_api.start(s.server_api_port)
            await self.web.start(s.web_port, ws_url=self.ws_url, uploads_origin=self.aws_endpoint)
            await self.console.start(s.console_port, server_api_url=self.server_api_url)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        try:
            await self.console.stop()
            await self.web.stop()
            await self.server_api.stop()
            await self.gateway.stop()
            await self._stop_triggers()
            await self.management.stop()
            await asyncio.to_thread(self.runtime.shutdown)
            _release_core()
            if self._moto is not None:
                await asyncio.to_thread(self._moto.stop)
                self._moto = None
        finally:
            self._restore_environment()
            Stack._active = None

    # -- uploads, events and push ---------------------------------------------------------------------

    def _provision_resources(self, fake_credentials: bool) -> Resources:
        """The bucket, topics, queues and platform applications. With moto every part must work; another
        endpoint may lack a service (DynamoDB Local) or refuse a part (real SNS checks APNs credentials):
        that part is skipped with a warning and its feature stays off."""
        s = self.settings
        found = Resources()
        session = resources_session(fake_credentials)
        clients = {name: aws_client(name, self.aws_endpoint, s.region, fake_credentials, session=session)
                   for name in ("s3", "sqs", "sns")}
        s3, sqs, sns = clients["s3"], clients["sqs"], clients["sns"]
        # A message comes back if its invocation has not ended by then (the runtime times out before).
        visibility = int(s.integration_timeout_seconds) + 1
        prefix = s.resource_prefix

        def uploads() -> None:
            found.uploads_queue = provision_uploads(
                s3, sqs, bucket=s.uploads_bucket, region=s.region, queue_name=f"{prefix}-uploads",
                visibility_timeout=visibility, allowed_origins=s.origins)
            found.uploads_bucket = s.uploads_bucket

        def topics() -> None:
            found.topics = provision_topics(sns, prefix)
            found.notifier_queue, found.notifier_subscription = subscribe_notifier(
                sns, sqs, topic_arn=found.topics.unread_events, queue_name=f"{prefix}-notifier",
                visibility_timeout=visibility)

        def push() -> None:
            found.push_applications = provision_platform_applications(sns, prefix)

        def delivery() -> None:
            found.delivery_queue = provision_work_queue(sqs, f"{prefix}-delivery", visibility_timeout=visibility)

        def jobs() -> None:
            found.jobs_queue = provision_work_queue(sqs, f"{prefix}-jobs", visibility_timeout=visibility)

        try:
            for part, make in (("uploads", uploads), ("event topics", topics), ("push applications", push),
                               ("delivery queue", delivery), ("jobs queue", jobs)):
                self._optional(part, make)
        finally:
            for client in clients.values():
                client.close()
        self.triggers = self._triggers(found, session, fake_credentials)
        return found

    def _optional(self, part: str, make: Callable[[], None]) -> None:
        try:
            make()
        except Exception as exc:  # ClientError, EndpointConnectionError, a response botocore cannot parse...
            if self.settings.uses_moto:
                raise
            log.warning("%s: off, %s could not provide them (%s)", part, self.aws_endpoint or "AWS", exc)

    def _triggers(self, r: Resources, session: boto3.session.Session, fake_credentials: bool) -> list[QueueTrigger]:
        """The pollers that stand in for S3's and SNS's Lambda triggers (started once the handlers are loaded)."""
        wanted: list[tuple[Queue, str, Callable[[dict[str, Any]], dict[str, Any] | None]]] = []
        if r.uploads_queue is not None:
            wanted.append((r.uploads_queue, routes.THUMBNAILS, s3_event))
        if r.notifier_queue is not None and r.notifier_subscription is not None:
            wanted.append((r.notifier_queue, routes.NOTIFIER, sns_event(r.notifier_subscription)))
        if r.delivery_queue is not None:
            wanted.append((r.delivery_queue, routes.DELIVER, sqs_event(r.delivery_queue.arn, self.settings.region)))
        if r.jobs_queue is not None:
            wanted.append((r.jobs_queue, routes.SERVER_API, sqs_event(r.jobs_queue.arn, self.settings.region)))
        # Each its own client: a long poll must not wait for anybody's connection pool.
        return [QueueTrigger(aws_client("sqs", self.aws_endpoint, self.settings.region, fake_credentials,
                                        session=session, read_timeout=LONG_POLL_SECONDS + 10),
                             queue, self.runtime, function, make_event)
                for queue, function, make_event in wanted]

    async def _stop_triggers(self) -> None:
        triggers, self.triggers = self.triggers, []
        await asyncio.gather(*(t.stop() for t in triggers))

    # -- the handlers' configuration -------------------------------------------------------------

    def _configure_environment(self, fake_credentials: bool) -> None:
        s, r = self.settings, self.resources
        env: dict[str, str | None] = {
            "PARLEY_TABLE_NAME": s.table_name,
            "PARLEY_CALLBACK_URL": self.callback_url,
            "PARLEY_AUTH_MODE": "hs256",
            "PARLEY_AUTH_ALGORITHMS": "HS256",
            "PARLEY_AUTH_SECRET_ID": self.secret_id,
            "PARLEY_AUTH_ISSUER": s.issuer,
            "PARLEY_AUTH_AUDIENCE": s.audience,
            "PARLEY_UPLOADS_BUCKET": r.uploads_bucket,
            "PARLEY_UNREAD_TOPIC_ARN": r.topics.unread_events if r.topics else None,
            "PARLEY_MODERATION_TOPIC_ARN": r.topics.moderation if r.topics else None,
            "PARLEY_PUSH_APNS_APPLICATION_ARN": r.push_applications.get("apns"),
            "PARLEY_PUSH_FCM_APPLICATION_ARN": r.push_applications.get("fcm"),
            "PARLEY_DELIVERY_QUEUE_URL": r.delivery_queue.url if r.delivery_queue else None,
            "PARLEY_JOBS_QUEUE_URL": r.jobs_queue.url if r.jobs_queue else None,
            "AWS_REGION": s.region,
            "AWS_DEFAULT_REGION": s.region,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "POWERTOOLS_SERVICE_NAME": "parley",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": s.log_level,
            "PARLEY_CONSOLE_METRICS": "local",  # the console's overview: this stack's own counters
        }
        env.update(self._handler_env)
        if fake_credentials:
            env.update(AWS_ACCESS_KEY_ID=FAKE_ACCESS_KEY, AWS_SECRET_ACCESS_KEY=FAKE_ACCESS_KEY, AWS_SESSION_TOKEN=None,
                       AWS_PROFILE=None)
        for name, value in env.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _restore_environment(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        _reset_core()


def _reset_core() -> None:
    """Forget the core's once-per-process state, so it reads the environment again."""
    from parley import wiring

    wiring.reset()


def _release_core() -> None:
    """Stop what the core started: the fan-out pools and the boto3 clients' keep-alive connections."""
    from parley import wiring

    if wiring.services.cache_info().currsize:
        fanout = wiring.services().fanout
        if fanout is not None:
            fanout.close()
    if wiring.thumbnails.cache_info().currsize:
        wiring.thumbnails().close()
    _reset_core()  # also closes the clients' keep-alive connections


class StackThread:
    """The stack on its own event loop in a background thread, for synchronous callers: pytest
    fixtures and benchmarks drive it over real sockets from their own loops, like separate processes."""

    def __init__(self, settings: LocalSettings | None = None, *,
                 handler_env: Mapping[str, str] | None = None) -> None:
        self.stack = Stack(settings, handler_env=handler_env)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="parley-local-stack", daemon=True)

    def start(self, timeout: float = 60) -> Stack:
        self._thread.start()
        try:
            self.call(self.stack.start(), timeout)
        except BaseException:
            self._shutdown_loop()
            raise
        return self.stack

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the stack's loop (for example to inspect the gateway) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self, timeout: float = 60) -> None:
        try:
            self.call(self.stack.stop(), timeout)
        finally:
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        async def drain() -> None:
            await self._loop.shutdown_asyncgens()
            await self._loop.shutdown_default_executor()

        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self.call(drain(), 30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
        self._loop.close()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


# -- python -m local.stack -------------------------------------------------------------------------------


def banner(stack: Stack) -> str:
    s = stack.settings
    default_url = stack.gateway.port == 8080
    url_flag = "" if default_url else f" --url {stack.ws_url}"
    aws = f"moto at {stack.aws_endpoint}" if s.uses_moto else (stack.aws_endpoint or "AWS (real endpoints)")
    py = ".venv/bin/python"
    r = stack.resources
    uploads = (f"bucket '{r.uploads_bucket}'; thumbnails made from queue '{s.resource_prefix}-uploads'"
               if r.uploads_bucket else "off")
    push = ("off" if not r.push_applications else "APNs + FCM platform applications"
            + (" on moto's SNS (nothing leaves this machine)" if s.uses_moto else ""))
    delivery = (f"'{s.resource_prefix}-delivery': what send cannot deliver in time, finished by the deliver "
                "function" if r.delivery_queue
                else "off (send hands nothing off: a failed delivery waits for a resend)")
    sdk = "" if stack.web.sdk_built else "; build the SDK first: make install"
    moto_flag = "" if stack.aws_endpoint == f"http://{LOOPBACK}:8082" else f" --moto {stack.aws_endpoint}"
    lines = [
        "",
        "Parley is running locally (Ctrl-C stops it).",
        f"  WebSocket API   {stack.ws_url}   (stage '{s.stage}'; {stack.ws_url}/{s.stage} works too)",
        f"  @connections    {stack.callback_url}",
        f"  Web chat        {stack.web_url}   (pick a user name; open it in two windows{sdk})",
        f"  Server API      {stack.server_api_url}   (SigV4 with the local keys: {py} -m local.cli admin --help)",
        f"  Admin console   {stack.console_url}   (development sign-in: any name; docs/admin.md)",
        f"  AWS services    {aws}, table '{s.table_name}'",
        f"  Uploads         {uploads}",
        f"  Push            {push}",
        f"  Delivery queue  {delivery}",
        "  Jobs queue      " + (f"'{s.resource_prefix}-jobs': erasure and export batches, run by the server API "
                                "function" if r.jobs_queue else "off (erasure and export cannot run)"),
    ]
    if s.uses_moto and r.push_applications:
        lines.append(f"                  what was pushed: {py} -m local.cli pushes{moto_flag}")
    return "\n".join([
        *lines,
        "",
        "Chat between two terminals:",
        f"  {py} -m local.cli chat --as alice --to bob{url_flag}",
        f"  {py} -m local.cli chat --as bob --to alice{url_flag}",
        "",
        "A token for your own client (send it as 'Authorization: Bearer <token>' or '?token=<token>'):",
        f"  {py} -m local.cli token alice",
        "",
    ])


async def serve(settings: LocalSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Stack(settings) as stack:
            print(banner(stack), flush=True)
            await stop.wait()
            print("Stopping: closing connections, stopping moto ...", flush=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("Stopped.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.stack", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Configuration (environment): PARLEY_LOCAL_WS_PORT (8080), PARLEY_LOCAL_CONNECTIONS_PORT (8081), "
               "PARLEY_LOCAL_MOTO_PORT (8082), PARLEY_LOCAL_WEB_PORT (8083, the web chat), "
               "PARLEY_LOCAL_SERVER_API_PORT (8084), PARLEY_LOCAL_CONSOLE_PORT (8085, the admin console); "
               "0 picks a free port. "
               "PARLEY_AWS_ENDPOINT=<url>|aws uses "
               "another endpoint instead of moto. PARLEY_LOCAL_IDLE_TIMEOUT, PARLEY_LOCAL_MAX_CONNECTION_DURATION "
               "(seconds), PARLEY_LOCAL_LOG_LEVEL. See docs/local-stack.md.")
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("websockets", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The handlers emit no metrics on some invocations; metrics are disabled locally anyway.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    try:
        settings = LocalSettings.from_env()
    except LocalSettingsError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(settings))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"Cannot start: {exc.strerror or exc}. Set PARLEY_LOCAL_WS_PORT, PARLEY_LOCAL_CONNECTIONS_PORT, "
                  "PARLEY_LOCAL_MOTO_PORT, PARLEY_LOCAL_WEB_PORT, PARLEY_LOCAL_SERVER_API_PORT or "
                  "PARLEY_LOCAL_CONSOLE_PORT to free ports "
                  "(0 picks one).", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
