"""Erasing a user (GDPR): everything Parley holds about them, one bounded batch at a time (``parley.jobs``).

The phases, in order; each is idempotent, so a batch done twice does nothing the second time:

* ``connections`` -- their open sockets are closed and their connections item deleted.
* ``devices`` -- each device's SNS endpoint is deleted, then the device and its token's owner item.
* ``blocks`` -- every block they made and every block of them is lifted (each blocker's count follows).
* ``conversations`` and ``left`` -- each conversation they belong to, then each they left (``LEFT#`` markers):
  its stream is walked, a page per batch, for their entries. Their messages become tombstones (``tombstone``) or
  authorless placeholders (``delete``): the seq stays taken, so no client sees a gap, ordinals (and so everyone's
  unread counts and read positions) are untouched, and a ``lastMessage`` that was theirs reads as deleted. Their
  reactions are taken off others' messages, the text of their edits leaves the change entries. Then their uploads
  under the conversation (originals, served copies, thumbnails and upload records), the reports they made there,
  their typing marker, and their membership: a group is left as a member leaves it (ownership passed on by the
  same rule, and a ``memberLeft`` entry), a direct conversation stays for the other member.
* ``account`` -- connections again (a socket opened meanwhile), the profile (preferences, devices, badge), their
  ban and ban history (with their index entries), rate limit buckets, and any export of theirs (its file and job).
* ``announce`` -- the ``user.erased`` event (docs/events.md).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from parley import table
from parley.attachments import EXPORT_PREFIX, SERVED_PREFIX, THUMBNAIL_PREFIX, UPLOAD_PREFIX, uploader_segment
from parley.clock import Clock, now_ms
from parley.errors import ConversationNotFoundError, NotMemberError, StaleConnectionError
from parley.groups import GroupOutcome, GroupService
from parley.models import ChangeKind, ConversationKind, Job, JobKind, JobStatus, Message
from parley.ports import (
    BlockStore,
    ConnectionGateway,
    ConversationStore,
    DeviceStore,
    EventPublisher,
    ObjectStore,
    PushGateway,
    UserDataStore,
)

PHASES = ("connections", "devices", "blocks", "conversations", "left", "account", "announce")
# The two walks of the user's conversations: the groups and direct conversations they are in, then those they left.
SOURCES = {"conversations": table.MEMBER_PREFIX, "left": table.LEFT_PREFIX}
_LIST_MAX = 1000  # object keys listed (and deleted) per call
_WRITERS = 16  # entry writes in flight at once within a batch


def exports_prefix(user_id: str) -> str:
    """Where the user's export files are kept (``parley.export``)."""
    return f"{EXPORT_PREFIX}{uploader_segment(user_id)}/"


class ErasureWork:
    kind = JobKind.ERASURE
    first_phase = PHASES[0]

    def __init__(self, data: UserDataStore, conversations: ConversationStore, groups: GroupService,
                 blocks: BlockStore, devices: DeviceStore, *, batch_items: int, rate_limit_kinds: list[str],
                 push: PushGateway | None = None, gateway: ConnectionGateway | None = None,
                 objects: ObjectStore | None = None, events: EventPublisher | None = None,
                 deliver: Callable[[GroupOutcome], None] | None = None, clock: Clock = now_ms) -> None:
        self._data = data
        self._conversations = conversations
        self._groups = groups
        self._blocks = blocks
        self._devices = devices
        self._batch = batch_items
        self._rate_limit_kinds = rate_limit_kinds
        self._push = push
        self._gateway = gateway
        self._objects = objects
        self._events = events
        self._deliver = deliver
        self._clock = clock

    def run(self, job: Job) -> Job:
        uid = job.user_id
        if job.phase in SOURCES:
            return self._walk(job)
        if job.phase == "connections":
            self._close_connections(uid)
        elif job.phase == "devices":
            for device in self._devices.list_for_user(uid):
                if self._push is not None:
                    self._push.delete_endpoint(device.endpoint_arn)  # deleting one already gone is no error
                self._devices.delete(uid, device.token_hash)
        elif job.phase == "blocks":
            relations = self._blocks.relations(uid)
            pairs = [(uid, other) for other in sorted(relations.blocks)]
            pairs += [(other, uid) for other in sorted(relations.blocked_by)]
            for blocker, blocked in pairs[:self._batch]:
                self._blocks.unblock(blocker, blocked)
            if len(pairs) > self._batch:
                return _counted(job, blocks=self._batch)  # the rest in the next batch
            job = _counted(job, blocks=len(pairs))
        elif job.phase == "account":
            self._close_connections(uid)
            self._delete_objects(exports_prefix(uid))
            self._data.delete([(table.user_pk(uid), table.PROFILE_SK), *self._data.ban_keys(uid),
                               (table.job_pk(JobKind.EXPORT.value, uid), table.JOB_SK),
                               *((table.throttle_pk(kind, uid, "bucket"), table.THROTTLE_SK)
                                 for kind in self._rate_limit_kinds)])
        elif job.phase == "announce":
            if self._events is not None:  # at least once: a batch cut short after this publishes it again
                self._events.publish({"type": "user.erased", "version": 1, "userId": uid, "jobId": job.job_id,
                                      "messages": job.mode, "erasedAt": self._clock()}, "user.erased")
            return job.model_copy(update={"status": JobStatus.DONE})
        return _next_phase(job)

    # -- conversations --------------------------------------------------------------------------------------

    def _walk(self, job: Job) -> Job:
        uid, placeholder = job.user_id, job.mode == "delete"
        cid = job.conversation_id
        if cid is None:
            cid = self._data.next_conversation(uid, SOURCES[job.phase], job.after)
            if cid is None:
                return _next_phase(job)
            job = job.model_copy(update={"conversation_id": cid, "cursor": 0})
        entries, cursor = self._data.stream_page(cid, uid, job.cursor, self._batch, with_positions=placeholder)
        at = self._clock()
        with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
            done = list(pool.map(lambda e: self._erase_entry(e, uid, at, placeholder), entries))
        job = _counted(job, messages=done.count("message"), changes=done.count("change"),
                       positions=done.count("position"))
        if cursor is not None:
            return job.model_copy(update={"cursor": cursor})
        job = _counted(job, uploads=self._leave(cid, uid, placeholder))
        return job.model_copy(update={"conversation_id": None, "cursor": 0, "after": cid})

    def _erase_entry(self, entry: Message, uid: str, at: int, placeholder: bool) -> str:
        if entry.sender_id != uid:
            self._data.forget_position(entry.conversation_id, entry.seq, uid)
            return "position"
        change = entry.change
        if change is None:
            if entry.body is None and not placeholder:
                return "none"  # a tombstone already: nothing of theirs left in it
            self._data.erase_message(entry, uid, at, placeholder=placeholder)
            return "message"
        if change.kind is ChangeKind.REACTED and change.target is not None and change.emoji is not None:
            self._data.remove_reaction(entry.conversation_id, change.target, change.emoji, uid)
        if placeholder or change.text is not None:
            self._data.scrub_change(entry, uid, placeholder=placeholder)
        return "change"

    def _leave(self, cid: str, uid: str, placeholder: bool) -> int:
        """Everything else of theirs in the conversation, then their membership: the uploads deleted."""
        deleted = self._delete_uploads(cid, uid)
        reports = self._data.reports_by(cid, uid)
        refs = [(table.report_ref_pk(role, user), table.report_index_sk(r.reported_at, cid, r.seq, uid))
                for r in reports for role, user in (("reported", r.reported_user_id), ("reporter", uid))]
        self._data.delete([(table.report_pk(cid), f"{r.seq:0{table.SEQ_WIDTH}d}#{uid}") for r in reports] + refs
                          + [(table.throttle_pk("typing", uid, cid), table.THROTTLE_SK)])
        conversation = self._conversations.get(cid)
        doomed = [(table.user_pk(uid), table.member_sk(cid)), (table.user_pk(uid), table.left_sk(cid))]
        if conversation is not None and conversation.kind is ConversationKind.GROUP and conversation.has_member(uid):
            try:
                outcome = self._groups.leave(uid, cid)
            except (NotMemberError, ConversationNotFoundError):
                outcome = None  # left meanwhile
            if outcome is not None and outcome.sent is not None:
                if self._deliver is not None:
                    self._deliver(outcome)
                if placeholder:
                    self._data.scrub_change(outcome.sent.message, uid, placeholder=True)
        elif conversation is not None and conversation.kind is ConversationKind.DIRECT:
            a, b = conversation.members
            doomed.append((table.direct_pair_pk(a, b), table.META_SK))
        self._data.delete(doomed)
        return deleted

    def _delete_uploads(self, cid: str, uid: str) -> int:
        if self._objects is None:
            return 0
        rest = f"{cid}/{uploader_segment(uid)}/"
        uploads = 0
        while originals := self._objects.list_keys(f"{UPLOAD_PREFIX}{rest}", _LIST_MAX):
            self._data.delete([(table.upload_pk(k), table.THROTTLE_SK) for k in originals])  # records first
            self._objects.delete(originals)
            uploads += len(originals)
        for prefix in (SERVED_PREFIX, THUMBNAIL_PREFIX):
            self._delete_objects(f"{prefix}{rest}")
        return uploads

    def _delete_objects(self, prefix: str) -> None:
        if self._objects is None:
            return
        while keys := self._objects.list_keys(prefix, _LIST_MAX):
            self._objects.delete(keys)

    def _close_connections(self, uid: str) -> None:
        for connection_id in self._data.connection_ids(uid):
            if self._gateway is not None:
                with suppress(StaleConnectionError):  # closed already (or by an earlier attempt of this batch)
                    self._gateway.close(connection_id)
        self._data.delete([(table.user_pk(uid), table.CONNECTIONS_SK)])


def _next_phase(job: Job) -> Job:
    following = PHASES[PHASES.index(job.phase) + 1]
    return job.model_copy(update={"phase": following, "conversation_id": None, "cursor": 0, "after": None})


def _counted(job: Job, **done: int) -> Job:
    counts = dict(job.counts)
    for name, n in done.items():
        if n:
            counts[name] = counts.get(name, 0) + n
    return job.model_copy(update={"counts": counts})
