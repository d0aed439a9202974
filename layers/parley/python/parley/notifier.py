"""The push notifier: for each offline recipient of an unread event, resolve their preferences, mutes
and devices, compute their badge (the real total unread count), and push to each device in its
platform's format.

No device is notified twice for a message. The ledger records the devices pushed for a message (one
write per event) and a retried event skips them; the notifier stops before its deadline so the ledger
is written; an event whose pushes all went out never fails for its ledger; and every push carries the
message id as its collapse id (APNs ``apns-collapse-id``, FCM ``tag`` and ``messageId`` in its data), so
even a push repeated after a lost SNS answer or a killed invocation is shown once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.errors import EndpointDisabledError
from parley.inbox import InboxService
from parley.models import NotifyMode, Profile
from parley.observability import logger
from parley.ports import ConversationStore, DeviceStore, ProfileStore, PushGateway, PushLedger
from parley.push_payloads import sns_message
from parley.unread_events import UnreadEvent

LEDGER_DAYS = 2
# Pushing stops this long before the invocation's deadline, leaving time to write the ledger.
LEDGER_MARGIN_S = 3.0


class OutOfTimeError(Exception):
    """The notifier stopped before its deadline; the retried event pushes the rest."""


@dataclass
class NotifyReport:
    pushed: int = 0
    skipped_passive: int = 0
    skipped_read: int = 0  # recipients who had read the message (or replied) by the time of the push
    duplicates: int = 0
    removed_endpoints: int = 0


class Notifier:
    def __init__(self, profiles: ProfileStore, conversations: ConversationStore, devices: DeviceStore,
                 gateway: PushGateway | None, ledger: PushLedger, inbox: InboxService, *, with_content: bool,
                 clock: Clock = now_ms) -> None:
        self._profiles = profiles
        self._conversations = conversations
        self._devices = devices
        self._gateway = gateway
        self._ledger = ledger
        self._inbox = inbox
        self._with_content = with_content
        self._clock = clock

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
        profiles = self._profiles.get_many(event.recipients)
        for user in dict.fromkeys(event.recipients):
            if stop_at is not None and time.monotonic() >= stop_at:
                raise OutOfTimeError(event.message_id)
            membership = self._conversations.membership(user, event.conversation_id)
            if membership is None:  # left the conversation since
                continue
            mode = membership.effective_notify(profiles[user], now)
            if mode is NotifyMode.PASSIVE:
                report.skipped_passive += 1
                continue
            devices = self._devices.list_for_user(user)
            fresh = [d for d in devices if d.token_hash not in already]
            report.duplicates += len(devices) - len(fresh)
            if not fresh:
                continue
            summaries, badge = self._inbox.unread_counts(user, self._blocked(profiles[user]))
            if not any(s.conversation.conversation_id == event.conversation_id and s.read_seq < event.seq
                       for s in summaries):
                report.skipped_read += 1  # read it (on another device) or replied since: nothing to tell
                continue
            for device in fresh:
                message = sns_message(device.endpoint_arn, event, mode, badge, self._with_content)
                try:
                    gateway.publish(device.endpoint_arn, message, collapse_id=event.message_id)
                except EndpointDisabledError:
                    # the platform said the token is dead (app uninstalled, token expired): forget the device
                    self._devices.delete(user, device.token_hash)
                    gateway.delete_endpoint(device.endpoint_arn)
                    report.removed_endpoints += 1
                    continue
                except Exception:
                    logger.exception("push failed", extra={"recipient": user})
                    raise
                pushed.add(device.token_hash)
                report.pushed += 1

    @staticmethod
    def _blocked(profile: Profile) -> frozenset[str] | None:
        """Nobody, when the profile says its user blocked no one; else None (the inbox reads the blocks)."""
        return frozenset() if profile.blocks_count == 0 else None
