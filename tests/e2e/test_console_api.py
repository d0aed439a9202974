"""The admin console's API against the local stack, over real HTTP with a dev console token: an operator in the
admins group reads a report a real client made and bans its sender, and the audit log names the operator; an
operator outside the group, a request without a token and an IAM-signed request are refused."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from local.console_tokens import issue_console_token
from local.stack import Stack
from tests.e2e.harness import admin_for, connected, eventually, run

pytestmark = pytest.mark.timeout(90)


def console_call(stack: Stack, method: str, path: str, *, token: str | None,
                 body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"{stack.server_api_url}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def test_an_admin_reads_a_report_bans_the_sender_and_the_audit_names_them(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    operator = user("ops")
    token = issue_console_token(operator, ["admins"])
    cid = admin_for(stack).create_direct(alice_id, bob_id)["conversationId"]

    async def scenario() -> int:
        alice = await connected(stack, alice_id)
        bob = await connected(stack, bob_id)
        try:
            await alice.send(cid, "before")
            reported = await alice.send(cid, "the reported one")
            await alice.send(cid, "after")
            await bob.report(cid, reported.seq, "spam")
            return reported.seq
        finally:
            await alice.close()
            await bob.close()

    # given bob reported alice's message over his socket
    seq = run(scenario())
    # when an operator in the admins group opens the report through the console route
    status, listed = console_call(stack, "GET", "/console/v1/reports", token=token)
    assert status == 200
    mine = [r for r in listed["reports"] if r["conversationId"] == cid]
    assert [(r["seq"], r["reporterId"], r["reason"]) for r in mine] == [(seq, bob_id, "spam")]
    report_id = f"{cid}.{seq}.{bob_id}"
    status, detail = console_call(stack, "GET", f"/console/v1/reports/{urllib.parse.quote(report_id, safe='')}",
                                  token=token)
    # then they see the message in its context, and the sender's count of reports received
    assert status == 200
    assert [(m["text"], m["reported"]) for m in detail["context"]] == [
        ("before", False), ("the reported one", True), ("after", False)]
    assert detail["senderReportsReceived"] == 1
    # and when they ban the sender from the console
    status, banned = console_call(stack, "POST", "/console/v1/bans", token=token,
                                  body={"userId": alice_id, "durationSeconds": 3600, "reason": "spam"})
    assert status == 200
    assert banned["ban"]["by"] == f"console:{operator}"
    # then the audit log, filtered by that operator, holds the ban
    status, audit = console_call(stack, "GET", f"/console/v1/audit?caller=console%3A{operator}", token=token)
    assert status == 200
    assert ("POST /v1/bans", 200) in [(e["operation"], e["status"]) for e in audit["entries"]]
    # and the user's page shows the ban in force
    status, page = console_call(stack, "GET", f"/console/v1/users/{alice_id}/overview", token=token)
    assert status == 200
    assert (page["ban"]["reason"], page["reportsReceived"]["count"]) == ("spam", 1)
    # and the backend (IAM, through the server SDK) reads the same report and finds the operator's ban by caller
    admin = admin_for(stack)
    assert admin.report(report_id)["senderReportsReceived"] == 1
    found = admin.audit(caller=f"console:{operator}", target=f"user:{alice_id}")["entries"]
    assert found[0]["operation"] == "GET /v1/users/{userId}/overview"


def test_the_overview_counts_what_the_local_functions_did(stack: Stack, user: Callable[[str], str]) -> None:
    alice_id, bob_id = user("alice"), user("bob")
    token = issue_console_token(user("ops"), ["admins"])
    cid = admin_for(stack).create_direct(alice_id, bob_id)["conversationId"]
    _, before = console_call(stack, "GET", "/console/v1/console/overview", token=token)

    async def send() -> None:
        alice = await connected(stack, alice_id)
        try:
            await alice.send(cid, "counted")
        finally:
            await alice.close()

    # given alice sent a message
    run(send())

    # when the operator reads the overview, then it counts one more message, from the local counters
    async def counted() -> bool:
        status, after = console_call(stack, "GET", "/console/v1/console/overview", token=token)
        return status == 200 and after["last24h"]["messagesSent"] == before["last24h"]["messagesSent"] + 1

    run(eventually(counted))
    assert before["sources"]["messagesSent"] == "local:MessagesSent"


def test_an_operator_outside_the_admins_group_is_refused_and_the_refusal_is_audited(
        stack: Stack, user: Callable[[str], str]) -> None:
    alice_id = user("alice")
    outsider = user("viewer")
    # given an operator who signed in but is not in the admins group
    status, body = console_call(stack, "POST", "/console/v1/bans", token=issue_console_token(outsider, ["viewers"]),
                                body={"userId": alice_id})
    # then the API refuses them, and nothing changed
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert admin_for(stack).user_bans(alice_id)["ban"] is None
    _, audit = console_call(stack, "GET", f"/console/v1/audit?caller=console%3A{outsider}",
                            token=issue_console_token(user("ops"), ["admins"]))
    assert [(e["status"], e["caller"]) for e in audit["entries"]] == [(403, f"console:{outsider}")]


def test_a_console_request_without_a_token_or_with_a_foreign_one_is_refused(stack: Stack) -> None:
    # no token, a token not signed by the stack's key, and an expired one
    assert console_call(stack, "GET", "/console/v1/console/whoami", token=None)[0] == 401
    assert console_call(stack, "GET", "/console/v1/console/whoami", token="e30.e30.c2ln")[0] == 401
    expired = issue_console_token("ops", ["admins"], ttl_seconds=1, now=1_000)
    assert console_call(stack, "GET", "/console/v1/console/whoami", token=expired)[0] == 401


def test_a_console_token_does_not_open_the_iam_routes(stack: Stack) -> None:
    # given a valid admin console token, when it calls a /v1 route (IAM only), then it is refused
    status, body = console_call(stack, "GET", "/v1/audit", token=issue_console_token("ops", ["admins"]))
    assert (status, body["error"]["code"]) == (403, "missing_signature")


def test_whoami_names_the_operator(stack: Stack, user: Callable[[str], str]) -> None:
    operator = user("ops")
    status, body = console_call(stack, "GET", "/console/v1/console/whoami",
                                token=issue_console_token(operator, ["admins", "other"]))
    assert (status, body) == (200, {"operator": f"console:{operator}", "admin": True, "fullAccess": False})
