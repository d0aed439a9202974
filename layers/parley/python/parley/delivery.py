"""Delivery of a stored message: live to every member's open connections, and the unread event for the
members it did not reach. A stored message is never stranded.

``send`` runs delivery right after the store, under a time budget. Whatever it cannot finish -- a
connection lookup that failed or ran late, an unread event SNS refused, an attachment not linked yet --
goes to the delivery queue as a ``DeliveryJob``, and the ``deliver`` function finishes it (SQS: at least
once, retried, then dead-lettered with an alarm). Either way the sender gets its ack.

Every step is safe to repeat: apps drop a message frame whose ``seq`` they already have, and the push
notifier never pushes a device twice for a message (its ledger and APNs collapse ids), so redoing a step
costs a duplicate frame at worst. That is also what a resend of a stored message does (``send`` with a
``clientMsgId`` already stored): it redoes the delivery, which covers a ``send`` whose Lambda was killed
outright between the store and its end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from parley.attachments import AttachmentService
from parley.clock import Clock, now_ms
from parley.errors import DeliveryHandOffError
from parley.fanout import Fanout, FanoutResult, Payload
from parley.messaging import SendOutcome
from parley.models import Conversation, ConversationKind, DeliveryJob, Message
from parley.observability import logger
from parley.ports import BlockStore, ConversationStore, DeliveryQueue, MessageStore
from parley.protocol.messages import message_frames
from parley.unread_events import UnreadEventPublisher

# Time kept back from the Lambda's own timeout to queue what is left (an SQS send, with its retries).
HAND_OFF_MARGIN_S = 2.0


@dataclass(frozen=True)
class DeliveryReport:
    message: Message  # as delivered (with the previews of attachments already processed)
    delivered: int  # posts that went through
    stale: int  # connections found gone
    unread: tuple[str, ...]  # members given to the unread path (in an event published now)
    remaining: DeliveryJob | None  # what is left undone (None: all done)
    handed_off: bool  # ``remaining`` went to the delivery queue


class DeliveryService:
    def __init__(self, fanout: Fanout | None, unread_events: UnreadEventPublisher | None,
                 attachments: AttachmentService | None, queue: DeliveryQueue | None, *,
                 messages: MessageStore | None = None, conversations: ConversationStore | None = None,
                 blocks: BlockStore | None = None, budget_ms: int = 3000, redeliver_window_seconds: int = 600,
                 clock: Clock = now_ms) -> None:
        self._budget_s = budget_ms / 1000
        self._redeliver_window_ms = redeliver_window_seconds * 1000
        self._clock = clock
        self._messages = messages
        self._conversations = conversations
        self._blocks = blocks
        self._fanout = fanout
        self._unread_events = unread_events
        self._attachments = attachments
        self._queue = queue

    def deliver_sent(self, sent: SendOutcome, connection_id: str | None,
                     invocation_deadline_s: float | None = None) -> DeliveryReport | None:
        """After ``send`` stored (or recognised) a message: deliver it within the time budget and hand off the
        rest. A resend delivers again (what its first attempt did is not known), unless the original is older
        than the redelivery window (None then)."""
        if sent.duplicate and self._clock() - sent.message.sent_at > self._redeliver_window_ms:
            return None
        deadline = time.monotonic() + self._budget_s
        if invocation_deadline_s is not None:
            deadline = min(deadline, invocation_deadline_s - HAND_OFF_MARGIN_S)
        job = DeliveryJob(conversation_id=sent.message.conversation_id, seq=sent.message.seq, live=sent.recipients,
                          exclude_connection=connection_id, mark=mentioned_recipients(sent.message, sent.recipients))
        return self.complete(sent.message, sent.conversation, job, deadline_s=deadline,
                             quoted={sent.quoted.seq: sent.quoted} if sent.quoted else None)

    def complete(self, message: Message, conversation: Conversation, job: DeliveryJob, *,
                 deadline_s: float | None = None, hand_off: bool = True,
                 quoted: dict[int, Message] | None = None) -> DeliveryReport:
        """Do ``job`` for ``message`` (``deadline_s``: ``time.monotonic()`` seconds). With ``hand_off`` what is
        left undone goes to the delivery queue; raises ``DeliveryHandOffError`` only if it can be neither done
        nor queued. Without, it is returned in ``remaining`` (the ``deliver`` function lets SQS retry it).
        ``quoted``: the message a reply answers, when the caller has it (else it is read)."""
        try:
            if message.body and message.body.attachments and self._attachments is not None:
                message = self._attachments.link(message)
            live = bool(job.live) and self._fanout is not None
            if live and quoted is None and message.reply_to is not None and message.body is not None:
                quoted = self._quoted(message)
            groups = self._live_frames(message, conversation, job.live, quoted or {}) if live else []
        except Exception:  # tie uploads to the message (read the message replied to) later, with the rest
            logger.exception("preparing the delivery failed", extra={"seq": message.seq})
            return self._finish(message, 0, 0, (), job, hand_off)
        # Mentions are recorded before the message goes out: a member who gets it and asks for their counts
        # sees the mention. Recording one twice changes nothing.
        mark = job.mark
        if mark and self._conversations is not None:
            try:
                self._conversations.add_mention(list(mark), message.conversation_id, message.seq)
                mark = ()
            except Exception:
                logger.exception("recording mentions failed", extra={"seq": message.seq})
        elif mark:
            mark = ()  # no membership store on this deployment: nothing to record
        delivered = stale = 0
        unreached: tuple[str, ...] = ()
        pending: tuple[str, ...] = ()
        if groups and self._fanout is not None:
            now = self._clock()
            results: list[FanoutResult] = [self._fanout.deliver(users, frames, now, job.exclude_connection, deadline_s)
                                           for users, frames in groups]
            delivered, stale = sum(r.delivered for r in results), sum(r.stale for r in results)
            unreached = tuple(u for r in results for u in r.unreached)
            pending = tuple(u for r in results for u in r.pending)
            if message.sender_id in unreached:  # a post to the sender's other device failed: try it again
                pending = (*pending, message.sender_id)
        elif job.live:
            unreached = job.live  # nothing can be delivered live on this deployment
        # The sender is never on the unread path: their own message is not news to them. A change entry is
        # never unread: whoever missed it gets it on catch-up.
        unread = () if message.is_change else \
            tuple(u for u in dict.fromkeys((*job.unread, *unreached)) if u != message.sender_id)
        published: tuple[str, ...] = ()
        events = self._unread_events
        if unread and events is None:
            published = unread  # no unread-events topic on this deployment: nothing more to do for them
        elif unread and events is not None and (deadline_s is None or time.monotonic() < deadline_s):
            try:  # (out of time: the queue publishes it)
                events.publish(message, conversation, list(unread))
                published = unread
            except Exception:
                logger.exception("publishing the unread event failed", extra={"seq": message.seq})
        rest = job.model_copy(update={"live": pending, "unread": tuple(u for u in unread if u not in published),
                                      "mark": mark})
        return self._finish(message, delivered, stale, published, rest, hand_off)

    def redeliver(self, job: DeliveryJob, deadline_s: float | None = None) -> DeliveryReport | None:
        """The ``deliver`` function's work: finish ``job`` from the stored message. What is still left undone
        comes back in ``remaining`` (to be retried); None when the message or conversation is gone."""
        if self._messages is None or self._conversations is None:
            raise ValueError("redelivery needs the message and conversation stores")
        message = self._messages.get(job.conversation_id, job.seq)
        conversation = self._conversations.get(job.conversation_id)
        if message is None or conversation is None:
            logger.warning("nothing to redeliver", extra={"seq": job.seq})
            return None
        return self.complete(message, conversation, job, deadline_s=deadline_s, hand_off=False)

    def _quoted(self, message: Message) -> dict[int, Message]:
        """The message ``message`` replies to, read (none: the quote says it is not there)."""
        if self._messages is None or message.reply_to is None:
            return {}
        target = self._messages.get(message.conversation_id, message.reply_to)
        return {target.seq: target} if target is not None and not target.is_change else {}

    def _live_frames(self, message: Message, conversation: Conversation, users: tuple[str, ...],
                     quoted: dict[int, Message]) -> list[tuple[tuple[str, ...], Payload]]:
        """The frames to post, each to the users it is for (each connection then gets its format's). A reply
        quotes the message it answers, except to a group member who may not read it: one who blocked its
        sender, or added after it to a group that keeps history from joining. They get the reply with a quote
        that says only that the message is not there, as ``history`` shows it to them."""
        target = quoted.get(message.reply_to) if message.reply_to is not None else None
        if target is None or conversation.kind is not ConversationKind.GROUP:
            return [(users, message_frames(message, quoted))]
        blockers = self._blocks.blocked_by(target.sender_id) if self._blocks is not None else set()
        withheld = tuple(u for u in users if u in blockers or conversation.first_visible_seq(u) > target.seq)
        if not withheld:
            return [(users, message_frames(message, quoted))]
        shown = tuple(u for u in users if u not in withheld)
        return [(shown, message_frames(message, quoted)), (withheld, message_frames(message, {}))]

    def _finish(self, message: Message, delivered: int, stale: int, unread: tuple[str, ...], rest: DeliveryJob,
                hand_off: bool) -> DeliveryReport:
        remaining = None if rest.empty else rest
        if remaining is not None and hand_off:
            self._hand_off(remaining)
        return DeliveryReport(message=message, delivered=delivered, stale=stale, unread=unread,
                              remaining=remaining, handed_off=remaining is not None and hand_off)

    def _hand_off(self, job: DeliveryJob) -> None:
        if self._queue is None:
            raise DeliveryHandOffError(f"no delivery queue for seq {job.seq}")
        try:
            self._queue.enqueue(job)
        except Exception as exc:
            raise DeliveryHandOffError(f"seq {job.seq} could not be queued") from exc
        logger.warning("delivery handed off", extra={"seq": job.seq, "live": len(job.live),
                                                     "unread": len(job.unread)})


def mentioned_recipients(message: Message, recipients: tuple[str, ...]) -> tuple[str, ...]:
    """The members a message's mentions are recorded for: those it is delivered to (not one who blocked its
    sender in a group), its sender left out."""
    return tuple(u for u in message.mentions if u in recipients and u != message.sender_id)
