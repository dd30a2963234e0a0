"""Traffic for the inference Lambda: healthy requests and bad requests."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from helpers.session import client, settings

BAD_BODIES = [
    '{"features": [1, 2, 3]}',  # three numbers, four expected
    '{"features": ["a", 2, 3, 4]}',  # a string
    '{"features": [NaN, 2, 3, 4]}',  # NaN is not a number here
    '{"features": [true, 2, 3, 4]}',  # a boolean
    '{"features": [[1], 2, 3, 4]}',  # a nested list
    '{"feature": [1, 2, 3, 4]}',  # misspelled key
    '{"features": [1, 2, 3, 4]',  # malformed JSON
    "",  # empty body
]


@dataclass
class Report:
    """What a traffic run sent and what came back."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    started: float = 0.0
    seconds: float = 0.0

    def __str__(self) -> str:
        lat = sorted(self.latencies_ms) or [0.0]
        p50, p90 = lat[len(lat) // 2], lat[int(len(lat) * 0.9)]
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        return (
            f"{self.sent} requests in {self.seconds:.1f} s ({codes}); "
            f"round-trip latency p50 {p50:.0f} ms, p90 {p90:.0f} ms"
        )


def healthy_features(rng: random.Random) -> list[float]:
    """One plausible transaction: amount, hour, merchant risk, account age."""
    return [
        round(rng.lognormvariate(4.0, 1.1), 2),
        rng.randrange(24),
        round(rng.betavariate(2, 5), 3),
        rng.randrange(1, 3650),
    ]


def make_event(rng: random.Random, bad: bool) -> tuple[dict[str, Any], str]:
    """An event in one of the shapes clients send (API Gateway REST or HTTP API, direct); its request id.

    The generator fixes what is sent; the request id is new every time, as API Gateway gives every
    request its own (so re-running a seeded cell sends new requests, not retries).
    """
    request_id = str(uuid.uuid4())
    body = rng.choice(BAD_BODIES) if bad else json.dumps({"features": healthy_features(rng)})
    shape = rng.choice(["rest", "http", "direct"]) if not bad else rng.choice(["rest", "http"])
    if shape == "rest":
        encoded = rng.random() < 0.2
        event = {
            "resource": "/predict",
            "path": "/predict",
            "httpMethod": "POST",
            "headers": {"content-type": "application/json"},
            "requestContext": {"requestId": request_id, "stage": "prod"},
            "body": base64.b64encode(body.encode()).decode() if encoded else body,
            "isBase64Encoded": encoded,
        }
    elif shape == "http":
        event = {
            "version": "2.0",
            "routeKey": "POST /predict",
            "rawPath": "/predict",
            "requestContext": {"requestId": request_id, "http": {"method": "POST", "path": "/predict"}},
            "body": body,
            "isBase64Encoded": False,
        }
    else:
        event = json.loads(body)
        request_id = ""  # a direct invocation is recorded under the Lambda request id
    return event, request_id


def run(
    n: int = 100,
    concurrency: int = 4,
    bad_share: float = 0.0,
    *,
    function: str | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> Report:
    """Send n requests to the inference function; bad_share of them invalid."""
    if n < 1 or concurrency < 1:
        raise ValueError("n and concurrency must be at least 1")
    if not 0.0 <= bad_share <= 1.0:
        raise ValueError(f"bad_share must be between 0 and 1, got {bad_share}")
    name = function or settings().names.function
    rng = random.Random(seed)
    events = [make_event(rng, rng.random() < bad_share) for _ in range(n)]
    lam = client("lambda")
    report = Report(started=time.time())

    def send(item: tuple[dict[str, Any], str]) -> tuple[int, float, str]:
        event, request_id = item
        t0 = time.perf_counter()
        answer = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        elapsed = (time.perf_counter() - t0) * 1000
        if answer.get("FunctionError") or not isinstance(payload, dict):
            return 500, elapsed, request_id
        body = json.loads(payload.get("body") or "{}")
        return int(payload.get("statusCode", 500)), elapsed, body.get("requestId", request_id)

    with (
        ThreadPoolExecutor(max_workers=concurrency) as pool,
        tqdm(total=n, desc=f"requests to {name}", unit="req", disable=not progress, file=sys.stdout) as bar,
    ):
        for status, elapsed, request_id in pool.map(send, events):
            report.sent += 1
            report.statuses[status] += 1
            report.latencies_ms.append(elapsed)
            report.request_ids.append(request_id)
            bar.update(1)
    report.seconds = time.time() - report.started
    return report


@contextlib.contextmanager
def background(
    rate_per_s: float = 2.0, *, function: str | None = None, seed: int | None = None
) -> Iterator[Report]:
    """Keep healthy requests flowing (about rate_per_s) while the with-block runs; yields the live Report."""
    name = function or settings().names.function
    rng = random.Random(seed)
    lam = client("lambda")
    report = Report(started=time.time())
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            event, _ = make_event(rng, bad=False)
            answer = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
            payload = json.loads(answer["Payload"].read() or b"null")
            report.sent += 1
            report.statuses[payload.get("statusCode", 500) if isinstance(payload, dict) else 500] += 1
            stop.wait(1.0 / rate_per_s)

    thread = threading.Thread(target=loop, name="background-traffic", daemon=True)
    thread.start()
    try:
        yield report
    finally:
        stop.set()
        thread.join(timeout=30)
        report.seconds = time.time() - report.started


def start_at(moment: dt.datetime, **run_kwargs: Any) -> Future[Report]:
    """Run traffic in the background from `moment` (a timezone-aware time) on; the Future gives its Report."""
    delay = max(0.0, moment.timestamp() - time.time())
    future: Future[Report] = Future()

    def go() -> None:
        time.sleep(delay)
        try:
            future.set_result(run(progress=False, **run_kwargs))
        except BaseException as exc:  # handed to whoever waits on the Future
            future.set_exception(exc)

    threading.Thread(target=go, name="scheduled-traffic", daemon=True).start()
    return future
