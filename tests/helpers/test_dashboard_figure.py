"""8.3's dashboard figure (helpers.charts.dashboard): units on every axis, alarm thresholds as CloudWatch
draws them, an alarm-state strip, and the time range it is given."""

from __future__ import annotations

import json

import pandas as pd
from PIL import Image

from helpers import charts

START = pd.Timestamp("2026-12-01 12:00", tz="UTC")
END = pd.Timestamp("2026-12-01 12:10", tz="UTC")


def figure():
    times = pd.date_range(START, END, freq="min")
    panels = [
        charts.Panel(
            "Inferences",
            pd.DataFrame({"inferences": range(len(times))}, index=times),
            "count per 60 s",
            [("errors alarm above 0", 0.0)],
        ),  # fmt: skip
        charts.Panel(
            "Latency", pd.DataFrame({"p90": [120.0] * len(times)}, index=times), "ms", [("p90 alarm", 500)]
        ),
        charts.Panel("Model latency", pd.DataFrame(), "ms"),
    ]
    states = {
        "errors": [(START, "OK"), (START + pd.Timedelta(minutes=4), "ALARM")],
        "latency": [(START, "OK")],
    }
    return charts.dashboard(panels, states, START, END)


def test_every_axis_of_the_dashboard_names_its_unit():
    labels = charts.axis_labels(figure())
    assert len(labels) == 4  # three widgets and the alarm strip
    assert all(axis["x"] and axis["y"] for axis in labels), labels
    assert [axis["y"] for axis in labels[:3]] == ["count per 60 s", "ms", "ms"]


def test_alarm_thresholds_are_horizontal_lines_at_their_value():
    latency = figure().axes[1]
    lines = [line for line in latency.get_lines() if line.get_label() == "p90 alarm"]
    assert len(lines) == 1 and set(lines[0].get_ydata()) == {500}


def test_the_alarm_strip_colours_each_state_from_its_change_on():
    strip = figure().axes[-1]
    colours = {tuple(round(c, 3) for c in bar.get_facecolor()[:3]) for bar in strip.patches}
    assert len(colours) == 2  # OK and ALARM
    assert [t.get_text() for t in strip.get_yticklabels()] == ["errors", "latency"]


def test_the_time_range_is_the_one_given():
    left, right = figure().axes[0].get_xlim()
    import matplotlib.dates as mdates

    assert mdates.num2date(left).replace(tzinfo=None) == START.tz_localize(None).to_pydatetime()
    assert mdates.num2date(right).replace(tzinfo=None) == END.tz_localize(None).to_pydatetime()


def test_the_saved_png_carries_its_axis_labels(tmp_path):
    path = charts.save(figure(), "dashboard", tmp_path)
    assert json.loads(Image.open(path).text["Description"]) == charts.axis_labels(figure())


def test_the_dashboard_s_time_range_fits_the_data_with_a_minute_either_side():
    from helpers import cloudwatch

    times = pd.date_range("2026-12-01 12:03", "2026-12-01 12:05", freq="min", tz="UTC")
    frames = [pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=times), pd.DataFrame()]
    first, last = cloudwatch._data_range(
        frames, START.to_pydatetime(), (START + pd.Timedelta(minutes=30)).to_pydatetime()
    )
    assert (first, last) == (
        pd.Timestamp("2026-12-01 12:02", tz="UTC"),
        pd.Timestamp("2026-12-01 12:06", tz="UTC"),
    )
