"""Single-use chat tokens: ``TOKEN#<jti>`` / ``~``, kept until the token's own expiry by TTL."""

from __future__ import annotations

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.ports import UsedTokenStore
from parley.stores.codec import to_item
from parley.stores.errors import error_code, translated


class DynamoUsedTokenStore(UsedTokenStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def first_use(self, jti: str, expires_at: int) -> bool:
        item = to_item({table.PK: table.token_pk(jti), table.SK: table.THROTTLE_SK,
                        table.TTL_ATTRIBUTE: expires_at + 60})
        try:
            with translated():
                client("dynamodb").put_item(TableName=self._table, Item=item,
                                            ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
