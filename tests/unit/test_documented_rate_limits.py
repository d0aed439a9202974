"""The rate-limit tables of docs/protocol.md and docs/security.md are the contract: every bucket's default is
the one ``Settings`` ships, and each bucket covers exactly the actions whose handler charges it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parley import routes
from parley.config import Settings

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "docs" / "protocol.md", REPO / "docs" / "security.md"]
# run_route(event, <route>, limit="<bucket>") in functions/<name>/handler.py; no limit= means none
_RUN_ROUTE = re.compile(r"run_route\(event, \w+(?:, limit=\"(?P<bucket>\w+)\")?(?:, \w+=\w+)*\)")
_NOT_LIMITED = "none"


def documented_table(doc: Path) -> list[list[str]]:
    """The rows (cells) of the table in the doc's "## Rate limits" section."""
    section = doc.read_text().split("\n## Rate limits\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    header, *body = rows
    assert header.startswith("| bucket | rate (per second) | burst | actions it covers |"), doc
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in body]


def documented_limits(doc: Path) -> dict[str, tuple[float, int]]:
    limits = {}
    for bucket, rate, burst, _ in documented_table(doc):
        if bucket != _NOT_LIMITED:
            limits[bucket.strip("`")] = (float(rate.split()[0]), int(burst))
    return limits


def documented_actions(doc: Path) -> dict[str, set[str]]:
    """Bucket (``none`` for the actions that are not limited) -> the actions the doc says it covers."""
    return {bucket.strip("`"): set(re.findall(r"`([^`]+)`", actions))
            for bucket, _, _, actions in documented_table(doc)}


def charged_buckets() -> dict[str, set[str]]:
    """Bucket -> the actions whose handler charges it, read from the handlers themselves."""
    buckets: dict[str, set[str]] = {}
    for action, function in routes.ROUTES.items():
        if action == routes.CONNECT:
            # connect charges the connect bucket in the core, after the open-connections cap
            source = (REPO / "layers" / "parley" / "python" / "parley" / "connections.py").read_text()
            bucket = "connect" if 'self._limiter.check("connect", user_id)' in source else _NOT_LIMITED
        else:
            calls = _RUN_ROUTE.findall((REPO / "functions" / function / "handler.py").read_text())
            bucket = (calls[0] or _NOT_LIMITED) if calls else _NOT_LIMITED
        buckets.setdefault(bucket, set()).add(action)
    buckets.setdefault(_NOT_LIMITED, set()).update(routes.GATEWAY_ANSWERS)  # API Gateway answers them itself
    return buckets


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_every_documented_default_is_the_one_the_settings_ship(doc: Path) -> None:
    # given the rate-limit table of the doc / then it lists every bucket, with Settings' rate and burst
    assert documented_limits(doc) == Settings().rate_limit_table


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_every_action_is_documented_under_the_bucket_its_handler_charges(doc: Path) -> None:
    # given each route's handler (run_route's limit=) / then the doc names exactly its actions per bucket,
    # and under "none" exactly the actions that are not rate limited
    assert documented_actions(doc) == charged_buckets()


def test_the_actions_that_are_not_rate_limited() -> None:
    assert charged_buckets()[_NOT_LIMITED] == {"ping", routes.DEFAULT, routes.DISCONNECT}
