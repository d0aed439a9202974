"""``/v1/conversations/{conversationId}/messages``: system messages, sent by the app or one of its named bots."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

router = APIGatewayHttpRouter()
