"""The admin console's API under moto, through the real server API function: console calls (``/console/v1/...``,
JWT claims) reach the same routes as IAM calls, only for members of the admins group, and every call is audited
under the operator's name; the console's own routes read reports, users and conversations."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Chat, FakeConnectionsApi
from tests.support.events import console_event, http_api_event
from tests.support.handlers import invoke


def console(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    answer = invoke("server_api", console_event(method, f"/console{path}", body, **kwargs))
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None


def iam(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    answer = invoke("server_api", http_api_event(method, path, body, **kwargs))
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None


def reported_group(texts: list[str], reported: int) -> tuple[str, int, Chat, Chat]:
    """mallory's messages in a group with bob; bob reports the ``reported``-th (0-based)."""
    mallory, bob = Chat("mallory", "m1").connect(), Chat("bob", "b1").connect()
    cid = mallory.call("conversations", {"action": "createGroup", "members": ["bob"], "name": "g"})[
        "conversation"]["conversationId"]
    seqs = [mallory.send(cid, text, f"x{i}")["s"] for i, text in enumerate(texts)]
    bob.call("reports", {"action": "report", "conversationId": cid, "seq": seqs[reported], "reason": "spam"})
    return cid, seqs[reported], mallory, bob


def test_an_admin_operator_calls_the_same_routes_and_the_audit_names_them(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given an operator in the admins group (and another group)
    # when they ban a user through the console route
    status, banned = console("POST", "/v1/bans", {"userId": "mallory", "reason": "spam"}, username="ana",
                             groups="[support admins]")
    # then the ban is made, by them, as an IAM caller's would be
    assert status == 200
    assert banned["ban"]["by"] == "console:ana"
    assert iam("GET", "/v1/bans/mallory")[1]["ban"]["by"] == "console:ana"
    # and the audit log holds the call under their name (never their e-mail), found by caller
    _, found = iam("GET", "/v1/audit", query={"caller": "console:ana"})
    assert [(e["operation"], e["status"], e["caller"]) for e in found["entries"]] == [
        ("POST /v1/bans", 200, "console:ana")]
    assert "example.com" not in json.dumps(found)


@pytest.mark.parametrize("groups", ["[support]", None, "[]", "[administrators]"])
def test_an_operator_outside_the_admins_group_is_refused_and_nothing_changes(
        aws_env: Any, connections_api: FakeConnectionsApi, groups: str | None) -> None:
    # given an operator signed in but not in the admins group
    # when they try to ban a user
    status, answer = console("POST", "/v1/bans", {"userId": "mallory"}, username="eve", groups=groups)
    # then 403 forbidden, the user is not banned, and the refusal is audited under their name
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    assert iam("GET", "/v1/bans/mallory")[1]["ban"] is None
    _, found = iam("GET", "/v1/audit", query={"caller": "console:eve"})
    assert [e["status"] for e in found["entries"]] == [403]


def test_a_console_path_with_iam_only_and_an_iam_path_with_a_jwt_only_are_refused(aws_env: Any) -> None:
    # an IAM-signed request on the console's path
    iam_on_console = invoke("server_api", http_api_event("GET", "/console/v1/reports"))
    assert (iam_on_console["statusCode"], json.loads(iam_on_console["body"])["error"]["code"]) == (
        401, "unauthorized")
    # console claims on an IAM path
    jwt_on_v1 = invoke("server_api", console_event("GET", "/v1/reports"))
    assert (jwt_on_v1["statusCode"], json.loads(jwt_on_v1["body"])["error"]["code"]) == (401, "unauthorized")


def test_whoami_says_who_and_what_the_deployment_shows(aws_env: Any, configure: Any) -> None:
    assert console("GET", "/v1/console/whoami", username="ana") == (
        200, {"operator": "console:ana", "admin": True, "fullAccess": False})


def test_a_report_shows_its_message_in_context_and_the_counts(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given eight messages of mallory's, the fourth reported by bob
    texts = [f"m{i}" for i in range(8)]
    cid, seq, _, _ = reported_group(texts, 3)
    # when an operator opens the report
    status, detail = console("GET", f"/v1/reports/{cid}.{seq}.bob")
    # then they see the three before, the message and the four after, the reason and the counts
    assert status == 200
    assert [(m["text"], m["reported"]) for m in detail["context"]] == [
        (t, t == "m3") for t in texts]
    assert detail["report"]["reason"] == "spam" and detail["report"]["text"] == "m3"
    assert (detail["senderReportsReceived"], detail["reporterReportsMade"]) == (1, 1)
    assert detail["reportId"] == f"{cid}.{seq}.bob"


def test_a_report_that_does_not_exist_or_an_id_that_is_not_one_is_refused(aws_env: Any) -> None:
    assert console("GET", "/v1/reports/g_nothere.3.bob")[1]["error"]["code"] == "report_not_found"
    assert console("GET", "/v1/reports/g_x.zero.bob")[1]["error"]["code"] == "invalid_request"


def test_the_user_page_shows_status_devices_reports_and_bans(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given mallory reported by bob, then banned for an hour
    _, seq, _, _ = reported_group(["hi"], 0)
    iam("POST", "/v1/bans", {"userId": "mallory", "durationSeconds": 3600, "reason": "first"})
    # when an operator opens mallory's page and bob's
    status, page = console("GET", "/v1/users/mallory/overview")
    _, bobs = console("GET", "/v1/users/bob/overview")
    # then mallory received one report, bob made one; the ban is in force and in the history
    assert status == 200
    assert (page["reportsReceived"]["count"], page["reportsMade"]["count"]) == (1, 0)
    assert (bobs["reportsMade"]["count"], bobs["reportsMade"]["recent"][0]["seq"]) == (1, seq)
    assert page["ban"]["reason"] == "first"
    assert [e["action"] for e in page["banHistory"]] == ["banned"]
    assert page["conversationCount"] == 1
    assert page["status"] == "online"  # her connection is recorded until its $disconnect runs


def test_an_invisible_user_is_shown_invisible_to_operators(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given bob online but invisible
    bob = Chat("bob", "b1").connect()
    bob.call("preferences", {"action": "setPreferences", "visibility": "invisible"})
    # then the operator sees "invisible", not "offline"
    assert console("GET", "/v1/users/bob/overview")[1]["status"] == "invisible"


def test_the_conversation_page_shows_text_of_reported_messages_only(
        aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    # given three messages, the second reported
    cid, seq, _, _ = reported_group(["one", "two", "three"], 1)
    # when an operator opens the conversation
    status, page = console("GET", f"/v1/conversations/{cid}/overview")
    # then members and roles, the count, and text only for the reported message
    assert status == 200
    assert sorted((m["userId"], m["role"]) for m in page["members"]) == [("bob", "member"), ("mallory", "owner")]
    assert page["messageCount"] == 3
    shown = {e["seq"]: e["text"] for e in page["recentActivity"] if e["kind"] == "message"}
    assert shown == {seq - 1: None, seq: "two", seq + 1: None}
    assert page["fullAccess"] is False
    # and the read is audited, with full access off
    _, found = iam("GET", "/v1/audit", query={"caller": "console:ops"})
    assert "fullAccess:off" in found["entries"][0]["targets"]


def test_with_full_access_every_text_is_shown_and_the_audit_says_so(
        aws_env: Any, connections_api: FakeConnectionsApi, configure: Any) -> None:
    configure(PARLEY_CONSOLE_FULL_ACCESS="true")
    cid, _, _, _ = reported_group(["one", "two"], 1)
    _, page = console("GET", f"/v1/conversations/{cid}/overview")
    assert sorted(e["text"] for e in page["recentActivity"] if e["kind"] == "message") == ["one", "two"]
    _, found = iam("GET", "/v1/audit", query={"caller": "console:ops"})
    assert "fullAccess:on" in found["entries"][0]["targets"]


def test_an_iam_caller_reads_the_console_routes_too(aws_env: Any, connections_api: FakeConnectionsApi) -> None:
    cid, seq, _, _ = reported_group(["x"], 0)
    assert iam("GET", f"/v1/reports/{cid}.{seq}.bob")[0] == 200


def test_erasing_a_reporter_removes_their_report_references(
        aws_env: Any, connections_api: FakeConnectionsApi, configure: Any) -> None:
    from tests.integration.erasure_world import configure_jobs, run_jobs

    configure_jobs(configure)
    # given bob reported mallory's message
    reported_group(["hi"], 0)
    assert console("GET", "/v1/users/mallory/overview")[1]["reportsReceived"]["count"] == 1
    # when bob is erased
    iam("POST", "/v1/users/bob/erasure")
    run_jobs()
    # then nothing counts or lists his report any more, and no reference names him
    assert console("GET", "/v1/users/mallory/overview")[1]["reportsReceived"] == {"count": 0, "recent": []}
    assert console("GET", "/v1/users/bob/overview")[1]["reportsMade"] == {"count": 0, "recent": []}
    refs = [i for i in aws_env.scan(TableName="parley-test")["Items"] if i["pk"]["S"].startswith("REPORTS")]
    assert refs == []
