"""Presence: online while at least one connection is open; invisible users look offline to everyone, and
two users with a block between them (either way) see nothing of each other's presence.

Events go to the open connections of the user's contacts (the members of their conversations). The
work is bounded by the user's own conversations, never by the number of users in the system.
"""

from __future__ import annotations

from collections.abc import Iterable

from parley.clock import Clock, now_ms
from parley.fanout import Fanout
from parley.models import Presence, PresenceStatus, Profile, Visibility
from parley.observability import metrics
from parley.ports import BlockStore, ConnectionStore, ConversationStore, ProfileStore
from parley.protocol.presence import PresenceEntry, PresenceFrame


class PresenceService:
    def __init__(self, profiles: ProfileStore, conversations: ConversationStore, connections: ConnectionStore,
                 fanout: Fanout | None, blocks: BlockStore | None = None, clock: Clock = now_ms) -> None:
        self._blocks = blocks
        self._profiles = profiles
        self._conversations = conversations
        self._connections = connections
        self._fanout = fanout
        self._clock = clock

    def contacts(self, user_id: str) -> set[str]:
        """Everyone who shares a conversation with ``user_id``."""
        ids = [m.conversation_id for m in self._conversations.memberships(user_id)]
        members = {u for c in self._conversations.get_many(ids).values() for u in c.members}
        members.discard(user_id)
        return members

    def is_online(self, user_id: str) -> bool:
        return bool(self._connections.list_for_user(user_id, self._clock()))

    def connected(self, user_id: str, connection_id: str) -> None:
        """After a connection was recorded: the first one makes a visible user online."""
        others = [c for c in self._connections.list_for_user(user_id, self._clock())
                  if c.connection_id != connection_id]
        if not others:
            metrics.add_metric(name="UsersOnline", unit="Count", value=1)  # a user's first open connection
        if not others and self._profiles.get(user_id).visibility is Visibility.VISIBLE:
            self._announce(Presence(user_id=user_id, status=PresenceStatus.ONLINE), exclude=connection_id)

    def disconnected(self, users: Iterable[str]) -> list[Profile]:
        """After connections were removed (closed or found stale): users left with none go offline. Returns
        their profiles."""
        offline = []
        for user_id in dict.fromkeys(users):
            if self.is_online(user_id):
                continue
            profile = self._profiles.get(user_id)
            offline.append(profile)
            if profile.visibility is Visibility.VISIBLE:
                seen = self._clock()
                self._profiles.update(user_id, last_seen=seen)
                self._announce(Presence(user_id=user_id, status=PresenceStatus.OFFLINE, last_seen=seen))
        return offline

    def visibility_changed(self, before: Profile, after: Profile) -> None:
        if before.visibility is after.visibility or not self.is_online(after.user_id):
            return
        if after.visibility is Visibility.INVISIBLE:
            # others saw them online until now: that is their last-seen time, frozen while invisible
            seen = self._clock()
            self._profiles.update(after.user_id, last_seen=seen)
            self._announce(Presence(user_id=after.user_id, status=PresenceStatus.OFFLINE, last_seen=seen))
        else:
            self._announce(Presence(user_id=after.user_id, status=PresenceStatus.ONLINE))

    def query(self, me: str, user_ids: list[str]) -> list[Presence]:
        """Presence of the asked users who share a conversation with ``me``; the others are left out."""
        allowed = self.contacts(me) - (self._blocks.relations(me).either if self._blocks else frozenset())
        asked = [u for u in dict.fromkeys(user_ids) if u in allowed]
        profiles = self._profiles.get_many(asked)
        visible = [u for u in asked if profiles[u].visibility is Visibility.VISIBLE]
        connections = self._connections.list_for_users(visible, self._clock()) if visible else {}
        # one batch read for all of them; a user it left out is read alone
        online = {u for u in visible if (connections[u] if u in connections else self.is_online(u))}
        return [self._as_seen_by_others(profiles[u], online=u in online) for u in asked]

    @staticmethod
    def _as_seen_by_others(profile: Profile, *, online: bool) -> Presence:
        if profile.visibility is Visibility.VISIBLE and online:
            return Presence(user_id=profile.user_id, status=PresenceStatus.ONLINE)
        return Presence(user_id=profile.user_id, status=PresenceStatus.OFFLINE, last_seen=profile.last_seen)

    def _announce(self, presence: Presence, exclude: str | None = None) -> None:
        if self._fanout is None:
            return
        audience = self.contacts(presence.user_id)
        if self._blocks is not None:  # a block either way: neither sees the other come and go
            audience -= self._blocks.relations(presence.user_id).either
        frame = PresenceFrame(users=[PresenceEntry.of(presence)]).to_json().encode()
        self._fanout.deliver(audience, frame, self._clock(), exclude_connection=exclude)
