"""Names and numbers of the deployed service, in one place.

Deploy-time choices that differ per environment are CDK context values instead (see ``infra/context.py``).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# The Lambda code: a wheel of Parley carries copies of functions/ and layers/ inside the package (setup.py);
# in a checkout or an editable install they are the repository's own folders.
PACKAGED_ASSETS_DIR = PACKAGE_DIR / "_assets"
ASSETS_ROOT = PACKAGED_ASSETS_DIR if PACKAGED_ASSETS_DIR.is_dir() else REPO_ROOT
FUNCTIONS_DIR = ASSETS_ROOT / "functions"
EXAMPLE_MODERATION_HOOK_DIR = FUNCTIONS_DIR / "moderation_hook"
PARLEY_LAYER_DIR = ASSETS_ROOT / "layers" / "parley"
# Third-party layers built for Lambda (infra/dependencies.py): in the repository, or in the host app's
# project folder (where `cdk synth` runs) when Parley is installed from a wheel.
BUILD_DIR = REPO_ROOT / ".build" if ASSETS_ROOT == REPO_ROOT else Path.cwd() / ".parley-build"
AUTHORIZER_REQUIREMENTS = Path(__file__).resolve().parent / "authorizer_requirements.txt"
THUMBNAILS_REQUIREMENTS = Path(__file__).resolve().parent / "thumbnails_requirements.txt"
# Never shipped to Lambda: bytecode of the host's Python is useless to python3.13.
ASSET_EXCLUDES = ["__pycache__", "*.pyc"]

STACK_NAME = "Parley"
# The repository's own app places its one Parley construct under this id: CDK leaves "Default" out of logical
# ids, so a stack deployed before the construct existed keeps every resource (docs/deploying.md, "Upgrading").
CONSTRUCT_ID = "Default"
SERVICE_NAME = "parley"
METRICS_NAMESPACE = "Parley"

# --- WebSocket API ---
STAGE_NAME = "prod"  # the default stage; the Parley construct's `stage` prop names another
STAGE_NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"
ROUTE_SELECTION_EXPRESSION = "$request.body.action"
# Steady-state frames per second and burst for every route of the stage, all clients together (context
# stageRateLimit / stageBurstLimit override them; docs/deploying.md, "Sizing the stage throttle"). The stage
# counts every frame clients send ($connect and pings included), per open connection and minute:
PINGS_PER_QUIET_CONNECTION_PER_MINUTE = 0.2  # a quiet connection pings every 5 minutes (parley_client.keepalive)
FRAMES_PER_ACTIVE_USER_PER_MINUTE = 10.0  # a user chatting: about 2 sends, 2 reads, 5 typing, 1 other request
RECONNECTS_PER_CONNECTION_PER_MINUTE = 1 / 120  # API Gateway ends every connection after 2 hours
# The defaults are sized for 50,000 open connections with a tenth of their users chatting: 990 frames/s
# (infra.context.StageLoad), rounded up to the next 100, and twice that as the burst.
THROTTLE_SIZED_FOR_CONNECTIONS = 50_000
THROTTLE_SIZED_FOR_ACTIVE_SHARE = 0.1
THROTTLE_RATE_LIMIT = 1000.0
THROTTLE_BURST_LIMIT = 2000

# The server API's stage (docs/server-api.md): the host's backend, not every app, calls it.
SERVER_API_RATE_LIMIT = 100.0
SERVER_API_BURST_LIMIT = 200

# --- Lambda ---
HANDLER = "handler.lambda_handler"
MEMORY_MB = 256
TIMEOUT = Duration.seconds(10)
# send fans a message out to every member's connections; API Gateway stops waiting after 29 s anyway.
SEND_TIMEOUT = Duration.seconds(29)
POWERTOOLS_LAYER_ARN = (
    "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"
)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# The notifier is invoked by SNS, not API Gateway: a large group with many offline members may take a while.
NOTIFIER_TIMEOUT = Duration.seconds(60)
# A failed unread event is retried twice (the push ledger makes that safe), then parked for an operator.
NOTIFIER_RETRY_ATTEMPTS = 2
DEAD_LETTER_RETENTION = Duration.days(14)  # SQS's maximum: two weekends to notice and redrive

# The deliver function finishes what send handed off (docs/protocol.md "Delivery guarantees"): one job is
# one message's remaining members. A job still failing after this many receives goes to the dead letters.
DELIVER_TIMEOUT = Duration.seconds(30)
DELIVERY_ATTEMPTS = 5
DELIVERY_BATCH_SIZE = 10
# The jobs queue (erasure and export batches): a ticket is tried this many times before its dead-letter queue.
JOB_ATTEMPTS = 5

# The thumbnail maker decodes photos: a 12-megapixel one is about 40 MB of pixels per copy, and it makes a
# few copies. 1 GB also buys Lambda more CPU, so a photo is ready in about a second.
THUMBNAILS_MEMORY_MB = 1024
THUMBNAILS_TIMEOUT = Duration.seconds(60)
# A failed upload event is retried twice (making the copies again overwrites the same keys), then parked in the
# thumbnails dead-letter queue for an operator, like the notifier's.
THUMBNAILS_RETRY_ATTEMPTS = 2

# send and deliver fan a message out: a post per recipient connection, about 0.9 ms of CPU each (botocore's
# serializing, signing and HTTP) on a full vCPU, and Lambda gives CPU in proportion to memory (1,769 MB = one
# vCPU). At 256 MB a message to 50 members is modelled at ~400 ms, at 1024 MB ~130 ms, for +$0.43 per million
# sends; past 1024 MB each millisecond saved costs several times more (docs/performance.md, "Fan-out and memory").
FANOUT_MEMORY_MB = 1024
# Functions deployed with another memory size than MEMORY_MB (the cost benchmark bills each at its own).
FUNCTION_MEMORY_MB = {"send": FANOUT_MEMORY_MB, "deliver": FANOUT_MEMORY_MB, "thumbnails": THUMBNAILS_MEMORY_MB,
                      "changes": FANOUT_MEMORY_MB}  # a change fans out to a group as a message does

# Reserved concurrency (docs/deploying.md, "Concurrency"): function -> (context key, default). Every function
# draws on the account's one pool of concurrent executions (1000 by default), so a flood of frames on any route
# could leave none for the handshake. A reservation is both a floor and a ceiling for its function:
# * headroom: the $connect authorizer and connect always have executions of their own, so users can still
#   connect (and reconnect after a deploy or a dropped network) while other routes are flooded;
# * caps: typing, $default and presence are flood-prone and losing a frame of theirs costs nothing that
#   matters (an indicator not shown, an unknown action's error, a status asked again), and $default is not
#   rate limited per user at all. Capped, a flood of them cannot take the executions that send, history and
#   the rest share. (ping runs no function: API Gateway answers it, parley.routes.GATEWAY_ANSWERS. The
#   default function's key keeps the name pingConcurrency it had when it answered ping.)
# history is not capped: it is how a reconnecting client catches up on missed messages, and it surges exactly
# when many clients reconnect; its per-user rate limit bounds it instead. send is never capped.
# The defaults reserve 190 executions; Lambda keeps at least 100 unreserved, so they need an account
# concurrency limit of at least 290 (new accounts may have less: deploy with -c reservedConcurrency=false).
RESERVED_CONCURRENCY: dict[str, tuple[str, int]] = {
    "authorizer": ("authorizerConcurrency", 50),
    "connect": ("connectConcurrency", 50),
    "typing": ("typingConcurrency", 50),
    "default": ("pingConcurrency", 20),
    "presence": ("presenceConcurrency", 20),
}
# Lambda keeps this many of the account's concurrent executions unreserved, whatever is reserved.
UNRESERVED_CONCURRENCY_MINIMUM = 100

# --- Attachments bucket (docs/attachments.md) ---
# Uploads never sent, with their copies, still carry parley-state=pending: deleted after a day.
PENDING_UPLOAD_EXPIRY = Duration.days(1)
EXPORT_EXPIRY = Duration.days(7)  # a user's data export (docs/server-api.md, "Erasure and export")
# Presigned POSTs are single requests; this only clears what an interrupted multipart upload would leave.
INCOMPLETE_MULTIPART_UPLOAD_EXPIRY = Duration.days(1)
# Server access logs hold requesters' IP addresses: kept long enough to look into an abuse report.
ACCESS_LOG_RETENTION = Duration.days(90)
ACCESS_LOG_PREFIX = "uploads/"
# What a browser's upload (POST) and download (GET) may read from S3's answer.
CORS_EXPOSED_HEADERS = ["ETag"]

# --- Events (docs/events.md) ---
# The AWS managed key of SNS: only Parley's functions publish (no AWS service does), so no key policy is needed.
SNS_MANAGED_KEY_ALIAS = "alias/aws/sns"

# --- The example moderation hook (deployExampleModerationHook) ---
# send waits PARLEY_MODERATION_TIMEOUT_MS (800 ms by default); this only stops a stuck hook from running on.
EXAMPLE_HOOK_TIMEOUT = Duration.seconds(3)
EXAMPLE_HOOK_MAX_LINKS = 2  # HOOK_MAX_LINKS: links a message from an account younger than a day may carry

# --- Auth defaults (context: authMode, jwksUrl, authIssuer, authAudience, authAlgorithms) ---
DEFAULT_AUTH_ISSUER = "parley"
DEFAULT_AUTH_AUDIENCE = "parley"
DEFAULT_HS256_ALGORITHMS = "HS256"
DEFAULT_JWKS_ALGORITHMS = "RS256"
TOKEN_SECRET_LENGTH = 64

# --- Alarms and the dashboard (docs/deploying.md, "Operating it") ---
# Every alarm fires on one occurrence in one 5-minute period: each counts failures a user notices.
ALARM_PERIOD = Duration.minutes(5)
ALARM_THRESHOLD = 1
ALARM_EVALUATION_PERIODS = 1
DASHBOARD_PERIOD = Duration.minutes(5)
