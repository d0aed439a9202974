"""Reviewing reports and deleting for everyone from the server side, against in-memory fakes: the listing,
each resolution and what it does, and the operator's delete (the same tombstone, files, entry and event as a
member's)."""

from __future__ import annotations

import pytest

from parley.bans import BanService
from parley.errors import (
    BannedError,
    ConversationNotFoundError,
    MessageNotFoundError,
    ReportNotFoundError,
    ReportResolvedError,
)
from parley.events import Events
from parley.message_changes import OPERATOR_ID
from parley.models import Attachment, BanAction, ChangeKind, MessageBody, ReportStatus, Resolution
from parley.report_review import ReportReviewService
from parley.reports import ReportService
from tests.fakes import FakeBanStore, FakeConnectionStore, FakeGateway, FakePublisher, FakeReportStore
from tests.unit.conftest import Clock
from tests.unit.test_message_changes import Chat, group


class Desk(Chat):
    """A chat with reports, bans and the moderators' desk, publishing events."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.publisher = FakePublisher()
        self.changes._events = Events(self.publisher)  # as wiring passes it
        self.report_store, self.ban_store = FakeReportStore(), FakeBanStore()
        self.reports = ReportService(self.conversations, self.store, self.report_store, None, clock=clock)
        self.bans = BanService(self.ban_store, FakeConnectionStore(), FakeGateway(), clock=clock)
        self.review = ReportReviewService(self.report_store, self.store, self.changes, self.bans, clock=clock)

    def event_types(self) -> list[str]:
        return [t for t, _ in self.publisher.published]


@pytest.fixture
def desk(clock: Clock) -> Desk:
    return Desk(clock)


def test_open_reports_are_listed_newest_first_and_resolved_ones_apart(desk: Desk) -> None:
    cid = group(desk, "mallory", "bob", "carol")
    first, second = desk.say("mallory", cid, "spam 1"), desk.say("mallory", cid, "spam 2")
    desk.reports.report("bob", cid, first, "spam")
    desk.reports.report("carol", cid, second, None)
    listed, cursor = desk.review.page(ReportStatus.OPEN, 10, None)
    assert [(r.report.seq, r.report.reporter_id) for r in listed] == [(second, "carol"), (first, "bob")]
    assert cursor is None and all(r.status is ReportStatus.OPEN for r in listed)
    # when one is dismissed / then it leaves the open list for the resolved one, with who and when
    desk.review.resolve(cid, first, "bob", Resolution.DISMISSED, by="arn:mod", note="fine")
    assert [r.report.seq for r in desk.review.page(ReportStatus.OPEN, 10, None)[0]] == [second]
    [done] = desk.review.page(ReportStatus.RESOLVED, 10, None)[0]
    assert (done.resolution, done.resolved_by, done.note) == (Resolution.DISMISSED, "arn:mod", "fine")
    assert done.resolved_at is not None
    # and the message is untouched
    assert desk.message(cid, first).body == MessageBody(text="spam 1")


def test_resolving_resolves_every_open_report_of_the_same_message(desk: Desk) -> None:
    cid = group(desk, "mallory", "bob", "carol")
    seq = desk.say("mallory", cid, "spam")
    desk.reports.report("bob", cid, seq, None)
    desk.reports.report("carol", cid, seq, None)
    outcome = desk.review.resolve(cid, seq, "bob", Resolution.DISMISSED, by="ops")
    assert sorted(r.report.reporter_id for r in outcome.resolved) == ["bob", "carol"]
    assert desk.review.page(ReportStatus.OPEN, 10, None)[0] == []
    # and a report resolved already cannot be resolved again (nothing changes)
    with pytest.raises(ReportResolvedError):
        desk.review.resolve(cid, seq, "carol", Resolution.BANNED, by="ops")
    assert desk.ban_store.bans == {}


def test_resolving_by_deleting_deletes_the_message_for_everyone(desk: Desk) -> None:
    cid = group(desk, "mallory", "bob")
    seq = desk.say("mallory", cid, "spam")
    desk.reports.report("bob", cid, seq, None)
    outcome = desk.review.resolve(cid, seq, "bob", Resolution.MESSAGE_DELETED, by="ops")
    assert desk.message(cid, seq).deleted_at is not None and desk.message(cid, seq).body is None
    [shown] = desk.review.page(ReportStatus.RESOLVED, 10, None)[0]
    assert shown.message_deleted and shown.report.text == ""  # the report shows no copy of the deleted text
    assert outcome.deleted is not None and outcome.deleted.recorded is not None
    assert outcome.deleted.recorded.recipients == ("mallory", "bob")  # live to every member


def test_resolving_by_banning_bans_the_reported_user_and_can_delete_too(desk: Desk) -> None:
    cid = group(desk, "mallory", "bob")
    seq = desk.say("mallory", cid, "spam")
    desk.reports.report("bob", cid, seq, "abuse")
    outcome = desk.review.resolve(cid, seq, "bob", Resolution.BANNED, by="ops", ban_seconds=3600,
                                  delete_message=True, note="third strike")
    assert outcome.banned is not None and outcome.banned.ban.until is not None
    with pytest.raises(BannedError):
        desk.bans.require_not_banned("mallory")
    assert desk.message(cid, seq).body is None


def test_resolving_by_warning_records_a_warning_only(desk: Desk) -> None:
    cid = group(desk, "mallory", "bob")
    seq = desk.say("mallory", cid, "rude")
    desk.reports.report("bob", cid, seq, None)
    desk.review.resolve(cid, seq, "bob", Resolution.WARNED, by="ops", note="keep it civil")
    history, _ = desk.bans.history("mallory", 10, None)
    assert [(e.action, e.reason) for e in history] == [(BanAction.WARNED, "keep it civil")]
    desk.bans.require_not_banned("mallory")
    assert desk.message(cid, seq).body is not None


def test_an_unknown_report_is_not_found(desk: Desk) -> None:
    with pytest.raises(ReportNotFoundError):
        desk.review.resolve("g_nope", 1, "bob", Resolution.DISMISSED, by="ops")


def test_the_operator_deletes_any_message_for_everyone_like_a_member_delete(desk: Desk) -> None:
    # given a group message with a photo, and a member who blocked its sender
    cid = group(desk, "alice", "bob", "carol")
    key = f"u/{cid}/x/1"
    desk.objects.write(key, b"img", "image/png", {})
    seq = desk.messaging.send("bob", cid, "p", MessageBody(text="look", attachments=(
        Attachment(key=key, content_type="image/png", size=3),))).message.seq
    desk.blocks.block("carol", "bob", 1)
    # when the host app's backend deletes it (no member of the group)
    outcome = desk.changes.delete_as_operator(cid, seq)
    # then it is a tombstone, its files are gone, and the deleted entry, by the operator, reaches every member
    assert desk.message(cid, seq).body is None and desk.objects.objects == {}
    assert outcome.recorded is not None and outcome.recorded.recipients == ("alice", "bob", "carol")
    [entry] = desk.catch_up("carol", cid, seq)
    assert entry.sender_id == OPERATOR_ID and entry.change is not None
    assert (entry.change.kind, entry.change.target) == (ChangeKind.DELETED, seq)
    # and a message.deleted event tells the host app
    [(kind, event)] = desk.publisher.published
    assert kind == "message.deleted"
    assert event == {"type": "message.deleted", "version": 1, "conversationId": cid, "seq": seq,
                     "messageId": f"{cid}.{seq}", "senderId": "bob", "by": OPERATOR_ID,
                     "deletedAt": entry.sent_at, "changeSeq": entry.seq}
    # and deleting it again stores nothing new and publishes nothing new
    again = desk.changes.delete_as_operator(cid, seq)
    assert again.entry_seq == entry.seq and len(desk.publisher.published) == 1


def test_the_operator_cannot_delete_a_change_entry_or_in_a_missing_conversation(desk: Desk) -> None:
    cid = group(desk, "alice", "bob")
    seq = desk.say("alice", cid)
    desk.changes.react("bob", cid, seq, "👍")
    with pytest.raises(MessageNotFoundError):
        desk.changes.delete_as_operator(cid, seq + 1)  # the reaction's entry
    with pytest.raises(MessageNotFoundError):
        desk.changes.delete_as_operator(cid, seq + 5)
    with pytest.raises(ConversationNotFoundError):
        desk.changes.delete_as_operator("g_nope", 1)
