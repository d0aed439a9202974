"""``parley``: the local stack's command line.

    parley run                      the whole service on this machine (same as make run)
    parley token alice              a chat token for alice, signed with the local secret
    parley chat --as alice --to bob a terminal chat with bob
    parley pushes [--user bob]      the push notifications the local stack sent (to moto's SNS)
    parley admin direct alice bob   the server API, signed with SigV4 (parley admin --help: every command)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from local.settings import LOOPBACK, LocalSettings, LocalSettingsError
from local.tokens import DEFAULT_TTL_SECONDS, dev_token


def _default_url(settings: LocalSettings) -> str:
    return f"ws://{LOOPBACK}:{settings.ws_port or 8080}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Parley's local stack and dev tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the whole service locally (WebSocket API, @connections, moto)")

    token = commands.add_parser("token", help="print a chat token for a user, signed with the local secret")
    token.add_argument("user_id")
    token.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="lifetime in seconds")

    chat = commands.add_parser("chat", help="chat with another user in this terminal")
    chat.add_argument("--as", dest="me", required=True, help="your user id")
    chat.add_argument("--to", dest="peer", required=True, help="the user to chat with")
    chat.add_argument("--url", help="the WebSocket API (default: $PARLEY_URL, else ws://127.0.0.1:8080 or "
                                    "$PARLEY_LOCAL_WS_PORT)")
    chat.add_argument("--token", help="a chat token (default: one minted for --as with the local secret)")
    chat.add_argument("--history", type=int, default=20, help="how many earlier messages to show (1-100)")

    pushes = commands.add_parser("pushes", help="list the push notifications moto's SNS platform endpoints "
                                                "received (the local stack on moto only)")
    pushes.add_argument("--user", help="only the pushes to this user's devices")
    pushes.add_argument("--moto", help="moto's URL (default: http://127.0.0.1:$PARLEY_LOCAL_MOTO_PORT, else 8082)")

    from local.admin import add_parser

    add_parser(commands)
    return parser


def _show_pushes(moto_url: str, user: str | None) -> int:
    from local.push import pushes

    try:
        found = [p for p in pushes(moto_url) if user is None or p.user_id == user]
    except OSError as exc:
        print(f"Cannot read moto's state at {moto_url} ({exc}). Is the local stack running (make run)?",
              file=sys.stderr)
        return 1
    for push in found:
        print(f"{push.user_id}  {push.platform}  {push.token[:12]}...  {json.dumps(push.payload)}")
    if not found:
        print("No pushes yet: a user gets them for messages sent while none of their devices is connected, "
              "after registerDevice.")
    return 0


def _tool(args: argparse.Namespace, settings: LocalSettings) -> int:
    if args.command == "admin":
        from local.admin import run

        return run(args, settings)
    return _show_pushes(args.moto or f"http://{LOOPBACK}:{settings.moto_port or 8082}", args.user)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        from local.stack import main as run_stack

        return run_stack([])
    try:
        settings = LocalSettings.from_env()
    except LocalSettingsError as exc:
        print(f"parley {args.command}: {exc}", file=sys.stderr)
        return 1
    if args.command == "token":
        print(dev_token(args.user_id, settings, ttl_seconds=args.ttl))
        return 0
    if args.command in ("admin", "pushes"):
        return _tool(args, settings)
    from local.chat import chat

    url = args.url or settings.url or _default_url(settings)
    token = args.token or dev_token(args.me, settings)
    history = max(1, min(args.history, 100))
    try:
        return asyncio.run(chat(url, args.me, args.peer, token, history=history,
                            typing_interval_s=settings.typing_interval_ms / 1000))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
