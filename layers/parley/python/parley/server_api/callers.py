"""Who calls the server API: an IAM principal (``/v1/...``, API Gateway's AWS_IAM authorizer) or an operator of
the admin console (``/console/v1/...``, API Gateway's JWT authorizer over the console's Cognito user pool).

The authorizers prove who signed; this module decides whether that caller may use the path it called. A
``/console`` request must carry JWT claims (never IAM alone), and its ``cognito:groups`` must hold the admins
group, on every call; a ``/v1`` request must carry an IAM identity (never a JWT alone). Refused: nothing runs
(docs/admin.md, "Signing in"). The console's audit caller is ``console:<cognito:username>``: never the e-mail
claim or anything else of the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.errors import UnauthorizedError

CONSOLE_PREFIX = "/console"
CONSOLE_CALLER_PREFIX = "console:"


@dataclass(frozen=True)
class Caller:
    name: str  # the audit entry's caller: an IAM ARN, or ``console:<username>``
    console: bool  # an operator of the admin console
    admin: bool  # may call: an IAM caller always, a console operator in the admins group


def is_console_path(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


def _authorizer(event: dict[str, Any]) -> dict[str, Any]:
    found = (event.get("requestContext") or {}).get("authorizer")
    return found if isinstance(found, dict) else {}


def _iam_arn(authorizer: dict[str, Any]) -> str | None:
    iam = authorizer.get("iam")
    arn = iam.get("userArn") if isinstance(iam, dict) else None
    return arn if isinstance(arn, str) and arn else None


def _jwt_claims(authorizer: dict[str, Any]) -> dict[str, Any] | None:
    jwt = authorizer.get("jwt")
    claims = jwt.get("claims") if isinstance(jwt, dict) else None
    return claims if isinstance(claims, dict) else None


def groups_of(claims: dict[str, Any]) -> list[str]:
    """``cognito:groups`` as API Gateway passes it: a list, or (HTTP API) a string such as ``[admins other]``."""
    raw = claims.get("cognito:groups")
    if isinstance(raw, list):
        return [str(g) for g in raw]
    if isinstance(raw, str):
        return [g for g in raw.strip("[]").replace(",", " ").split() if g]
    return []


def identify(event: dict[str, Any], *, admin_group: str) -> Caller:
    """The caller of ``event``; ``UnauthorizedError`` when it carries no identity fit for its path. A console
    operator outside ``admin_group`` is named (for the audit) with ``admin`` False: ``app.handle`` refuses them."""
    path = str(((event.get("requestContext") or {}).get("http") or {}).get("path") or event.get("rawPath") or "")
    authorizer = _authorizer(event)
    if not is_console_path(path):
        arn = _iam_arn(authorizer)
        if arn is None:
            raise UnauthorizedError("The request carries no IAM identity (is the route's authorizer AWS_IAM?).")
        return Caller(name=arn, console=False, admin=True)
    claims = _jwt_claims(authorizer)
    username = claims.get("cognito:username") or claims.get("username") if claims else None
    if claims is None or not isinstance(username, str) or not username:
        raise UnauthorizedError("A console request must carry a console sign-in (a JWT of the console's user "
                                "pool).")
    return Caller(name=CONSOLE_CALLER_PREFIX + username, console=True, admin=admin_group in groups_of(claims))
