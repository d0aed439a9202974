"""The admin console's security headers, defined once in ``console/security-headers.json`` (the local console
server sends that set on 127.0.0.1, without HSTS); in AWS CloudFront's response headers policy sends the same
set (``infra.constructs.admin_console``), with the Cognito domain the page exchanges its sign-in code at added
to the CSP's ``connect-src`` (docs/admin.md, "Security").
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HEADERS_FILE = Path(__file__).resolve().parents[1] / "console" / "security-headers.json"
HSTS = "Strict-Transport-Security"
HSTS_MAX_AGE_SECONDS = 63_072_000  # 2 years: the value in the header set


def security_headers(*, connect_src: tuple[str, ...] = (), hsts: bool = True,
                     path: Path = HEADERS_FILE) -> dict[str, str]:
    """Every header the console's responses carry, by name; ``connect_src``: origins the page may call besides
    its own."""
    headers: dict[str, str] = json.loads(path.read_text())
    csp = headers["Content-Security-Policy"]
    if connect_src:
        csp = re.sub(r"connect-src ([^;]*)", lambda m: "connect-src " + " ".join((m.group(1), *connect_src)), csp)
    headers["Content-Security-Policy"] = csp
    if hsts:
        headers[HSTS] = headers.get(HSTS) or f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
    else:
        headers.pop(HSTS, None)
    return headers
