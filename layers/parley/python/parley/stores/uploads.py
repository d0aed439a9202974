"""The uploads bucket: presigned POSTs for direct uploads, HEADs to verify them, presigned GETs."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from parley.models import StoredObject
from parley.ports import ObjectStore
from parley.stores.errors import error_code


@lru_cache(maxsize=1)
def _s3() -> Any:
    # SigV4 for presigned requests (required by every region launched since 2014, and by KMS-encrypted buckets)
    return boto3.session.Session().client("s3", config=Config(signature_version="s3v4",
                                                             retries={"mode": "standard", "max_attempts": 3}))


def reset() -> None:
    _s3.cache_clear()


class S3ObjectStore(ObjectStore):
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def presign_post(self, key: str, content_type: str, max_bytes: int, ttl_seconds: int,
                     tags: dict[str, str]) -> tuple[str, dict[str, str]]:
        tagging = _tagging_xml(tags)
        post = _s3().generate_presigned_post(
            self._bucket, key, Fields={"Content-Type": content_type, "tagging": tagging},
            Conditions=[{"Content-Type": content_type}, {"tagging": tagging}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=ttl_seconds)
        return post["url"], dict(post["fields"])

    def head(self, key: str) -> StoredObject | None:
        try:
            resp = _s3().head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return StoredObject(key=key, size=int(resp["ContentLength"]), content_type=resp.get("ContentType", ""))

    def presign_get(self, key: str, ttl_seconds: int) -> str:
        url: str = _s3().generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": key},
                                                ExpiresIn=ttl_seconds)
        return url

    def read(self, key: str) -> tuple[bytes, str]:
        resp = _s3().get_object(Bucket=self._bucket, Key=key)
        return resp["Body"].read(), resp.get("ContentType", "")

    def write(self, key: str, data: bytes, content_type: str, tags: dict[str, str]) -> None:
        _s3().put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type,
                         Tagging=urlencode(tags))

    def set_tags(self, key: str, tags: dict[str, str]) -> None:
        _s3().put_object_tagging(Bucket=self._bucket, Key=key, Tagging={
            "TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})

    def delete(self, keys: list[str]) -> None:
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 1000):  # DeleteObjects takes up to 1000 keys
            resp = _s3().delete_objects(Bucket=self._bucket, Delete={
                "Objects": [{"Key": k} for k in unique[start:start + 1000]], "Quiet": True})
            if resp.get("Errors"):
                failed = resp["Errors"][0]
                raise RuntimeError(f"S3 kept {len(resp['Errors'])} object(s): {failed.get('Code')}")

    def list_keys(self, prefix: str, limit: int) -> list[str]:
        found: list[str] = []
        for page in _s3().get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix, PaginationConfig={"MaxItems": limit}):
            found.extend(str(o["Key"]) for o in page.get("Contents", []))
        return found[:limit]

    def tags(self, key: str) -> dict[str, str]:
        resp = _s3().get_object_tagging(Bucket=self._bucket, Key=key)
        return {t["Key"]: t["Value"] for t in resp["TagSet"]}


def _tagging_xml(tags: dict[str, str]) -> str:
    entries = "".join(f"<Tag><Key>{escape(k)}</Key><Value>{escape(v)}</Value></Tag>" for k, v in tags.items())
    return f"<Tagging><TagSet>{entries}</TagSet></Tagging>"
