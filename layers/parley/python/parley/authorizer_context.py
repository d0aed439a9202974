"""The keys of the authorizer context: what the ``$connect`` authorizer passes to every route, and the edge
reads back. Their own module, so the authorizer imports them without the routes' edge."""

from __future__ import annotations

USER_ID_KEY = "userId"  # the verified user id
FRAME_FORMAT_KEY = "frameFormat"  # the connection's frame format
