"""What a reaction may be: one emoji, checked without any Unicode data beyond this module (docs/protocol.md,
"react", states the same rule).

A reaction passes if it is exactly one of:

* a keycap: one of ``0-9 # *``, optionally U+FE0F, then U+20E3;
* a flag: two regional indicators (U+1F1E6..U+1F1FF);
* a sequence of 1 to ``MAX_PARTS`` pictographs joined by ZERO WIDTH JOINER (U+200D), where a pictograph is one code
  point of ``PICTOGRAPHS`` optionally followed by U+FE0F or one skin-tone modifier (U+1F3FB..U+1F3FF), and the
  black flag U+1F3F4 may carry a tag sequence (U+E0020..U+E007E, then U+E007F) as subdivision flags do.
"""

from __future__ import annotations

from parley.errors import InvalidEmojiError

MAX_PARTS = 8  # the longest family and profession sequences have 7
MAX_EMOJI_CHARS = 32  # code points, for the whole reaction
# Distinct emoji one message may carry (docs/protocol.md, "react"): each is one attribute of its item.
MAX_REACTIONS_PER_MESSAGE = 20

# Code point ranges of emoji in Unicode 15.1 (from emoji-data.txt's Emoji_Presentation and Extended_Pictographic
# ranges, text-default symbols included): inclusive (first, last).
PICTOGRAPHS: tuple[tuple[int, int], ...] = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122), (0x2139, 0x2139),
    (0x2194, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328), (0x23CF, 0x23CF), (0x23E9, 0x23F3),
    (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE),
    (0x2600, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55),
    (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
    (0x1F004, 0x1F004), (0x1F0CF, 0x1F0CF), (0x1F170, 0x1F1AD), (0x1F201, 0x1F251), (0x1F300, 0x1F3FA),
    (0x1F400, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F7E0, 0x1F7F0), (0x1F90C, 0x1F9FF), (0x1FA70, 0x1FAFF),
)
VS16, ZWJ, KEYCAP = 0xFE0F, 0x200D, 0x20E3
SKIN_TONES = (0x1F3FB, 0x1F3FF)
REGIONAL = (0x1F1E6, 0x1F1FF)
TAGS, CANCEL_TAG, BLACK_FLAG = (0xE0020, 0xE007E), 0xE007F, 0x1F3F4


def _within(cp: int, span: tuple[int, int]) -> bool:
    return span[0] <= cp <= span[1]


def _pictograph(cp: int) -> bool:
    return any(first <= cp <= last for first, last in PICTOGRAPHS)


def is_single_emoji(value: str) -> bool:
    cps = [ord(c) for c in value]
    if not cps or len(cps) > MAX_EMOJI_CHARS:
        return False
    if chr(cps[0]) in "0123456789#*":  # a keycap
        return cps[1:] in ([KEYCAP], [VS16, KEYCAP])
    if _within(cps[0], REGIONAL):  # a flag
        return len(cps) == 2 and _within(cps[1], REGIONAL)
    return _pictograph_sequence(cps)


def _pictograph_sequence(cps: list[int]) -> bool:
    parts, i = 0, 0
    while True:
        if i >= len(cps) or not _pictograph(cps[i]):
            return False
        base, i, parts = cps[i], i + 1, parts + 1
        if i < len(cps) and (cps[i] == VS16 or _within(cps[i], SKIN_TONES)):
            i += 1
        if base == BLACK_FLAG and i < len(cps) and _within(cps[i], TAGS):
            while i < len(cps) and _within(cps[i], TAGS):
                i += 1
            if i >= len(cps) or cps[i] != CANCEL_TAG:
                return False
            i += 1
        if i == len(cps):
            return parts <= MAX_PARTS
        if cps[i] != ZWJ:
            return False
        i += 1


def check_emoji(value: str) -> str:
    if not is_single_emoji(value):
        raise InvalidEmojiError()
    return value
