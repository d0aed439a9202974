"""The cost model's arithmetic, checked by hand: Lambda duration from CPU at the memory's CPU share plus
modelled waits (pools in parallel), the floor, the usage profile, the all-in lines, the access-log entry and
which Lambda ``ping`` runs. No timings: every input is given."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks import access_logs, duration, lanes, lifecycle, prices
from benchmarks.bill import AllIn, Billable, Floor
from benchmarks.metering import AwsCall
from benchmarks.usage import UsageProfile


def call(service: str = "dynamodb", operation: str = "GetItem") -> AwsCall:
    return AwsCall(service=service, operation=operation, params={})


PROFILE = UsageProfile("test", messages_per_day=50, connected_minutes_per_day=60, sessions_per_day=20,
                       idle_share=0.5)

# -- Lambda duration ----------------------------------------------------------------------------


def test_cpu_share_follows_memory_one_vcpu_at_1769_mb() -> None:
    assert duration.cpu_share(1769) == 1.0
    assert duration.cpu_share(256) == pytest.approx(256 / 1769) == pytest.approx(0.1447, abs=1e-4)
    assert duration.cpu_share(4096) == 1.0  # one thread of Python uses one vCPU at most


def test_billed_ms_is_cpu_at_the_share_plus_waits_rounded_up() -> None:
    # given 10 ms of own CPU on a full core and 25 ms of modelled waits, at 256 MB (0.1447 of a vCPU)
    # then the invocation bills ceil(10 / 0.1447 + 25) = ceil(94.1) = 95 ms
    assert duration.billed_ms(0.010, 25.0, 256) == 95
    assert duration.billed_ms(0.010, 25.0, 1769) == 35  # a whole vCPU: the CPU time itself
    assert duration.billed_ms(0.0, 0.0, 256) == 1  # never less than 1 ms


def test_calls_in_one_lane_wait_one_after_another() -> None:
    lane = lanes.Lane([call("dynamodb", "Query"), call("dynamodb", "PutItem"), call("sns", "Publish")])
    assert duration.wait_ms(lane) == 5 + 5 + 20


def test_a_pool_batch_waits_for_its_slowest_worker() -> None:
    # given 5 posts of 20 ms on 2 workers: the workers take 3 and 2 posts
    batch = lanes.Batch(workers=2, pool=1, tasks=[lanes.Lane([call("apigatewaymanagementapi", "PostToConnection")])
                                                  for _ in range(5)])
    # then the batch lasts 3 posts, and a lookup before it adds its own 5 ms
    assert duration.makespan_ms(batch) == 60
    assert duration.wait_ms(lanes.Lane([call("dynamodb", "Query"), batch])) == 65


def test_each_task_goes_to_the_first_free_worker() -> None:
    # given tasks of 40, 5, 5, 5 ms on 2 workers: the three short ones share the second worker
    tasks = [lanes.Lane([call("dynamodb", "Query")] * n) for n in (8, 1, 1, 1)]
    assert duration.makespan_ms(lanes.Batch(workers=2, pool=1, tasks=tasks)) == 40


def test_lanes_record_what_a_thread_pool_ran_and_when_the_submitter_waited() -> None:
    # given a handler that looks up three users in a pool, then writes, then uses the pool again
    def handler(pool: ThreadPoolExecutor) -> None:
        list(pool.map(lambda _user: lanes.record(call("dynamodb", "Query")), range(3)))
        lanes.record(call("dynamodb", "PutItem"))
        list(pool.map(lambda _user: lanes.record(call("apigatewaymanagementapi", "PostToConnection")), range(2)))

    with lanes.recording(), ThreadPoolExecutor(max_workers=2) as pool, lanes.lane() as root:
        handler(pool)
    # then the lane holds a batch of three lookups, the write, and a second batch of two posts
    first, write, second = root.steps
    assert isinstance(first, lanes.Batch) and isinstance(second, lanes.Batch) and write.operation == "PutItem"
    assert first.workers == 2 and [len(t.steps) for t in first.tasks] == [1, 1, 1]
    assert [t.steps[0].operation for t in second.tasks] == ["PostToConnection"] * 2
    assert duration.wait_ms(root) == (5 + 5) + 5 + 20  # 3 lookups on 2 workers, the write, 2 posts side by side


def test_moto_server_side_cpu_is_metered_apart_from_the_client() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws(), duration.server_cpu_metered() as server:
        before = server.seconds
        boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="metered")
    assert server.seconds > before


# -- the floor, the usage profile, all-in ------------------------------------------------------


def test_the_floor_pays_a_publish_and_a_delivery_per_push_and_the_connection_behind_a_message() -> None:
    # given the group message of issue 12: 11 API Gateway messages and 40 offline devices
    floor = Floor(apigw_messages=11, pushes=40)
    lines = floor.lines(PROFILE)
    assert lines["SNS publish requests (one per push)"] == pytest.approx(40 * 0.50e-6)
    assert lines["SNS mobile push deliveries"] == pytest.approx(40 * 0.50e-6)
    # the message alone: $51 per million, the figure (11 + 20 + 20)
    assert (floor.usd(PROFILE) - lines["API Gateway connection minutes"]
            - lines["keepalive frames (one per 9.5 idle minutes)"]) * 1e6 == pytest.approx(51.0)
    # per message: 60 / 50 = 1.2 connected minutes, 1.2 x 0.5 / 9.5 keepalive frames
    assert lines["API Gateway connection minutes"] == pytest.approx(1.2 * 0.25e-6)
    assert lines["keepalive frames (one per 9.5 idle minutes)"] == pytest.approx(0.6 / 9.5 * 1e-6)


def test_a_usage_profile_turns_daily_figures_into_per_message_ones() -> None:
    assert PROFILE.sessions_per_message == pytest.approx(0.4)
    assert PROFILE.minutes_per_message == pytest.approx(1.2)
    assert PROFILE.pings_per_message(4.0) == pytest.approx(0.6 / 4)


def test_a_profile_needs_a_session_per_two_connected_hours() -> None:
    with pytest.raises(ValueError, match="2 hours"):
        UsageProfile("always on", messages_per_day=10, connected_minutes_per_day=1440, sessions_per_day=1,
                     idle_share=1.0)


def test_all_in_adds_the_connection_share_to_the_message() -> None:
    # given a message, a session and a ping, each priced on its own
    message = Billable(inbound=1, responses=1, posts=1, lambda_requests=1, wru=1, traces=0.05)
    session = Billable(lambda_requests=3, wru=6, posts=2)
    ping = Billable(inbound=1, responses=1, lambda_requests=1)
    all_in = AllIn(message=message, session=session, ping=ping, ping_minutes=4.0, profile=PROFILE)
    lines = all_in.lines()
    # then each per-connection line is the event's price times how often it comes per message
    assert lines["connection lifecycle (authorizer, $connect, $disconnect)"] == pytest.approx(session.total() * 0.4)
    assert lines["keepalive ping"] == pytest.approx(ping.total() * 0.15)
    assert lines["API Gateway connection minutes"] == pytest.approx(1.2 * prices.APIGW_CONNECTION_MINUTE.usd)
    assert lines["X-Ray traces"] == pytest.approx(0.05 * 5e-6)
    assert all_in.usd() == pytest.approx(message.total() + session.total() * 0.4 + ping.total() * 0.15
                                         + 1.2 * 0.25e-6)


def test_billables_add_and_scale_meter_by_meter() -> None:
    total = Billable(wru=1, access_log_bytes=300) + Billable(wru=2, rru=0.5).scaled(2)
    assert (total.wru, total.rru, total.access_log_bytes) == (5, 1, 300)


# -- access logs and ping -----------------------------------------------------------------------


def test_an_access_log_entry_has_the_declared_fields_with_realistic_values() -> None:
    user = "0f8fad5b-d9cb-469f-a165-70867728950e"
    entry = json.loads(access_logs.entry(access_logs.Event("MESSAGE", "send", user)))
    assert set(entry) == set(access_logs.declared_fields())
    assert entry["principalId"] == user and entry["routeKey"] == "send" and entry["error"] == "-"
    assert len(entry["connectionId"]) == len(entry["requestId"]) == 16


def test_a_field_the_benchmark_cannot_render_fails_loudly() -> None:
    source = '_ACCESS_LOG_FIELDS = {"latency": apigw.AccessLogField.context_integration_latency()}'
    with pytest.raises(LookupError, match="context_integration_latency"):
        access_logs.entry(access_logs.Event("MESSAGE", "send", "u"), access_logs.declared_fields(source))


def test_ping_runs_the_lambda_parley_routes_names_and_none_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from parley import routes

    assert lifecycle.ping_function() == routes.ROUTES.get("ping")
    # given a routing table where API Gateway answers ping itself (no function for it)
    monkeypatch.setattr(routes, "ROUTES", {k: v for k, v in routes.ROUTES.items() if k != "ping"})
    # then ping runs no Lambda: the frame in, the pong out and its access-log entry are all it costs
    assert lifecycle.ping_function() is None
    mock = lifecycle.mock_ping("u")
    assert (mock.apigw_messages, mock.lambda_requests, mock.traces) == (2, 0, 0)
    assert mock.access_log_bytes > 0


# -- docs/performance.md states the model's numbers ----------------------------------------------


def test_the_docs_state_the_latency_table_and_the_usage_profiles_the_code_uses() -> None:
    from benchmarks.paths import DOCS_PERFORMANCE
    from benchmarks.usage import ACTIVE_USER, FLOOR_KEEPALIVE_MINUTES, SENSITIVITY

    text = DOCS_PERFORMANCE.read_text()
    for latency in duration.LATENCIES:
        operations = ", ".join(sorted(latency.operations)) or "(the others)"
        assert f"| {latency.service} | {operations} | {latency.ms:g} |" in text, latency
    for profile in (ACTIVE_USER, *SENSITIVITY):
        row = (f"| {profile.messages_per_day:,g} | {profile.connected_minutes_per_day:,g} | "
               f"{profile.sessions_per_day:g} | {profile.idle_share:.0%} |")
        assert row in text, profile.name
    assert f"one keepalive frame per {FLOOR_KEEPALIVE_MINUTES:g} idle minutes" in text
    assert f"256 / 1,769 = {duration.cpu_share(256):.3f} of a vCPU" in text
    assert f"Core factor**: {duration.CORE_FACTOR:g}" in text
