"""SigV4 for the server API, with botocore: what API Gateway's IAM authorizer checks (service
``execute-api``). The local stack verifies with the same code (``local.server_api``)."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials

SERVICE = "execute-api"


def sign(method: str, url: str, body: bytes, credentials: Credentials | ReadOnlyCredentials, region: str, *,
         headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers of a signed request: ``headers`` plus ``Authorization``, ``X-Amz-Date`` (and
    ``X-Amz-Security-Token`` with temporary credentials). The body is signed too (its SHA-256)."""
    request = AWSRequest(method=method.upper(), url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())
