"""DynamoDB attribute-value (de)serialisation shared by the stores."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_ser = TypeSerializer()
_de = TypeDeserializer()


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def set_expression(values: dict[str, Any]) -> dict[str, Any]:
    """``UpdateItem`` arguments that SET each attribute of ``values`` (names and values placeholdered)."""
    names = {f"#a{i}": attr for i, attr in enumerate(values)}
    return {
        "UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_item({f":v{i}": v for i, v in enumerate(values.values())}),
    }
