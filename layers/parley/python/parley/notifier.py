"""The push notifier: for each offline recipient of an unread event, resolve their preferences, mutes,
devices, unread count and badge, and push to each device in its platform's format.

What it reads does not grow with a recipient's inbox: per event, the push ledger and the conversation's
newest message; per recipient, their profile (settings, devices, badge) and their membership (read
position, mute), two items in one batch for up to 50 recipients. The recipient's unread count in the
conversation follows from the message's seq and their read position (``parley.read_state``); only a
recipient who blocked someone reads back past that user's messages in a group (bounded, and growing with
that conversation's unread messages only). The badge is a stored count of conversations with unread
messages (``parley.badges``): it is written only when this message turns its conversation unread for the
recipient, never once per message.

No device is notified twice for a message. The ledger records the devices pushed for a message (one
write per event) and a retried event skips them; the notifier stops before its deadline so the ledger
is written; an event whose pushes all went out never fails for its ledger; and every push carries the
message id as its collapse id (APNs ``apns-collapse-id``, FCM ``tag`` and ``messageId`` in its data), so
even a push repeated after a lost SNS answer or a killed invocation is shown once.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.errors import EndpointDisabledError
from parley.inbox import InboxService
from parley.models import ConversationKind, Device, Membership, NotifyMode, Profile
from parley.observability import logger, metrics
from parley.ports import DeviceStore, MessageStore, ProfileStore, PushGateway, PushLedger, RecipientStore
from parley.push_payloads import sns_message
from parley.read_state import Position
from parley.unread_events import UnreadEvent

LEDGER_DAYS = 2
# Pushing stops this long before the invocation's deadline, leaving time to write the ledger.
LEDGER_MARGIN_S = 3.0
# Publishes to SNS run in parallel: a group message to 40 offline devices takes 3 rounds of one publish's
# time, not 40 (docs/push.md "What a push reads and writes").
PUBLISH_WORKERS = 16


def notify_mode(membership: Membership, profile: Profile, mentioned: bool, now_ms: int) -> NotifyMode:
    """How a message reaches an offline recipient: their mode for the conversation, but an alert (``push``)
    when it mentions them, even in ``badge`` or ``passive`` mode, unless they muted the conversation (a mute
    silences everything, mentions included)."""
    if mentioned and not membership.muted(now_ms):
        return NotifyMode.PUSH
    return membership.effective_notify(profile, now_ms)


class OutOfTimeError(Exception):
    """The notifier stopped before its deadline; the retried event pushes the rest."""


@dataclass(frozen=True)
class _Push:
    user: str
    device: Device
    message: dict[str, str]


@dataclass
class NotifyReport:
    pushed: int = 0
    skipped_passive: int = 0
    skipped_read: int = 0  # recipients who had read the message (or replied) by the time of the push
    duplicates: int = 0
    removed_endpoints: int = 0


class Notifier:
    def __init__(self, recipients: RecipientStore, messages: MessageStore, profiles: ProfileStore,
                 devices: DeviceStore, gateway: PushGateway | None, ledger: PushLedger, inbox: InboxService, *,
                 with_content: bool, clock: Clock = now_ms) -> None:
        self._recipients = recipients
        self._messages = messages
        self._profiles = profiles
        self._devices = devices
        self._gateway = gateway
        self._ledger = ledger
        self._inbox = inbox
        self._with_content = with_content
        self._clock = clock
        self._pool: ThreadPoolExecutor | None = None  # made at the first push, kept by the container

    def notify(self, event: UnreadEvent, deadline_s: float | None = None) -> NotifyReport:
        """Push ``event`` to its recipients' devices. ``deadline_s`` (``time.monotonic()`` seconds): when the
        invocation ends; raises ``OutOfTimeError`` after writing the ledger if the pushes do not fit."""
        report = NotifyReport()
        if self._gateway is None:  # push is off on this deployment: the event is for other subscribers
            return report
        now = self._clock()
        already = self._ledger.pushed(event.message_id)
        pushed: set[str] = set()
        stop_at = None if deadline_s is None else deadline_s - LEDGER_MARGIN_S
        expires_at = now // 1000 + LEDGER_DAYS * 86400
        try:
            self._push_all(event, now, already, pushed, report, stop_at)
        except BaseException:
            self._record(event.message_id, pushed, expires_at)  # the retry skips what went out
            raise
        # Every push went out: a ledger that cannot be written must not fail the event, or its retry would
        # push everyone again.
        self._record(event.message_id, pushed, expires_at)
        return report

    def _record(self, message_id: str, pushed: set[str], expires_at: int) -> None:
        """One ledger write for the whole event (best effort: the collapse ids cover a lost one)."""
        try:
            self._ledger.record(message_id, pushed, expires_at)
        except Exception:
            logger.exception("recording pushed devices failed", extra={"pushed": len(pushed)})

    def _push_all(self, event: UnreadEvent, now: int, already: set[str], pushed: set[str],
                  report: NotifyReport, stop_at: float | None) -> None:
        gateway = self._gateway
        assert gateway is not None
        recipients = self._recipients.get_many(event.recipients, event.conversation_id)
        # Carries each recent sender's newest own seq: a recipient who replied since has read the message.
        newest = self._messages.latest([event.conversation_id]).get(event.conversation_id)
        pushes: list[_Push] = []
        for user in dict.fromkeys(event.recipients):
            if stop_at is not None and time.monotonic() >= stop_at:
                raise OutOfTimeError(event.message_id)
            profile, membership = recipients[user].profile, recipients[user].membership
            if membership is None:  # left the conversation since
                continue
            mode = notify_mode(membership, profile, user in (event.mentions or ()), now)
            if mode is NotifyMode.PASSIVE:
                report.skipped_passive += 1
                continue
            fresh = [d for d in profile.devices if d.token_hash not in already]
            report.duplicates += len(profile.devices) - len(fresh)
            if not fresh:
                continue
            unread = self._inbox.unread_up_to(membership, profile, ConversationKind(event.conversation_kind),
                                              Position(event.seq, event.ordinal or event.seq), newest)
            if not unread:
                report.skipped_read += 1  # read it (on another device) or replied since: nothing to tell
                continue
            # A mention pushed from a conversation that is otherwise passive does not count it in the badge
            # (passive conversations never do): the badge stays as stored.
            counted = membership.effective_notify(profile, now) is not NotifyMode.PASSIVE
            badge = self._badge(event, profile, unread) if counted else profile.badge
            pushes += [_Push(user, device, sns_message(device.endpoint_arn, event, mode, badge, unread,
                                                       self._with_content)) for device in fresh]
        self._publish_all(pushes, event.message_id, pushed, report, stop_at)

    def _publish_all(self, pushes: list[_Push], message_id: str, pushed: set[str], report: NotifyReport,
                     stop_at: float | None) -> None:
        """Publish every push at once. Each one that went out is added to ``pushed`` (for the ledger); one
        that would start after ``stop_at`` is not published. Raises after every publish has ended."""
        if not pushes:
            return
        gateway = self._gateway
        assert gateway is not None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=PUBLISH_WORKERS, thread_name_prefix="push")

        def publish(push: _Push) -> None:
            if stop_at is not None and time.monotonic() >= stop_at:
                raise OutOfTimeError(message_id)
            gateway.publish(push.device.endpoint_arn, push.message, collapse_id=message_id)

        futures: list[tuple[_Push, Future[None]]] = [(p, self._pool.submit(publish, p)) for p in pushes]
        disabled: list[_Push] = []
        error: Exception | None = None  # the first failure, raised once every publish has ended
        fatal: BaseException | None = None  # not an Exception: the invocation is ending (a timeout, a kill)
        for push, future in futures:
            try:
                future.result()
            except EndpointDisabledError:
                disabled.append(push)
            except Exception as exc:
                if not isinstance(exc, OutOfTimeError):
                    logger.exception("push failed", extra={"recipient": push.user})
                    metrics.add_metric(name="PushFailures", unit="Count", value=1)
                error = error or exc
            except BaseException as exc:
                fatal = fatal or exc
            else:
                pushed.add(push.device.token_hash)
                report.pushed += 1
        if fatal is not None:
            raise fatal
        for push in disabled:
            # the platform said the token is dead (app uninstalled, token expired): forget the device
            self._devices.delete(push.user, push.device.token_hash)
            gateway.delete_endpoint(push.device.endpoint_arn)
            report.removed_endpoints += 1
        if error is not None:
            raise error

    def _badge(self, event: UnreadEvent, profile: Profile, unread: int) -> int:
        """The recipient's badge: counted up when this message turned the conversation unread for them (one
        write, done once even if the event is retried), else as stored. Never 0: this conversation is unread."""
        if unread == 1:
            counted = self._profiles.count_unread(profile.user_id, f"{event.conversation_id}#{event.seq}")
            if counted is not None:
                return counted
        return max(profile.badge, 1)
