"""Triggered by uploads to the bucket (``u/`` prefix): makes the served copy without EXIF location data,
the thumbnail and the inline preview, and tells members when a sent attachment is ready."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import logger, metrics, tracer
from parley.wiring import thumbnails


def on_upload(event: dict[str, Any]) -> int:
    """Reads the S3 event as a dict (Powertools' event class costs a cold start)."""
    made = 0
    for record in event.get("Records") or []:
        # S3 event keys are URL-encoded (a space arrives as "+"): decode before using the key
        if thumbnails().uploaded(unquote_plus(record["s3"]["object"]["key"])) is not None:
            made += 1
    metrics.add_metric(name="UploadsProcessed", unit="Count", value=made)
    return made


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return {"processed": on_upload(event)}
