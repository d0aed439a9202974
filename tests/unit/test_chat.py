"""The terminal chat's own logic (``parley chat``): lines from keystrokes, when typing is told, mentions found in
what is typed, and how replies and mentions are shown."""

from __future__ import annotations

from local.chat import LineEditor, TypingSignal, composing, format_message, mentioned
from parley_client import Message, Quote


def test_keystrokes_make_lines_with_backspace_and_ctrl_d() -> None:
    editor = LineEditor()
    fed = editor.feed("hellp\x7fo\r")
    assert fed.lines == ["hello"] and fed.typed
    assert fed.echo == "hellp\b \bo\n"
    assert editor.feed("\x04").lines == [None]  # Ctrl-D on an empty line ends input
    editor.feed("x")
    assert editor.feed("\x04").lines == []  # not in the middle of a line


def test_typing_is_told_for_messages_and_replies_not_for_commands() -> None:
    editor = LineEditor()
    assert not editor.feed("/rea").typed
    editor.feed("\n")
    assert editor.feed("/reply 3 s").typed
    editor.feed("\n")
    assert editor.feed("h").typed
    assert composing("hi") and composing("/reply 4 ok") and not composing("/read") and not composing("  ")


def test_typing_is_sent_at_the_first_keystroke_then_once_per_interval() -> None:
    now = [100.0]
    signal = TypingSignal(3.0, clock=lambda: now[0])
    told = []
    for step in (0.0, 1.0, 1.5, 0.6, 2.0, 1.0):
        now[0] += step
        told.append(signal.due())
    assert told == [True, False, False, True, False, True]


def test_mentions_are_the_members_named_with_an_at_sign() -> None:
    members = ("alice", "bob", "carol.b")
    assert mentioned("@bob, ask @carol.b. and @mallory; mail bob@example.com @bob", members) == ["bob", "carol.b"]
    assert mentioned("no one here", members) == []


def test_a_reply_shows_its_quote_and_a_mention_of_you_says_so() -> None:
    reply = Message(conversation_id="g", seq=7, message_id="g.7", sender_id="alice", sent_at=0, client_msg_id=None,
                    text="yes @bob", reply_to=3, quote=Quote(seq=3, sender_id="bob", text="lunch at noon?"),
                    mentions=("bob",))
    shown = format_message(reply, "bob")
    assert shown.startswith("#7 [") and shown.endswith('alice: yes @bob [re #3 you: "lunch at noon?"] [mentions you]')
    gone = Message(conversation_id="g", seq=8, message_id="g.8", sender_id="alice", sent_at=0, client_msg_id=None,
                   text="oh", reply_to=3, quote=Quote(seq=3, sender_id="", deleted=True))
    assert format_message(gone, "bob").endswith("alice: oh [re #3: deleted]")


def test_message_frames_carry_reply_quote_and_mentions_in_both_formats() -> None:
    compact = Message.from_frame({"t": "msg", "c": "g", "s": 7, "f": "alice", "at": 1, "b": {"text": "yes"},
                                  "replyTo": 3, "quote": {"seq": 3, "senderId": "bob", "text": "lunch?"},
                                  "mentions": ["bob"]})
    full = Message.from_frame({"type": "message", "conversationId": "g", "seq": 7, "messageId": "g.7",
                               "senderId": "alice", "sentAt": 1, "clientMsgId": "x", "body": {"text": "yes"},
                               "replyTo": 3, "quote": {"seq": 3, "senderId": "bob", "text": "lunch?"},
                               "mentions": ["bob"]})
    for message in (compact, full):
        assert message.reply_to == 3 and message.quote == Quote(seq=3, sender_id="bob", text="lunch?")
        assert message.mentions == ("bob",) and message.mentions_user("bob")
