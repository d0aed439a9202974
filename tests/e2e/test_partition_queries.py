"""The local stack's moto answers a Query from the queried partition only (``local.partition_queries``):
every answer is the one moto gives without it, and a Query's work no longer grows with the rest of the
table or with the part of the partition its key condition skips."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.partition_queries import partition_scoped_queries
from parley.table import TABLE

REGION = "us-east-1"
PARTITIONS = ("A", "B", "AB", "C")
_tables = itertools.count()


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def _create(dynamodb: Any, *, sort_type: str | None = "S", with_index: bool = False) -> str:
    name = f"pq-{next(_tables)}"
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if sort_type:
        attributes.append({"AttributeName": "sk", "AttributeType": sort_type})
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
    extra: dict[str, Any] = {}
    if with_index:
        attributes.append({"AttributeName": "g", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                          {"AttributeName": "pk", "KeyType": "RANGE"}]}]
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=attributes,
                          KeySchema=keys, **extra)
    return name


def _pages(dynamodb: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a Query, following LastEvaluatedKey, as moto answers them (metadata left out)."""
    pages = []
    request = dict(request)
    while True:
        try:
            answer = dynamodb.query(**request)
        except dynamodb.exceptions.ClientError as exc:
            return [*pages, {"error": exc.response["Error"]}]
        except Exception as exc:  # moto's own failure (in-process it raises): the same failure
            return [*pages, {"raised": type(exc).__name__}]
        answer.pop("ResponseMetadata", None)
        pages.append(answer)
        if "LastEvaluatedKey" not in answer or len(pages) > 50:
            return pages
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _same_answers(dynamodb: Any, request: dict[str, Any]) -> None:
    plain = _pages(dynamodb, request)
    with partition_scoped_queries():
        scoped = _pages(dynamodb, request)
    assert scoped == plain


sort_keys = st.text(alphabet="ab~#0", min_size=1, max_size=4)
numbers = st.integers(min_value=-50, max_value=50)
key_conditions = st.sampled_from(["", "= :a", "< :a", "<= :a", "> :a", ">= :a", "BETWEEN :a AND :b",
                                  "begins_with"])


def _request(table: str, partition: str, condition: str, low: Any, high: Any, sort_type: str, *, forward: bool,
             limit: int | None, filtered: bool, projected: bool) -> dict[str, Any]:
    values: dict[str, Any] = {":p": {"S": partition}}
    expression = "pk = :p"
    if condition:
        low, high = sorted((low, high))
        values[":a"] = {sort_type: str(low)}
        if condition == "begins_with":
            expression += " AND begins_with(sk, :a)"
        else:
            expression += f" AND sk {condition}"
            if ":b" in condition:
                values[":b"] = {sort_type: str(high)}
    request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": expression,
                               "ExpressionAttributeValues": values, "ScanIndexForward": forward}
    if limit is not None:
        request["Limit"] = limit
    if filtered:
        request["FilterExpression"] = "size(payload) > :n"
        values[":n"] = {"N": "3"}
    if projected:
        request["ProjectionExpression"] = "sk, payload"
    return request


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), sort_type=st.sampled_from(["S", "N"]))
def test_a_table_query_answers_what_moto_answers(dynamodb: Any, data: st.DataObject, sort_type: str) -> None:
    # given a table with a few partitions of random sort keys and payloads
    table = _create(dynamodb, sort_type=sort_type)
    keys = sort_keys if sort_type == "S" else numbers
    items = data.draw(st.lists(st.tuples(st.sampled_from(PARTITIONS), keys, st.text(max_size=8)), max_size=30))
    for partition, sort_key, payload in items:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": partition}, "sk": {sort_type: str(sort_key)},
                                                 "payload": {"S": payload}})
    # when any key condition, order, limit, filter and projection is queried, page by page
    request = _request(table, data.draw(st.sampled_from(PARTITIONS)), data.draw(key_conditions),
                       data.draw(keys), data.draw(keys), sort_type, forward=data.draw(st.booleans()),
                       limit=data.draw(st.none() | st.integers(min_value=1, max_value=4)),
                       filtered=data.draw(st.booleans()), projected=data.draw(st.booleans()))
    if "begins_with" in request["KeyConditionExpression"] and sort_type == "N":
        request["ExpressionAttributeValues"][":a"] = {"S": "x"}  # moto's own error for a number: kept too
    # then every page is the one moto answers on its own
    _same_answers(dynamodb, request)


def test_pages_cut_at_one_megabyte_are_cut_at_the_same_items(dynamodb: Any) -> None:
    # given a partition of items of ~300 KB, behind and around which smaller ones sit
    table = _create(dynamodb)
    for n in range(8):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "A"}, "sk": {"S": f"m{n}"},
                                                 "payload": {"S": "x" * (300_000 if n % 2 else 10)}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "B"}, "sk": {"S": "m1"}, "payload": {"S": "y" * 300_000}})
    # when queried past the 1 MB page size, with and without conditions, in both directions
    for condition, forward in itertools.product(["", "> :a", ">= :a", "< :a", "BETWEEN :a AND :b", "begins_with"],
                                                (True, False)):
        request = _request(table, "A", condition, "m2", "m7", "S", forward=forward, limit=None, filtered=False,
                           projected=False)
        # then the pages (and where each ends) are moto's
        _same_answers(dynamodb, request)


def test_index_queries_and_tables_without_a_sort_key_answer_what_moto_answers(dynamodb: Any) -> None:
    # given a table with a global secondary index whose key values overlap the table's partition keys,
    # and a table without a sort key
    indexed = _create(dynamodb, with_index=True)
    for n, (partition, group) in enumerate(itertools.product(PARTITIONS, PARTITIONS)):
        dynamodb.put_item(TableName=indexed, Item={"pk": {"S": partition}, "sk": {"S": f"s{n}"}, "g": {"S": group}})
    hash_only = _create(dynamodb, sort_type=None)
    for partition in PARTITIONS:
        dynamodb.put_item(TableName=hash_only, Item={"pk": {"S": partition}, "payload": {"S": partition}})
    # when the index and the table without a sort key are queried
    # then the answers are moto's
    for group in PARTITIONS:
        _same_answers(dynamodb, {"TableName": indexed, "IndexName": "by-g", "KeyConditionExpression": "g = :g",
                                 "ExpressionAttributeValues": {":g": {"S": group}}})
    for partition in (*PARTITIONS, "missing"):
        _same_answers(dynamodb, {"TableName": hash_only, "KeyConditionExpression": "pk = :p",
                                 "ExpressionAttributeValues": {":p": {"S": partition}}})


def test_legacy_key_conditions_with_a_query_filter_answer_what_moto_answers(dynamodb: Any) -> None:
    table = _create(dynamodb)
    for n in range(6):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "A"}, "sk": {"S": f"m{n}"}, "n": {"N": str(n % 3)}})
    _same_answers(dynamodb, {
        "TableName": table,
        "KeyConditions": {"pk": {"AttributeValueList": [{"S": "A"}], "ComparisonOperator": "EQ"},
                          "sk": {"AttributeValueList": [{"S": "m2"}], "ComparisonOperator": "GT"}},
        "QueryFilter": {"n": {"AttributeValueList": [{"N": "1"}], "ComparisonOperator": "EQ"}}})


# -- the work a Query does --------------------------------------------------------------------------


class _Work:
    """Counts what moto does per item it looks at: key comparisons (sorting) and item sizes (paging)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.comparisons = self.sizes = 0
        less, size = DynamoType.__lt__, Item.size

        def counted_less(this: DynamoType, other: DynamoType) -> bool:
            self.comparisons += 1
            return less(this, other)

        def counted_size(this: Item) -> int:
            self.sizes += 1
            return size(this)

        monkeypatch.setattr(DynamoType, "__lt__", counted_less)
        monkeypatch.setattr(Item, "size", counted_size)

    def of(self, call: Callable[[], Any]) -> tuple[int, int]:
        self.comparisons = self.sizes = 0
        call()
        return self.comparisons, self.sizes


def _conversation(dynamodb: Any, table: str, conversation: str, messages: int) -> None:
    for seq in range(1, messages + 1):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"CONV#{conversation}"},
                                                 "sk": {"S": f"MSG#{seq:012d}"}, "t": {"S": "hello"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": f"CONV#{conversation}"}, "sk": {"S": "~META"}})


def _after(dynamodb: Any, table: str, conversation: str, seq: int) -> Callable[[], Any]:
    """What ``send`` asks for (``parley.stores.messages.head_after``): the messages from ``seq`` on, and ~META."""
    return lambda: dynamodb.query(
        TableName=table, ConsistentRead=True, ScanIndexForward=True, Limit=1002,
        KeyConditionExpression="pk = :pk AND sk >= :from",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conversation}"}, ":from": {"S": f"MSG#{seq:012d}"}})


def test_a_query_does_no_more_work_in_a_table_full_of_other_conversations(
        dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the same conversation in a table of its own and in one with 300 other conversations' messages
    alone, crowded = (dynamodb.create_table(**TABLE.create_table_kwargs(f"parley-{name}"))["TableDescription"]
                      ["TableName"] for name in ("alone", "crowded"))
    for table in (alone, crowded):
        _conversation(dynamodb, table, "ours", 20)
    for other in range(100):
        _conversation(dynamodb, crowded, f"other-{other}", 3)
    work = _Work(monkeypatch)
    with partition_scoped_queries():
        # when send's query runs in each
        # then moto compares and sizes as many items in both
        assert work.of(_after(dynamodb, crowded, "ours", 18)) == work.of(_after(dynamodb, alone, "ours", 18))


def test_a_query_for_the_newest_messages_does_not_size_the_whole_history(
        dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a conversation with 10 messages and one with 300
    table = dynamodb.create_table(**TABLE.create_table_kwargs("parley-history"))["TableDescription"]["TableName"]
    _conversation(dynamodb, table, "short", 10)
    _conversation(dynamodb, table, "long", 300)
    work = _Work(monkeypatch)
    with partition_scoped_queries():
        # when send asks each for its last two messages and the conversation
        short = work.of(_after(dynamodb, table, "short", 9))[1]
        long = work.of(_after(dynamodb, table, "long", 299))[1]
    # then moto sizes as many items for both: those it returns
    assert long == short
