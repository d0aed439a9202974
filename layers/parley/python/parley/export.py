"""Exporting a user's data (GDPR): one JSON file with everything Parley holds about them, and links to their
attachments, delivered as a time-limited download link. A job (``parley.jobs``) in bounded batches:

* ``conversations`` and ``left`` -- each conversation they belong to, then each they left: a page of its stream per
  batch (``READ_FACTOR`` times the erasure's, since nothing is written per entry), their messages (and, on the
  first page, the conversation, their membership and their reports there) written to a part file named after the
  batch's step, so that a batch done twice writes the same part again.
* ``assemble`` -- their profile, preferences, devices (platform and registration time: no token, no endpoint), their
  devices' public keys in the key directory (``keyDevices``), and the users they blocked, with every part, into
  ``export.json``; the parts are deleted and the file presigned.

The files live under ``exports/<user key>/<job id>/`` in the uploads bucket, whose lifecycle rule deletes them
after 7 days (docs/server-api.md, "Erasure and export"). Erasure deletes them at once.
"""

from __future__ import annotations

import json
from typing import Any

from parley.clock import Clock, now_ms
from parley.erasure import SOURCES, exports_prefix
from parley.errors import UploadsUnavailableError
from parley.models import Job, JobKind, JobStatus, Message
from parley.ports import BlockStore, ConversationStore, KeyDirectoryStore, ObjectStore, ProfileStore, UserDataStore

PHASES = ("conversations", "left", "assemble")
# An export batch writes one part file, never an item per entry: it reads this many times the erasure's entries, so
# that a user with 100,000 messages has about a hundred parts for ``assemble`` to read.
READ_FACTOR = 5
JSON = "application/json"
EXPORT_VERSION = 1


def export_key(user_id: str, job_id: str) -> str:
    return f"{exports_prefix(user_id)}{job_id}/export.json"


def _part_prefix(job: Job) -> str:
    return f"{exports_prefix(job.user_id)}{job.job_id}/part-"


def message_record(message: Message) -> dict[str, Any]:
    body = message.body
    return {k: v for k, v in {
        "conversationId": message.conversation_id, "seq": message.seq, "messageId": message.message_id,
        "sentAt": message.sent_at, "text": body.text if body else None,
        "e2e": body.e2e.model_dump() if body and body.e2e else None,  # the envelope as sent: ciphertext
        "attachments": [a.model_dump(by_alias=True, exclude_none=True, exclude={"preview"})
                        for a in body.attachments] if body and body.attachments else None,
        "editedAt": message.edited_at, "deletedAt": message.deleted_at, "replyTo": message.reply_to,
        "mentions": list(message.mentions) or None}.items() if v is not None}


class ExportWork:
    kind = JobKind.EXPORT
    first_phase = PHASES[0]

    def __init__(self, data: UserDataStore, conversations: ConversationStore, profiles: ProfileStore,
                 blocks: BlockStore, objects: ObjectStore | None, *, batch_items: int, url_ttl_seconds: int,
                 keys: KeyDirectoryStore | None = None, clock: Clock = now_ms) -> None:
        self._keys = keys
        self._data = data
        self._conversations = conversations
        self._profiles = profiles
        self._blocks = blocks
        self._objects = objects
        self._batch = batch_items * READ_FACTOR
        self._url_ttl = url_ttl_seconds
        self._clock = clock

    @property
    def _store(self) -> ObjectStore:
        if self._objects is None:
            raise UploadsUnavailableError()
        return self._objects

    def run(self, job: Job) -> Job:
        if job.phase in SOURCES:
            return self._walk(job)
        return self._assemble(job)

    def _walk(self, job: Job) -> Job:
        uid = job.user_id
        cid = job.conversation_id
        if cid is None:
            cid = self._data.next_conversation(uid, SOURCES[job.phase], job.after)
            if cid is None:
                following = PHASES[PHASES.index(job.phase) + 1]
                return job.model_copy(update={"phase": following, "after": None, "cursor": 0})
            job = job.model_copy(update={"conversation_id": cid, "cursor": 0})
        part: dict[str, Any] = {"conversations": [], "messages": [], "reports": []}
        if job.cursor == 0:
            conversation = self._conversations.get(cid)
            membership = self._conversations.membership(uid, cid)
            if conversation is not None:
                part["conversations"].append({
                    "conversationId": cid, "kind": conversation.kind.value, "name": conversation.name,
                    "createdAt": conversation.created_at, "createdBy": conversation.created_by,
                    "members": list(conversation.members), "role": (r.value if (r := conversation.role_of(uid))
                                                                    else None),
                    "member": membership is not None,
                    "joinedAt": membership.joined_at if membership else None,
                    "lastReadSeq": membership.last_read_seq if membership else None,
                    "notify": membership.notify.value if membership and membership.notify else None,
                    "mutedUntil": membership.muted_until if membership else None})
            part["reports"] = [{"conversationId": cid, "seq": r.seq, "messageId": r.message_id,
                                "reportedUserId": r.reported_user_id, "reason": r.reason, "reportedAt": r.reported_at}
                               for r in self._data.reports_by(cid, uid)]
        entries, cursor = self._data.stream_page(cid, uid, job.cursor, self._batch, with_positions=False)
        part["messages"] = [message_record(m) for m in entries if not m.is_change]
        if any(part.values()):
            self._store.write(f"{_part_prefix(job)}{job.step:06d}.json", json.dumps(part).encode(), JSON, {})
        counts = dict(job.counts)
        counts["messages"] = counts.get("messages", 0) + len(part["messages"])
        if cursor is not None:
            return job.model_copy(update={"cursor": cursor, "counts": counts})
        return job.model_copy(update={"conversation_id": None, "cursor": 0, "after": cid, "counts": counts})

    def _assemble(self, job: Job) -> Job:
        uid, objects = job.user_id, self._store
        profile = self._profiles.get(uid)
        parts = objects.list_keys(_part_prefix(job), 100_000)
        conversations: list[Any] = []
        messages: list[Any] = []
        reports: list[Any] = []
        for part_key in parts:
            part = json.loads(objects.read(part_key)[0])
            conversations += part["conversations"]
            messages += part["messages"]
            reports += part["reports"]
        for message in messages:
            for attachment in message.get("attachments", ()):
                attachment["url"] = objects.presign_get(attachment["key"], self._url_ttl)
        document = {
            "version": EXPORT_VERSION, "userId": uid, "exportedAt": self._clock(),
            "profile": {"visibility": profile.visibility.value, "hideReadReceipts": profile.hide_read_receipts,
                        "notify": profile.notify.value, "lastSeen": profile.last_seen,
                        "firstSeen": profile.first_seen},
            "devices": [{"platform": d.platform.value, "registeredAt": d.registered_at} for d in profile.devices],
            "blocked": sorted(self._blocks.blocks_of(uid)),
            # their devices in the key directory of end-to-end encryption: public keys only (docs/e2e.md)
            "keyDevices": [{"deviceId": d.device_id, "identityKey": d.identity_key, "prekeyId": d.prekey_id,
                            "prekey": d.prekey, "publishedAt": d.published_at}
                           for d in (self._keys.devices([uid])[uid] if self._keys is not None else [])],
            "conversations": conversations, "messages": messages, "reportsMade": reports,
        }
        key = export_key(uid, job.job_id)
        objects.write(key, json.dumps(document, ensure_ascii=False).encode(), JSON, {})
        objects.delete(parts)
        url = objects.presign_get(key, self._url_ttl)
        return job.model_copy(update={"status": JobStatus.DONE, "result_key": key, "download_url": url,
                                      "url_expires_at": self._clock() + self._url_ttl * 1000,
                                      "counts": {**job.counts, "messages": len(messages)}})
