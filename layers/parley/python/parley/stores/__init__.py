"""DynamoDB adapters: one module per store, the only code (with ``parley.aws``) that touches boto3."""
