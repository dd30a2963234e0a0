"""One record schema (kitformats.inference_record): the handler writes it, the seed fakes it, the loader reads it.

The handler (lambda/app.py) is deployed as one file and cannot import the schema, so these tests hold
what it writes to it; the demo history must be records the handler could have written; the typed
loader must know every attribute, with the same type tag.
"""

from __future__ import annotations

import pandas as pd
import pytest
from handler_harness import FakeRuntime, load_app
from lambda_events import context, rest_event

from helpers.history import _arrow
from helpers.history._seed import history_items
from kitformats import inference_record
from kitformats.inference_record import ALWAYS, ATTRIBUTES


class RecordingTable:
    """A dynamodb client that keeps every item put (the handler's conditional write succeeds)."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def put_item(self, **kwargs):
        self.items.append(kwargs["Item"])
        return {}


def handler_record(body: str, runtime: FakeRuntime | None = None) -> dict:
    """The one item the handler writes for a REST API request with this body."""
    table = RecordingTable()
    load_app("t-inference-metadata", runtime, dynamodb_client=table).lambda_handler(
        rest_event(body), context()
    )
    (item,) = table.items
    return item


OUTCOMES = {
    "ok": ('{"features": [1, 2, 3, 4]}', None),
    "client_error": ('{"features": [1, 2]}', None),
    "model_error": ('{"features": [1, 2, 3, 4]}', "ModelError"),
}


@pytest.mark.parametrize("status", OUTCOMES)
def test_the_handler_writes_records_of_the_schema(status):
    body, failure = OUTCOMES[status]
    item = handler_record(body, FakeRuntime(failure) if failure else None)
    assert item["status"] == {"S": status}
    assert inference_record.problems(item) == []


def test_the_handler_writes_every_attribute_of_the_schema_for_some_outcome():
    items = [
        handler_record(body, FakeRuntime(failure) if failure else None) for body, failure in OUTCOMES.values()
    ]
    assert set().union(*items) == set(ATTRIBUTES)


def test_a_record_of_another_shape_is_named_by_the_schema_check():
    item = handler_record(OUTCOMES["ok"][0])
    item["latencyMs"] = {"S": "12"}
    item["note"] = {"S": "hand-written"}
    del item["timestamp"]
    assert inference_record.problems(item) == [
        "lacks timestamp",
        "latencyMs is ['S'], the schema says N",
        "has note, which the schema does not",
    ]


def test_the_seeded_history_is_records_of_the_schema():
    items = history_items("t-endpoint", days=1, per_day=400, end=pd.Timestamp("2026-01-02", tz="UTC"))
    assert [p for item in items for p in inference_record.problems(item)] == []
    assert set().union(*items) == set(ATTRIBUTES)
    assert {item["status"]["S"] for item in items} == {"ok", "client_error", "model_error"}


def test_the_loader_types_every_attribute_of_the_schema_by_its_tag():
    assert {name: tag for name, (tag, _) in _arrow.SCHEMA.items()} == ATTRIBUTES
    assert ALWAYS <= set(ATTRIBUTES)
