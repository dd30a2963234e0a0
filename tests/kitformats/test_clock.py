"""The kit's timestamp format, written in one place."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from helpers.history import _load
from kitformats import clock


def test_instants_are_written_in_utc_to_the_millisecond():
    moment = dt.datetime(2026, 11, 27, 13, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert clock.iso_ms(moment) == "2026-11-27T12:00:00.123Z"


def test_a_naive_instant_is_taken_as_utc():
    assert clock.iso_ms(dt.datetime(2026, 11, 27, 12, 0, 0, 999999)) == "2026-11-27T12:00:00.999Z"


def test_history_writes_pandas_timestamps_in_the_same_format():
    stamp = pd.Timestamp("2026-11-27T12:00:00.123456789Z")
    assert _load.iso_ms(stamp) == clock.iso_ms(stamp.to_pydatetime()) == "2026-11-27T12:00:00.123Z"
