"""The uploads bucket (docs/attachments.md), as ``infra/constructs/attachments.py`` makes it: CORS for
browser uploads, and every new upload under ``u/`` handed to the thumbnails function.

In AWS, S3 invokes the thumbnails function itself. Locally, S3 notifies a queue instead (moto's S3 does
that in-process, with the same event), and the stack polls the queue (``local.triggers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from local.triggers import Queue, provision_queue
from parley.attachments import UPLOAD_PREFIX

# What a browser's upload (POST) and download (GET) may read from S3's answer (infra.constants).
CORS_EXPOSED_HEADERS = ["ETag"]
NOTIFICATION_ID = "thumbnails"


def provision_uploads(s3: Any, sqs: Any, *, bucket: str, region: str, queue_name: str, visibility_timeout: int,
                      allowed_origins: Sequence[str]) -> Queue:
    """Create the bucket unless it exists, set its CORS rules and its ObjectCreated notification for
    ``u/``; returns the queue that receives the notifications."""
    _create_bucket(s3, bucket, region)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedMethods": ["POST", "GET"], "AllowedOrigins": list(allowed_origins) or ["*"],
        "AllowedHeaders": ["*"], "ExposeHeaders": CORS_EXPOSED_HEADERS}]})
    queue = provision_queue(sqs, queue_name, visibility_timeout=visibility_timeout,
                            sender_service="s3.amazonaws.com", sender_arn=f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
        "Id": NOTIFICATION_ID, "QueueArn": queue.arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOAD_PREFIX}]}}}]})
    return queue


def _create_bucket(s3: Any, bucket: str, region: str) -> None:
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **location)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
