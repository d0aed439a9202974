"""Builds the services with their real adapters, once per Lambda instance."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from parley import aws
from parley.attachments import AttachmentService
from parley.badges import BadgeService
from parley.blocking import BlockingService
from parley.config import Settings, get_settings
from parley.connections import ConnectionService
from parley.conversations import ConversationService
from parley.delivery import DeliveryService
from parley.devices import DeviceService
from parley.fanout import Fanout
from parley.inbox import InboxService
from parley.messaging import MessagingService
from parley.moderation import ModerationService
from parley.notifier import Notifier
from parley.preferences import PreferencesService
from parley.presence import PresenceService
from parley.rate_limits import RateLimiter
from parley.reports import ReportService
from parley.stores import moderation_lambda, secrets, uploads
from parley.stores.blocks import DynamoBlockStore
from parley.stores.connections import DynamoConnectionStore
from parley.stores.conversations import DynamoConversationStore
from parley.stores.delivery_queue import SqsDeliveryQueue
from parley.stores.devices import DynamoDeviceStore
from parley.stores.management_api import ManagementApiGateway
from parley.stores.messages import DynamoMessageStore
from parley.stores.moderation_lambda import LambdaModerationHook
from parley.stores.profiles import DynamoProfileStore
from parley.stores.push import DynamoPushLedger, SnsPushGateway
from parley.stores.recipients import DynamoRecipientStore
from parley.stores.reports import DynamoReportStore
from parley.stores.throttles import DynamoThrottleStore
from parley.stores.topics import SnsPublisher
from parley.stores.upload_records import DynamoUploadRecordStore
from parley.stores.uploads import S3ObjectStore
from parley.thumbnails import ThumbnailService
from parley.typing_indicators import TypingService
from parley.unread_events import UnreadEventPublisher


@dataclass(frozen=True)
class Services:
    connections: ConnectionService
    conversations: ConversationService
    messaging: MessagingService
    presence: PresenceService
    inbox: InboxService
    badges: BadgeService
    typing: TypingService
    preferences: PreferencesService
    blocking: BlockingService
    reports: ReportService
    limits: RateLimiter
    attachments: AttachmentService
    devices: DeviceService
    delivery: DeliveryService
    fanout: Fanout | None  # None where no callback URL is configured (nothing can be delivered)


@lru_cache(maxsize=1)
def services() -> Services:
    settings = get_settings()
    name = settings.table_name
    connection_store, conversation_store = DynamoConnectionStore(name), DynamoConversationStore(name)
    message_store, profiles = DynamoMessageStore(name), DynamoProfileStore(name)
    blocks, throttles = DynamoBlockStore(name), DynamoThrottleStore(name)
    limits = RateLimiter(throttles, settings.rate_limit_table)
    fanout = _fanout(connection_store, settings)
    conversations = ConversationService(conversation_store, settings.max_group_members, blocks=blocks)
    presence = PresenceService(profiles, conversation_store, connection_store, fanout, blocks=blocks)
    if fanout is not None:
        fanout.on_pruned = presence.disconnected
    hook = (LambdaModerationHook(settings.moderation_function, settings.moderation_timeout_ms)
            if settings.moderation_function else None)
    moderation = ModerationService(hook, profiles, fail_open=settings.moderation_fail_open,
                                   max_text_bytes=settings.max_text_bytes)
    publisher = SnsPublisher(settings.moderation_topic_arn) if settings.moderation_topic_arn else None
    attachments = _attachments(conversations, settings)
    inbox = InboxService(conversation_store, message_store, conversations, profiles, fanout, blocks=blocks)
    return Services(
        connections=ConnectionService(connection_store, settings.connection_ttl_seconds,
                                      max_per_user=settings.max_connections_per_user, limiter=limits,
                                      profiles=profiles),
        conversations=conversations,
        messaging=MessagingService(message_store, conversations, max_text_bytes=settings.max_text_bytes,
                                   idempotency_window=settings.idempotency_window, blocks=blocks,
                                   moderation=moderation if moderation.enabled else None,
                                   read_positions=conversation_store),
        presence=presence,
        inbox=inbox,
        badges=BadgeService(inbox, profiles),
        typing=TypingService(conversations, profiles, throttles, fanout, settings.typing_interval_ms, blocks=blocks),
        preferences=PreferencesService(profiles, conversation_store, conversations, presence),
        blocking=BlockingService(blocks),
        reports=ReportService(conversations, message_store, DynamoReportStore(name), publisher),
        limits=limits,
        attachments=attachments,
        devices=DeviceService(DynamoDeviceStore(name), SnsPushGateway() if settings.push_applications else None,
                              settings.push_applications),
        delivery=_delivery(fanout, attachments, settings),
        fanout=fanout,
    )


def _fanout(connection_store: DynamoConnectionStore, settings: Settings) -> Fanout | None:
    if not settings.callback_url:
        return None
    workers = settings.fanout_pool_size
    return Fanout(connection_store, ManagementApiGateway(settings.callback_url, workers), workers,
                  settings.prune_grace_ms)


def _attachments(conversations: ConversationService, settings: Settings) -> AttachmentService:
    return AttachmentService(
        conversations, S3ObjectStore(settings.uploads_bucket) if settings.uploads_bucket else None,
        DynamoUploadRecordStore(settings.table_name), max_bytes=settings.upload_max_bytes,
        upload_ttl_seconds=settings.upload_url_ttl_seconds, download_ttl_seconds=settings.download_url_ttl_seconds)


def _delivery(fanout: Fanout | None, attachments: AttachmentService, settings: Settings) -> DeliveryService:
    name = settings.table_name
    return DeliveryService(
        fanout,
        UnreadEventPublisher(SnsPublisher(settings.unread_topic_arn), include_text=settings.push_content == "full")
        if settings.unread_topic_arn else None,
        attachments,
        SqsDeliveryQueue(settings.delivery_queue_url) if settings.delivery_queue_url else None,
        messages=DynamoMessageStore(name), conversations=DynamoConversationStore(name),
        budget_ms=settings.delivery_budget_ms, redeliver_window_seconds=settings.redeliver_window_seconds)


@lru_cache(maxsize=1)
def deliverer() -> DeliveryService:
    """The ``deliver`` function's wiring (its own Lambda, fed by the delivery queue)."""
    settings = get_settings()
    fanout = _fanout(DynamoConnectionStore(settings.table_name), settings)
    conversations = ConversationService(DynamoConversationStore(settings.table_name), settings.max_group_members)
    return _delivery(fanout, _attachments(conversations, settings), settings)


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    """The push notifier's wiring (its own Lambda: it needs neither the socket API nor fan-out)."""
    settings = get_settings()
    name = settings.table_name
    conversation_store, profiles = DynamoConversationStore(name), DynamoProfileStore(name)
    message_store = DynamoMessageStore(name)
    inbox = InboxService(conversation_store, message_store,
                         ConversationService(conversation_store, settings.max_group_members), profiles, None,
                         blocks=DynamoBlockStore(name))
    gateway = SnsPushGateway() if settings.push_applications else None
    return Notifier(DynamoRecipientStore(name), message_store, profiles, DynamoDeviceStore(name), gateway,
                    DynamoPushLedger(name), inbox, with_content=settings.push_content == "full")


@lru_cache(maxsize=1)
def thumbnails() -> ThumbnailService:
    """The thumbnail maker's wiring (its own Lambda, triggered by uploads)."""
    settings = get_settings()
    if not settings.uploads_bucket:
        raise ValueError("PARLEY_UPLOADS_BUCKET is required by the thumbnail function")
    name = settings.table_name
    fanout = _fanout(DynamoConnectionStore(name), settings)
    return ThumbnailService(S3ObjectStore(settings.uploads_bucket), DynamoUploadRecordStore(name),
                            DynamoConversationStore(name), fanout, settings.thumbnail_px)


def reset(*, keep_clients: bool = False) -> None:
    """Forget every once-per-process object (settings, services, cached clients), so the next call reads
    the environment again: for hosts that change it (tests, the local stack, the benchmarks), never Lambda.
    ``keep_clients``: keep the boto3 clients (the AWS endpoint and credentials did not change)."""
    get_settings.cache_clear()
    services.cache_clear()
    notifier.cache_clear()
    deliverer.cache_clear()
    thumbnails.cache_clear()
    secrets.reset()
    if keep_clients:
        return
    uploads.reset()  # its S3 client (SigV4 for presigning) is cached apart from the others
    moderation_lambda.reset()
    aws.reset_clients()
