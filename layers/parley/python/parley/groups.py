"""Groups people can manage: adding and removing members, leaving, renaming, roles and the history setting.

Every change is checked against the group as one strongly consistent read found it, then stored in one
transaction (``GroupStore.apply``): the group's ``~META`` (only over the version read), a change entry at the
stream's next seq, and the memberships it creates or deletes. A change that lost a race to another change of
the group is decided again on the group as it is now; one that lost its seq to a message goes to the next seq.
The change entry is then delivered live like a message (``DeliveryService.deliver_sent``), and reaches members
who were offline through ``history`` with ``after``.

Rules (docs/protocol.md, "Groups"): the owner and admins add, remove (an admin removes members only), rename and
change the history setting; the owner promotes, demotes and passes ownership on. An owner who leaves passes
ownership to the admin who joined first, else to the member who joined first.

The server API may act as the system (``parley.user_ids.SYSTEM_SENDER``) instead of a member: the system has the
owner's rights and may also remove the owner (ownership then passes on as when the owner leaves); a user it adds
must have no block with any member, in either direction (docs/server-api.md, "Conversations").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from parley.clock import Clock, now_ms
from parley.conversations import ConversationService, ensure_member
from parley.errors import (
    BlockedError,
    ConflictError,
    ConversationNotFoundError,
    InvalidMembersError,
    NotAllowedError,
    NotGroupError,
    OutcomeUnknownError,
    ThrottledError,
)
from parley.messaging import SendOutcome
from parley.models import (
    Change,
    ChangeKind,
    Conversation,
    ConversationKind,
    GroupRole,
    HistoryVisibility,
    Message,
)
from parley.ports import BlockStore, GroupChangedError, GroupStore, MessageStore, SeqTakenError
from parley.read_state import Position, next_recent_senders, position_of
from parley.user_ids import is_system_sender

# One DynamoDB transaction holds at most 100 items: the group, its change entry and one membership per user added.
ADD_MEMBERS_MAX = 98
# A change decided again this many times because other changes of the group kept winning: `conflict`.
GROUP_RACES = 10
# Seqs a change walks forward past messages stored first, as `send` does (parley.messaging.SEQ_RACE_PUTS).
SEQ_RACES = 100
# Writes whose outcome was unknown (a 5xx, a timeout, a lost answer): after this many, the error is raised.
FAILED_WRITES = 3


@dataclass(frozen=True)
class Plan:
    """What one request changes: the group after it, the change entry's content, the memberships to create and
    delete, and the users it concerns (they get the change live whatever their blocks)."""

    after: Conversation
    change: Change
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupOutcome:
    conversation: Conversation  # the group after the request
    sent: SendOutcome | None  # the change entry stored, to deliver (None: nothing needed changing)


Decide = Callable[[Conversation], Plan | None]  # None: the group already is as asked


class GroupService:
    def __init__(self, messages: MessageStore, groups: GroupStore, conversations: ConversationService, *,
                 max_members: int, blocks: BlockStore | None = None, clock: Clock = now_ms) -> None:
        self._messages = messages
        self._groups = groups
        self._conversations = conversations
        self._max_members = max_members
        self._blocks = blocks
        self._clock = clock

    # -- the actions ------------------------------------------------------------------------------

    def add_members(self, me: str, conversation_id: str, users: list[str]) -> GroupOutcome:
        wanted = list(dict.fromkeys(users))
        if not wanted:
            raise InvalidMembersError("Name at least one user to add.")
        if len(wanted) > ADD_MEMBERS_MAX:
            raise InvalidMembersError(f"Add at most {ADD_MEMBERS_MAX} users per request.")
        checked: set[str] = set()

        def decide(group: Conversation) -> Plan | None:
            _require_manager(group, me)
            new = [u for u in wanted if not group.has_member(u)]
            if not new:
                return None
            if len(group.members) + len(new) > self._max_members:
                raise InvalidMembersError(f"A group has at most {self._max_members} members.")
            if set(new) - checked:
                if is_system_sender(me):
                    self._ensure_no_blocks(group, new)
                else:
                    self._conversations.ensure_not_blocked_by(me, new)
                checked.update(new)
            return Plan(after=_members(group, [*group.members, *new], joined=new),
                        change=Change(kind=ChangeKind.MEMBERS_ADDED, users=tuple(new)), joined=tuple(new))

        return self._change(me, conversation_id, decide)

    def remove_member(self, me: str, conversation_id: str, user: str) -> GroupOutcome:
        if user == me:
            raise InvalidMembersError("To leave a group, use leave.")

        def decide(group: Conversation) -> Plan | None:
            mine = _require_manager(group, me)
            theirs = group.role_of(user)
            if theirs is None:
                return None  # not a member (any more): nothing to do
            if mine is not GroupRole.OWNER and theirs is not GroupRole.MEMBER:
                raise NotAllowedError("Admins remove members only; the owner removes admins.")
            after = _members(group, [u for u in group.members if u != user])
            if theirs is GroupRole.OWNER:  # only the system removes the owner: ownership passes on as on leave
                owner = successor(group, user)
                if owner is not None:
                    after = after.model_copy(update={"roles": {**after.roles, owner: GroupRole.OWNER}})
            return Plan(after=after, change=Change(kind=ChangeKind.MEMBER_REMOVED, users=(user,)), left=(user,))

        return self._change(me, conversation_id, decide)

    def leave(self, me: str, conversation_id: str) -> GroupOutcome:
        def decide(group: Conversation) -> Plan | None:
            _require_group(group)
            remaining = [u for u in group.members if u != me]
            after = _members(group, remaining)
            owner = successor(group, me) if group.role_of(me) is GroupRole.OWNER else None
            if owner is not None:
                after = after.model_copy(update={"roles": {**after.roles, owner: GroupRole.OWNER}})
            return Plan(after=after, change=Change(kind=ChangeKind.MEMBER_LEFT, owner=owner), left=(me,))

        return self._change(me, conversation_id, decide)

    def rename(self, me: str, conversation_id: str, name: str) -> GroupOutcome:
        def decide(group: Conversation) -> Plan | None:
            _require_manager(group, me)
            if group.name == name:
                return None
            return Plan(after=group.model_copy(update={"name": name}),
                        change=Change(kind=ChangeKind.RENAMED, name=name))

        return self._change(me, conversation_id, decide)

    def set_role(self, me: str, conversation_id: str, user: str, role: GroupRole) -> GroupOutcome:
        def decide(group: Conversation) -> Plan | None:
            _require_group(group)
            if _role(group, me) is not GroupRole.OWNER:
                raise NotAllowedError("Only the owner changes roles.")
            if user == me:
                raise NotAllowedError("The owner passes ownership on by giving another member the role owner.")
            current = group.role_of(user)
            if current is None:
                raise InvalidMembersError("That user is not a member of this group.")
            if current is role:
                return None
            roles = _explicit_roles(group)
            roles.pop(user, None)
            if role is GroupRole.OWNER:
                for previous in [u for u, r in roles.items() if r is GroupRole.OWNER]:
                    roles[previous] = GroupRole.ADMIN  # the owner passes ownership on and stays an admin
            if role is not GroupRole.MEMBER:
                roles[user] = role
            return Plan(after=group.model_copy(update={"roles": roles}),
                        change=Change(kind=ChangeKind.ROLE_CHANGED, users=(user,), role=role))

        return self._change(me, conversation_id, decide)

    def set_settings(self, me: str, conversation_id: str, history: HistoryVisibility) -> GroupOutcome:
        def decide(group: Conversation) -> Plan | None:
            _require_manager(group, me)
            if group.history_visibility is history:
                return None
            return Plan(after=group.model_copy(update={"history_visibility": history}),
                        change=Change(kind=ChangeKind.SETTINGS_CHANGED, history=history))

        return self._change(me, conversation_id, decide)

    # -- storing a change -------------------------------------------------------------------------

    def _change(self, me: str, conversation_id: str, decide: Decide) -> GroupOutcome:
        """Decide on the group as it is, store the change; decide again when another change got there first."""
        blocked_by: set[str] | None = None
        client_msg_id = f"~{secrets.token_urlsafe(9)}"  # tells this change's own entry apart when read back
        for _ in range(GROUP_RACES):
            head = self._messages.head(conversation_id, 1)
            group = _existing(head.conversation) if is_system_sender(me) else ensure_member(head.conversation, me)
            plan = decide(group)
            if plan is None:
                return GroupOutcome(conversation=group, sent=None)
            plan = Plan(after=plan.after.model_copy(update={"version": group.version + 1}), change=plan.change,
                        joined=plan.joined, left=plan.left)
            if blocked_by is None:
                blocked_by = self._blocks.blocked_by(me) if self._blocks and not is_system_sender(me) else set()
            try:
                entry, races = self._store(me, group, plan, head.newest, client_msg_id)
            except GroupChangedError:
                continue
            concerned = set(plan.joined) | set(plan.left)
            recipients = tuple(u for u in dict.fromkeys((*group.members, *plan.after.members))
                               if u not in blocked_by or u in concerned)
            return GroupOutcome(conversation=plan.after, sent=SendOutcome(
                message=entry, duplicate=False, recipients=recipients, conversation=plan.after, lost_races=races))
        raise ConflictError()

    def _store(self, me: str, group: Conversation, plan: Plan, newest: Message | None,
               client_msg_id: str) -> tuple[Message, int]:
        """Put the change at the seq after ``newest``, walking forward past messages stored first. Raises
        ``GroupChangedError`` when the group itself changed (then nothing of this change is stored)."""
        seq = (newest.seq if newest else 0) + 1
        lost = failed = 0
        while lost < SEQ_RACES:
            entry = self._entry(me, group.conversation_id, plan.change, newest, seq, client_msg_id)
            after = _visible_from(plan.after, plan.joined, seq)
            try:
                self._groups.apply(group, after, entry, list(plan.joined), list(plan.left))
            except SeqTakenError as taken:
                if _is_own(taken.winner, me, client_msg_id):
                    return taken.winner, lost  # an earlier write of this change, whose answer was lost
                newest, seq, lost = taken.winner, taken.winner.seq + 1, lost + 1
                continue
            except GroupChangedError:
                stored = self._read_back(group.conversation_id, seq)
                if stored is not None and _is_own(stored, me, client_msg_id):
                    return stored, lost  # it was this change's own earlier write that moved the version
                raise
            except ThrottledError:
                raise  # refused outright: nothing of it stored
            except Exception:  # a 5xx, a timeout, a lost answer: stored or not, the next write finds out
                failed += 1
                if failed >= FAILED_WRITES:
                    stored = self._read_back(group.conversation_id, seq)
                    if stored is not None and _is_own(stored, me, client_msg_id):
                        return stored, lost
                    raise
                continue
            return entry, lost
        raise ConflictError()

    def _read_back(self, conversation_id: str, seq: int) -> Message | None:
        try:
            return self._messages.get(conversation_id, seq)
        except Exception as exc:
            raise OutcomeUnknownError(type(exc).__name__) from exc

    def _entry(self, me: str, conversation_id: str, change: Change, newest: Message | None, seq: int,
               client_msg_id: str) -> Message:
        at = Position(seq, position_of(newest).ordinal)  # a change adds no message: the ordinal stays
        senders, _ = next_recent_senders(newest, None, at)
        return Message(conversation_id=conversation_id, seq=seq, sender_id=me, sent_at=self._clock(),
                       client_msg_id=client_msg_id, ordinal=at.ordinal, recent_senders=senders, change=change)

    def _ensure_no_blocks(self, group: Conversation, new: list[str]) -> None:
        """The system adds nobody who blocked, or was blocked by, a member or another user added with them."""
        if self._blocks is None:
            return
        for user in new:
            relations = self._blocks.relations(user)
            others = (set(group.members) | set(new)) - {user}
            if (relations.blocks | relations.blocked_by) & others:
                raise BlockedError("A user named has a block with a member of the group.")


def successor(group: Conversation, leaving: str) -> str | None:
    """Who owns the group after its owner ``leaving`` leaves: the admin who joined first, else the member who
    joined first (``members`` is in join order); None when nobody is left."""
    others = [u for u in group.members if u != leaving]
    admins = [u for u in others if group.role_of(u) is GroupRole.ADMIN]
    chosen = admins or others
    return chosen[0] if chosen else None


def _existing(conversation: Conversation | None) -> Conversation:
    if conversation is None:
        raise ConversationNotFoundError()
    return conversation


def _role(group: Conversation, me: str) -> GroupRole | None:
    """``me``'s role; the system acts with the owner's."""
    return GroupRole.OWNER if is_system_sender(me) else group.role_of(me)


def _is_own(entry: Message, me: str, client_msg_id: str) -> bool:
    return entry.sender_id == me and entry.client_msg_id == client_msg_id


def _require_group(group: Conversation) -> None:
    if group.kind is not ConversationKind.GROUP:
        raise NotGroupError()


def _require_manager(group: Conversation, me: str) -> GroupRole:
    _require_group(group)
    role = _role(group, me)
    if role not in (GroupRole.OWNER, GroupRole.ADMIN):
        raise NotAllowedError("Only the owner and admins of a group do this.")
    return role


def _explicit_roles(group: Conversation) -> dict[str, GroupRole]:
    """The owner and admins, written out (a group stored before roles has its owner implicit)."""
    roles: dict[str, GroupRole] = {}
    for u in group.members:
        role = group.role_of(u)
        if role is not None and role is not GroupRole.MEMBER:
            roles[u] = role
    return roles


def _members(group: Conversation, members: list[str], *, joined: list[str] | None = None) -> Conversation:
    """The group with ``members``: roles and history floors of those who are gone dropped, and those of
    re-added members forgotten (set again by ``_visible_from``)."""
    kept = set(members)
    roles = {u: r for u, r in _explicit_roles(group).items() if u in kept}
    visible = {u: s for u, s in group.visible_from.items() if u in kept and u not in (joined or ())}
    return group.model_copy(update={"members": tuple(members), "roles": roles, "visible_from": visible})


def _visible_from(group: Conversation, joined: tuple[str, ...], seq: int) -> Conversation:
    """With ``joined`` history, members added by the entry at ``seq`` read from it on."""
    if not joined or group.history_visibility is not HistoryVisibility.JOINED:
        return group
    return group.model_copy(update={"visible_from": {**group.visible_from, **dict.fromkeys(joined, seq)}})
