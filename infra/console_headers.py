"""The admin console's security headers, defined once: CloudFront's response headers policy sends them in AWS
(``infra.constructs.admin_console``), the local console server (``local/console.py``) sends the same ones on
127.0.0.1 (docs/admin.md, "Security"). Plain Python, no import but the standard library's: the local console
server runs this file on its own, without loading the ``infra`` package (and CDK).

The Content-Security-Policy allows only the console's own files (no inline script or style, no ``eval``), calls
to its own origin (the page calls ``/console/...`` on the origin that served it) and, in AWS, to the Cognito
domain that exchanges the sign-in code for tokens.
"""

from __future__ import annotations

# HSTS: AWS only (CloudFront serves HTTPS; the local server is plain HTTP on the loopback interface).
HSTS_MAX_AGE_SECONDS = 63_072_000  # 2 years


def content_security_policy(connect_src: tuple[str, ...] = ()) -> str:
    """The CSP; ``connect_src``: origins besides ``'self'`` the page may call (the Cognito domain in AWS)."""
    connect = " ".join(("'self'", *connect_src))
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            f"connect-src {connect}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
            "object-src 'none'")


def security_headers(*, connect_src: tuple[str, ...] = (), hsts: bool = False) -> dict[str, str]:
    """Every header the console's responses carry, by name."""
    headers = {
        "Content-Security-Policy": content_security_policy(connect_src),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cache-Control": "no-store",
    }
    if hsts:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
    return headers


# What the local console server sends (CUI: local/console.py).
LOCAL_HEADERS = security_headers()
