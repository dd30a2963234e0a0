"""Seeding a demo history: a deterministic week of realistic inference records, written in parallel batches."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import uuid
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from helpers import dynamodb
from helpers.history._load import as_utc, progress_bar

# (name, share of the requests): the draws below are made from these, nowhere else. The variants default to
# the workshop endpoint's one variant; the notebook passes the live endpoint's.
VARIANTS = (("AllTraffic", 1.0),)
# The share of requests the model scores as positive (>= 0.5): the validation set's positive rate, about 5 %.
POSITIVE_RATE = 0.05
EVENT_SOURCES = (("apigateway-rest", 0.7), ("apigateway-http", 0.2), ("direct", 0.1))


def _draw(rng: np.random.Generator, shares: tuple[tuple[str, float], ...], n: int) -> npt.NDArray[np.str_]:
    """n names drawn independently, each with its share of the (name, share) pairs."""
    names = np.array([name for name, _ in shares])
    bounds = np.cumsum([share for _, share in shares])[:-1]
    return names[np.searchsorted(bounds, rng.random(n), side="right")]


def _uuids(rng: np.random.Generator, n: int) -> list[str]:
    """n version-4 UUID strings drawn from the generator."""
    raw = rng.bytes(16 * n)
    return [str(uuid.UUID(bytes=raw[i * 16 : (i + 1) * 16], version=4)) for i in range(n)]


def _normal_quantile(share: float) -> float:
    """z such that a standard normal exceeds z with probability share (bisection; stdlib erf)."""
    import math

    low, high = -10.0, 10.0
    for _ in range(100):
        mid = (low + high) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > share:
            low = mid
        else:
            high = mid
    return -(low + high) / 2


def _num(x: float, digits: int) -> dict[str, str]:
    """A float as a DynamoDB number, rounded to `digits` decimals."""
    return {"N": repr(round(float(x), digits))}


def history_items(
    endpoint: str,
    days: int = 7,
    per_day: int = 1440,
    random_state: int = 42,
    end: Any = None,
    ttl_days: int = 30,
    *,
    model_name: str = "classifier-v1",
    model_version: str = "1",
    variants: tuple[tuple[str, float], ...] = VARIANTS,
) -> list[dict[str, Any]]:
    """A realistic, deterministic week of inference records (DynamoDB JSON), ending at `end`.

    Every record names the given endpoint, model, version and variants (pass the live ones, so the
    history describes what the registry knows). The story: a daily traffic cycle peaking mid-afternoon
    UTC; scores as this model gives them (about POSITIVE_RATE of requests scored positive); from 70% of
    the range on, model latency triples (a regression); for about 75 minutes at 55% of the range most
    requests fail with model errors (an incident); ~1.5% client errors (callers sending bad input).
    """
    if days < 1 or per_day < 1:
        raise ValueError(f"days={days} and per_day={per_day} must both be at least 1.")
    end_ts = pd.Timestamp.now(tz="UTC").floor("h") if end is None else as_utc(end, "end")
    start_ts = end_ts - pd.Timedelta(days=days)
    rng = np.random.default_rng(random_state)
    n = days * per_day
    span_ms = days * 86_400_000

    # Daily cycle: hourly weights peaking at 14:00 UTC, then uniform within each hour.
    hours = days * 24
    hour_of_day = (start_ts.hour + np.arange(hours)) % 24
    weights = 1 + 0.6 * np.sin(2 * np.pi * (hour_of_day - 8) / 24)
    per_hour = rng.multinomial(n, weights / weights.sum())
    offsets = np.repeat(np.arange(hours) * 3_600_000, per_hour) + rng.integers(0, 3_600_000, n)
    offsets.sort()
    frac = offsets / span_ms

    variant = _draw(rng, variants, n)
    x = rng.normal(0, 1, (n, 4))
    weights = np.array([3.6, -2.4, 1.5, 0.9])  # a confident model: most scores near 0 or 1
    # The intercept puts POSITIVE_RATE of the logits above 0 (score >= 0.5): logit ~ N(intercept, |w|).
    intercept = float(np.linalg.norm(weights)) * _normal_quantile(POSITIVE_RATE)
    prediction = 1 / (1 + np.exp(-(x @ weights + intercept)))

    model_ms = rng.lognormal(np.log(18), 0.25, n)
    model_ms = np.where(frac >= 0.7, model_ms * 3, model_ms)
    cold = rng.random(n) < 0.01
    latency = model_ms + rng.lognormal(np.log(6), 0.3, n) + np.where(cold, rng.normal(320, 40, n), 0)

    burst = (frac >= 0.55) & (frac < 0.55 + 75 / (days * 1440))
    u = rng.random(n)
    status = np.where(burst & (u < 0.7), "model_error", np.where(u > 0.998, "model_error", "ok"))
    status = np.where((status == "ok") & (rng.random(n) < 0.015), "client_error", status)
    sources = _draw(rng, EVENT_SOURCES, n)
    request_ids, lambda_ids = _uuids(rng, n), _uuids(rng, n)
    start_ms = int(start_ts.value // 1_000_000)

    items: list[dict[str, Any]] = []
    for i in range(n):
        ts_ms = start_ms + int(offsets[i])
        ts = _dt.datetime.fromtimestamp(ts_ms / 1000, _dt.UTC)
        features = [round(float(f), 4) for f in x[i]]
        item = {
            "requestId": {"S": request_ids[i]},
            "timestamp": {"S": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"},
            "endpointName": {"S": endpoint},
            "modelName": {"S": model_name},
            "modelVersion": {"S": model_version},
            "variantName": {"S": str(variant[i])},
            "inputTruncated": {"BOOL": False},
            "latencyMs": _num(latency[i], 2),
            "status": {"S": str(status[i])},
            "eventSource": {"S": str(sources[i])},
            "coldStart": {"BOOL": bool(cold[i])},
            "lambdaRequestId": {"S": lambda_ids[i]},
            "functionVersion": {"S": "$LATEST"},
            "expiresAt": {"N": str(ts_ms // 1000 + ttl_days * 86_400)},
        }
        if status[i] == "client_error":
            text = json.dumps({"features": features[:3]})
            item.update(
                errorType={"S": "ValidationError"},
                errorMessage={"S": "features must be a list of 4 numbers, got 3"},
            )
        else:
            text = json.dumps({"features": features})
            item["features"] = {"L": [{"N": repr(f)} for f in features]}
            item["modelLatencyMs"] = _num(model_ms[i], 2)
        if status[i] == "ok":
            item["prediction"] = _num(prediction[i], 6)
            item["predictedLabel"] = {"N": "1" if prediction[i] >= 0.5 else "0"}
        elif status[i] == "model_error":
            item.update(
                errorType={"S": "ModelError"},
                errorMessage={"S": "Received server error (500) from primary: worker died"},
            )
        item["input"] = {"S": text}
        item["inputBytes"] = {"N": str(len(text.encode()))}
        item["inputSha256"] = {"S": hashlib.sha256(text.encode()).hexdigest()}
        items.append(item)
    return items


def seed(
    table: str,
    endpoint: str,
    days: int = 7,
    per_day: int = 1440,
    random_state: int = 42,
    end: Any = None,
    client: Any = None,
    *,
    model_name: str = "classifier-v1",
    model_version: str = "1",
    variants: tuple[tuple[str, float], ...] = VARIANTS,
    workers: int = 4,
    progress: bool = True,
) -> int:
    """Write a deterministic demo history (see history_items) for the endpoint's model, version and variants;
    return records written.

    `end` defaults to the start of the current hour; request ids depend only on `random_state`, so
    running it again overwrites the same records instead of adding new ones. `workers` threads
    write batches of 25 (helpers.dynamodb.batch_write).
    """
    items = history_items(
        endpoint,
        days=days,
        per_day=per_day,
        random_state=random_state,
        end=end,
        model_name=model_name,
        model_version=model_version,
        variants=variants,
    )
    with progress_bar(progress, f"writing {table}") as bar:
        try:
            done = dynamodb.batch_write(table, items, client=client, workers=workers, on_written=bar.update)
        except dynamodb.BatchWriteError as exc:
            raise dynamodb.BatchWriteError(
                f"{len(exc.unprocessed)} of {len(items)} records were not written to {table}: the table is "
                "throttled. Fix: wait a minute and run seed() again (it overwrites the same request ids).",
                exc.unprocessed,
            ) from None
    return done["items"]
