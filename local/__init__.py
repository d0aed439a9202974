"""Parley's local stack: an API Gateway WebSocket emulator that runs the production handlers in-process,
an @connections management endpoint, and moto for DynamoDB and Secrets Manager.

``python -m local.stack`` (``make run``) starts it; ``python -m local.cli`` mints dev tokens and chats.
"""
