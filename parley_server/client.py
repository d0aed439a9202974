"""``ParleyAdmin``: one method per server API operation, each a signed HTTPS call (docs/server-api.md)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import botocore.session
from botocore.credentials import Credentials

from parley_server.signing import sign

DEFAULT_TIMEOUT_S = 30.0


class ApiError(Exception):
    """The server API refused or failed a call: ``status`` is the HTTP status, ``code`` the stable error code
    (docs/server-api.md, "Errors"); API Gateway's own refusals (a bad signature, a missing permission) carry
    ``code`` ``forbidden`` or ``unauthorized``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ParleyAdmin:
    """A client of one Parley deployment's server API.

    ``url``: the deployment's ``ServerApiUrl`` output (or the local stack's, http://127.0.0.1:8084).
    ``credentials``/``region``: default to botocore's chain (environment, profile, role) and its region."""

    def __init__(self, url: str, *, credentials: Credentials | None = None, region: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
            raise ValueError("The server API's URL is https:// (or http:// for the local stack).")
        session = botocore.session.get_session()
        self._url = url.rstrip("/")
        found = credentials or session.get_credentials()
        if found is None:
            raise ValueError("No AWS credentials: set them as for the AWS CLI, or pass credentials=.")
        self._credentials: Credentials = found
        self._region = region or session.get_config_variable("region") or "us-east-1"
        self._timeout = timeout_s

    # -- the transport ----------------------------------------------------------------------------

    def call(self, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        """One signed call; the decoded JSON answer, or ``ApiError``. Fields set to None, in the query or at a
        JSON object body's top level, are left out (the API's defaults apply)."""
        params = {k: v for k, v in (query or {}).items() if v is not None}
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if v is not None}
        url = self._url + urllib.parse.quote(path, safe="/:@")
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        signed = sign(method, url, data, self._credentials.get_frozen_credentials(), self._region, headers=headers)
        request = urllib.request.Request(url, data=data if body is not None else None,  # noqa: S310 (checked)
                                         method=method.upper(), headers=signed)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310 (http(s) only)
                raw = answer.read()
        except urllib.error.HTTPError as refused:
            raise _api_error(refused.code, refused.read()) from None
        return json.loads(raw) if raw else None

    # -- conversations ----------------------------------------------------------------------------

    def create_direct(self, user_a: str, user_b: str) -> dict[str, Any]:
        return self.call("POST", "/v1/conversations/direct", body={"userIds": [user_a, user_b]})

    def create_group(self, created_by: str, members: list[str], *, name: str | None = None,
                     history_visibility: str | None = None) -> dict[str, Any]:
        return self.call("POST", "/v1/conversations/groups", body={
            "createdBy": created_by, "members": members, "name": name, "historyVisibility": history_visibility})

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/conversations/{conversation_id}")

    def list_conversations(self, user_id: str, *, limit: int | None = None,
                           cursor: str | None = None) -> dict[str, Any]:
        return self.call("GET", f"/v1/users/{user_id}/conversations", query={"limit": limit, "cursor": cursor})

    def add_members(self, conversation_id: str, user_ids: list[str], *,
                    acting_as: str | None = None) -> dict[str, Any]:
        """``acting_as``: a member, under the member rules; None: the system (docs/server-api.md)."""
        return self.call("POST", f"/v1/conversations/{conversation_id}/members",
                         body={"userIds": user_ids, "actingAs": acting_as})

    def remove_member(self, conversation_id: str, user_id: str, *, acting_as: str | None = None) -> dict[str, Any]:
        return self.call("DELETE", f"/v1/conversations/{conversation_id}/members/{user_id}",
                         query={"actingAs": acting_as})

    def set_role(self, conversation_id: str, user_id: str, role: str, *,
                 acting_as: str | None = None) -> dict[str, Any]:
        return self.call("PUT", f"/v1/conversations/{conversation_id}/members/{user_id}/role",
                         body={"role": role, "actingAs": acting_as})

    # -- system messages --------------------------------------------------------------------------

    def post_message(self, conversation_id: str, text: str, client_msg_id: str, *, bot: str | None = None,
                     last_seq: int | None = None) -> dict[str, Any]:
        """A system message (sender ``#system``, or ``#bot:<bot>``). Retrying with the same ``client_msg_id``
        is safe: the stored message answers (``duplicate``)."""
        return self.call("POST", f"/v1/conversations/{conversation_id}/messages",
                         body={"clientMsgId": client_msg_id, "text": text, "bot": bot, "lastSeq": last_seq})

    # -- erasure and export (GDPR) --------------------------------------------------------------------

    def erase_user(self, user_id: str) -> dict[str, Any]:
        """Start the user's erasure (or get their running one): the job; it runs asynchronously."""
        return self.call("POST", f"/v1/users/{user_id}/erasure")

    def erasure_status(self, user_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/users/{user_id}/erasure")

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Start an export of the user's data (or get their running one): the job; once ``done``, its status has
        ``downloadUrl``."""
        return self.call("POST", f"/v1/users/{user_id}/export")

    def export_status(self, user_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/users/{user_id}/export")

    def wait_for_job(self, user_id: str, kind: str, *, timeout_s: float = 300.0,
                     poll_s: float = 1.0) -> dict[str, Any]:
        """Poll the user's ``erasure`` or ``export`` job until it is done (TimeoutError after ``timeout_s``)."""
        import time

        deadline = time.monotonic() + timeout_s
        status = self.erasure_status if kind == "erasure" else self.export_status
        while True:
            job = status(user_id)
            if job.get("status") == "done":
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {kind} of {user_id} is still {job.get('phase')}")
            time.sleep(poll_s)

    # -- audit ------------------------------------------------------------------------------------

    def audit(self, *, start: int | None = None, end: int | None = None, target: str | None = None,
              caller: str | None = None, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        """``caller``: only the entries of one caller (an IAM ARN, or ``console:<username>``)."""
        return self.call("GET", "/v1/audit", query={"from": start, "to": end, "target": target, "caller": caller,
                                                    "limit": limit, "cursor": cursor})


    # -- moderation (docs/server-api.md, "Moderation") ---------------------------------------------

    def ban(self, user_id: str, *, duration_seconds: int | None = None, reason: str | None = None) -> dict[str, Any]:
        """Ban ``user_id`` for ``duration_seconds`` (None: for good) and close their open connections."""
        return self.call("POST", "/v1/bans", body={"userId": user_id, "durationSeconds": duration_seconds,
                                                   "reason": reason})

    def unban(self, user_id: str) -> dict[str, Any]:
        return self.call("DELETE", f"/v1/bans/{user_id}")

    def bans(self, *, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        """The bans in force, newest first."""
        return self.call("GET", "/v1/bans", query={"limit": limit, "cursor": cursor})

    def user_bans(self, user_id: str, *, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        """The user's ban in force (or null) and their ban history, newest first."""
        return self.call("GET", f"/v1/bans/{user_id}", query={"limit": limit, "cursor": cursor})

    def reports(self, *, status: str = "open", limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        return self.call("GET", "/v1/reports", query={"status": status, "limit": limit, "cursor": cursor})

    def report(self, report_id: str) -> dict[str, Any]:
        """One report (``<conversationId>.<seq>.<reporterId>``) with its message's context and the counts."""
        return self.call("GET", f"/v1/reports/{report_id}")

    def user_overview(self, user_id: str) -> dict[str, Any]:
        """A user as the admin console shows them (status, devices, blocks, reports, bans)."""
        return self.call("GET", f"/v1/users/{user_id}/overview")

    def conversation_overview(self, conversation_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/conversations/{conversation_id}/overview")

    def service_overview(self) -> dict[str, Any]:
        """The admin console's figures: now and the last 24 hours, and where each comes from."""
        return self.call("GET", "/v1/console/overview")

    def resolve_report(self, conversation_id: str, seq: int, reporter_id: str, resolution: str, *,
                       note: str | None = None, ban_seconds: int | None = None,
                       delete_message: bool = False) -> dict[str, Any]:
        """``resolution``: ``dismissed``, ``message_deleted``, ``warned`` or ``banned``."""
        return self.call("POST", "/v1/reports/resolve", body={
            "conversationId": conversation_id, "seq": seq, "reporterId": reporter_id, "resolution": resolution,
            "note": note, "banSeconds": ban_seconds, "deleteMessage": True if delete_message else None})

    def delete_message(self, conversation_id: str, seq: int) -> dict[str, Any]:
        """Delete a message for everyone."""
        return self.call("DELETE", f"/v1/conversations/{conversation_id}/messages/{seq}")


def _api_error(status: int, raw: bytes) -> ApiError:
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
        error = decoded["error"]
        return ApiError(status, str(error.get("code")), str(error.get("message")))
    # API Gateway's own answers: {"message": "Forbidden"} and the like
    message = decoded.get("message") if isinstance(decoded, dict) else raw[:200].decode(errors="replace")
    return ApiError(status, {401: "unauthorized", 403: "forbidden"}.get(status, "http_error"), str(message))
