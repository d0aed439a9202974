"""User ids: one rule, the one docs/protocol.md states, for tokens' ``sub`` and for frames' user id fields."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from parley.user_ids import UserId, is_user_id

USER_ID = TypeAdapter(UserId)


def docs_rule(value: str) -> bool:
    """docs/protocol.md, Connecting: 1-128 characters, none of them whitespace of any kind, `#`, or in
    Unicode's "other" categories (Cc, Cf, Cs, Co, Cn)."""
    return 1 <= len(value) <= 128 and not any(
        char.isspace() or char == "#" or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}
        for char in value)


def accepted_as_field(value: str) -> bool:
    try:
        USER_ID.validate_python(value)
    except ValidationError:
        return False
    return True


# Characters near the rule's edges, so that generated ids often contain one.
EDGES = "#\n\r\t\x00\x1f\x7f\x85\xa0\u1680\u180e\u2000\u200b\u200d\u2028\u2029\u202a\u202e\u2060\u2066" \
        "\u2069\u3000\ufeff\ue000\ud800\U000e0001aZ9é用🙂.@_-"


@settings(max_examples=500)
@given(st.text(st.characters(exclude_categories=()) | st.sampled_from(EDGES), max_size=140))
@example("alice1\n")
@example("x" * 128)
@example("x" * 129)
@example("")
def test_the_validator_and_the_documented_rule_agree(value: str) -> None:
    assert is_user_id(value) == docs_rule(value) == accepted_as_field(value)


def test_every_single_character_is_judged_by_the_documented_rule() -> None:
    disagreements = [hex(cp) for cp in range(sys.maxunicode + 1) if is_user_id(chr(cp)) != docs_rule(chr(cp))]
    assert disagreements == []


@pytest.mark.parametrize("value", [
    "alice1\n",  # Python's `$` matches before a trailing newline
    "alice\x00", "al\x1bice",  # controls (Cc)
    "\u202eecila", "alice\u202a", "\u2066alice\u2069",  # bidi overrides and isolates (Cf)
    "al\u200bice", "alice\ufeff", "al\u200dice",  # zero-width characters (Cf)
    "ali ce", "alice\u00a0", "alice\u3000", "alice\u2028",  # whitespace, ASCII or Unicode
    "alice#1", "\ue000", "",  "x" * 129,
])
def test_ids_that_hide_or_reorder_characters_are_refused(value: str) -> None:
    assert not is_user_id(value)
    assert not accepted_as_field(value)


@pytest.mark.parametrize("value", ["alice", "Zoë", "用户42", "user@example.com", "a.b-c_d:e", "🙂", "x" * 128])
def test_ordinary_ids_are_accepted(value: str) -> None:
    assert is_user_id(value)
    assert USER_ID.validate_python(value) == value


def test_a_refused_field_names_the_rule_never_the_value() -> None:
    with pytest.raises(ValidationError) as refused:
        USER_ID.validate_python("secret\u202e")
    (error,) = refused.value.errors(include_input=False)
    assert "user id" in error["msg"] and "secret" not in error["msg"]
