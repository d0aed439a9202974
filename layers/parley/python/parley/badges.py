"""The app badge: how many conversations have unread messages (as WhatsApp counts), kept on the user's
profile so that a push needs no walk over the recipient's conversations.

An exact total of unread *messages* would need a write per recipient per message, or a walk over every
conversation at each push. A count of conversations changes only when a conversation turns unread or read:

* the push notifier adds 1 when a message is the first unread one of its conversation for a recipient
  (``ProfileStore.count_unread``: a retried event does not count it twice);
* a ``read`` that leaves a conversation with nothing unread takes 1 off (never below 0);
* the count is set exactly, by walking the user's conversations, when their last connection closes (once
  per session, and only for users the notifier may push: not in ``passive`` mode, with a device) and at
  every ``unreadCounts`` (which walks them anyway).

Muted conversations, and those set to ``passive``, are not counted. Between two walks the count can drift,
and the next walk corrects it:

* a mute that starts or ends changes nothing until then;
* a conversation that turned unread while the user was online was not counted (no push), but reading it
  takes 1 off: one too few;
* a message stored while a walk runs may be counted by both the walk and the notifier, or by neither;
* an event retried after another of the user's conversations was counted is counted again (the profile
  remembers only the last message counted, to stay small);
* a user in ``passive`` mode whose conversation is set to ``push`` is counted by the notifier only
  (``unreadCounts`` corrects it).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from parley.clock import Clock, now_ms
from parley.inbox import InboxService, known_blocks
from parley.models import ConversationSummary, Membership, NotifyMode, Profile
from parley.ports import ProfileStore


class UnreadCounts(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    conversations: tuple[ConversationSummary, ...]  # those with unread messages
    total: int  # unread messages, in every conversation
    badge: int  # conversations with unread messages, muted and passive ones left out


class BadgeService:
    def __init__(self, inbox: InboxService, profiles: ProfileStore, clock: Clock = now_ms) -> None:
        self._inbox = inbox
        self._profiles = profiles
        self._clock = clock

    def unread_counts(self, me: str) -> UnreadCounts:
        """Every unread count, their total and the badge; the stored badge is corrected if it drifted."""
        profile = self._profiles.get(me)
        unread = tuple(s for s in self._inbox.summaries(me) if s.unread > 0)  # reads the blocks: exact
        badge = self._keep(profile, ((s.membership, s.unread) for s in unread))
        return UnreadCounts(conversations=unread, total=sum(s.unread for s in unread), badge=badge)

    def recompute(self, profile: Profile) -> int | None:
        """Set the badge exactly (after the user's last connection closed): the badge the next push starts
        from. None (nothing read or written) for a user the notifier does not push: ``passive``, no device."""
        if profile.notify is NotifyMode.PASSIVE or not profile.devices:
            return None
        return self._keep(profile, self._inbox.unread_per_conversation(profile.user_id, known_blocks(profile)))

    def _keep(self, profile: Profile, counts: Iterable[tuple[Membership, int]]) -> int:
        now = self._clock()
        badge = sum(1 for membership, unread in counts if unread > 0 and not membership.silenced(now))
        if badge != profile.badge:
            self._profiles.set_badge(profile.user_id, badge)
        return badge
