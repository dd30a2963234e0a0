"""helpers.history and helpers.charts: loading, seeding, analysis, charts, export."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import time
import uuid

import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from boto3.dynamodb.types import TypeDeserializer

from helpers import charts, dynamodb, history
from helpers.history import _arrow, _load, _seed

END = pd.Timestamp.now(tz="UTC").floor("h")  # recent, so seeded records are not expired
START = END - pd.Timedelta(days=7)
# The converted week ends at a fixed hour: its daily cycle then puts the seeded error burst at the
# afternoon peak whatever the clock says (at night, 10-minute periods hold too few requests to flag).
WEEK_END = pd.Timestamp("2026-11-26 18:00", tz="UTC")
WEEK_START = WEEK_END - pd.Timedelta(days=7)


@pytest.fixture()
def ddb(local_cloud):
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture()
def table(ddb, metadata_spec):
    """A fresh inference table as 8.1 makes it (with the time index)."""
    name = f"history-{uuid.uuid4().hex[:8]}"
    dynamodb.ensure_table(metadata_spec(name), client=ddb)
    yield name
    ddb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def seeded(local_cloud, metadata_spec):
    """One table seeded with a small week of history (shared: seeding is the slow part)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    name = f"history-seeded-{uuid.uuid4().hex[:8]}"
    dynamodb.ensure_table(metadata_spec(name), client=client)
    written = history.seed(name, "ep-seeded", days=7, per_day=60, end=END, client=client, progress=False)
    yield name, written
    client.delete_table(TableName=name)


@pytest.fixture(scope="module")
def week() -> pd.DataFrame:
    """What seed() writes for a full-size week, converted without the cloud (fast)."""
    return _arrow.to_frame(_seed.history_items("ep", days=7, per_day=1440, random_state=42, end=WEEK_END))


def _record(i: int, ts: pd.Timestamp, endpoint: str = "ep", **extra) -> dict:
    item = {
        "requestId": {"S": f"req-{i:05d}"},
        "timestamp": {"S": _load.iso_ms(ts)},
        "endpointName": {"S": endpoint},
        "modelVersion": {"S": "1"},
        "variantName": {"S": "AllTraffic"},
        "status": {"S": "ok"},
        "features": {"L": [{"N": "0.5"}, {"N": "-1"}, {"N": "2.25"}, {"N": "3"}]},
        "prediction": {"N": "0.75"},
        "predictedLabel": {"N": "1"},
        "latencyMs": {"N": "12.5"},
        "coldStart": {"BOOL": False},
        "expiresAt": {"N": str(int(time.time()) + 86_400)},
    }
    item.update(extra)
    return item


def _put(ddb, table: str, items: list[dict]) -> None:
    dynamodb.batch_write(table, items, client=ddb)


# ------------------------------------------------------------------ converter


def test_loaded_columns_have_pandas_types_and_no_decimal(ddb, table):
    _put(ddb, table, [_record(i, END - pd.Timedelta(minutes=i)) for i in range(5)])
    df = history.load(table, "ep", START, END, client=ddb, progress=False)
    assert str(df["timestamp"].dtype).startswith("datetime64") and str(df["timestamp"].dt.tz) == "UTC"
    assert df["prediction"].dtype == np.float64 and df["latencyMs"].dtype == np.float64
    assert df["predictedLabel"].dtype == "Int64" and df["expiresAt"].dtype == "Int64"
    assert df["coldStart"].dtype == "boolean"
    for name in ("status", "variantName", "modelVersion", "eventSource"):
        assert isinstance(df[name].dtype, pd.CategoricalDtype), name
    assert not any(isinstance(v, decimal.Decimal) for col in df.columns for v in df[col].head())
    assert list(df[["f0", "f1", "f2", "f3"]].iloc[0]) == [0.5, -1.0, 2.25, 3.0]


def test_rows_are_sorted_by_timestamp(ddb, table):
    _put(ddb, table, [_record(i, END - pd.Timedelta(minutes=(i * 7) % 50)) for i in range(20)])
    df = history.load(table, "ep", START, END, client=ddb, progress=False, slices=3)
    assert df["timestamp"].is_monotonic_increasing


def test_converter_matches_type_deserializer():
    items = _seed.history_items("ep", days=1, per_day=300, random_state=7, end=END)
    items[3]["extra"] = {"M": {"a": {"N": "1"}}}
    items[4]["note"] = {"S": "hand-written"}
    df = _arrow.to_frame(items).set_index("requestId")
    deser = TypeDeserializer()
    for item in items:
        expected = {k: deser.deserialize(v) for k, v in item.items()}
        row = df.loc[expected.pop("requestId")]
        assert row["timestamp"] == pd.Timestamp(expected.pop("timestamp"))
        features = expected.pop("features", None)
        got = [row[f"f{i}"] for i in range(4)]
        assert got == [float(x) for x in features] if features else all(math.isnan(x) for x in got)
        for name, value in expected.items():
            if isinstance(value, decimal.Decimal):
                assert row[name] == float(value), name
            elif isinstance(value, dict):
                assert row[name] == {k: int(v) for k, v in value.items()}, name
            else:
                assert row[name] == value, name
        for name in set(_arrow.SCHEMA) - set(item) - {"features"}:
            assert pd.isna(row[name]), name


def test_a_page_body_gives_its_items_and_its_last_evaluated_key():
    body = json.dumps(
        {
            "Items": [_record(0, END), _record(1, END)],
            "Count": 2,
            "ScannedCount": 2,
            "LastEvaluatedKey": {"requestId": {"S": "req-00001"}, "endpointName": {"S": "ep"}},
        }
    ).encode()
    items, last_key = _arrow.parse_page(body)
    assert sum(map(len, items)) == 2
    assert last_key == {"requestId": {"S": "req-00001"}, "endpointName": {"S": "ep"}}
    assert _arrow.parse_page(b'{"Items": [], "Count": 0, "ScannedCount": 0}') == ([], None)


def test_items_whose_shapes_cannot_share_a_type_still_load():
    # Not DynamoDB's JSON (S is always text) but hand-made pages must not crash the loader.
    items = [_record(0, END, note={"S": "by hand"}), _record(1, END, note={"S": 5})]
    body = json.dumps({"Items": items}).encode()
    with pytest.raises(pa.ArrowInvalid):  # one page-wide type is impossible here
        _arrow.read_json(body, _arrow.PAGE_SCHEMA)
    buffer = _arrow.ColumnBuffer()
    buffer.add(_arrow.parse_page(body)[0])
    df = buffer.frame().set_index("requestId")
    assert list(df["note"]) == ["by hand", "5"] and df.loc["req-00001", "prediction"] == 0.75


def test_items_that_are_not_dynamodb_json_load_without_a_crash():
    odd = _record(1, END, prediction={"N": 5}, coldStart={"BOOL": "yes"}, raw=7, latencyMs=12)
    df = _arrow.to_frame([odd]).set_index("requestId")
    assert df.loc["req-00001", "prediction"] == 5.0 and pd.isna(df.loc["req-00001", "coldStart"])
    assert pd.isna(df.loc["req-00001", "latencyMs"]) and df.loc["req-00001", "raw"] == 7


def test_timestamps_in_other_iso_forms_are_read_and_unreadable_ones_are_missing():
    stamps = ["2026-11-27T12:00:00Z", "2026-11-27T13:00:00.5+01:00", "yesterday"]
    df = _arrow.to_frame([_record(i, END, timestamp={"S": s}) for i, s in enumerate(stamps)]).set_index(
        "requestId"
    )
    assert df.loc["req-00000", "timestamp"] == pd.Timestamp("2026-11-27T12:00:00Z")
    assert df.loc["req-00001", "timestamp"] == pd.Timestamp("2026-11-27T12:00:00.5Z")
    assert pd.isna(df.loc["req-00002", "timestamp"])


def test_lists_of_features_of_any_length_or_type_become_padded_float_columns():
    features = [
        {"L": [{"N": "1"}, {"N": "2"}]},
        {"L": [{"N": str(i)} for i in range(6)]},
        {"L": [{"S": "x"}, {"N": "3"}]},
        {"S": "none"},
    ]
    df = _arrow.to_frame([_record(i, END, features=f) for i, f in enumerate(features)]).set_index("requestId")
    assert _arrow.feature_columns(df) == [f"f{i}" for i in range(6)]
    assert list(df.loc["req-00000", ["f0", "f1", "f2"]].fillna(-1)) == [1.0, 2.0, -1]
    assert df.loc["req-00001", "f5"] == 5.0
    assert pd.isna(df.loc["req-00002", "f0"]) and df.loc["req-00002", "f1"] == 3.0
    assert df.loc["req-00003", _arrow.feature_columns(df)].isna().all()


def test_missing_and_extra_attributes_load_without_crash(ddb, table):
    old = {
        "requestId": {"S": "old-1"},
        "timestamp": {"S": _load.iso_ms(END - pd.Timedelta(hours=1))},
        "endpointName": {"S": "ep"},
        "prediction": {"S": "0.4"},
        "legacyScore": {"N": "7"},
    }
    odd = _record(2, END - pd.Timedelta(hours=2), latencyMs={"NULL": True}, comment={"S": "by hand"})
    _put(ddb, table, [old, odd])
    df = history.load(table, "ep", START, END, client=ddb, progress=False).set_index("requestId")
    assert set(_arrow.SCHEMA) - {"features", "requestId"} <= set(df.columns)
    assert df.loc["old-1", "prediction"] == 0.4  # a number written as text is still read as a number
    assert pd.isna(df.loc["old-1", "status"]) and pd.isna(df.loc["req-00002", "latencyMs"])
    assert df.loc["old-1", "legacyScore"] == 7 and pd.isna(df.loc["req-00002", "legacyScore"])
    assert df.loc["req-00002", "comment"] == "by hand"


def test_empty_range_gives_typed_empty_frame(ddb, table):
    df = history.load(table, "nobody", START, END, client=ddb, progress=False)
    assert len(df) == 0
    assert set(_arrow.SCHEMA) - {"features"} <= set(df.columns) and {"f0", "f3"} <= set(df.columns)
    assert str(df["timestamp"].dt.tz) == "UTC" and df["latencyMs"].dtype == np.float64
    assert isinstance(df["status"].dtype, pd.CategoricalDtype)


def test_reversed_range_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="after end.*swap"):
        history.load("t", "ep", END, START, client=object(), progress=False)


def test_naive_datetimes_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="no timezone.*timezone-aware"):
        history.load("t", "ep", dt.datetime(2026, 11, 1), END, client=object(), progress=False)


# ------------------------------------------------------------------ pagination, slices, expiry


def test_pages_and_slices_return_each_item_exactly_once(ddb, table):
    # Several items share a slice boundary's exact millisecond.
    boundary = START + (END - START) / 2
    times = [START + pd.Timedelta(minutes=37 * i) for i in range(200)] + [boundary] * 3
    _put(ddb, table, [_record(i, t) for i, t in enumerate(times)])
    for slices in (1, 2, 5):
        df = history.load(table, "ep", START, END, client=ddb, progress=False, slices=slices, page_limit=17)
        assert len(df) == len(times) and df["requestId"].is_unique, slices


def test_only_the_requested_range_and_endpoint_are_loaded(ddb, table):
    inside = [_record(i, END - pd.Timedelta(hours=i)) for i in range(3)]
    outside = [
        _record(10, START - pd.Timedelta(seconds=1)),
        _record(11, END - pd.Timedelta(hours=1), endpoint="other"),
    ]
    _put(ddb, table, inside + outside)
    df = history.load(table, "ep", START, END, client=ddb, progress=False)
    assert sorted(df["requestId"]) == ["req-00000", "req-00001", "req-00002"]


def test_expired_items_are_left_out_unless_asked_for(ddb, table):
    past = {"N": str(int(time.time()) - 60)}
    _put(
        ddb,
        table,
        [_record(0, END - pd.Timedelta(hours=1)), _record(1, END - pd.Timedelta(hours=2), expiresAt=past)],
    )
    assert list(history.load(table, "ep", START, END, client=ddb, progress=False)["requestId"]) == [
        "req-00000"
    ]
    both = history.load(table, "ep", START, END, client=ddb, progress=False, include_expired=True)
    assert sorted(both["requestId"]) == ["req-00000", "req-00001"]


def test_parallel_scan_returns_every_item_once(ddb, table):
    _put(ddb, table, [_record(i, END - pd.Timedelta(minutes=i), endpoint=f"ep{i % 2}") for i in range(60)])
    df = _load.scan(table, segments=3, client=ddb, progress=False, page_limit=7)
    assert len(df) == 60 and df["requestId"].is_unique
    assert len(_load.scan(table, endpoint="ep1", segments=2, client=ddb, progress=False)) == 30


# ------------------------------------------------------------------ seeding


def test_seed_writes_every_record_and_they_load_back(seeded, ddb):
    name, written = seeded
    assert written == 7 * 60
    df = history.load(name, "ep-seeded", START, END, client=ddb, progress=False)
    assert len(df) == written and df["requestId"].is_unique


def test_same_random_state_gives_same_items_and_another_does_not():
    a = _seed.history_items("ep", days=2, per_day=50, random_state=1, end=END)
    b = _seed.history_items("ep", days=2, per_day=50, random_state=1, end=END)
    c = _seed.history_items("ep", days=2, per_day=50, random_state=2, end=END)
    assert a == b and a != c
    assert len({it["requestId"]["S"] for it in a}) == len(a)


def test_seeded_records_follow_the_schema():
    for item in _seed.history_items("ep", days=1, per_day=200, random_state=3, end=END):
        for name, value in item.items():
            assert name in _arrow.SCHEMA, name
            assert next(iter(value)) == _arrow.SCHEMA[name][0], name
        assert item["status"]["S"] in ("ok", "client_error", "model_error")


# ------------------------------------------------------------------ analysis


def test_latency_regression_is_found_from_the_data(week):
    found = history.latency_regressions(week, freq="1h")
    assert len(found) >= 1
    first = found.iloc[0]
    seeded_start = WEEK_START + 0.7 * (WEEK_END - WEEK_START)
    assert abs(first["period"] - seeded_start) <= pd.Timedelta(hours=2)
    assert (first["modelVersion"], first["variantName"]) == ("1", "AllTraffic")
    assert first["ratio"] > 1.5


def test_no_regression_is_reported_for_steady_latency(week):
    before = week[week["timestamp"] < WEEK_START + 0.65 * (WEEK_END - WEEK_START)]
    assert history.latency_regressions(before, freq="1h").empty


def test_error_burst_is_found_from_the_data(week):
    bursts = history.error_bursts(week, freq="10min")
    assert len(bursts) == 1
    burst = bursts.iloc[0]
    seeded_start = WEEK_START + 0.55 * (WEEK_END - WEEK_START)
    assert abs(burst["start"] - seeded_start) <= pd.Timedelta(minutes=10)
    assert pd.Timedelta(minutes=60) <= burst["end"] - burst["start"] <= pd.Timedelta(minutes=100)
    assert burst["top_error"] == "ModelError" and burst["error_rate"] > 0.5


def test_summary_counts_requests_per_version_and_variant(week):
    table = history.summary(week)
    assert table.loc[("all", "all"), "requests"] == len(week)
    parts = table.drop(index=("all", "all"))
    assert parts["requests"].sum() == len(week)


def test_error_bursts_report_only_finished_periods():
    """A burst in the current 10-minute period is not yet a finding: its rate is not known, and an
    incident must not end in the future."""
    now = pd.Timestamp("2026-11-30 12:05", tz="UTC")
    calm = pd.date_range("2026-11-30 10:00", periods=120, freq="min", tz="UTC")
    failing = pd.date_range("2026-11-30 12:00", periods=10, freq="20s", tz="UTC")
    frame = pd.DataFrame(
        {
            "timestamp": calm.append(failing),
            "status": ["ok"] * len(calm) + ["model_error"] * len(failing),
            "errorType": [None] * len(calm) + ["ModelError"] * len(failing),
        }
    )
    assert history.error_bursts(frame, "10min", now=now).empty
    later = history.error_bursts(frame, "10min", now=now + pd.Timedelta(minutes=5))
    assert list(later["end"]) == [pd.Timestamp("2026-11-30 12:10", tz="UTC")]


def test_the_seeded_week_names_the_given_model_version_and_variants():
    items = _seed.history_items(
        "ws-ada-endpoint",
        days=1,
        per_day=200,
        end=END,
        model_name="ws-ada-classifier-v1",
        model_version="1",
        variants=(("AllTraffic", 1.0),),
    )
    frame = _arrow.to_frame(items)
    assert set(frame["modelName"]) == {"ws-ada-classifier-v1"} and set(frame["modelVersion"]) == {"1"}
    assert set(frame["variantName"]) == {"AllTraffic"} and set(frame["endpointName"]) == {"ws-ada-endpoint"}


def test_the_seeded_scores_are_as_this_model_gives_them_about_5_percent_positive(week):
    scored = week[week["status"] == "ok"]["prediction"]
    assert 0.03 <= (scored >= 0.5).mean() <= 0.07
    assert scored.mean() < 0.1


def test_analysis_of_an_empty_frame_finds_nothing():
    empty = _arrow.empty_frame()
    assert history.latency_regressions(empty).empty and history.error_bursts(empty).empty
    assert history.summary(empty).loc[("all", "all"), "requests"] == 0


# ------------------------------------------------------------------ charts and export

TIME_CHARTS = ["requests_per_interval", "latency_percentiles", "error_rate_by_status"]
CHARTS = [
    "requests_per_interval",
    "latency_percentiles",
    "error_rate_by_status",
    "prediction_distribution_by_version",
    "latency_by_variant",
]


@pytest.mark.parametrize("name", CHARTS)
def test_chart_of_data_and_of_nothing_are_written_as_png(name, week, tmp_path):
    draw = getattr(charts, name)
    full = charts.save(draw(week), name, tmp_path)
    empty_fig = draw(_arrow.empty_frame())
    empty = charts.save(empty_fig, f"{name}-empty", tmp_path)
    for path in (full, empty):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
    assert any(t.get_text() == "no data" for ax in empty_fig.axes for t in ax.texts)
    if name in TIME_CHARTS:
        assert "UTC" in empty_fig.axes[0].get_title() + draw(week).axes[0].get_xlabel()


def test_csv_export_round_trips_rows_and_timestamps(week, tmp_path):
    path = history.to_csv(week.head(50), tmp_path / "h.csv")
    back = pd.read_csv(path)
    assert len(back) == 50
    assert (
        pd.to_datetime(back["timestamp"], utc=True).to_numpy() == week["timestamp"].head(50).to_numpy()
    ).all()
    assert back.loc[0, "f0"] == week.loc[0, "f0"]


def test_parquet_export_round_trips_rows_and_types(week, tmp_path):
    back = pd.read_parquet(history.to_parquet(week.head(50), tmp_path / "h.parquet"))
    assert len(back) == 50 and back["timestamp"].equals(week["timestamp"].head(50))
    assert isinstance(back["status"].dtype, pd.CategoricalDtype) and back["predictedLabel"].dtype == "Int64"


def test_fast_page_parsing_gives_the_same_frame_as_botocore_parsing(ddb, table):
    odd = _record(99, END - pd.Timedelta(hours=3), blob={"B": b"\x00\x01"}, tags={"SS": ["a", "b"]})
    _put(ddb, table, [_record(i, END - pd.Timedelta(minutes=i)) for i in range(30)] + [odd])
    fast = history.load(table, "ep", START, END, client=ddb, progress=False, page_limit=7)
    slow = history.load(table, "ep", START, END, client=ddb, progress=False, page_limit=7, fast=False)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.set_index("requestId").loc["req-00099", "blob"] == b"\x00\x01"
