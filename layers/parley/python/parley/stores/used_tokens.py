"""Single-use chat tokens: ``TOKEN#<jti>`` / ``~``, kept until the token's own expiry by TTL."""

from __future__ import annotations

from parley import table
from parley.ports import UsedTokenStore
from parley.stores.codec import to_item
from parley.stores.errors import put_if_absent


class DynamoUsedTokenStore(UsedTokenStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def first_use(self, jti: str, expires_at: int) -> bool:
        item = to_item({table.PK: table.token_pk(jti), table.SK: table.THROTTLE_SK,
                        table.TTL_ATTRIBUTE: expires_at + 60})
        return put_if_absent(self._table, item)
