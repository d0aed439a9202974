"""The metrics of a delivery: the same set whichever route stored the message (send, changes, groups, the
server API), so a dashboard sums them without knowing which route wrote them."""

from __future__ import annotations

from typing import Any

import pytest

from parley import observability
from parley.delivery import DeliveryReport
from parley.models import DeliveryJob, Message, MessageBody
from parley.observability import count_delivery


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, float]] = []

    def add_metric(self, name: str, unit: str, value: float) -> None:
        self.lines.append((name, value))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(observability, "metrics", recorder)
    return recorder


def report(**fields: Any) -> DeliveryReport:
    message = Message(conversation_id="c", seq=1, sender_id="alice", sent_at=1, client_msg_id="m",
                      body=MessageBody(text="hi"))
    return DeliveryReport(message=message, unread=(), **{"delivered": 2, "stale": 1, "remaining": None,
                                                        "handed_off": False, **fields})


def test_a_delivery_counts_posts_and_stale_connections_and_nothing_else_when_all_was_done(recorded: Recorder) -> None:
    count_delivery(report())
    assert recorded.lines == [("Deliveries", 2), ("StaleConnections", 1)]


def test_a_delivery_whose_rest_went_to_the_queue_says_so(recorded: Recorder) -> None:
    job = DeliveryJob.model_construct()
    count_delivery(report(remaining=job, handed_off=True))
    assert recorded.lines == [("Deliveries", 2), ("StaleConnections", 1), ("DeliveriesHandedOff", 1)]


def test_no_delivery_no_metric(recorded: Recorder) -> None:
    count_delivery(None)
    assert recorded.lines == []
