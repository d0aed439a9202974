"""The admin console's core, with fakes: who a call comes from and whether they may make it, the overview's
figures from a metric source, and the report id the console links by."""

from __future__ import annotations

import pytest

from parley.errors import InvalidRequestError, UnauthorizedError
from parley.figures import BUCKET_MS, DAY_MS, HOUR_MS, LocalCounters, MetricSource, overview
from parley.operator_views import parse_report_id
from parley.server_api.callers import groups_of, identify
from tests.support.events import console_event, http_api_event

NOW = 1_795_000_000_000


def test_an_iam_caller_on_a_v1_path_is_named_by_its_arn_and_may_call() -> None:
    caller = identify(http_api_event("GET", "/v1/reports", caller_arn="arn:aws:iam::1:role/backend"),
                      admin_group="admins")
    assert (caller.name, caller.console, caller.admin) == ("arn:aws:iam::1:role/backend", False, True)


@pytest.mark.parametrize(("groups", "admin"), [("[admins]", True), ("[support admins]", True), ("[support]", False),
                                               (None, False), ("[administrators]", False)])
def test_a_console_operator_may_call_only_in_the_admins_group(groups: str | None, admin: bool) -> None:
    caller = identify(console_event("GET", "/console/v1/reports", username="ana", groups=groups),
                      admin_group="admins")
    assert (caller.name, caller.console, caller.admin) == ("console:ana", True, admin)


def test_the_admins_group_is_the_deployments_choice() -> None:
    event = console_event("GET", "/console/v1/reports", groups="[moderators]")
    assert identify(event, admin_group="moderators").admin is True


@pytest.mark.parametrize("event", [
    http_api_event("GET", "/console/v1/reports"),  # IAM on the console's path
    console_event("GET", "/v1/reports"),  # a console token on an IAM path
    http_api_event("GET", "/v1/reports", caller_arn=None),  # nothing at all
])
def test_an_identity_that_does_not_fit_the_path_is_refused(event: dict) -> None:
    with pytest.raises(UnauthorizedError):
        identify(event, admin_group="admins")


def test_groups_come_as_api_gateway_passes_them_or_as_a_list() -> None:
    assert groups_of({"cognito:groups": "[a b]"}) == ["a", "b"]
    assert groups_of({"cognito:groups": ["a", "b"]}) == ["a", "b"]
    assert groups_of({}) == []


class FixedSource(MetricSource):
    def __init__(self, points: dict[str, list[tuple[int, float]]]) -> None:
        self.points = points

    def sums(self, names: list[str], start_ms: int, end_ms: int) -> dict[str, list[tuple[int, float]]]:
        return {n: [(t, v) for t, v in self.points.get(n, []) if start_ms <= t < end_ms] for n in names}

    def source(self, name: str) -> str:
        return f"test:{name}"


def test_the_figures_sum_now_and_the_day_and_the_rate_is_hourly() -> None:
    bucket = NOW - NOW % BUCKET_MS
    source = FixedSource({
        "MessagesSent": [(bucket, 4.0), (bucket - 2 * HOUR_MS, 6.0), (bucket - 2 * DAY_MS, 100.0)],
        "Connections": [(bucket, 5.0)], "Disconnections": [(bucket, 2.0)],
        "ErrorFrame_rate_limited": [(bucket - HOUR_MS, 3.0)], "PushFailures": [(bucket, 1.0)],
    })
    o = overview(source, clock=lambda: NOW)
    assert (o.now.messages_sent, o.last_24h.messages_sent) == (4, 10)  # the day before yesterday left out
    assert o.now.connections_open == 3
    assert (o.now.error_frames, o.last_24h.error_frames) == ({}, {"rate_limited": 3})
    assert o.now.pushes_failed == 1
    assert len(o.message_rate) == 24 and sum(n for _, n in o.message_rate) == 10
    assert o.message_rate[-1][1] == 4
    assert o.sources["messagesSent"] == "test:MessagesSent"


def test_local_counters_keep_a_day_of_what_the_functions_counted() -> None:
    clock = [NOW]
    counters = LocalCounters(clock=lambda: clock[0])
    counters.add("MessagesSent", 1)
    clock[0] += DAY_MS + 1
    counters.add("MessagesSent", 2)
    counters.add("MessagesSent", 0)  # nothing to count
    o = overview(counters, clock=lambda: clock[0])
    assert o.last_24h.messages_sent == 2
    assert o.sources["messagesSent"] == "local:MessagesSent"


def test_a_report_id_names_the_conversation_the_seq_and_the_reporter() -> None:
    assert parse_report_id("g_abc.12.bob.smith") == ("g_abc", 12, "bob.smith")
    for bad in ("g_abc", "g_abc.x.bob", "g_abc.0.bob", "g_abc.3.", ".3.bob"):
        with pytest.raises(InvalidRequestError):
            parse_report_id(bad)
