"""The benchmarks keep working: each runs here at tiny sizes (a few seconds), and the capacity-unit
calculator is checked against hand calculations from the DynamoDB Developer Guide's rules."""

from __future__ import annotations

import json

import pytest

from benchmarks import capacity, coldstart, conflicts, cost, e2e, fanout, fuzz, goals, load, seq_model, traffic
from benchmarks.progress import silent
from benchmarks.report import Results, kept_goal_rows, part_block, render

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


# -- item sizes and units --------------------------------------------------------------------------


def test_a_string_attribute_is_its_name_plus_its_utf8_bytes() -> None:
    # "pk" (2) + "USER#ä" (6 bytes: ä is 2 in UTF-8)
    assert capacity.item_size({"pk": {"S": "USER#ä"}}) == 2 + 7


def test_a_number_is_one_byte_per_two_significant_digits_plus_one() -> None:
    assert capacity.number_size("1795814229923") == 7 + 1  # 13 digits -> 7 bytes, + 1
    assert capacity.number_size("1000") == 1 + 1  # trailing zeroes trimmed: "1"
    assert capacity.number_size("-0.0012") == 1 + 1  # leading zeroes trimmed: "12"
    assert capacity.item_size({"at": {"N": "42"}}) == 2 + 2


def test_binary_boolean_and_null_attributes() -> None:
    assert capacity.item_size({"b": {"B": b"\x00\x01\x02"}, "ok": {"BOOL": True}, "n": {"NULL": True}}) == (
        1 + 3) + (2 + 1) + (1 + 1)


def test_lists_and_maps_cost_three_bytes_plus_one_per_element() -> None:
    # "members": 7 + 3 + ("alice" 5 + 1) + ("bob" 3 + 1)
    assert capacity.item_size({"members": {"L": [{"S": "alice"}, {"S": "bob"}]}}) == 7 + 3 + 6 + 4
    # "b": 1 + 3 + ("text" 4 + "hi" 2 + 1)
    assert capacity.item_size({"b": {"M": {"text": {"S": "hi"}}}}) == 1 + 3 + 7
    assert capacity.item_size({"empty": {"M": {}}}) == 5 + 3


def test_sets_are_the_sum_of_their_elements() -> None:
    assert capacity.item_size({"tags": {"SS": ["a", "bc"]}}) == 4 + 3
    assert capacity.item_size({"ns": {"NS": ["1", "22"]}}) == 2 + 2 + 2


def test_a_message_item_computed_by_hand() -> None:
    item = {"pk": {"S": "CONV#d_abc"}, "sk": {"S": "MSG#000000000001"}, "i": {"S": "q3Z8q3Z8q3Z8q3Z8"},
            "f": {"S": "alice"}, "t": {"N": "1764275880123"}, "c": {"S": "8f14e45f"},
            "b": {"M": {"text": {"S": "hi"}}}}
    by_hand = (2 + 10) + (2 + 16) + (1 + 16) + (1 + 5) + (1 + 8) + (1 + 8) + (1 + 3 + 4 + 2 + 1)
    assert capacity.item_size(item) == by_hand == 82


def test_write_units_round_up_per_kilobyte_and_never_below_one() -> None:
    assert capacity.write_units(0) == 1  # a failed condition on a missing item still costs one
    assert capacity.write_units(1024) == 1
    assert capacity.write_units(1025) == 2
    assert capacity.put_units(old_size=1500, new_size=200) == 2  # the larger of before and after
    assert capacity.transact_write_units([100, 1500]) == 2 * (1 + 2)


def test_read_units_round_up_per_4kb_and_halve_when_eventually_consistent() -> None:
    assert capacity.read_units(0, consistent=True) == 1.0
    assert capacity.read_units(4096, consistent=True) == 1.0
    assert capacity.read_units(4097, consistent=True) == 2.0
    assert capacity.read_units(4097, consistent=False) == 1.0
    assert capacity.query_units([3000, 3000], consistent=True) == 2.0  # the sum, rounded once
    assert capacity.batch_get_units([3000, 3000], consistent=True) == 2.0  # each item rounded
    assert capacity.batch_get_units([100, 100, 0], consistent=False) == 1.5


# -- each benchmark, tiny ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cost_report() -> cost.CostReport:
    return cost.run(messages=5, others=200, group_members=5, group_online=2, progress_factory=silent, warmup=2,
                    inbox_sizes=(1, 3))


def test_cost_counts_the_real_calls_and_prices_them(cost_report: cost.CostReport) -> None:
    report = cost_report
    direct, group, direct_others, group_others = report.scenarios
    calls = direct.message.calls
    assert calls["dynamodb.PutItem"] == 1  # the message
    # the sender's rate-limit bucket: one shared write per lease of 5 tokens (2 warm-up + 5 measured sends)
    assert calls["dynamodb.UpdateItem"] == pytest.approx(0.2)
    assert calls["apigatewaymanagementapi.PostToConnection"] == 1  # the one recipient connection
    assert not any("Scan" in name for s in report.scenarios for name in s.message.calls)
    message = direct.message.billable
    assert message.wru == pytest.approx(1.2) and message.apigw_messages == 3
    assert direct.floor.apigw_messages == 3 and direct.ratio(report.profile, report.ping_minutes) > 1
    # the group's 3 offline members each get one push, through the notifier's own invocation
    assert group.message.billable.mobile_pushes == 3 and group.message.billable.lambda_requests == pytest.approx(2)
    # the preloaded table changes no unit of work
    for with_others, alone in ((direct_others, direct), (group_others, group)):
        assert with_others.message.billable.wru == pytest.approx(alone.message.billable.wru)
        assert with_others.message.billable.rru == pytest.approx(alone.message.billable.rru)
    assert report.preload_items == 200 * 7
    nolimit = next(s for s in report.sensitivity if s.key == "direct-nolimit")
    assert nolimit.message.billable.wru == 1  # no bucket write
    assert report.memory_mb == 256
    # a change instead of a message: an edit and a reaction update the message and store their entry; a
    # membership change is one transaction; none of them is ever pushed
    rows = {s.key: s for s in report.sensitivity}
    for key in ("direct-edit", "direct-react"):
        assert rows[key].message.calls["dynamodb.PutItem"] == 1  # the change entry
        assert rows[key].message.billable.mobile_pushes == 0
        assert rows[key].message.billable.apigw_messages == direct.message.billable.apigw_messages
    member = rows["group-member"].message
    assert member.calls["dynamodb.TransactWriteItems"] == 1 and "dynamodb.PutItem" not in member.calls
    assert member.billable.mobile_pushes == 0 and group.message.billable.mobile_pushes > 0
    # the same message end-to-end encrypted: the same calls, pushes and frames, bigger frames and items (the
    # envelope: a 1:1's still fits one write unit, a group's does not)
    for key, plain in (("direct-e2e", direct), ("group-e2e", group)):
        encrypted = rows[key].message
        assert encrypted.calls["dynamodb.PutItem"] == 1
        assert encrypted.billable.mobile_pushes == plain.message.billable.mobile_pushes
        assert encrypted.billable.apigw_messages == plain.message.billable.apigw_messages
        assert encrypted.billable.transfer_out_bytes > plain.message.billable.transfer_out_bytes
    assert rows["direct-e2e"].message.billable.wru == pytest.approx(direct.message.billable.wru)
    assert rows["group-e2e"].message.billable.wru > group.message.billable.wru


def test_cost_is_all_in_each_missing_line_present_and_in_the_total(cost_report: cost.CostReport) -> None:
    report = cost_report
    direct, group = report.scenarios[:2]
    message = direct.message.billable
    # every invocation is logged, every frame has an access-log entry, 5% of requests are traced
    assert message.handler_log_bytes > 0 and message.access_log_bytes > 200 and message.traces == pytest.approx(0.05)
    assert message.sqs_requests == 0  # send finished its delivery: nothing handed to the queue
    assert message.lambda_gb_s > 0 and message.transfer_out_bytes > 0
    # a session runs the authorizer, connect and disconnect, and tells the online contact twice
    assert direct.session is not None and direct.session.billable.lambda_requests == pytest.approx(3)
    assert direct.session.billable.posts == pytest.approx(2) and direct.session.billable.wru > 0
    # ping follows parley.routes: API Gateway answers it itself (a MOCK integration), frame in and pong out
    assert report.ping_function is None and direct.ping is not None
    assert direct.ping.billable.lambda_requests == 0 and direct.ping.billable.apigw_messages == pytest.approx(2)
    all_in = direct.all_in(report.profile, report.ping_minutes)
    lines = all_in.lines()
    for line in ("CloudWatch Logs: handler logs", "CloudWatch Logs: API Gateway access logs", "X-Ray traces",
                 "API Gateway connection minutes", "keepalive ping", "SQS delivery queue"):
        assert line in lines
    assert lines["connection lifecycle (authorizer, $connect, $disconnect)"] > 0
    assert all_in.usd() == pytest.approx(sum(lines.values())) and all_in.usd() > message.total()
    # the group's floor pays an SNS publish and a delivery for each of its 3 offline devices
    floor = group.floor.lines(report.profile)
    assert floor["SNS publish requests (one per push)"] == floor["SNS mobile push deliveries"] == pytest.approx(
        3 * 0.50 / 1e6)
    # section 2: a row per inbox size, the notifier's units for its one offline recipient
    assert [r.conversations for r in report.inbox] == [1, 3]
    assert all(r.notifier_rru > 0 and r.notifier_wru > 0 for r in report.inbox)
    # the notifier reads and writes the same for a recipient in 1 conversation as in 3
    assert report.inbox[1].notifier_rru == report.inbox[0].notifier_rru
    assert report.inbox[1].notifier_wru == report.inbox[0].notifier_wru


def test_the_goals_table_states_each_figure_of_the_run_against_its_goal(cost_report: cost.CostReport) -> None:
    # given a run of the cost and traffic parts only
    measured = traffic.run()
    results = Results(cost=cost_report, traffic=measured)
    # then the goals table has the two all-in ratios, the inbox sizes and the traffic, and nothing of parts not run
    rows = goals.rows(results)
    assert [r[0].split(":")[0] for r in rows] == ["all-in cost / floor"] * 4 + [
        "a change costs no more than a message"] * 3 + [
        "notifier units per offline recipient in 1/3 conversations", "traffic"]
    direct = cost_report.scenarios[0]
    all_in, floor = direct.all_in(cost_report.profile, cost_report.ping_minutes), direct.floor.usd(cost_report.profile)
    for row, ratio in ((rows[0], all_in.usd_per_message() / floor), (rows[1], all_in.usd() / floor)):
        assert row[1].startswith(f"{ratio:.2f}x") and row[3] == ("**met**" if ratio <= 1.5 else "**missed**")
    assert all_in.usd() > all_in.usd_per_message()  # the sessions cost something
    assert rows[8][1] == f"{measured.compact.delivered_overhead} bytes" and rows[8][3] == "**met**"
    # and the rendered results open with it
    assert "### Goals" in render(results).split("### Cost per million messages")[0]
    # and a later run of other parts keeps these parts' sections and their goal rows
    stamp = "2026-12-01 10:00 UTC"
    kept = {"traffic": part_block("traffic", "### Traffic (earlier)", stamp, goals.rows_by_part(results)["traffic"])}
    later = render(Results(cost=cost_report), kept=kept, order=("cost", "traffic"))
    assert "### Traffic (earlier)" in later and f"traffic: run {stamp}" in later
    assert later.index("### Goals") < later.index("### Cost per million") < later.index("### Traffic (earlier)")
    assert kept_goal_rows(kept["traffic"]) == [rows[8]] and rows[8][1] in later.split("### Cost per million")[0]


def test_cold_start_times_a_handler_over_boto3() -> None:
    result = coldstart.run(repeats=1, progress_factory=silent, only=["default", "send"])
    assert result.import_ms["default"][0] > 0 and result.baseline_ms[0] > 0
    assert result.compiled_import_ms["default"][0] > 0
    assert result.asset_bytes["default"] > 0 and result.layer_bytes > result.asset_bytes["default"]
    # and the first invocation of each ran its representative event (send's was acked) and was timed
    assert len(result.invocation_ms["send"]) == coldstart.WARM_INVOCATIONS + 1
    assert result.first_call_extra("send") is not None and result.first_call_extra("default") is not None


def test_fanout_posts_to_every_recipient_through_botocore_and_reads_them_in_one_batch() -> None:
    [small] = fanout.run(recipient_counts=(4,), runs=1, progress_factory=silent)
    # every recipient connection got a post, through the real client to the local endpoint
    assert small.posts_per_run == 4 and small.own_cpu_ms[0] > 0 and small.moto_cpu_ms[0] > 0
    # one batch read found every recipient's connections
    assert small.lookup_calls == 1
    assert small.reads["connections of the recipients (BatchGet)"] == (1, 2.0)  # 4 items x 0.5 RRU
    # and each memory size is modelled: more memory, less time
    latencies = [m.latency_ms for m in small.modelled]
    assert [m.memory_mb for m in small.modelled] == list(fanout.MEMORY_SIZES)
    assert latencies == sorted(latencies, reverse=True)


def test_traffic_measures_the_real_frames_in_both_formats() -> None:
    result = traffic.run()
    for measured in (result.full, result.compact):
        assert measured.message.header_bytes == 4 and measured.request.header_bytes == 8  # 126+: 2+2, +4 mask
        assert traffic.TEXT.encode() in measured.message.payload
        assert measured.delivered_overhead == measured.message.wire_bytes + measured.ack.wire_bytes - 20
    # the full frames name every field, the default (compact) ones keep message + ack within 200 bytes
    assert json.loads(result.full.message.payload)["messageId"].endswith(".99999")
    assert result.compact.ack.header_bytes == 2 and result.compact.delivered_overhead <= 200
    assert result.item_bytes_with_random_id - result.item_bytes == len("i") + 16


def test_end_to_end_delivers_everything_once_and_in_order() -> None:
    result = e2e.run(clients=2, messages=3, timeout=60)
    for outcome in (result.relay, result.parley):
        assert outcome is not None
        assert outcome.delivered == 6 and (outcome.lost, outcome.duplicated, outcome.out_of_order) == (0, 0, 0), \
            outcome


def test_the_load_test_sees_every_message_once_and_in_order_in_direct_conversations_and_groups() -> None:
    # given 6 clients in 3 pairs and 2 groups of 3, each sending 4 messages, every other one to its group
    result = load.run(clients=6, messages=4, group_size=3, timeout=120)
    # then every message was acked, and each reached every other member of its conversation once, in order
    assert (result.sent, result.group_messages, result.groups) == (24, 12, 2)
    assert result.expected == 12 * 1 + 12 * 2 == result.delivered
    assert (result.lost, result.duplicated, result.out_of_order, result.unexpected) == (0, 0, 0, 0)
    assert not result.errors
    assert result.throughput > 0 and result.ack_ms["p50"] > 0 and result.stack_cpu_s > 0
    assert "### Local load test" in load.section(result)


def test_the_load_test_counts_a_lost_a_duplicated_and_a_reordered_delivery() -> None:
    # given bob's app got seq 2 twice and seq 3 before seq 1 of alice's four messages, and never seq 4
    tally = load._Tally()
    for seq in (1, 2, 3, 4):
        tally.senders[("d1", seq)] = "alice"
        tally.started[("d1", seq)] = 0.0
    tally.received["bob"]["d1"] = [(2, 1.0), (2, 1.1), (3, 1.2), (1, 1.3)]
    result = load.LoadTestResult(clients=2, messages_per_client=4, group_size=2, group_share=0.0)
    # when the deliveries are checked
    load._check(result, tally, {"d1": ["alice", "bob"]})
    # then each is counted
    assert (result.expected, result.delivered, result.lost, result.duplicated) == (4, 3, 1, 1)
    assert result.out_of_order == 2  # 2 after 2, and 1 after 3
    assert not result.exact


def test_one_busy_conversation_acks_every_message_once_and_models_the_race() -> None:
    # given three members sending at once into one group of the local stack
    result = conflicts.run(members=3, rates=(3,), sends=9, model_sends=500)
    [row] = result.local
    # then every message is acked once, at seqs 1..9, and no client saw conflict
    assert not row.errors, row.errors
    assert len(row.latencies_ms) == 9 and row.conflicts == 0
    # and the model ran both retry policies, with the onset of conflicts found for each
    assert {r.policy for r in result.model.rows} == {seq_model.HEAD_REREAD.name, seq_model.WALK_FORWARD.name}
    assert set(result.model.onsets) == {seq_model.HEAD_REREAD.name, seq_model.WALK_FORWARD.name}


def test_the_model_counts_a_lost_race_for_every_put_that_found_its_seq_taken() -> None:
    # given two policies at a rate where sends collide / then walking forward never conflicts where re-reading does
    reread = seq_model.simulate(100, seq_model.HEAD_REREAD, sends=2_000)
    walk = seq_model.simulate(100, seq_model.WALK_FORWARD, sends=2_000)
    assert reread.conflicts > 0 and walk.conflicts == 0
    assert walk.lost_races > 0 and walk.added_p99_ms > 0
    # and with nobody else writing, nobody loses a race
    alone = seq_model.simulate(0.01, seq_model.WALK_FORWARD, sends=50)
    assert (alone.lost_races, alone.conflicts) == (0, 0)


def test_fuzz_answers_every_frame_with_a_stable_code_and_refused_frames_change_nothing() -> None:
    # given two rounds of a few dozen frames, the second with the production rate limits
    result = fuzz.run(frames=60, seed=7, round_frames=30)
    # then every frame got an answer, none of them unhandled, and no refused frame changed the table
    assert (result.frames, result.rounds, result.production_limit_frames) == (60, 2, 30)
    assert sum(result.answers.values()) == 60
    assert not result.unhandled, result.unhandled
    assert not result.state_changes, result.state_changes
    assert result.refused > 0


def test_the_erasure_benchmark_erases_every_message_in_bounded_batches() -> None:
    from benchmarks import erasure

    # given a user with 60 messages in 3 conversations, erased 25 entries a batch
    figures = erasure.run(messages=60, conversations=3, mode="delete", batch_items=25)
    # then every conversation took a few bounded batches, and the table prints
    assert figures.entries == 66 and figures.batches >= 6
    assert figures.wru >= 60 and figures.usd > 0 and figures.erased_per_batch_s > 0
    assert "| delete | 60 |" in erasure.markdown([figures])
