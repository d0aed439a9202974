"""Parley's server SDK: the host app's backend calls the server API (docs/server-api.md) with it, signing each
request with SigV4 (botocore) under the caller's own AWS credentials: no shared secret.

    from parley_server import ParleyAdmin
    admin = ParleyAdmin("https://abc123.execute-api.eu-west-1.amazonaws.com")  # credentials: boto3's chain
    conversation = admin.create_direct("alice", "bob")
"""

from parley_server.client import ApiError, ParleyAdmin
from parley_server.signing import SERVICE, sign

__all__ = ["SERVICE", "ApiError", "ParleyAdmin", "sign"]
