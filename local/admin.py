"""``parley admin ...``: the server API from the command line, through the server SDK (``parley_server``).

Against the local stack by default (http://127.0.0.1:$PARLEY_LOCAL_SERVER_API_PORT, signed with the local
full key, or the read-only one with ``--read-only``); against a deployment with ``--url`` (its
``ServerApiUrl`` output) or ``$PARLEY_SERVER_API_URL``, signed with your AWS credentials (botocore's chain:
environment, profile, role). Each command prints the API's JSON answer; a refusal prints its status and code
and exits 1 (docs/server-api.md, "Command line").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from botocore.credentials import Credentials

from local.settings import (
    DEV_ADMIN_ACCESS_KEY_ID,
    DEV_ADMIN_SECRET_ACCESS_KEY,
    DEV_READER_ACCESS_KEY_ID,
    DEV_READER_SECRET_ACCESS_KEY,
    LOOPBACK,
    LocalSettings,
)
from parley_server import ApiError, ParleyAdmin

Command = Callable[[ParleyAdmin, argparse.Namespace], Any]
# name -> (help, arguments adder, what it calls). MOD and GDPR add their commands here.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], object], Command]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], object]) -> Callable[
        [Command], Command]:
    def register(run: Command) -> Command:
        COMMANDS[name] = (help_text, arguments, run)
        return run
    return register


def _acting_as(p: argparse.ArgumentParser) -> argparse.Action:
    return p.add_argument("--as", dest="acting_as",
                          help="act as this member, under the member rules (default: the system)")


@command("direct", "find or create the direct conversation of two users",
         lambda p: (p.add_argument("user_a"), p.add_argument("user_b")))
def _direct(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.create_direct(a.user_a, a.user_b)


@command("group", "create a group", lambda p: (
    p.add_argument("--owner", required=True), p.add_argument("members", nargs="+"), p.add_argument("--name"),
    p.add_argument("--history", choices=["joined", "all"])))
def _group(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.create_group(a.owner, a.members, name=a.name, history_visibility=a.history)


@command("conversation", "a conversation's metadata", lambda p: p.add_argument("conversation_id"))
def _conversation(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.get_conversation(a.conversation_id)


@command("conversations", "a user's conversations", lambda p: (
    p.add_argument("user_id"), p.add_argument("--limit", type=int), p.add_argument("--cursor")))
def _conversations(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.list_conversations(a.user_id, limit=a.limit, cursor=a.cursor)


@command("add", "add members to a group", lambda p: (
    p.add_argument("conversation_id"), p.add_argument("user_ids", nargs="+"), _acting_as(p)))
def _add(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.add_members(a.conversation_id, a.user_ids, acting_as=a.acting_as)


@command("remove", "remove a member from a group", lambda p: (
    p.add_argument("conversation_id"), p.add_argument("user_id"), _acting_as(p)))
def _remove(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.remove_member(a.conversation_id, a.user_id, acting_as=a.acting_as)


@command("role", "set a member's role", lambda p: (
    p.add_argument("conversation_id"), p.add_argument("user_id"),
    p.add_argument("role", choices=["owner", "admin", "member"]), _acting_as(p)))
def _role(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.set_role(a.conversation_id, a.user_id, a.role, acting_as=a.acting_as)


@command("message", "post a system message", lambda p: (
    p.add_argument("conversation_id"), p.add_argument("text"),
    p.add_argument("--id", dest="client_msg_id", required=True, help="your id for it: a retry is safe"),
    p.add_argument("--bot", help="sent by this named bot (default: the system)")))
def _message(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.post_message(a.conversation_id, a.text, a.client_msg_id, bot=a.bot)


@command("audit", "read the audit log, newest first", lambda p: (
    p.add_argument("--from", dest="start", type=int, help="epoch ms"),
    p.add_argument("--to", dest="end", type=int, help="epoch ms"),
    p.add_argument("--target", help="<kind>:<id>, e.g. user:alice"),
    p.add_argument("--limit", type=int), p.add_argument("--cursor")))
def _audit(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.audit(start=a.start, end=a.end, target=a.target, limit=a.limit, cursor=a.cursor)


# -- moderation (docs/server-api.md, "Moderation") ---------------------------------------------------------

@command("ban", "ban a user (for good, or --for seconds) and close their connections", lambda p: (
    p.add_argument("user_id"), p.add_argument("--for", dest="duration_seconds", type=int, help="seconds"),
    p.add_argument("--reason")))
def _ban(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.ban(a.user_id, duration_seconds=a.duration_seconds, reason=a.reason)


@command("unban", "lift a user's ban", lambda p: p.add_argument("user_id"))
def _unban(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.unban(a.user_id)


@command("bans", "the bans in force; with a user id, theirs and their ban history", lambda p: (
    p.add_argument("user_id", nargs="?"), p.add_argument("--limit", type=int), p.add_argument("--cursor")))
def _bans(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    if a.user_id:
        return admin.user_bans(a.user_id, limit=a.limit, cursor=a.cursor)
    return admin.bans(limit=a.limit, cursor=a.cursor)


@command("reports", "reports, open (default) or resolved", lambda p: (
    p.add_argument("--status", choices=["open", "resolved"], default="open"), p.add_argument("--limit", type=int),
    p.add_argument("--cursor")))
def _reports(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.reports(status=a.status, limit=a.limit, cursor=a.cursor)


@command("resolve", "resolve a report (and the other open reports of its message)", lambda p: (
    p.add_argument("conversation_id"), p.add_argument("seq", type=int), p.add_argument("reporter_id"),
    p.add_argument("resolution", choices=["dismissed", "message_deleted", "warned", "banned"]),
    p.add_argument("--note"), p.add_argument("--ban-seconds", type=int, help="banned: how long (default: for good)"),
    p.add_argument("--delete-message", action="store_true", help="banned: delete the message too")))
def _resolve(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.resolve_report(a.conversation_id, a.seq, a.reporter_id, a.resolution, note=a.note,
                                ban_seconds=a.ban_seconds, delete_message=a.delete_message)


@command("delete", "delete a message for everyone", lambda p: (
    p.add_argument("conversation_id"), p.add_argument("seq", type=int)))
def _delete(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.delete_message(a.conversation_id, a.seq)


# -- erasure and export (docs/server-api.md, "Erasure and export") -------------------------------------

def _wait(p: argparse.ArgumentParser) -> argparse.Action:
    return p.add_argument("--wait", action="store_true", help="poll until the job is done, then print it")


@command("erase", "erase everything Parley holds about a user (GDPR): starts the job, or shows the running one",
         lambda p: (p.add_argument("user_id"), _wait(p)))
def _erase(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    job = admin.erase_user(a.user_id)
    return admin.wait_for_job(a.user_id, "erasure") if a.wait else job


@command("erasure", "the status of a user's erasure", lambda p: p.add_argument("user_id"))
def _erasure(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.erasure_status(a.user_id)


@command("export", "export a user's data as JSON (GDPR): starts the job; once done, its status has downloadUrl",
         lambda p: (p.add_argument("user_id"), _wait(p)))
def _export(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    job = admin.export_user(a.user_id)
    return admin.wait_for_job(a.user_id, "export") if a.wait else job


@command("export-status", "the status of a user's export, and its link once done", lambda p: p.add_argument("user_id"))
def _export_status(admin: ParleyAdmin, a: argparse.Namespace) -> Any:
    return admin.export_status(a.user_id)


def add_parser(commands: Any) -> None:
    """``parley admin``'s sub-commands, under ``parley``'s parser."""
    admin = commands.add_parser("admin", help="call the server API (local stack by default)",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    admin.add_argument("--url", help="the server API (default: $PARLEY_SERVER_API_URL, else the local stack's)")
    admin.add_argument("--region", help="the deployment's region (default: your AWS configuration's)")
    admin.add_argument("--read-only", action="store_true", help="local stack: sign with the read-only key")
    operations = admin.add_subparsers(dest="operation", required=True)
    for name, (help_text, arguments, _) in COMMANDS.items():
        arguments(operations.add_parser(name, help=help_text))


def client(args: argparse.Namespace, settings: LocalSettings) -> ParleyAdmin:
    url = args.url or settings.server_api_url or f"http://{LOOPBACK}:{settings.server_api_port or 8084}"
    if urlsplit(url).hostname in (LOOPBACK, "localhost"):
        key, secret = (DEV_READER_ACCESS_KEY_ID, DEV_READER_SECRET_ACCESS_KEY) if args.read_only \
            else (DEV_ADMIN_ACCESS_KEY_ID, DEV_ADMIN_SECRET_ACCESS_KEY)
        return ParleyAdmin(url, credentials=Credentials(key, secret), region=args.region or settings.region)
    return ParleyAdmin(url, region=args.region)


def run(args: argparse.Namespace, settings: LocalSettings) -> int:
    try:
        answer = COMMANDS[args.operation][2](client(args, settings), args)
    except ApiError as refused:
        print(f"parley admin {args.operation}: {refused.status} {refused.code}: {refused.message}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"parley admin {args.operation}: {exc} (is the local stack running? make run)", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0
