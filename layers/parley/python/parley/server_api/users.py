"""A user's data: erasure and export (GDPR): docs/server-api.md, "Erasure and export"."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

router = APIGatewayHttpRouter()
