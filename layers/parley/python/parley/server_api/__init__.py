"""The server API: HTTPS, IAM-authorized (SigV4), for the host app's backend (docs/server-api.md).

One Lambda (``functions/server_api``) serves every route; ``app.py`` routes with Powertools'
``APIGatewayHttpResolver`` and includes one ``Router`` per area: ``conversations``, ``messages``, ``audit``,
``moderation`` and ``users``. Routers are thin: the logic is in the core services.
"""
