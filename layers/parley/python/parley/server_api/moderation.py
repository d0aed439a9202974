"""Moderation routes (bans, reports, deleting a message for everyone): docs/server-api.md, "Moderation"."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

router = APIGatewayHttpRouter()
