"""DynamoDB item sizes and on-demand request units, computed from the items themselves.

moto reports a placeholder ``ConsumedCapacity``, so the benchmarks compute what DynamoDB would bill.
The rules, from the DynamoDB Developer Guide:

* Item size -- "DynamoDB item sizes and formats"
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
  the sum, over attributes, of the UTF-8 bytes of the attribute name plus the value's size. A string is
  its UTF-8 bytes; a binary its raw bytes; a number about 1 byte per two significant digits plus 1 byte
  (leading and trailing zeroes trimmed); a Boolean or null 1 byte; a List or Map 3 bytes plus its
  elements, each element 1 byte more (a Map element also counts its key's bytes). A set is the sum of its
  elements.
* Units -- "DynamoDB read and write operations" / "Item sizes and capacity unit consumption": a write is
  1 unit per started 1 KB of the larger of the item before and after (PutItem, UpdateItem), of the deleted
  item (DeleteItem); a conditional write whose condition fails still costs the existing item's size, or
  1 unit when there is no item. A strongly consistent read is 1 unit per started 4 KB, an eventually
  consistent one half that; a read that finds nothing still costs 1 (or 0.5). GetItem and BatchGetItem
  round each item up to 4 KB; Query rounds the sum of the items it read. BatchWriteItem rounds each item
  to 1 KB.
* Transactions -- "Amazon DynamoDB Transactions: How it works", capacity management
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html): every item of
  TransactWriteItems costs two writes (prepare and commit), of TransactGetItems two reads.

All sizes use binary units: 1 KB = 1024 bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

KB = 1024
WRITE_UNIT_BYTES = 1 * KB
READ_UNIT_BYTES = 4 * KB
LIST_OR_MAP_OVERHEAD = 3
ELEMENT_OVERHEAD = 1

AttributeValue = Mapping[str, Any]  # the wire format: {"S": "..."}, {"N": "12"}, {"M": {...}}, ...
Item = Mapping[str, AttributeValue]


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number: 1 byte per two significant digits, plus 1."""
    mantissa = text.strip().lstrip("+-").lower().split("e", 1)[0]
    digits = mantissa.replace(".", "").lstrip("0").rstrip("0")
    return math.ceil(len(digits) / 2) + 1


def value_size(value: AttributeValue) -> int:  # noqa: PLR0911 (one return per DynamoDB type)
    """Bytes of one attribute value (without its name)."""
    (kind, data), = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return number_size(str(data))
    if kind == "B":
        return len(bytes(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in data)
    if kind == "NS":
        return sum(number_size(str(n)) for n in data)
    if kind == "BS":
        return sum(len(bytes(b)) for b in data)
    if kind == "L":
        return LIST_OR_MAP_OVERHEAD + sum(value_size(v) + ELEMENT_OVERHEAD for v in data)
    if kind == "M":
        return LIST_OR_MAP_OVERHEAD + sum(len(k.encode()) + value_size(v) + ELEMENT_OVERHEAD
                                          for k, v in data.items())
    raise ValueError(f"not a DynamoDB attribute value type: {kind}")


def item_size(item: Item | None) -> int:
    """Bytes of an item: attribute names plus values. ``None`` (no item) is 0."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """Write request units of one write of an item of ``size`` bytes (a missing item costs 1)."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    """Read request units of reading ``size`` bytes in one request (reading nothing costs 1 or 0.5)."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def query_units(sizes: list[int], *, consistent: bool) -> float:
    """A Query (or one page of it) reads its items as one operation: their total, rounded up to 4 KB."""
    return read_units(sum(sizes), consistent=consistent)


def batch_get_units(sizes: list[int], *, consistent: bool) -> float:
    """BatchGetItem rounds every item up to 4 KB on its own (a missing one still costs a read)."""
    return sum(read_units(size, consistent=consistent) for size in sizes)


def put_units(old_size: int, new_size: int) -> int:
    """PutItem / UpdateItem: the larger of the item before and after."""
    return write_units(max(old_size, new_size))


def transact_write_units(sizes: list[int]) -> int:
    """TransactWriteItems: two writes per item (``sizes``: the larger of before and after, per item)."""
    return 2 * sum(write_units(size) for size in sizes)
