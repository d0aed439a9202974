"""Parley's AWS CDK app: a WebSocket API in front of small Lambda handlers and one DynamoDB table."""
