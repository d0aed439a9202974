"""Photos and voice messages (docs/attachments.md): the private uploads bucket apps POST files to with
presigned requests, its access logs, the lifecycle that removes abandoned uploads, the dead-letter queue of
the thumbnail maker, and what each function may do with which objects (``u/`` uploads, ``p/`` served copies,
``t/`` thumbnails)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3_notifications
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import compliance, constants
from infra.context import AttachmentsConfig
from parley.attachments import EXPORT_PREFIX, PENDING, SERVED_PREFIX, THUMBNAIL_PREFIX, UPLOAD_PREFIX

# cdk.json does not set this feature flag; without it CDK lets S3 deliver access logs through the legacy
# LogDeliveryWrite ACL, which needs ACLs enabled on the log bucket. With it: a bucket policy, ACLs off.
_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


class AttachmentAccess(Enum):
    NONE = "none"
    # requestUpload / attachmentUrls: signs POSTs of new uploads (tagged pending) and GETs of what is served.
    PRESIGN = "presign"
    # send: checks each attachment with a HEAD and tags the upload and its copies "sent".
    LINK = "link"
    # deliver: finishes what send handed off, which may include tagging the upload and its copies "sent".
    MARK_SENT = "mark_sent"
    # thumbnails: reads each upload, writes its served copy and thumbnail, tags them "sent" once used.
    PROCESS = "process"
    # edit/delete/react: a deleted message's upload, served copy and thumbnail are deleted.
    DISCARD = "discard"
    # the server API's erasure and export jobs: lists and deletes a user's uploads and copies; writes, reads and
    # signs the export files (exports/), which a lifecycle rule expires.
    USER_DATA = "user_data"


_UPLOADS, _SERVED, _THUMBNAILS = (f"{prefix}*" for prefix in (UPLOAD_PREFIX, SERVED_PREFIX, THUMBNAIL_PREFIX))
_EXPORTS = f"{EXPORT_PREFIX}*"

# access -> (actions, object key patterns). Tagging an object is s3:PutObjectTagging, also when the tags
# come with the upload (a POST's `tagging` field, a PutObject's Tagging header).
_OBJECT_GRANTS: dict[AttachmentAccess, list[tuple[list[str], list[str]]]] = {
    AttachmentAccess.PRESIGN: [
        (["s3:PutObject", "s3:PutObjectTagging"], [_UPLOADS]),
        # voice messages are served as uploaded (u/), photos from their copy without EXIF (p/)
        (["s3:GetObject"], [_SERVED, _THUMBNAILS, _UPLOADS]),
    ],
    AttachmentAccess.LINK: [
        (["s3:GetObject"], [_UPLOADS]),  # HeadObject
        (["s3:PutObjectTagging"], [_UPLOADS, _SERVED, _THUMBNAILS]),
    ],
    AttachmentAccess.MARK_SENT: [
        (["s3:PutObjectTagging"], [_UPLOADS, _SERVED, _THUMBNAILS]),
    ],
    AttachmentAccess.PROCESS: [
        (["s3:GetObject"], [_UPLOADS]),
        (["s3:PutObject"], [_SERVED, _THUMBNAILS]),
        # a message sent before its copies were made: the upload is tagged "sent" here, not by send
        (["s3:PutObjectTagging"], [_UPLOADS, _SERVED, _THUMBNAILS]),
        # a message deleted while its copies were made: they are deleted as soon as they are written
        (["s3:DeleteObject"], [_UPLOADS, _SERVED, _THUMBNAILS]),
    ],
    AttachmentAccess.DISCARD: [
        (["s3:DeleteObject"], [_UPLOADS, _SERVED, _THUMBNAILS]),
    ],
    AttachmentAccess.USER_DATA: [
        (["s3:DeleteObject"], [_UPLOADS, _SERVED, _THUMBNAILS, _EXPORTS]),
        (["s3:GetObject"], [_UPLOADS, _EXPORTS]),  # the export links its attachments and itself
        (["s3:PutObject"], [_EXPORTS]),
    ],
}

_WILDCARD_REASONS = {
    _UPLOADS: "Uploads are named u/<conversation>/<uploader>/<random id> when requestUpload signs their POST, "
              "so they can only be named by prefix; the handlers check membership and the key's conversation "
              "and uploader before they sign, read or tag one.",
    _SERVED: "Served copies are named p/<conversation>/<uploader>/<random id> after their upload, so they can "
             "only be named by prefix; download URLs are signed for members of that conversation only.",
    _THUMBNAILS: "Thumbnails are named t/<conversation>/<uploader>/<random id>.webp after their upload, so they "
                 "can only be named by prefix; download URLs are signed for members of that conversation only.",
    _EXPORTS: "Export files are named exports/<user key>/<job id>/... by the server API's export job, so they can "
              "only be named by prefix; only the IAM-authorized server API signs links to them.",
}


class _NotificationsRole(Construct):
    """The role of CDK's bucket-notifications function. CDK deploys that function once per stack (the role of
    the first bucket asking wins), so every Parley instance in a stack shares this one role and adds its own
    uploads bucket to its inline policy."""

    ID = "ParleyBucketNotificationsRole"

    def __init__(self, scope: Construct) -> None:
        super().__init__(scope, self.ID)
        # Inline, the permission exists before the handler first runs.
        self.policy = iam.PolicyDocument()
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Parley uploads buckets: sets their event notifications at deploy time",
            inline_policies={"BucketNotifications": self.policy})

    @classmethod
    def of(cls, scope: Construct) -> _NotificationsRole:
        stack = Stack.of(scope)
        found = stack.node.try_find_child(cls.ID)
        return found if isinstance(found, _NotificationsRole) else cls(stack)


class Attachments(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: AttachmentsConfig,
                 allowed_origins: Sequence[str], removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> None:
        """``removal_policy``: whether the buckets outlive the stack (RETAIN) or go with it, emptied first
        (DESTROY, for dev stages)."""
        super().__init__(scope, construct_id)
        self.node.set_context(_ACCESS_LOGS_USE_BUCKET_POLICY, True)  # before any bucket is created
        self.config = config
        destroy = removal_policy is RemovalPolicy.DESTROY
        self.access_logs = s3.Bucket(
            self, "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption S3 delivers access logs to
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=constants.ACCESS_LOG_RETENTION)],
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )  # cdk-nag's S1 (access logs) accepts a bucket that is another bucket's access-log target
        # CDK sets bucket notifications with a function of its own, at deploy time. Its role is handed over
        # without policy updates, so CDK cannot attach the managed AWSLambdaBasicExecutionRole (logs on every
        # log group): it may put the uploads buckets' notification configurations and nothing else, not even
        # logs (CloudFormation shows its error).
        notifications = _NotificationsRole.of(self)
        self.bucket = s3.Bucket(
            self, "Uploads",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # SSE-S3: presigned POSTs and GETs need no key permissions, and S3 decrypts for them.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Versioning stays off: objects are written once under random keys, and with versions an expired
            # or deleted original would live on as a noncurrent version, EXIF location data included.
            versioned=False,
            lifecycle_rules=self._lifecycle_rules(config),
            cors=[s3.CorsRule(
                allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET],
                allowed_origins=list(allowed_origins) or ["*"],
                allowed_headers=["*"],
                exposed_headers=constants.CORS_EXPOSED_HEADERS,
            )],
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=constants.ACCESS_LOG_PREFIX,
            notifications_handler_role=notifications.role.without_policy_updates(),
            # By default sent photos and voice messages outlive any one deployment of the stack, like the
            # messages; a dev stage's bucket is emptied and deleted with it.
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
        notifications.policy.add_statements(iam.PolicyStatement(
            actions=["s3:PutBucketNotification"], resources=[self.bucket.bucket_arn]))
        # Where an upload event ends when the thumbnail maker failed on it after its retries (S3 invokes it
        # asynchronously: without this, Lambda would drop the event and the photo would never be served).
        self.dead_letter_queue = sqs.Queue(
            self, "ThumbnailsDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=constants.DEAD_LETTER_RETENTION,
        )

    @staticmethod
    def _lifecycle_rules(config: AttachmentsConfig) -> list[s3.LifecycleRule]:
        rules = [
            s3.LifecycleRule(id="abort-incomplete-multipart-uploads",
                             abort_incomplete_multipart_upload_after=constants.INCOMPLETE_MULTIPART_UPLOAD_EXPIRY),
            # Every upload and copy starts pending; send tags them "sent" when a message uses them.
            s3.LifecycleRule(id="expire-unsent-uploads", tag_filters=dict(PENDING),
                             expiration=constants.PENDING_UPLOAD_EXPIRY),
        ]
        # Export files (the server API's GDPR export) are kept a few days, then deleted.
        rules.append(s3.LifecycleRule(id="expire-exports", prefix=EXPORT_PREFIX, expiration=constants.EXPORT_EXPIRY))
        if config.retention_days is not None:
            rules.append(s3.LifecycleRule(id="expire-attachments",
                                          expiration=Duration.days(config.retention_days)))
        return rules

    def process_uploads_with(self, function: lambda_.IFunction) -> None:
        """S3 invokes ``function`` for every new upload (``u/``); its own copies (``p/``, ``t/``) do not."""
        self.bucket.add_event_notification(s3.EventType.OBJECT_CREATED,
                                           s3_notifications.LambdaDestination(function),
                                           s3.NotificationKeyFilter(prefix=UPLOAD_PREFIX))

    def environment(self, access: AttachmentAccess) -> dict[str, str]:
        """Settings field name -> value, for a function with ``access``."""
        if access is AttachmentAccess.NONE:
            return {}
        values = {"uploads_bucket": self.bucket.bucket_name}
        if access in (AttachmentAccess.PRESIGN, AttachmentAccess.LINK):  # send checks the size again
            values["upload_max_bytes"] = str(self.config.upload_max_bytes)
        if access is AttachmentAccess.PRESIGN:
            values["upload_url_ttl_seconds"] = str(self.config.upload_url_ttl_seconds)
            values["download_url_ttl_seconds"] = str(self.config.download_url_ttl_seconds)
        if access is AttachmentAccess.PROCESS:
            values["thumbnail_px"] = str(self.config.thumbnail_px)
        return values

    def grant(self, function: lambda_.Function, access: AttachmentAccess) -> None:
        """What ``access`` needs, on the objects under the prefixes it works on only."""
        if access is AttachmentAccess.NONE:
            return
        patterns: set[str] = set()
        for actions, key_patterns in _OBJECT_GRANTS[access]:
            iam.Grant.add_to_principal(grantee=function, actions=actions,
                                       resource_arns=[self.bucket.arn_for_objects(p) for p in key_patterns])
            patterns.update(key_patterns)
        if access in (AttachmentAccess.LINK, AttachmentAccess.USER_DATA):
            # Without s3:ListBucket, S3 answers a HEAD of a missing object 403 instead of 404, and send could
            # not tell a client's wrong key (attachment_not_found) from a real failure. Listing reveals only
            # key names, which send can already read in the table's upload records. Erasure and export list a
            # user's uploads by prefix.
            iam.Grant.add_to_principal(grantee=function, actions=["s3:ListBucket"],
                                       resource_arns=[self.bucket.bucket_arn])
        for pattern in sorted(patterns):
            compliance.acknowledge(function.role or function,
                                   f"AwsSolutions-IAM5[Resource::{self._objects_pattern(pattern)}]",
                                   _WILDCARD_REASONS[pattern])

    def _objects_pattern(self, key_pattern: str) -> str:
        """The bucket's object ARN as cdk-nag prints it (``<LogicalId.Arn>/u/*``)."""
        stack = Stack.of(self)
        bucket_resource = self.bucket.node.default_child
        assert isinstance(bucket_resource, CfnElement)
        return f"<{stack.resolve(stack.get_logical_id(bucket_resource))}.Arn>/{key_pattern}"
