"""What is left of a user after an erasure, read by key: every key function of ``parley.table``, applied to that
user (and to the conversations, users, uploads and device tokens the test knows they had). Shared by the
integration tier (moto in-process) and the e2e tier (the local stack's moto server).

Key kinds that name nobody are not read: ``token_pk`` (a single-use token's jti, TTL'd at its expiry),
``pushed_pk`` (the hashes of devices already pushed for a message, TTL'd after 2 days), ``audit_*`` (the server
API's audit log keeps who erased whom: docs/server-api.md, "Erasure and export")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley import table
from parley.attachments import uploader_segment


@dataclass
class Known:
    """What the test gave the user, so every key that could hold something of theirs can be built."""

    user: str
    others: list[str]
    conversations: list[str]
    uploads: list[str] = field(default_factory=list)
    device_tokens: list[str] = field(default_factory=list)
    rate_limit_kinds: list[str] = field(default_factory=list)


def traces(ddb: Any, table_name: str, known: Known, *, s3: Any = None, bucket: str | None = None,
           authorless: bool = False) -> list[str]:
    """Every place the user is still found: empty if nothing of theirs is left. ``authorless``: their id must not
    name the author or a recent sender of any stream entry either (``delete`` mode)."""
    user = known.user

    def read(pk: str, sk: str) -> bool:
        return "Item" in ddb.get_item(TableName=table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}},
                                      ConsistentRead=True)

    def query(pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": table_name, "KeyConditionExpression": "pk = :pk",
                                   "ExpressionAttributeValues": {":pk": {"S": pk}}, "ConsistentRead": True}
        while True:
            page = ddb.query(**request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    found = [f"user item {i['sk']['S']}" for i in query(table.user_pk(user))]  # profile, connections, members,
    # LEFT# markers, blocks both ways (block_sk, blocked_by_sk on their side)
    for other in known.others:
        for sk in (table.META_SK, table.DIRECT_E2E_SK):  # the pair's plain and end-to-end encrypted conversations
            if read(table.direct_pair_pk(user, other), sk):
                found.append(f"direct pair with {other} {sk}")
        for sk in (table.block_sk(user), table.blocked_by_sk(user)):
            if read(table.user_pk(other), sk):
                found.append(f"block {other} {sk}")
    for token in known.device_tokens:
        if read(table.push_token_pk(table.device_hash(token)), table.THROTTLE_SK):
            found.append("push token owner")
    if read(table.job_pk("export", user), table.JOB_SK):
        found.append("export job")
    for kind in known.rate_limit_kinds:
        if read(table.throttle_pk(kind, user, "bucket"), table.THROTTLE_SK):
            found.append(f"rate limit {kind}")
    for cid in known.conversations:
        if read(table.throttle_pk("typing", user, cid), table.THROTTLE_SK):
            found.append(f"typing {cid}")
        found += [f"report {cid}" for r in query(table.report_pk(cid)) if r.get("reporter", {}).get("S") == user]
        for entry in query(table.conversation_pk(cid)):
            if entry["sk"]["S"] == table.META_SK:
                continue
            where = f"{cid} {entry['sk']['S']}"
            mine = entry[table.ATTR_SENDER]["S"] == user
            if mine and table.ATTR_BODY in entry:
                found.append(f"message {where}")
            if mine and "text" in entry.get(table.ATTR_CHANGE, {}).get("M", {}):
                found.append(f"edit text {where}")
            if mine and "e2e" in entry.get(table.ATTR_CHANGE, {}).get("M", {}):
                found.append(f"edit envelope {where}")
            if authorless and mine:
                found.append(f"author {where}")
            if authorless and user in entry.get(table.ATTR_RECENT_SENDERS, {}).get("M", {}):
                found.append(f"recent sender {where}")
            found += [f"reaction {where}" for a, v in entry.items()
                      if a.startswith(table.REACTION_PREFIX) and user in v["SS"]]
    for key in known.uploads:
        if read(table.upload_pk(key), table.THROTTLE_SK):
            found.append(f"upload record {key}")
    if s3 is not None and bucket is not None:
        segment = uploader_segment(user)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            found += [f"object {o['Key']}" for o in page.get("Contents", []) if segment in o["Key"]]
    return found
