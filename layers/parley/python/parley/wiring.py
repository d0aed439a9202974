"""Builds the services with their real adapters, once per Lambda instance: the one place that knows how
each is built. Every service, store and module is built or imported on first use only, so a handler pays for
what its route calls and nothing else (docs/performance.md, "Cold start")."""

from __future__ import annotations

import sys
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from parley.config import Settings, get_settings

if TYPE_CHECKING:
    from parley.attachments import AttachmentService
    from parley.audit import AuditLog
    from parley.badges import BadgeService
    from parley.bans import BanService
    from parley.blocking import BlockingService
    from parley.connections import ConnectionService
    from parley.conversations import ConversationService
    from parley.delivery import DeliveryService
    from parley.devices import DeviceService
    from parley.events import Events
    from parley.fanout import Fanout
    from parley.figures import MetricSource
    from parley.groups import GroupOutcome, GroupService
    from parley.inbox import InboxService
    from parley.jobs import JobService
    from parley.message_changes import MessageChangeService
    from parley.messaging import MessagingService
    from parley.moderation import ModerationService
    from parley.notifier import Notifier
    from parley.operator_views import OperatorViews
    from parley.preferences import PreferencesService
    from parley.presence import PresenceService
    from parley.rate_limits import RateLimiter
    from parley.report_review import ReportReviewService
    from parley.reports import ReportService
    from parley.stores.bans import DynamoBanStore
    from parley.stores.blocks import DynamoBlockStore
    from parley.stores.connections import DynamoConnectionStore
    from parley.stores.conversations import DynamoConversationStore
    from parley.stores.messages import DynamoMessageStore
    from parley.stores.profiles import DynamoProfileStore
    from parley.stores.push import SnsPushGateway
    from parley.stores.throttles import DynamoThrottleStore
    from parley.thumbnails import ThumbnailService
    from parley.typing_indicators import TypingService


class Services:
    """The socket routes' services. Each one (and each store) is built, and its module imported, on first
    use: a handler pays only for what its route calls (``send`` never imports the report or upload code)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- stores ----------------------------------------------------------------------------------

    @cached_property
    def connection_store(self) -> DynamoConnectionStore:
        from parley.stores.connections import DynamoConnectionStore

        return DynamoConnectionStore(self.settings.table_name)

    @cached_property
    def conversation_store(self) -> DynamoConversationStore:
        from parley.stores.conversations import DynamoConversationStore

        return DynamoConversationStore(self.settings.table_name)

    @cached_property
    def message_store(self) -> DynamoMessageStore:
        from parley.stores.messages import DynamoMessageStore

        return DynamoMessageStore(self.settings.table_name)

    @cached_property
    def profiles(self) -> DynamoProfileStore:
        from parley.stores.profiles import DynamoProfileStore

        return DynamoProfileStore(self.settings.table_name)

    @cached_property
    def blocks(self) -> DynamoBlockStore:
        from parley.stores.blocks import DynamoBlockStore

        return DynamoBlockStore(self.settings.table_name)

    @cached_property
    def ban_store(self) -> DynamoBanStore:
        from parley.stores.bans import DynamoBanStore

        return DynamoBanStore(self.settings.table_name)

    @cached_property
    def throttles(self) -> DynamoThrottleStore:
        from parley.stores.throttles import DynamoThrottleStore

        return DynamoThrottleStore(self.settings.table_name)

    # -- services --------------------------------------------------------------------------------

    @cached_property
    def limits(self) -> RateLimiter:
        from parley.rate_limits import RateLimiter

        return RateLimiter(self.throttles, self.settings.rate_limit_table)

    @cached_property
    def fanout(self) -> Fanout | None:
        """None where no callback URL is configured (nothing can be delivered)."""
        fanout = _fanout(self.connection_store, self.settings)
        if fanout is not None:  # a connection found stale may have been its user's last
            fanout.on_pruned = self._pruned
        return fanout

    def _pruned(self, users: list[str]) -> object:
        return self.presence.disconnected(users)  # presence is built (with this fan-out) when first needed

    @cached_property
    def connections(self) -> ConnectionService:
        from parley.connections import ConnectionService

        return ConnectionService(self.connection_store, self.settings.connection_ttl_seconds,
                                 max_per_user=self.settings.max_connections_per_user, limiter=self.limits,
                                 profiles=self.profiles, bans=self.ban_store)

    @cached_property
    def events(self) -> Events | None:
        """None where no event topic is configured."""
        return _events(self.settings)

    @cached_property
    def bans(self) -> BanService:
        from parley.bans import BanService

        gateway = None
        if self.settings.callback_url:
            from parley.stores.management_api import ManagementApiGateway

            gateway = ManagementApiGateway(self.settings.callback_url)
        return BanService(self.ban_store, self.connection_store, gateway, events=self.events)

    @cached_property
    def conversations(self) -> ConversationService:
        from parley.conversations import ConversationService

        return ConversationService(self.conversation_store, self.settings.max_group_members, blocks=self.blocks,
                                   events=self.events)

    @cached_property
    def presence(self) -> PresenceService:
        from parley.presence import PresenceService

        return PresenceService(self.profiles, self.conversation_store, self.connection_store, self.fanout,
                               blocks=self.blocks)

    @cached_property
    def moderation(self) -> ModerationService | None:
        """None where no moderation hook is configured."""
        from parley.moderation import ModerationService

        settings = self.settings
        hook = None
        if settings.moderation_function:
            from parley.stores.moderation_lambda import LambdaModerationHook

            hook = LambdaModerationHook(settings.moderation_function, settings.moderation_timeout_ms)
        moderation = ModerationService(hook, self.profiles, fail_open=settings.moderation_fail_open,
                                       max_text_bytes=settings.max_text_bytes)
        return moderation if moderation.enabled else None

    @cached_property
    def messaging(self) -> MessagingService:
        from parley.messaging import MessagingService

        return MessagingService(self.message_store, self.conversations, max_text_bytes=self.settings.max_text_bytes,
                                idempotency_window=self.settings.idempotency_window, blocks=self.blocks,
                                moderation=self.moderation, read_positions=self.conversation_store,
                                events=self.events if self.settings.message_created_events else None)

    @cached_property
    def groups(self) -> GroupService:
        from parley.groups import GroupService
        from parley.stores.groups import DynamoGroupStore

        return GroupService(self.message_store, DynamoGroupStore(self.settings.table_name), self.conversations,
                            max_members=self.settings.max_group_members, blocks=self.blocks, events=self.events)

    @cached_property
    def message_changes(self) -> MessageChangeService:
        from parley.message_changes import MessageChangeService

        return MessageChangeService(self.message_store, self.messaging, max_text_bytes=self.settings.max_text_bytes,
                                    edit_window_seconds=self.settings.edit_window_seconds, blocks=self.blocks,
                                    moderation=self.moderation, attachments=self.attachments, events=self.events)

    @cached_property
    def inbox(self) -> InboxService:
        from parley.inbox import InboxService

        return InboxService(self.conversation_store, self.message_store, self.conversations, self.profiles,
                            self.fanout, blocks=self.blocks)

    @cached_property
    def badges(self) -> BadgeService:
        from parley.badges import BadgeService

        return BadgeService(self.inbox, self.profiles)

    @cached_property
    def typing(self) -> TypingService:
        from parley.typing_indicators import TypingService

        return TypingService(self.conversations, self.profiles, self.throttles, self.fanout,
                             self.settings.typing_interval_ms, blocks=self.blocks)

    @cached_property
    def preferences(self) -> PreferencesService:
        from parley.preferences import PreferencesService

        return PreferencesService(self.profiles, self.conversation_store, self.conversations, self.presence)

    @cached_property
    def blocking(self) -> BlockingService:
        from parley.blocking import BlockingService

        return BlockingService(self.blocks)

    @cached_property
    def reports(self) -> ReportService:
        from parley.reports import ReportService
        from parley.stores.reports import DynamoReportStore

        publisher = None
        if self.settings.moderation_topic_arn:
            from parley.stores.topics import SnsPublisher

            publisher = SnsPublisher(self.settings.moderation_topic_arn)
        return ReportService(self.conversations, self.message_store, DynamoReportStore(self.settings.table_name),
                             publisher)

    @cached_property
    def report_review(self) -> ReportReviewService:
        from parley.report_review import ReportReviewService
        from parley.stores.reports import DynamoReportStore

        return ReportReviewService(DynamoReportStore(self.settings.table_name), self.message_store,
                                   self.message_changes, self.bans)

    @cached_property
    def attachments(self) -> AttachmentService:
        return _attachments(self.conversations, self.settings)

    @cached_property
    def devices(self) -> DeviceService:
        from parley.devices import DeviceService
        from parley.stores.devices import DynamoDeviceStore

        return DeviceService(DynamoDeviceStore(self.settings.table_name), _push_gateway(self.settings),
                             self.settings.push_applications)

    @cached_property
    def delivery(self) -> DeliveryService:
        return _delivery(self.fanout, self.attachments, self.settings)


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(get_settings())


def _events(settings: Settings) -> Events | None:
    if not settings.moderation_topic_arn:
        return None
    from parley.events import Events
    from parley.stores.topics import SnsPublisher

    return Events(SnsPublisher(settings.moderation_topic_arn), message_created=settings.message_created_events,
                  include_text=settings.push_content == "full")


def _fanout(connection_store: DynamoConnectionStore, settings: Settings) -> Fanout | None:
    if not settings.callback_url:
        return None
    from parley.fanout import Fanout
    from parley.stores.management_api import ManagementApiGateway

    workers = settings.fanout_pool_size
    return Fanout(connection_store, ManagementApiGateway(settings.callback_url, workers), workers,
                  settings.prune_grace_ms)


def _attachments(conversations: ConversationService, settings: Settings) -> AttachmentService:
    from parley.attachments import AttachmentService
    from parley.stores.upload_records import DynamoUploadRecordStore

    objects = None
    if settings.uploads_bucket:
        from parley.stores.uploads import S3ObjectStore

        objects = S3ObjectStore(settings.uploads_bucket)
    return AttachmentService(
        conversations, objects, DynamoUploadRecordStore(settings.table_name), max_bytes=settings.upload_max_bytes,
        upload_ttl_seconds=settings.upload_url_ttl_seconds, download_ttl_seconds=settings.download_url_ttl_seconds)


def _push_gateway(settings: Settings) -> SnsPushGateway | None:
    if not settings.push_applications:
        return None
    from parley.stores.push import SnsPushGateway

    return SnsPushGateway()


def _delivery(fanout: Fanout | None, attachments: AttachmentService, settings: Settings) -> DeliveryService:
    from parley.delivery import DeliveryService
    from parley.stores.blocks import DynamoBlockStore
    from parley.stores.conversations import DynamoConversationStore
    from parley.stores.messages import DynamoMessageStore

    name = settings.table_name
    unread_events = queue = None
    if settings.unread_topic_arn:
        from parley.stores.topics import SnsPublisher
        from parley.unread_events import UnreadEventPublisher

        unread_events = UnreadEventPublisher(SnsPublisher(settings.unread_topic_arn),
                                             include_text=settings.push_content == "full")
    if settings.delivery_queue_url:
        from parley.stores.delivery_queue import SqsDeliveryQueue

        queue = SqsDeliveryQueue(settings.delivery_queue_url)
    return DeliveryService(
        fanout, unread_events, attachments, queue,
        messages=DynamoMessageStore(name), conversations=DynamoConversationStore(name), blocks=DynamoBlockStore(name),
        budget_ms=settings.delivery_budget_ms, redeliver_window_seconds=settings.redeliver_window_seconds)


@lru_cache(maxsize=1)
def deliverer() -> DeliveryService:
    """The ``deliver`` function's wiring (its own Lambda, fed by the delivery queue)."""
    from parley.conversations import ConversationService
    from parley.stores.connections import DynamoConnectionStore
    from parley.stores.conversations import DynamoConversationStore

    settings = get_settings()
    fanout = _fanout(DynamoConnectionStore(settings.table_name), settings)
    conversations = ConversationService(DynamoConversationStore(settings.table_name), settings.max_group_members)
    return _delivery(fanout, _attachments(conversations, settings), settings)


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    """The push notifier's wiring (its own Lambda: it needs neither the socket API nor fan-out)."""
    from parley.conversations import ConversationService
    from parley.inbox import InboxService
    from parley.notifier import Notifier
    from parley.stores.blocks import DynamoBlockStore
    from parley.stores.conversations import DynamoConversationStore
    from parley.stores.devices import DynamoDeviceStore
    from parley.stores.messages import DynamoMessageStore
    from parley.stores.profiles import DynamoProfileStore
    from parley.stores.push import DynamoPushLedger
    from parley.stores.recipients import DynamoRecipientStore

    settings = get_settings()
    name = settings.table_name
    conversation_store, profiles = DynamoConversationStore(name), DynamoProfileStore(name)
    message_store = DynamoMessageStore(name)
    inbox = InboxService(conversation_store, message_store,
                         ConversationService(conversation_store, settings.max_group_members), profiles, None,
                         blocks=DynamoBlockStore(name))
    return Notifier(DynamoRecipientStore(name), message_store, profiles, DynamoDeviceStore(name),
                    _push_gateway(settings), DynamoPushLedger(name), inbox,
                    with_content=settings.push_content == "full")


@lru_cache(maxsize=1)
def thumbnails() -> ThumbnailService:
    """The thumbnail maker's wiring (its own Lambda, triggered by uploads)."""
    from parley.stores.connections import DynamoConnectionStore
    from parley.stores.conversations import DynamoConversationStore
    from parley.stores.upload_records import DynamoUploadRecordStore
    from parley.stores.uploads import S3ObjectStore
    from parley.thumbnails import ThumbnailService

    settings = get_settings()
    if not settings.uploads_bucket:
        raise ValueError("PARLEY_UPLOADS_BUCKET is required by the thumbnail function")
    name = settings.table_name
    fanout = _fanout(DynamoConnectionStore(name), settings)
    return ThumbnailService(S3ObjectStore(settings.uploads_bucket), DynamoUploadRecordStore(name),
                            DynamoConversationStore(name), fanout, settings.thumbnail_px)


@lru_cache(maxsize=1)
def jobs() -> JobService:
    """Erasure and export jobs (``parley.jobs``): started by the server API, run by its jobs-queue worker."""
    from parley.erasure import ErasureWork
    from parley.export import ExportWork
    from parley.jobs import JobService
    from parley.stores.devices import DynamoDeviceStore
    from parley.stores.jobs import DynamoJobStore, SqsJobQueue
    from parley.stores.user_data import DynamoUserDataStore

    settings = get_settings()
    if not settings.jobs_queue_url:
        raise ValueError("PARLEY_JOBS_QUEUE_URL is required for erasure and export")
    name, built = settings.table_name, services()
    data = DynamoUserDataStore(name)
    objects = None
    if settings.uploads_bucket:
        from parley.stores.uploads import S3ObjectStore

        objects = S3ObjectStore(settings.uploads_bucket)
    gateway = None
    if settings.callback_url:
        from parley.stores.management_api import ManagementApiGateway

        gateway = ManagementApiGateway(settings.callback_url)
    events = None
    if settings.moderation_topic_arn:  # user.erased goes with the other lifecycle events (docs/events.md)
        from parley.stores.topics import SnsPublisher

        events = SnsPublisher(settings.moderation_topic_arn)
    delivery = built.delivery

    def deliver(outcome: GroupOutcome) -> None:
        if outcome.sent is not None:
            delivery.deliver_sent(outcome.sent, "")

    erasure = ErasureWork(data, built.conversation_store, built.groups, built.blocks, DynamoDeviceStore(name),
                          batch_items=settings.job_batch_items, rate_limit_kinds=sorted(settings.rate_limit_table),
                          push=_push_gateway(settings), gateway=gateway, objects=objects, events=events,
                          deliver=deliver)
    export = ExportWork(data, built.conversation_store, built.profiles, built.blocks, objects,
                        batch_items=settings.job_batch_items, url_ttl_seconds=settings.export_url_ttl_seconds)
    return JobService(DynamoJobStore(name), SqsJobQueue(settings.jobs_queue_url), [erasure, export])


@lru_cache(maxsize=1)
def operator_views() -> OperatorViews:
    """What the admin console reads of reports, users and conversations (server API only)."""
    from parley.operator_views import OperatorViews
    from parley.stores.reports import DynamoReportStore

    built = services()
    return OperatorViews(reports=DynamoReportStore(built.settings.table_name), messages=built.message_store,
                         conversations=built.conversation_store, profiles=built.profiles,
                         connections=built.connection_store, blocks=built.blocks, bans=built.bans)


@lru_cache(maxsize=1)
def metric_source() -> MetricSource:
    """Where the console's overview reads its figures: CloudWatch, or the local stack's counters."""
    settings = get_settings()
    if settings.console_metrics == "local":
        from parley.figures import local_counters

        return local_counters
    from parley.stores.cloudwatch import CloudWatchMetrics

    return CloudWatchMetrics(deployment=settings.deployment, dead_letter_queues=settings.dead_letter_queue_names)


@lru_cache(maxsize=1)
def audit_log() -> AuditLog:
    """The server API's audit log (its own store: the socket routes never import it)."""
    from parley.audit import AuditLog
    from parley.stores.audit import DynamoAuditStore

    settings = get_settings()
    return AuditLog(DynamoAuditStore(settings.table_name), retention_days=settings.audit_retention_days)


def reset(*, keep_clients: bool = False) -> None:
    """Forget every once-per-process object (settings, services, cached clients), so the next call reads
    the environment again: for hosts that change it (tests, the local stack, the benchmarks), never Lambda.
    ``keep_clients``: keep the boto3 clients (the AWS endpoint and credentials did not change)."""
    get_settings.cache_clear()
    services.cache_clear()
    notifier.cache_clear()
    deliverer.cache_clear()
    thumbnails.cache_clear()
    jobs.cache_clear()
    operator_views.cache_clear()
    metric_source.cache_clear()
    audit_log.cache_clear()
    # A module never imported holds nothing to forget (and importing it here would cost a cold start).
    if "parley.stores.secrets" in sys.modules:
        sys.modules["parley.stores.secrets"].reset()
    if keep_clients:
        return
    for module in ("parley.stores.uploads",  # its S3 client (SigV4 for presigning) is cached apart from the others
                   "parley.stores.moderation_lambda"):
        if module in sys.modules:
            sys.modules[module].reset()
    if "parley.aws" in sys.modules:
        sys.modules["parley.aws"].reset_clients()
