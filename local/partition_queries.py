"""moto's DynamoDB Query, looking at the queried partition only.

moto answers every Query by sorting all the items of the table in Python (``Table.all_items``) and then
keeping the queried partition's, so a Query costs time in proportion to the whole table, where DynamoDB
reads the partition alone. While :func:`partition_scoped_queries` is active, a Query on a table's own key
(no index) gets from ``all_items`` the partition's items only, in the order ``all_items`` gives them,
less the leading run of items that moto would pass over without taking them (see :func:`_candidates`).
Everything else (key conditions, order, limits, pages, filters, projections, counts) is still moto's own
code, so every answer stays moto's: only the time changes. Index queries and scans are left alone.

The local stack's moto process runs with it (``local.moto_server``); the benchmarks' in-process moto too.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_scope = threading.local()  # (table, the partition's items) while that table's Query runs in this thread


@contextmanager
def partition_scoped_queries() -> Iterator[None]:
    """While active, moto's ``Table.query`` on a table's own key looks at the queried partition only."""
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    signature = inspect.signature(original_query)

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        if arguments.get("index_name") or hash_key is None:
            return original_query(self, *args, **kwargs)
        outer = getattr(_scope, "current", None)
        _scope.current = (self, _candidates(self, hash_key, arguments))
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _scope.current = outer

    def all_items(self: Table) -> list[Any]:
        current = getattr(_scope, "current", None)
        if current is not None and current[0] is self:
            return list(current[1])
        return original_all_items(self)

    Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query, Table.all_items = original_query, original_all_items  # type: ignore[method-assign]


def _candidates(table: Any, hash_key: Any, arguments: dict[str, Any]) -> list[Any]:
    """The partition, without the items that moto's Query loop would look at first and pass over.

    That loop goes through the partition in the query's order and, for each item, first checks whether the
    page is full (the limit reached, or the results so far plus this item over 1 MB), then takes the item if
    its sort key meets the key condition. Before the first item it takes, the results are empty, so the page
    cannot be full: an item is at most ~405 KB (moto refuses larger ones), and the limit is at least 1 (the
    run is kept when it is not). Passing over those items changes nothing but the time (moto computes each
    one's size, which grows with the partition: a conversation's next ``send`` looks past all its
    history). After the first item taken everything is kept, since from there on the size of each item
    counts. With legacy ``QueryFilter`` conditions every item is kept: moto takes items on them as well."""
    items = _partition(table, hash_key)
    comparison, limit = arguments.get("range_comparison"), arguments.get("limit")
    if not comparison or arguments.get("filter_kwargs") or (limit is not None and limit < 1):
        return items
    values = arguments.get("range_objs") or []
    conditions = arguments.get("range_key_conditions") or []
    name = conditions[-1][0] if conditions else None

    def taken(item: Any) -> bool:  # what moto's loop checks, for a query on the table's own key
        value = item.attrs.get(name) if name else None
        return bool((value or item.range_key).compare(comparison, values))

    forward = arguments.get("scan_index_forward") is not False
    ordered = items if forward else items[::-1]
    skipped = next((i for i, item in enumerate(ordered) if taken(item)), len(ordered))
    return items[skipped:] if forward else items[:len(items) - skipped]


def _partition(table: Any, hash_key: Any) -> list[Any]:
    """The items of one partition, in ``all_items``' order. ``table.items`` is keyed by the hash key's
    ``DynamoType``, whose hash and equality are the ones moto's filter (``item.hash_key == hash_key``) uses,
    so these are exactly the items that filter keeps. Within one hash key, ``all_items``' sort key
    ``(hash_key, range_key)`` orders by the range key."""
    if hash_key not in table.items:  # `in`, not [], on the defaultdict: no empty partition is created
        return []
    partition = table.items[hash_key]
    if not table.range_key_attr:
        return [partition]  # a table without a sort key holds one item per hash key
    return sorted(partition.values(), key=lambda item: item.range_key)
