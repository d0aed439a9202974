"""Names and numbers of the deployed service, in one place.

Deploy-time choices that differ per environment are CDK context values instead (see ``infra/context.py``).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
EXAMPLE_MODERATION_HOOK_DIR = FUNCTIONS_DIR / "moderation_hook"
PARLEY_LAYER_DIR = REPO_ROOT / "layers" / "parley"
BUILD_DIR = REPO_ROOT / ".build"
AUTHORIZER_REQUIREMENTS = Path(__file__).resolve().parent / "authorizer_requirements.txt"
THUMBNAILS_REQUIREMENTS = Path(__file__).resolve().parent / "thumbnails_requirements.txt"
# Never shipped to Lambda: bytecode of the host's Python is useless to python3.13.
ASSET_EXCLUDES = ["__pycache__", "*.pyc"]

STACK_NAME = "Parley"
SERVICE_NAME = "parley"
METRICS_NAMESPACE = "Parley"

# --- WebSocket API ---
STAGE_NAME = "prod"
ROUTE_SELECTION_EXPRESSION = "$request.body.action"
# Steady-state messages per second and burst for every route of the stage, all clients together
# (context stageRateLimit / stageBurstLimit override them). Per-user limits: PARLEY_RATE_LIMITS.
THROTTLE_RATE_LIMIT = 500.0
THROTTLE_BURST_LIMIT = 1000

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

# The thumbnail maker decodes photos: a 12-megapixel one is about 40 MB of pixels per copy, and it makes a
# few copies. 1 GB also buys Lambda more CPU, so a photo is ready in about a second.
THUMBNAILS_MEMORY_MB = 1024
THUMBNAILS_TIMEOUT = Duration.seconds(60)

# --- Attachments bucket (docs/attachments.md) ---
# Uploads never sent, with their copies, still carry parley-state=pending: deleted after a day.
PENDING_UPLOAD_EXPIRY = Duration.days(1)
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

# --- Alarms ---
ALARM_PERIOD = Duration.minutes(5)
