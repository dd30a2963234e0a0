"""Charts of the inference history (chapter 8.4): matplotlib figures, readable at a glance.

Every history chart takes the frame from ``helpers.history.load`` and returns a Figure (never shows
it: a notebook displays the returned figure inline). An empty frame gives a figure that says
"no data". ``dashboard`` draws 8.3's CloudWatch dashboard from the data ``cloudwatch.render_dashboard``
gathers. ``save(fig, name)`` writes a PNG under build/figures/.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")  # no display outside notebooks; notebooks keep their inline backend

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

SIZE = (10, 4.5)
STATUS_COLOURS = {"model_error": "#d62728", "client_error": "#ff7f0e"}
PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
UTC_LABEL = "time (UTC)"


def _figure(title: str) -> tuple[Figure, Axes]:
    """A new figure with one axes, titled, with a light grid."""
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    ax.set_title(title, fontsize=13, loc="left")
    ax.grid(True, alpha=0.3)
    plt.close(fig)  # the caller owns it; pyplot must not keep (or auto-show) it
    return fig, ax


def _no_data(fig: Figure, ax: Axes, what: str = "no data") -> Figure:
    """Mark the axes as empty with a readable message."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.text(0.5, 0.5, what, ha="center", va="center", fontsize=16, color="0.4", transform=ax.transAxes)
    return fig


def _has_rows(df: pd.DataFrame, *columns: str) -> bool:
    """True when the frame has rows with every given column present."""
    if df is None or len(df) == 0 or any(c not in df for c in columns):
        return False
    return bool(df[list(columns)].notna().all(axis=1).any())


def _successful(df: pd.DataFrame, *columns: str) -> pd.DataFrame | None:
    """The successful requests (status ok), or None when none of them has every given column."""
    if not _has_rows(df, *columns):
        return None
    ok = df[(df["status"].astype("str") == "ok").to_numpy(dtype=bool)]
    return ok if _has_rows(ok, *columns) else None


def _legend(ax: Axes, title: str, columns: int) -> None:
    """A one-row legend above the plot, right-aligned, clear of the data."""
    ax.legend(
        title=title,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=columns,
        frameon=False,
        fontsize=9,
        title_fontsize=9,
        borderaxespad=0.2,
    )


def _time_axis(ax: Axes) -> None:
    """Concise date ticks on the x axis, labelled as UTC."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC"))
    ax.set_xlabel(UTC_LABEL)


def _naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """UTC times without the zone (what matplotlib's date axis expects)."""
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def _per_interval(df: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Request counts per interval, one column per status, zero-filled."""
    counts = (
        df.assign(status=df["status"].astype("str").fillna("unknown"))
        .set_index("timestamp")
        .groupby("status")
        .resample(freq)
        .size()
        .unstack(0, fill_value=0)
    )
    return counts.fillna(0)


def requests_per_interval(df: pd.DataFrame, freq: str = "1h") -> Figure:
    """Requests per interval, stacked by status (ok, client_error, model_error)."""
    fig, ax = _figure(f"Requests per {freq}, by status")
    if not _has_rows(df, "timestamp"):
        return _no_data(fig, ax)
    counts = _per_interval(df, freq)
    order = [s for s in ("ok", "client_error", "model_error") if s in counts] + [
        s for s in counts if s not in ("ok", "client_error", "model_error")
    ]
    x = _naive_utc(counts.index)
    width = (pd.Timedelta(freq) / pd.Timedelta(days=1)) * 0.9
    bottom = np.zeros(len(counts))
    for i, status in enumerate(order):
        colour = STATUS_COLOURS.get(status, PALETTE[i % len(PALETTE)])
        ax.bar(
            x, counts[status].to_numpy(), width=width, bottom=bottom, color=colour, label=status, align="edge"
        )
        bottom += counts[status].to_numpy()
    ax.set_ylabel(f"requests per {freq}")
    _legend(ax, "status", len(order))
    ax.margins(x=0.01)
    _time_axis(ax)
    return fig


def latency_percentiles(df: pd.DataFrame, freq: str = "1h") -> Figure:
    """Total latency p50, p90 and p99 per interval (ms), successful requests only."""
    fig, ax = _figure(f"Latency percentiles per {freq} (successful requests)")
    ok = _successful(df, "timestamp", "latencyMs")
    if ok is None:
        return _no_data(fig, ax)
    resampled = ok.set_index("timestamp")["latencyMs"].astype("float64").resample(freq)
    x = None
    for q, style, width, alpha in ((0.5, "-", 2.2, 1.0), (0.9, "-", 2.2, 1.0), (0.99, ":", 1.2, 0.7)):
        series = resampled.quantile(q)
        x = _naive_utc(series.index)
        ax.plot(x, series.to_numpy(), style, linewidth=width, alpha=alpha, label=f"p{round(q * 100)}")
    ax.set_ylabel("latency (ms)")
    ax.set_ylim(bottom=0)
    _legend(ax, "percentile", 3)
    _time_axis(ax)
    return fig


def error_rate_by_status(df: pd.DataFrame, freq: str = "1h") -> Figure:
    """Share of requests per interval that ended in each error status (%)."""
    fig, ax = _figure(f"Error rate per {freq}, by status")
    if not _has_rows(df, "timestamp"):
        return _no_data(fig, ax)
    counts = _per_interval(df, freq)
    total = counts.sum(axis=1).replace(0, np.nan)
    errors = [s for s in counts if s != "ok"]
    if not errors:
        ax.text(
            0.5,
            0.5,
            "no errors in this range",
            ha="center",
            va="center",
            fontsize=14,
            color="0.4",
            transform=ax.transAxes,
        )
    x = _naive_utc(counts.index)
    for i, status in enumerate(sorted(errors, reverse=True)):
        colour = STATUS_COLOURS.get(status, PALETTE[i % len(PALETTE)])
        ax.plot(x, (100 * counts[status] / total).to_numpy(), linewidth=1.5, color=colour, label=status)
    ax.set_ylabel("share of requests (%)")
    ax.set_ylim(bottom=0)
    if errors:
        _legend(ax, "status", len(errors))
    _time_axis(ax)
    return fig


def prediction_distribution_by_version(df: pd.DataFrame, bins: int = 40) -> Figure:
    """Distribution of prediction scores per model version (density), to spot drift."""
    fig, ax = _figure("Prediction score distribution by model version (drift view)")
    if not _has_rows(df, "prediction", "modelVersion"):
        return _no_data(fig, ax)
    data = df.dropna(subset=["prediction", "modelVersion"])
    edges = np.linspace(0, 1, bins + 1).tolist()
    for i, (version, group) in enumerate(data.groupby("modelVersion", observed=True)):
        scores = group["prediction"].astype("float64").to_numpy()
        colour = PALETTE[i % len(PALETTE)]
        ax.hist(scores, bins=edges, density=True, alpha=0.35, color=colour)
        ax.hist(
            scores,
            bins=edges,
            density=True,
            histtype="step",
            linewidth=1.8,
            color=colour,
            label=f"v{version}: n={len(scores):,}, mean {scores.mean():.2f}",
        )
    ax.axvline(0.5, color="0.3", linestyle=":", linewidth=1)
    ax.text(
        0.505,
        0.98,
        "decision threshold 0.5",
        transform=ax.get_xaxis_transform(),
        va="top",
        fontsize=9,
        color="0.3",
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel("predicted probability of the positive class")
    ax.set_ylabel("density")
    ax.legend(title="model version", loc="upper left", frameon=True, framealpha=0.9)
    return fig


def latency_by_variant(df: pd.DataFrame) -> Figure:
    """Latency per production variant and model version (box plot, ms, log scale)."""
    fig, ax = _figure("Latency by production variant and model version (successful requests)")
    ok = _successful(df, "latencyMs", "variantName")
    if ok is None:
        return _no_data(fig, ax)
    ok = ok.dropna(subset=["latencyMs", "variantName"])
    keys = ["variantName", "modelVersion"] if "modelVersion" in ok else ["variantName"]
    groups = [(k, g["latencyMs"].astype("float64").to_numpy()) for k, g in ok.groupby(keys, observed=True)]
    labels = [
        (f"{k[0]}\nv{k[1]}" if len(keys) == 2 else str(k[0] if isinstance(k, tuple) else k))
        + f"\nn={len(v):,}"
        for k, v in groups
    ]
    ax.boxplot(
        [v for _, v in groups],
        tick_labels=labels,
        showfliers=True,
        flierprops={"markersize": 2, "alpha": 0.3},
        medianprops={"color": "#d62728", "linewidth": 2},
    )
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}" if str(v)[0] in "25" else ""))
    ax.set_ylabel("latency (ms, log scale)")
    ax.set_xlabel("variant / model version")
    return fig


STATE_COLOURS = {"OK": "#2ca02c", "ALARM": "#d62728", "INSUFFICIENT_DATA": "#bbbbbb"}
THRESHOLD_COLOUR = "#d62728"


@dataclass
class Panel:
    """One dashboard metric widget with its data: series by label, the y axis's unit, threshold lines."""

    title: str
    frame: pd.DataFrame  # one column per line, indexed by UTC time
    unit: str
    thresholds: list[tuple[str, float]] = field(default_factory=list)  # (label, value): horizontal lines


def dashboard(
    panels: list[Panel],
    alarm_states: Mapping[str, list[tuple[pd.Timestamp, str]]],
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> Figure:
    """A dashboard's metric widgets (two per row), every axis with its unit and the alarm thresholds as
    horizontal lines, over one time range; below them a strip per alarm coloured by its state over time."""
    cols = 2
    rows = -(-len(panels) // cols)
    strip_rows = max(1, len(alarm_states))
    fig = plt.figure(figsize=(12, 3.2 * rows + 0.35 * strip_rows + 0.8), layout="constrained")
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[3.2] * rows + [0.35 * strip_rows + 0.3])
    plt.close(fig)
    x0, x1 = _naive_utc(pd.DatetimeIndex([start, end]))
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        ax.set_title(panel.title, fontsize=10, loc="left")
        ax.grid(True, alpha=0.3)
        frame = panel.frame.dropna(how="all")
        for column in frame.columns:
            values = frame[column].dropna()
            ax.plot(_naive_utc(values.index), values.to_numpy(), marker="o", markersize=3, label=column)
        for label, value in panel.thresholds:
            ax.axhline(value, color=THRESHOLD_COLOUR, linestyle="--", linewidth=1.2, label=label)
        if frame.empty:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", color="0.4", transform=ax.transAxes)
        ax.set_ylabel(panel.unit)
        ax.set_xlim(x0, x1)
        _time_axis(ax)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper left")
    for ax in [fig.add_subplot(grid[i // cols, i % cols]) for i in range(len(panels), rows * cols)]:
        ax.axis("off")
    strip = fig.add_subplot(grid[rows, :])
    _alarm_strip(strip, alarm_states, x0, x1)
    return fig


def _alarm_strip(
    ax: Axes, states: Mapping[str, list[tuple[pd.Timestamp, str]]], x0: pd.Timestamp, x1: pd.Timestamp
) -> None:
    """One row per alarm: its state from each change to the next, coloured as the console colours them."""
    ax.set_title("Alarm states", fontsize=10, loc="left")
    names = list(states)
    for row, name in enumerate(names):
        changes = sorted(states[name])
        for k, (when, state) in enumerate(changes):
            begin = max(_naive_utc(pd.DatetimeIndex([when]))[0], x0)
            finish = _naive_utc(pd.DatetimeIndex([changes[k + 1][0]]))[0] if k + 1 < len(changes) else x1
            if finish <= x0 or begin >= x1:
                continue
            ax.barh(row, mdates.date2num(finish) - mdates.date2num(begin), left=mdates.date2num(begin),
                    height=0.7, color=STATE_COLOURS.get(state, "#bbbbbb"), edgecolor="white")  # fmt: skip
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(-0.6, max(len(names), 1) - 0.4)
    ax.invert_yaxis()
    ax.set_ylabel("alarm")
    ax.set_xlim(x0, x1)
    ax.xaxis_date()
    _time_axis(ax)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in STATE_COLOURS.values()]
    ax.legend(
        handles, list(STATE_COLOURS), fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
    )


FIGURES = Path(__file__).resolve().parents[1] / "build" / "figures"


def axis_labels(fig: Figure) -> list[dict[str, str]]:
    """Each drawn axes' title and x and y labels (its units), in drawing order."""
    return [
        {"title": ax.get_title(loc="left") or ax.get_title(), "x": ax.get_xlabel(), "y": ax.get_ylabel()}
        for ax in fig.axes
        if ax.axison
    ]


def save(fig: Figure, name: str, directory: str | Path = FIGURES) -> Path:
    """Write the figure as a PNG under build/figures (name without extension) and return its path.

    The PNG's Description holds axis_labels(fig) as JSON, so a reader (the browser test) can check units.
    """
    path = Path(directory) / (name if name.endswith(".png") else f"{name}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Description": json.dumps(axis_labels(fig))})
    return path
