"""Photos and voice messages (docs/attachments.md) as deployed: a private bucket that only presigned requests
reach, abandoned uploads that do not linger, every upload handed to the thumbnail maker, and per function
no more S3 access than its handler uses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants
from infra.constructs.functions import deployed_functions
from parley import routes
from tests.infra.policies import actions, listed, resources_of, statements
from tests.infra.synthesis import CONFIGURED_CONTEXT, NOTIFICATIONS_HANDLER, Synth, render

pytestmark = pytest.mark.infra

UPLOADS_BUCKET = "Attachments/Uploads"
ACCESS_LOGS = "Attachments/AccessLogs"
S3_USERS = {"uploads", "send", "changes", routes.THUMBNAILS, routes.DELIVER, routes.SERVER_API}  # erasure, export
DAY = 1


def bucket(synth: Synth, path: str = UPLOADS_BUCKET) -> dict[str, Any]:
    return synth.resource(path)


def bucket_policy(synth: Synth, path: str) -> list[dict[str, Any]]:
    (policy,) = [p["Properties"]["PolicyDocument"]["Statement"] for p in synth.of_type("AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": synth.logical_id(path)}]
    return policy


def lifecycle(synth: Synth, path: str = UPLOADS_BUCKET) -> dict[str, dict[str, Any]]:
    rules = bucket(synth, path)["Properties"]["LifecycleConfiguration"]["Rules"]
    return {rule["Id"]: {k: v for k, v in rule.items() if k != "Id"} for rule in rules}


def objects(synth: Synth, prefix: str) -> str:
    """``u/`` -> the ARN of every object under it, as ``render`` prints it."""
    return f"${{{synth.logical_id(UPLOADS_BUCKET)}.Arn}}/{prefix}*"


def environment(synth: Synth, handler: str) -> dict[str, Any]:
    return synth.resource(f"Functions/{handler}")["Properties"].get("Environment", {}).get("Variables", {})


# --- the bucket ---

@pytest.mark.parametrize("path", [UPLOADS_BUCKET, ACCESS_LOGS])
def test_bucket_is_private_encrypted_and_tls_only(synth: Synth, path: str) -> None:
    # given the uploads bucket or its access logs
    props = bucket(synth, path)["Properties"]
    # then nothing in it can be made public, and no ACL can grant access to anyone
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # and it is stored encrypted (SSE-S3: presigned requests need no key permission)
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    # and every request over plain HTTP is denied, presigned or not
    (deny,) = [s for s in bucket_policy(synth, path) if s["Effect"] == "Deny"]
    assert (deny["Action"], deny["Principal"], deny["Condition"]) == (
        "s3:*", {"AWS": "*"}, {"Bool": {"aws:SecureTransport": "false"}})


@pytest.mark.parametrize("path", [UPLOADS_BUCKET, ACCESS_LOGS])
def test_deleting_the_stack_keeps_the_files(synth: Synth, path: str) -> None:
    assert (bucket(synth, path)["DeletionPolicy"], bucket(synth, path)["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_bucket_keeps_no_old_versions(synth: Synth) -> None:
    # an expired original would otherwise live on as a noncurrent version, EXIF location included
    assert "VersioningConfiguration" not in bucket(synth)["Properties"]


def test_abandoned_uploads_and_their_copies_expire_after_a_day(synth: Synth) -> None:
    # given an upload (and its served copy and thumbnail) that no message used: still tagged pending
    rules = lifecycle(synth)
    # then S3 deletes it a day later; a sent one is tagged parley-state=sent and kept
    assert rules["expire-unsent-uploads"] == {
        "ExpirationInDays": DAY, "Status": "Enabled", "TagFilters": [{"Key": "parley-state", "Value": "pending"}]}
    assert rules["abort-incomplete-multipart-uploads"] == {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": DAY}, "Status": "Enabled"}


def test_sent_attachments_are_kept_by_default(synth: Synth) -> None:
    assert set(lifecycle(synth)) == {"expire-unsent-uploads", "abort-incomplete-multipart-uploads", "expire-exports"}


def test_users_data_exports_expire_after_a_week(synth: Synth) -> None:
    assert lifecycle(synth)["expire-exports"] == {"ExpirationInDays": 7, "Prefix": "exports/", "Status": "Enabled"}


def test_a_retention_period_expires_every_attachment(configured: Synth) -> None:
    # given attachmentRetentionDays=365 / then everything in the bucket is deleted a year after its upload
    assert lifecycle(configured)["expire-attachments"] == {
        "ExpirationInDays": int(CONFIGURED_CONTEXT["attachmentRetentionDays"]), "Status": "Enabled"}
    assert "expire-unsent-uploads" in lifecycle(configured)


def test_browsers_may_upload_and_download_from_any_origin_by_default(synth: Synth) -> None:
    assert bucket(synth)["Properties"]["CorsConfiguration"] == {"CorsRules": [{
        "AllowedMethods": ["POST", "GET"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"],
        "ExposedHeaders": ["ETag"]}]}


def test_browsers_upload_from_the_allowed_origins_only(configured: Synth) -> None:
    # given allowedOrigins (the origins that may open a socket) / then only they may POST and GET cross-origin
    (rule,) = bucket(configured)["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == CONFIGURED_CONTEXT["allowedOrigins"].split(",")


def test_access_to_the_bucket_is_logged_and_the_logs_expire(synth: Synth) -> None:
    # given a leaked download URL / then who fetched what from where is in the access logs, for 90 days
    assert bucket(synth)["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": synth.logical_id(ACCESS_LOGS)},
        "LogFilePrefix": constants.ACCESS_LOG_PREFIX}
    assert lifecycle(synth, ACCESS_LOGS)["expire-access-logs"] == {"ExpirationInDays": 90, "Status": "Enabled"}
    # and only S3's log delivery for the uploads bucket (and the admin console's pages bucket, which logs there
    # too) may write there (a bucket policy: ACLs stay off)
    allowed = [s for s in bucket_policy(synth, ACCESS_LOGS) if s["Effect"] == "Allow"]
    assert {(json.dumps(a["Principal"]), a["Action"]) for a in allowed} == {
        ('{"Service": "logging.s3.amazonaws.com"}', "s3:PutObject")}
    assert [a["Condition"]["ArnLike"]["aws:SourceArn"] for a in allowed] == [
        {"Fn::GetAtt": [synth.logical_id(path), "Arn"]} for path in (UPLOADS_BUCKET, "AdminConsole/Site")]


# --- the thumbnail maker is invoked for every upload ---

def test_every_new_upload_invokes_the_thumbnail_maker(synth: Synth) -> None:
    # given the bucket's notifications (set by CDK's custom resource)
    (notifications,) = [n["Properties"] for n in synth.of_type("Custom::S3BucketNotifications").values()]
    assert notifications["BucketName"] == {"Ref": synth.logical_id(UPLOADS_BUCKET)}
    # then an object created under u/ invokes the thumbnails function; its own p/ and t/ outputs do not
    assert notifications["NotificationConfiguration"] == {"LambdaFunctionConfigurations": [{
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "u/"}]}},
        "LambdaFunctionArn": {"Fn::GetAtt": [synth.logical_id(f"Functions/{routes.THUMBNAILS}"), "Arn"]}}]}


def test_s3_may_invoke_the_thumbnail_maker_for_this_bucket_only(synth: Synth) -> None:
    thumbnails = {"Fn::GetAtt": [synth.logical_id(f"Functions/{routes.THUMBNAILS}"), "Arn"]}
    permissions = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == thumbnails]
    assert [(p["Principal"], p["SourceArn"], p["SourceAccount"]) for p in permissions] == [
        ("s3.amazonaws.com", {"Fn::GetAtt": [synth.logical_id(UPLOADS_BUCKET), "Arn"]}, {"Ref": "AWS::AccountId"})]


THUMBNAILS_DLQ = "Attachments/ThumbnailsDeadLetterQueue"


def test_a_failing_upload_event_is_retried_twice_then_dead_lettered(synth: Synth) -> None:
    # given the thumbnail maker raises on an upload event (S3 invokes it asynchronously)
    thumbnails = synth.logical_id(f"Functions/{routes.THUMBNAILS}")
    (invoke_config,) = [c["Properties"] for c in synth.of_type("AWS::Lambda::EventInvokeConfig").values()
                        if c["Properties"]["FunctionName"] == {"Ref": thumbnails}]
    # then Lambda retries it twice, and then parks it in the thumbnails dead-letter queue instead of dropping it
    assert invoke_config["MaximumRetryAttempts"] == constants.THUMBNAILS_RETRY_ATTEMPTS == 2
    queue_arn = {"Fn::GetAtt": [synth.logical_id(THUMBNAILS_DLQ), "Arn"]}
    assert synth.resources[thumbnails]["Properties"]["DeadLetterConfig"] == {"TargetArn": queue_arn}
    # and the function may send to that queue (and no other)
    assert resources_of(synth, routes.THUMBNAILS, "sqs:SendMessage") == [render(queue_arn)]


def test_thumbnail_dead_letters_are_encrypted_tls_only_and_kept_two_weeks(synth: Synth) -> None:
    queue_id = synth.logical_id(THUMBNAILS_DLQ)
    queue = synth.resources[queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [p["Properties"] for p in synth.of_type("AWS::SQS::QueuePolicy").values()
                 if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
    assert [(s["Effect"], s["Condition"]) for s in policy["PolicyDocument"]["Statement"]] == [
        ("Deny", {"Bool": {"aws:SecureTransport": "false"}})]


def test_a_thumbnail_dead_letter_raises_an_alarm_and_its_queue_is_an_output(synth: Synth) -> None:
    queue_name = {"Fn::GetAtt": [synth.logical_id(THUMBNAILS_DLQ), "QueueName"]}
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    assert [(a["MetricName"], a["Threshold"]) for a in alarms
            if {"Name": "QueueName", "Value": queue_name} in a.get("Dimensions", [])] == [
        ("ApproximateNumberOfMessagesVisible", 1)]
    output = synth.template_json["Outputs"]["ThumbnailsDeadLetterQueueUrl"]
    assert output["Value"] == {"Ref": synth.logical_id(THUMBNAILS_DLQ)}


def test_the_notifications_handler_may_only_configure_this_buckets_notifications(synth: Synth) -> None:
    # given CDK's deploy-time handler / then its role has one permission, on this bucket, and no managed policy
    role_id = synth.resource(NOTIFICATIONS_HANDLER)["Properties"]["Role"]["Fn::GetAtt"][0]
    role = synth.resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]] == [{
        "Action": "s3:PutBucketNotification", "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [synth.logical_id(UPLOADS_BUCKET), "Arn"]}}]
    assert not [p for p in synth.of_type("AWS::IAM::Policy").values()
                if {"Ref": role_id} in p["Properties"].get("Roles", [])]


# --- who may do what with which objects ---

def test_uploads_signs_posts_of_new_uploads_only(synth: Synth) -> None:
    # given requestUpload / then the presigned POST (tagged pending) can create objects under u/ and nowhere else
    for action in ("s3:PutObject", "s3:PutObjectTagging"):
        assert resources_of(synth, "uploads", action) == [objects(synth, "u/")]


def test_uploads_signs_downloads_of_what_is_served(synth: Synth) -> None:
    # photos from their copy without EXIF (p/), thumbnails (t/), voice messages as uploaded (u/)
    assert sorted(resources_of(synth, "uploads", "s3:GetObject")) == sorted(
        objects(synth, prefix) for prefix in ("p/", "t/", "u/"))
    assert actions(synth, "uploads", "s3:") == {"s3:PutObject", "s3:PutObjectTagging", "s3:GetObject"}


def test_thumbnail_maker_reads_uploads_and_writes_only_copies_and_thumbnails(synth: Synth) -> None:
    assert resources_of(synth, routes.THUMBNAILS, "s3:GetObject") == [objects(synth, "u/")]
    # an upload is never overwritten: its served copy and thumbnail go to p/ and t/
    assert sorted(resources_of(synth, routes.THUMBNAILS, "s3:PutObject")) == sorted(
        [objects(synth, "p/"), objects(synth, "t/")])
    # copies are written tagged pending; all three are tagged sent when the message went out first
    assert sorted(resources_of(synth, routes.THUMBNAILS, "s3:PutObjectTagging")) == sorted(
        objects(synth, prefix) for prefix in ("p/", "t/", "u/"))
    # and a message deleted while its copies were made: they are deleted (docs/attachments.md, "Deleted messages")
    assert sorted(resources_of(synth, routes.THUMBNAILS, "s3:DeleteObject")) == sorted(
        objects(synth, prefix) for prefix in ("p/", "t/", "u/"))
    assert actions(synth, routes.THUMBNAILS, "s3:") == {"s3:GetObject", "s3:PutObject", "s3:PutObjectTagging",
                                                        "s3:DeleteObject"}


def test_deleting_only_deletes_a_deleted_messages_files(synth: Synth) -> None:
    # given a member's delete / then it may delete the upload, its served copy and thumbnail, and do nothing else
    # with them
    assert sorted(resources_of(synth, "changes", "s3:DeleteObject")) == sorted(
        objects(synth, prefix) for prefix in ("p/", "t/", "u/"))
    assert actions(synth, "changes", "s3:") == {"s3:DeleteObject"}
    assert set(environment(synth, "changes")) >= {"PARLEY_UPLOADS_BUCKET"}


def test_the_server_api_deletes_files_and_writes_exports_only(synth: Synth) -> None:
    # given the server API: a delete for everyone (the message's files), an erasure (a user's files, listed by
    # prefix) and an export (written, read and signed under exports/)
    assert sorted(resources_of(synth, routes.SERVER_API, "s3:DeleteObject")) == sorted(
        objects(synth, prefix) for prefix in ("exports/", "p/", "t/", "u/"))
    assert sorted(resources_of(synth, routes.SERVER_API, "s3:GetObject")) == sorted(
        objects(synth, prefix) for prefix in ("exports/", "u/"))
    assert resources_of(synth, routes.SERVER_API, "s3:PutObject") == [objects(synth, "exports/")]
    # then it may neither write nor tag a chat's files
    assert actions(synth, routes.SERVER_API, "s3:") == {"s3:DeleteObject", "s3:GetObject", "s3:PutObject",
                                                          "s3:ListBucket"}
    assert set(environment(synth, routes.SERVER_API)) >= {"PARLEY_UPLOADS_BUCKET"}


def test_send_checks_attachments_and_tags_them_sent_without_writing_any(synth: Synth) -> None:
    # given a message with attachments / then send HEADs each upload and tags it and its copies "sent"
    assert resources_of(synth, "send", "s3:GetObject") == [objects(synth, "u/")]
    assert sorted(resources_of(synth, "send", "s3:PutObjectTagging")) == sorted(
        objects(synth, prefix) for prefix in ("p/", "t/", "u/"))
    # and a key that does not exist is a 404 (attachment_not_found), not a 403, for which S3 wants ListBucket
    assert resources_of(synth, "send", "s3:ListBucket") == [f"${{{synth.logical_id(UPLOADS_BUCKET)}.Arn}}"]
    assert actions(synth, "send", "s3:") == {"s3:GetObject", "s3:PutObjectTagging", "s3:ListBucket"}


def test_deliver_only_tags_what_a_handed_off_message_sends(synth: Synth) -> None:
    # given a send that handed its delivery off before tying its attachments to the message
    # then deliver may tag the upload and its copies "sent", and do nothing else with the bucket
    assert sorted(resources_of(synth, routes.DELIVER, "s3:PutObjectTagging")) == sorted(
        objects(synth, prefix) for prefix in ("p/", "t/", "u/"))
    assert actions(synth, routes.DELIVER, "s3:") == {"s3:PutObjectTagging"}
    assert set(environment(synth, routes.DELIVER)) >= {"PARLEY_UPLOADS_BUCKET"}


def test_no_other_function_touches_the_bucket(synth: Synth) -> None:
    assert {handler for handler in deployed_functions() if actions(synth, handler, "s3:")} == S3_USERS


def test_no_s3_permission_uses_an_action_wildcard(synth: Synth) -> None:
    for handler in S3_USERS:
        for statement in statements(synth, handler):
            assert not [a for a in listed(statement["Action"]) if a.startswith("s3:") and "*" in a], handler


def test_s3_permissions_name_the_uploads_bucket_only(synth: Synth) -> None:
    bucket_arn = f"${{{synth.logical_id(UPLOADS_BUCKET)}.Arn}}"
    for handler in S3_USERS:
        for statement in statements(synth, handler):
            if any(a.startswith("s3:") for a in listed(statement["Action"])):
                assert all(render(r).startswith(bucket_arn) for r in listed(statement["Resource"])), handler


# --- settings ---

def test_the_functions_that_use_the_bucket_are_told_its_name(synth: Synth) -> None:
    for handler in deployed_functions():
        named = environment(synth, handler).get("PARLEY_UPLOADS_BUCKET")
        assert named == ({"Ref": synth.logical_id(UPLOADS_BUCKET)} if handler in S3_USERS else None), handler


def test_attachment_settings_default_to_the_models(synth: Synth) -> None:
    assert {k: v for k, v in environment(synth, "uploads").items() if k.startswith("PARLEY_") and "URL" in k} == {
        "PARLEY_UPLOAD_URL_TTL_SECONDS": "300", "PARLEY_DOWNLOAD_URL_TTL_SECONDS": "900"}
    assert environment(synth, "uploads")["PARLEY_UPLOAD_MAX_BYTES"] == str(10 * 1024 * 1024)
    assert environment(synth, routes.THUMBNAILS)["PARLEY_THUMBNAIL_PX"] == "320"


def test_attachment_settings_reach_the_functions_that_read_them(configured: Synth) -> None:
    # given uploadMaxBytes, the URL lifetimes and thumbnailPx / then the presigned POST and URLs use them
    uploads = environment(configured, "uploads")
    assert (uploads["PARLEY_UPLOAD_MAX_BYTES"], uploads["PARLEY_UPLOAD_URL_TTL_SECONDS"],
            uploads["PARLEY_DOWNLOAD_URL_TTL_SECONDS"]) == (
        CONFIGURED_CONTEXT["uploadMaxBytes"], CONFIGURED_CONTEXT["uploadUrlTtlSeconds"],
        CONFIGURED_CONTEXT["downloadUrlTtlSeconds"])
    # and send checks the same maximum again: a lower default there would refuse every larger file
    assert environment(configured, "send")["PARLEY_UPLOAD_MAX_BYTES"] == CONFIGURED_CONTEXT["uploadMaxBytes"]
    assert environment(configured, routes.THUMBNAILS)["PARLEY_THUMBNAIL_PX"] == CONFIGURED_CONTEXT["thumbnailPx"]


def test_no_function_carries_attachment_settings_it_never_reads(configured: Synth) -> None:
    read_by = {"PARLEY_UPLOAD_MAX_BYTES": {"uploads", "send"}, "PARLEY_UPLOAD_URL_TTL_SECONDS": {"uploads"},
               "PARLEY_DOWNLOAD_URL_TTL_SECONDS": {"uploads"}, "PARLEY_THUMBNAIL_PX": {routes.THUMBNAILS}}
    for name, readers in read_by.items():
        assert {h for h in deployed_functions() if name in environment(configured, h)} == readers, name
