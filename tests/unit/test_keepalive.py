"""The Python client's keepalive rule (docs/protocol.md, "Keeping a connection open"), on an injected clock."""

from __future__ import annotations

from parley_client.keepalive import KEEPALIVE_INTERVAL_S, PONG_TIMEOUT_S, Keepalive

API_GATEWAY_IDLE_TIMEOUT_S = 600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_ping_is_due_after_five_quiet_minutes_and_not_before() -> None:
    # given a connection that just opened
    clock = Clock()
    keepalive = Keepalive(clock=clock)
    # when it stays quiet: no ping until 5 minutes have passed, then one at once
    clock.now += KEEPALIVE_INTERVAL_S - 1
    assert keepalive.due_in() == 1
    clock.now += 1
    assert keepalive.due_in() <= 0


def test_any_frame_received_counts_as_activity() -> None:
    # given a quiet connection 4 minutes old
    clock = Clock()
    keepalive = Keepalive(clock=clock)
    clock.now += 240
    # when a frame arrives (another member's message): the next ping moves 5 minutes past it
    keepalive.active()
    clock.now += 299
    assert keepalive.due_in() == 1


def test_a_busy_connection_never_pings() -> None:
    clock = Clock()
    keepalive = Keepalive(clock=clock)
    for _ in range(100):  # a frame in either direction every 4 minutes, for over 6 hours
        clock.now += 240
        assert keepalive.due_in() > 0
        keepalive.active()


def test_a_quiet_connection_pings_well_inside_api_gateways_idle_timeout() -> None:
    # a ping and its pong land before API Gateway's 10 minutes, and a ping sent a whole interval late (an app
    # the phone's OS suspended) still goes out by then
    assert KEEPALIVE_INTERVAL_S + PONG_TIMEOUT_S < API_GATEWAY_IDLE_TIMEOUT_S
    assert 2 * KEEPALIVE_INTERVAL_S <= API_GATEWAY_IDLE_TIMEOUT_S
