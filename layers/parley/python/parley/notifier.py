"""The push notifier: for each offline recipient of an unread event, resolve their preferences, mutes
and devices, compute their badge (the real total unread count), and push to each device in its
platform's format. A retried event never notifies the same device twice for the same message."""

from __future__ import annotations

from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.errors import EndpointDisabledError
from parley.inbox import InboxService
from parley.models import NotifyMode
from parley.observability import logger
from parley.ports import ConversationStore, DeviceStore, ProfileStore, PushGateway, PushLedger
from parley.push_payloads import sns_message
from parley.unread_events import UnreadEvent

LEDGER_DAYS = 2


@dataclass
class NotifyReport:
    pushed: int = 0
    skipped_passive: int = 0
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

    def notify(self, event: UnreadEvent) -> NotifyReport:
        report = NotifyReport()
        if self._gateway is None:  # push is off on this deployment: the event is for other subscribers
            return report
        now = self._clock()
        already = self._ledger.pushed(event.message_id)
        pushed: set[str] = set()
        try:
            self._push_all(event, now, already, pushed, report)
        finally:
            # one write for the whole event, also when it fails midway: a retry skips what went out
            self._ledger.record(event.message_id, pushed, now // 1000 + LEDGER_DAYS * 86400)
        return report

    def _push_all(self, event: UnreadEvent, now: int, already: set[str], pushed: set[str],
                  report: NotifyReport) -> None:
        gateway = self._gateway
        assert gateway is not None
        profiles = self._profiles.get_many(event.recipients)
        for user in dict.fromkeys(event.recipients):
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
            _, badge = self._inbox.unread_counts(user)
            for device in fresh:
                message = sns_message(device.endpoint_arn, event, mode, badge, self._with_content)
                try:
                    gateway.publish(device.endpoint_arn, message)
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
