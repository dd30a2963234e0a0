"""The local cloud's DynamoDB fast paths change the cost of Query/Scan/GetItem, never the answer."""

from __future__ import annotations

import uuid

import boto3
import pytest

from localcloud.dynamodb import fast_paths as dynamodb_fast_paths

ITEM = {
    "n": {"N": "12.50"},
    "b": {"B": b"\x00\xffbytes"},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "l": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}]},
    "m": {"M": {"flag": {"BOOL": False}, "nested": {"M": {"s": {"S": "deep"}}}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "text": {"S": 'unicode ✓ "quoted"'},
}


@pytest.fixture()
def ddb(local_cloud):
    return boto3.client("dynamodb", endpoint_url=local_cloud, region_name="us-east-1")


@pytest.fixture()
def table(ddb):
    name = f"fast-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "k", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "r", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "g-r",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "r", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_get_item_returns_every_attribute_type_unchanged(ddb, table):
    item = {"k": {"S": "one"}, "g": {"S": "G"}, "r": {"N": "1"}, **ITEM}
    ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key={"k": {"S": "one"}})["Item"]
    assert {k: v for k, v in got.items() if k not in ("bs", "ss", "ns")} == {
        k: v for k, v in item.items() if k not in ("bs", "ss", "ns")
    }
    assert sorted(got["bs"]["BS"]) == [b"\x01", b"\x02"] and sorted(got["ss"]["SS"]) == ["a", "b"]
    assert sorted(got["ns"]["NS"]) == ["1", "2.5"]


def test_get_item_of_a_missing_key_has_no_item_member(ddb, table):
    assert "Item" not in ddb.get_item(TableName=table, Key={"k": {"S": "absent"}})


def test_index_query_sorts_numbers_numerically_and_pages(ddb, table):
    for i, r in enumerate(["10", "9", "100", "-1", "2.5"]):
        ddb.put_item(TableName=table, Item={"k": {"S": f"k{i}"}, "g": {"S": "G"}, "r": {"N": r}})
    pages, key = [], None
    while True:
        kwargs = {"ExclusiveStartKey": key} if key else {}
        page = ddb.query(
            TableName=table,
            IndexName="g-r",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "G"}},
            Limit=2,
            **kwargs,
        )
        pages.append([item["r"]["N"] for item in page["Items"]])
        key = page.get("LastEvaluatedKey")
        if not key:
            break
    assert [r for page in pages for r in page] == ["-1", "2.5", "9", "10", "100"]
    assert max(len(p) for p in pages) == 2


def test_encode_writes_bytes_as_base64_and_leaves_out_none_members():
    body = dynamodb_fast_paths.encode(
        {"Items": [{"b": {"B": b"\x00"}}], "LastEvaluatedKey": None, "Count": 1}
    )
    assert body == '{"Items":[{"b":{"B":"AA=="}}],"Count":1}'


def test_an_item_over_400_kb_is_still_refused(ddb, table):
    with pytest.raises(ddb.exceptions.ClientError, match="Item size has exceeded the maximum allowed size"):
        ddb.put_item(TableName=table, Item={"k": {"S": "big"}, "blob": {"S": "x" * 410_000}})
