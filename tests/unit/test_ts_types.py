"""clients/js/src/frames.ts, the TypeScript SDK's wire types: generated from docs/asyncapi.yaml and up to date
with it, with every action, frame and error code of the document."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tools import ts_types

DOC: dict[str, Any] = yaml.safe_load(ts_types.DOCUMENT.read_text(encoding="utf-8"))
SOURCE = ts_types.OUTPUT.read_text(encoding="utf-8")


def union(name: str) -> set[str]:
    match = re.search(rf"^export type {name} = (.+);$", SOURCE, re.MULTILINE)
    assert match is not None, f"frames.ts has no type {name}"
    return set(re.findall(r'"([^"]+)"', match.group(1)))


def test_frames_ts_is_up_to_date_with_the_asyncapi_document() -> None:
    # given the checked-in frames.ts, when it is generated again from docs/asyncapi.yaml, then nothing changes
    assert ts_types.render(DOC) == SOURCE, f"clients/js/src/frames.ts is stale: run `{ts_types.COMMAND}`"


def test_check_mode_fails_on_a_stale_file(tmp_path: Any, monkeypatch: Any) -> None:
    # given a frames.ts that differs from what the document gives
    stale = tmp_path / "frames.ts"
    stale.write_text(SOURCE.replace("export interface AckFrame", "export interface OldAckFrame"), encoding="utf-8")
    monkeypatch.setattr(ts_types, "OUTPUT", stale)
    # when it is checked, then the check fails and writes nothing
    assert ts_types.main(["--check"]) == 1
    assert "OldAckFrame" in stale.read_text(encoding="utf-8")
    # and when it is generated, then it is fresh again
    assert ts_types.main([]) == 0
    assert ts_types.main(["--check"]) == 0


def test_every_action_has_its_request_and_answers() -> None:
    actions = {name for name, op in DOC["operations"].items() if op["action"] == "receive"}
    assert union("ActionName") == actions
    for block in ("Requests", "Answers"):
        body = SOURCE.split(f"export interface {block} {{", 1)[1].split("\n}\n", 1)[0]
        assert set(re.findall(r"^  (\w+):", body, re.MULTILINE)) == actions


def test_every_error_code_is_in_the_error_code_union() -> None:
    codes = set(DOC["components"]["schemas"]["ErrorCode"]["enum"])
    assert union("ErrorCode") == codes
    assert "stale_last_seq" in codes and "blocked" in codes


def test_every_frame_of_the_document_is_a_server_frame() -> None:
    frames = {name for name in DOC["components"]["schemas"] if name.endswith("Frame")}
    assert set(re.findall(r"\w+", SOURCE.split("export type ServerFrame = ", 1)[1].split(";", 1)[0])) == frames
    for name in frames:
        assert re.search(rf"^export interface {name} \{{", SOURCE, re.MULTILINE), name
