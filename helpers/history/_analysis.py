"""Analysis of the history frame: latency regressions, error bursts, and a summary per model version and variant."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.history._load import as_utc


def _errors(df: pd.DataFrame) -> pd.Series:
    """True for records whose status is not ok."""
    return (df["status"].astype("str") != "ok") & df["status"].notna()


def latency_regressions(
    df: pd.DataFrame,
    freq: str = "1h",
    *,
    quantile: float = 0.9,
    by: tuple[str, ...] = ("modelVersion", "variantName"),
    window: int = 24,
    factor: float = 1.5,
    sustain: int = 3,
    min_count: int = 10,
) -> pd.DataFrame:
    """Latency regressions: runs of at least `sustain` periods whose latency quantile exceeds
    `factor` times the median of the previous `window` periods, per group of `by`.

    One row per regression, earliest first: the group, `period` (first period of the run),
    `periods` (its length), the quantile (`p90_ms` for 0.9), the `baseline_ms` and their `ratio`.
    """
    qcol = f"p{round(quantile * 100):d}_ms"
    columns = [*by, "period", "periods", qcol, "baseline_ms", "ratio", "count"]
    ok = df[(df["status"].astype("str") == "ok").to_numpy(dtype=bool)] if len(df) else df
    ok = ok.dropna(subset=["timestamp", "latencyMs"])
    rows = []
    groups = ok.groupby(list(by), observed=True) if by else [((), ok)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        series = group.set_index("timestamp")["latencyMs"].astype("float64").resample(freq)
        stats = pd.DataFrame({"q": series.quantile(quantile), "count": series.count()})
        stats.loc[stats["count"] < min_count, "q"] = np.nan
        baseline = stats["q"].rolling(window, min_periods=max(3, window // 4)).median().shift(1)
        high = (stats["q"] > factor * baseline).to_numpy()
        run_id = np.cumsum(~high)
        for rid in np.unique(run_id[high]):
            positions = np.flatnonzero(high & (run_id == rid))
            if len(positions) < sustain:
                continue
            first = positions[0]
            rows.append(
                (
                    *key,
                    stats.index[first],
                    len(positions),
                    stats["q"].iloc[first],
                    baseline.iloc[first],
                    stats["q"].iloc[first] / baseline.iloc[first],
                    int(stats["count"].iloc[first]),
                )
            )
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("period", kind="stable").reset_index(drop=True) if rows else out


def error_bursts(
    df: pd.DataFrame,
    freq: str = "10min",
    *,
    statuses: tuple[str, ...] | None = None,
    z: float = 4.0,
    min_errors: int = 5,
    now: Any = None,
) -> pd.DataFrame:
    """Error bursts: consecutive finished periods whose error rate stands out from the overall rate.

    A period stands out when it has at least `min_errors` errors and its rate exceeds the overall
    rate by `z` binomial standard deviations. Errors are `statuses` (default: every status but ok).
    Only periods that have ended by `now` (default: the current time) count: an unfinished period's
    rate is not yet known, and a burst never ends in the future.
    One row per burst: start, end, requests, errors, error_rate, baseline_rate, top errorType.
    """
    columns = ["start", "end", "periods", "requests", "errors", "error_rate", "baseline_rate", "top_error"]
    data = df.dropna(subset=["timestamp"])
    if data.empty:
        return pd.DataFrame(columns=columns)
    is_error = data["status"].isin(statuses) if statuses else _errors(data)
    frame = pd.DataFrame(
        {"requests": 1, "errors": is_error.astype(int).to_numpy()}, index=data["timestamp"].to_numpy()
    )
    frame.index = pd.DatetimeIndex(frame.index, tz="UTC") if frame.index.tz is None else frame.index
    per = frame.resample(freq).sum()
    p0 = per["errors"].sum() / max(1, per["requests"].sum())
    rate = per["errors"] / per["requests"].where(per["requests"] > 0)
    sd = np.sqrt(p0 * (1 - p0) / per["requests"].where(per["requests"] > 0))
    period = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    cutoff = pd.Timestamp.now(tz="UTC") if now is None else as_utc(now, "now")
    finished = np.asarray(per.index + period <= cutoff)
    flagged = ((per["errors"] >= min_errors) & (rate > p0 + z * sd)).to_numpy() & finished
    rows = []
    run_id = np.cumsum(~flagged)
    errors_only = data[is_error.to_numpy(dtype=bool)]
    for rid in np.unique(run_id[flagged]):
        pos = np.flatnonzero(flagged & (run_id == rid))
        start, stop = per.index[pos[0]], per.index[pos[-1]] + period
        requests, errors = int(per["requests"].iloc[pos].sum()), int(per["errors"].iloc[pos].sum())
        in_run = errors_only[(errors_only["timestamp"] >= start) & (errors_only["timestamp"] < stop)]
        top = in_run["errorType"].mode() if "errorType" in in_run else pd.Series(dtype=object)
        rows.append(
            (
                start,
                stop,
                len(pos),
                requests,
                errors,
                errors / requests,
                p0,
                top.iloc[0] if len(top) else None,
            )
        )
    return pd.DataFrame(rows, columns=columns)


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per model version and variant (and overall): requests, time span, error rates, latency
    percentiles (ms), mean prediction and cold-start rate."""

    def describe(g: pd.DataFrame) -> dict[str, Any]:
        status = g["status"].astype("str")
        lat = g["latencyMs"].astype("float64")
        return {
            "requests": len(g),
            "first": g["timestamp"].min(),
            "last": g["timestamp"].max(),
            "error_rate": float(_errors(g).mean()) if len(g) else np.nan,
            "client_error_rate": float((status == "client_error").mean()) if len(g) else np.nan,
            "model_error_rate": float((status == "model_error").mean()) if len(g) else np.nan,
            "latency_p50_ms": lat.quantile(0.5),
            "latency_p90_ms": lat.quantile(0.9),
            "latency_p99_ms": lat.quantile(0.99),
            "mean_prediction": g["prediction"].astype("float64").mean(),
            "cold_start_rate": g["coldStart"].astype("float64").mean(),
        }

    rows = {}
    for (version, variant), g in df.groupby(["modelVersion", "variantName"], observed=True):
        rows[(str(version), str(variant))] = describe(g)
    rows[("all", "all")] = describe(df)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["modelVersion", "variantName"])
    return out
