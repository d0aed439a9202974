"""A user's own settings: visibility, read receipts and how unread messages reach them, with
per-conversation overrides and mutes. The push notifier reads these."""

from __future__ import annotations

from parley.conversations import ConversationService
from parley.models import Membership, NotifyMode, Profile, Visibility
from parley.ports import ConversationStore, ProfileStore
from parley.presence import PresenceService


class PreferencesService:
    def __init__(self, profiles: ProfileStore, store: ConversationStore, conversations: ConversationService,
                 presence: PresenceService) -> None:
        self._profiles = profiles
        self._store = store
        self._conversations = conversations
        self._presence = presence

    def get(self, me: str) -> Profile:
        return self._profiles.get(me)

    def update(self, me: str, *, visibility: Visibility | None, hide_read_receipts: bool | None,
               notify: NotifyMode | None) -> Profile:
        before = self._profiles.get(me)
        after = self._profiles.update(me, visibility=visibility, hide_read_receipts=hide_read_receipts,
                                      notify=notify)
        self._presence.visibility_changed(before, after)
        return after

    def update_conversation(self, me: str, conversation_id: str, *, notify: NotifyMode | None,
                            muted_until: int | None, fields: set[str]) -> Membership:
        self._conversations.require_member(conversation_id, me)
        return self._store.set_preferences(me, conversation_id, notify=notify, muted_until=muted_until,
                                           fields=fields)
