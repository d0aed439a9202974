"""Edits, deletes and reactions against in-memory fakes: who may change what, and what members then see."""

from __future__ import annotations

import pytest

from parley.attachments import AttachmentService
from parley.conversations import ConversationService
from parley.errors import (
    AttachmentDeletedError,
    BlockedError,
    EditWindowClosedError,
    InvalidEmojiError,
    MessageDeletedError,
    MessageNotFoundError,
    MessageRejectedError,
    NotAllowedError,
    NotMemberError,
    TextTooLongError,
    ThrottledError,
    TooManyReactionsError,
)
from parley.message_changes import HEAL_SCAN_MAX, MessageChangeService
from parley.messaging import MessagingService
from parley.models import Attachment, ChangeKind, Message, MessageBody
from parley.moderation import ModerationService
from parley.reactions import MAX_REACTIONS_PER_MESSAGE, is_single_emoji
from tests.fakes import (
    FakeBlockStore,
    FakeConversationStore,
    FakeMessageStore,
    FakeModerationHook,
    FakeObjectStore,
    FakeProfileStore,
    FakeUploadRecordStore,
)
from tests.unit.conftest import Clock

WINDOW_S = 900


class Chat:
    def __init__(self, clock: Clock, hook: FakeModerationHook | None = None) -> None:
        self.clock = clock
        self.conversation_store = FakeConversationStore()
        self.store = FakeMessageStore(self.conversation_store)
        self.blocks = FakeBlockStore()
        self.conversations = ConversationService(self.conversation_store, 10, blocks=self.blocks, clock=clock)
        self.messaging = MessagingService(self.store, self.conversations, max_text_bytes=100, idempotency_window=10,
                                          blocks=self.blocks, clock=clock)
        self.objects, self.records = FakeObjectStore(), FakeUploadRecordStore()
        self.attachments = AttachmentService(self.conversations, self.objects, self.records, max_bytes=10_000,
                                             upload_ttl_seconds=300, download_ttl_seconds=900, clock=clock)
        moderation = ModerationService(hook, FakeProfileStore(), fail_open=True, max_text_bytes=100,
                                       clock=clock) if hook else None
        self.changes = MessageChangeService(self.store, self.messaging, max_text_bytes=100,
                                            edit_window_seconds=WINDOW_S, blocks=self.blocks, moderation=moderation,
                                            attachments=self.attachments, clock=clock)

    def say(self, me: str, cid: str, text: str = "hello") -> int:
        return self.messaging.send(me, cid, f"m{self.clock()}", MessageBody(text=text)).message.seq

    def message(self, cid: str, seq: int) -> Message:
        found = self.store.get(cid, seq)
        assert found is not None
        return found

    def entries(self, cid: str) -> list[Message]:
        return [m for _, m in sorted(self.store.messages.get(cid, {}).items())]

    def catch_up(self, me: str, cid: str, after: int) -> list[Message]:
        return list(self.messaging.history(me, cid, before=None, after=after, limit=100).messages)


@pytest.fixture
def chat(clock: Clock) -> Chat:
    return Chat(clock)


def group(chat: Chat, *members: str) -> str:
    return chat.conversations.create_group(members[0], list(members[1:]), "g").conversation_id


# -- edit ---------------------------------------------------------------------------------------------------------

def test_the_sender_edits_and_every_member_catches_up_on_the_new_text(chat: Chat) -> None:
    cid = group(chat, "alice", "bob", "carol")
    seq = chat.say("alice", cid, "helo")
    outcome = chat.changes.edit("alice", cid, seq, "hello")
    assert outcome.recorded is not None and outcome.entry_seq == seq + 1
    assert outcome.recorded.recipients == ("alice", "bob", "carol")
    edited = chat.message(cid, seq)
    assert edited.body is not None and edited.body.text == "hello" and edited.edited_at is not None
    [entry] = chat.catch_up("bob", cid, seq)
    assert entry.change is not None and entry.change.kind is ChangeKind.EDITED
    assert (entry.change.target, entry.change.text) == (seq, "hello")
    assert entry.sent_at == edited.edited_at  # the entry's time is the edit time the message shows


def test_only_the_sender_may_edit(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    before = chat.entries(cid)
    with pytest.raises(NotAllowedError):
        chat.changes.edit("bob", cid, seq, "mine now")
    assert chat.entries(cid) == before


def test_an_edit_after_the_window_is_refused(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.clock.now += WINDOW_S * 1000 + 1
    with pytest.raises(EditWindowClosedError):
        chat.changes.edit("alice", cid, seq, "too late")
    assert chat.message(cid, seq).body == MessageBody(text="hello")


def test_edits_obey_the_text_limit_and_moderation(clock: Clock) -> None:
    chat = Chat(clock, FakeModerationHook({"verdict": "deny", "reason": "no"}))
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    with pytest.raises(TextTooLongError):
        chat.changes.edit("alice", cid, seq, "x" * 101)
    with pytest.raises(MessageRejectedError):
        chat.changes.edit("alice", cid, seq, "something rude")
    assert chat.message(cid, seq).edited_at is None and len(chat.entries(cid)) == 1


def test_moderation_may_replace_an_edit(clock: Clock) -> None:
    chat = Chat(clock, FakeModerationHook({"verdict": "replace", "text": "***"}))
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.changes.edit("alice", cid, seq, "rude")
    assert chat.message(cid, seq).body == MessageBody(text="***")


def test_a_blocked_user_cannot_edit_in_a_direct_conversation(chat: Chat) -> None:
    cid = chat.conversations.open_direct("alice", "bob").conversation_id
    seq = chat.say("alice", cid)
    chat.blocks.block("bob", "alice", 0)
    with pytest.raises(BlockedError):
        chat.changes.edit("alice", cid, seq, "sorry")


def test_in_groups_an_edit_does_not_reach_members_who_blocked_the_sender(chat: Chat) -> None:
    cid = group(chat, "alice", "bob", "carol")
    seq = chat.say("alice", cid)
    chat.blocks.block("carol", "alice", 0)
    outcome = chat.changes.edit("alice", cid, seq, "edited")
    assert outcome.recorded is not None and "carol" not in outcome.recorded.recipients
    assert chat.catch_up("carol", cid, 0) == []


def test_an_attachment_caption_can_be_edited_and_the_files_stay(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    photo = Attachment(key=f"u/{cid}/x/1", content_type="image/png", size=3)
    seq = chat.messaging.send("alice", cid, "p", MessageBody(attachments=(photo,))).message.seq
    chat.changes.edit("alice", cid, seq, "a caption")
    assert chat.message(cid, seq).body == MessageBody(text="a caption", attachments=(photo,))


def test_a_repeated_edit_records_no_second_entry(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    first = chat.changes.edit("alice", cid, seq, "new")
    again = chat.changes.edit("alice", cid, seq, "new")
    assert again.recorded is not None and again.recorded.duplicate and again.entry_seq == first.entry_seq
    assert len(chat.entries(cid)) == 2


def test_an_edit_whose_entry_failed_is_healed_by_its_retry(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.store.put_faults = ["throttle"]  # the message is updated, then the entry's put is refused
    with pytest.raises(ThrottledError):  # the client is told it failed
        chat.changes.edit("alice", cid, seq, "new")
    assert chat.message(cid, seq).body == MessageBody(text="new") and len(chat.entries(cid)) == 1
    healed = chat.changes.edit("alice", cid, seq, "new")
    assert healed.recorded is not None and not healed.recorded.duplicate
    [entry] = chat.catch_up("bob", cid, seq)
    assert entry.change is not None and entry.change.text == "new"
    assert entry.sent_at == chat.message(cid, seq).edited_at


def test_editing_back_to_an_earlier_text_is_a_new_edit(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid, "a")
    chat.changes.edit("alice", cid, seq, "b")
    chat.changes.edit("alice", cid, seq, "a")
    texts = [m.change.text for m in chat.catch_up("bob", cid, seq) if m.change]
    assert texts == ["b", "a"]


def test_an_unchanged_text_on_a_never_edited_message_changes_nothing(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid, "same")
    outcome = chat.changes.edit("alice", cid, seq, "same")
    assert outcome.entry_seq is None and chat.message(cid, seq).edited_at is None


# -- delete -------------------------------------------------------------------------------------------------------

def test_a_delete_leaves_a_tombstone_without_content(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid, "secret")
    chat.changes.react("bob", cid, seq, "👍")
    chat.changes.edit("alice", cid, seq, "secret!")
    outcome = chat.changes.delete("alice", cid, seq)
    gone = chat.message(cid, seq)
    assert (gone.body, gone.edited_at, gone.reactions, gone.reply_to) == (None, None, {}, None)
    assert gone.deleted_at is not None
    assert outcome.recorded is not None and outcome.recorded.message.change is not None
    assert outcome.recorded.message.change.kind is ChangeKind.DELETED


def test_group_owner_and_admins_delete_any_message_members_only_their_own(chat: Chat) -> None:
    cid = group(chat, "alice", "bob", "carol")
    seq = chat.say("bob", cid)
    with pytest.raises(NotAllowedError):
        chat.changes.delete("carol", cid, seq)
    chat.changes.delete("alice", cid, seq)  # the owner
    assert chat.message(cid, seq).deleted_at is not None


def test_in_a_direct_conversation_nobody_deletes_the_other_s_message(chat: Chat) -> None:
    cid = chat.conversations.open_direct("alice", "bob").conversation_id
    seq = chat.say("alice", cid)
    with pytest.raises(NotAllowedError):
        chat.changes.delete("bob", cid, seq)


def test_deleting_twice_gives_the_same_answer_and_no_second_entry(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    first = chat.changes.delete("alice", cid, seq)
    again = chat.changes.delete("alice", cid, seq)
    assert again.recorded is not None and again.recorded.duplicate and again.entry_seq == first.entry_seq
    assert len(chat.entries(cid)) == 2


def test_a_delete_whose_entry_failed_is_healed_by_its_retry(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.store.put_faults = ["throttle"]
    with pytest.raises(ThrottledError):
        chat.changes.delete("alice", cid, seq)
    assert chat.message(cid, seq).deleted_at is not None and len(chat.entries(cid)) == 1
    healed = chat.changes.delete("alice", cid, seq).recorded
    assert healed is not None and not healed.duplicate
    [entry] = chat.catch_up("bob", cid, seq)
    assert entry.change is not None and entry.change.kind is ChangeKind.DELETED


def test_a_delete_reaches_members_who_blocked_whoever_deleted(chat: Chat) -> None:
    cid = group(chat, "alice", "bob", "carol")
    seq = chat.say("bob", cid)
    chat.blocks.block("carol", "alice", 0)
    outcome = chat.changes.delete("alice", cid, seq)
    assert outcome.recorded is not None and "carol" in outcome.recorded.recipients
    assert [m.change.kind for m in chat.catch_up("carol", cid, seq) if m.change] == [ChangeKind.DELETED]


def test_deleting_a_message_deletes_its_files_and_refuses_their_urls(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    key = f"u/{cid}/x/1"
    for k in (key, f"p/{cid}/x/1", f"t/{cid}/x/1.webp"):
        chat.objects.write(k, b"img", "image/png", {})
    chat.records.update(key, served_key=f"p/{cid}/x/1", thumbnail_key=f"t/{cid}/x/1.webp")
    photo = Attachment(key=key, content_type="image/png", size=3)
    seq = chat.messaging.send("alice", cid, "p", MessageBody(attachments=(photo,))).message.seq
    chat.changes.delete("alice", cid, seq)
    assert chat.objects.objects == {}
    with pytest.raises(AttachmentDeletedError):
        chat.attachments.links("bob", cid, [key])


def test_a_failed_file_delete_leaves_the_message_for_a_retry(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    key = f"u/{cid}/x/1"
    chat.objects.write(key, b"voice", "audio/mp4", {})
    seq = chat.messaging.send("alice", cid, "v", MessageBody(attachments=(
        Attachment(key=key, content_type="audio/mp4", size=5),))).message.seq
    chat.objects.undeletable = {key}
    with pytest.raises(RuntimeError):
        chat.changes.delete("alice", cid, seq)
    assert chat.message(cid, seq).body is not None  # not a tombstone yet: its keys are still known
    chat.objects.undeletable = set()
    chat.changes.delete("alice", cid, seq)
    assert chat.objects.objects == {} and chat.message(cid, seq).deleted_at is not None


# -- react --------------------------------------------------------------------------------------------------------

def test_reactions_count_users_and_history_says_which_are_mine(chat: Chat) -> None:
    cid = group(chat, "alice", "bob", "carol")
    seq = chat.say("alice", cid)
    chat.changes.react("bob", cid, seq, "👍")
    outcome = chat.changes.react("carol", cid, seq, "👍")
    assert outcome.recorded is not None and outcome.recorded.message.change is not None
    assert outcome.recorded.message.change.count == 2
    assert chat.message(cid, seq).reactions == {"👍": ("bob", "carol")}


def test_one_of_each_emoji_per_user_and_a_repeat_records_nothing(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    first = chat.changes.react("bob", cid, seq, "❤️")
    again = chat.changes.react("bob", cid, seq, "❤️")
    assert again.recorded is not None and again.recorded.duplicate and again.entry_seq == first.entry_seq
    assert chat.message(cid, seq).reactions == {"❤️": ("bob",)} and len(chat.entries(cid)) == 2


def test_removing_a_reaction_records_the_count_after(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.changes.react("bob", cid, seq, "🎉")
    removed = chat.changes.react("bob", cid, seq, "🎉", remove=True)
    assert removed.recorded is not None and removed.recorded.message.change is not None
    assert (removed.recorded.message.change.kind, removed.recorded.message.change.count) == (ChangeKind.UNREACTED, 0)
    assert chat.message(cid, seq).reactions == {}
    assert chat.changes.react("bob", cid, seq, "🎉", remove=True).entry_seq == removed.entry_seq


def test_a_reaction_whose_entry_failed_is_healed_by_its_retry(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.store.put_faults = ["throttle"]
    with pytest.raises(ThrottledError):
        chat.changes.react("bob", cid, seq, "👍")
    healed = chat.changes.react("bob", cid, seq, "👍").recorded
    assert healed is not None and not healed.duplicate
    repeat = chat.changes.react("bob", cid, seq, "👍").recorded
    assert repeat is not None and repeat.duplicate and len(chat.entries(cid)) == 2


def test_a_message_carries_a_limited_number_of_distinct_emoji(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    emoji = [chr(0x1F600 + i) for i in range(MAX_REACTIONS_PER_MESSAGE + 1)]
    for e in emoji[:-1]:
        chat.changes.react("bob", cid, seq, e)
    with pytest.raises(TooManyReactionsError):
        chat.changes.react("alice", cid, seq, emoji[-1])
    chat.changes.react("alice", cid, seq, emoji[0])  # one already there: still fine
    assert len(chat.message(cid, seq).reactions) == MAX_REACTIONS_PER_MESSAGE


@pytest.mark.parametrize("emoji", ["a", "👍👍", ":+1:", "👍 ", "\u200d", "🇫", "1"])
def test_a_reaction_is_one_emoji(chat: Chat, emoji: str) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    with pytest.raises(InvalidEmojiError):
        chat.changes.react("bob", cid, seq, emoji)
    assert len(chat.entries(cid)) == 1


@pytest.mark.parametrize("emoji", ["👍", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "1️⃣", "🏳️‍🌈", "☕", "🫠"])
def test_single_emoji_pass(emoji: str) -> None:
    assert is_single_emoji(emoji)


def test_no_reaction_on_a_deleted_message_or_a_change_entry(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.changes.delete("alice", cid, seq)
    with pytest.raises(MessageDeletedError):
        chat.changes.react("bob", cid, seq, "👍")
    with pytest.raises(MessageNotFoundError):
        chat.changes.react("bob", cid, seq + 1, "👍")  # the delete's own entry
    with pytest.raises(MessageDeletedError):
        chat.changes.edit("alice", cid, seq, "back")


# -- every change ------------------------------------------------------------------------------------------------

def test_non_members_change_nothing(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    before = chat.entries(cid)
    for attempt in (lambda: chat.changes.edit("mallory", cid, seq, "x"),
                    lambda: chat.changes.delete("mallory", cid, seq),
                    lambda: chat.changes.react("mallory", cid, seq, "👍")):
        with pytest.raises(NotMemberError):
            attempt()
    assert chat.entries(cid) == before


def test_a_seq_beyond_the_newest_is_not_found(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    chat.say("alice", cid)
    with pytest.raises(MessageNotFoundError):
        chat.changes.react("bob", cid, 5, "👍")


def test_in_groups_messages_of_users_i_blocked_are_not_mine_to_change(chat: Chat) -> None:
    cid = group(chat, "alice", "bob", "carol")
    seq = chat.say("bob", cid)
    chat.blocks.block("alice", "bob", 0)
    with pytest.raises(MessageNotFoundError):
        chat.changes.react("alice", cid, seq, "👍")
    with pytest.raises(MessageNotFoundError):
        chat.changes.delete("alice", cid, seq)  # even the owner: they do not see it


def test_messages_from_before_i_joined_are_not_mine_to_change(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    conversation = chat.conversation_store.conversations[cid]
    chat.conversation_store.conversations[cid] = conversation.model_copy(update={
        "members": (*conversation.members, "dave"), "visible_from": {"dave": seq + 1}})
    with pytest.raises(MessageNotFoundError):
        chat.changes.react("dave", cid, seq, "👍")


def test_a_retry_far_behind_records_nothing(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.changes.delete("alice", cid, seq)
    for _ in range(HEAL_SCAN_MAX + 1):
        chat.say("bob", cid)
    outcome = chat.changes.delete("alice", cid, seq)
    assert outcome.recorded is None and outcome.entry_seq is None


def test_changes_are_never_unread(chat: Chat) -> None:
    cid = group(chat, "alice", "bob")
    seq = chat.say("alice", cid)
    chat.changes.react("bob", cid, seq, "👍")
    chat.changes.edit("alice", cid, seq, "edited")
    assert [m.count for m in chat.entries(cid)] == [1, 1, 1]  # ordinals count messages only
