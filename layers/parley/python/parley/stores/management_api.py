"""The @connections management API adapter: posts frames to WebSocket connections (410 Gone -> stale)."""

from __future__ import annotations

from parley.aws import client
from parley.errors import StaleConnectionError
from parley.ports import ConnectionGateway


class ManagementApiGateway(ConnectionGateway):
    def __init__(self, endpoint_url: str, concurrency: int = 64) -> None:
        self._endpoint = endpoint_url
        self._concurrency = concurrency  # posts in flight at once: one kept-alive connection each

    def post(self, connection_id: str, data: bytes) -> None:
        api = client("apigatewaymanagementapi", self._endpoint, self._concurrency)
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=data)
        except api.exceptions.GoneException as exc:  # a ClientError subclass: caught before anything broader
            raise StaleConnectionError(connection_id) from exc

    def close(self, connection_id: str) -> None:
        api = client("apigatewaymanagementapi", self._endpoint, self._concurrency)
        try:
            api.delete_connection(ConnectionId=connection_id)
        except api.exceptions.GoneException as exc:
            raise StaleConnectionError(connection_id) from exc
