"""Traffic through chapter 7's REST API, as a client sends it: healthy and bad requests over HTTP.

Every request is a POST of a JSON body to the API's invoke URL (helpers.apigateway.endpoint_url: the
local cloud's in local mode, ``https://{id}.execute-api.{region}.amazonaws.com/prod/predict`` in aws
mode), so the proxy event, the request id the record is keyed on (API Gateway's, answered in
``x-amzn-RequestId``) and the status the client sees are API Gateway's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from helpers.session import client

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
TIMEOUT_S = 35.0  # API Gateway answers within its 29 s integration timeout (504 after)


@dataclass(frozen=True)
class Reply:
    """One answer of the API: HTTP status, API Gateway's request id, the JSON body (or {'text': ...})."""

    status: int
    request_id: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


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


def post(url: str, body: str | bytes, request_id: str | None = None, timeout_s: float = TIMEOUT_S) -> Reply:
    """POST one JSON body to an invoke URL; request_id (a UUID) resends a request under the id API Gateway gave it.

    API Gateway takes a client's ``x-amzn-RequestId`` when it is a UUID, so a retried request reaches the
    function with the same requestContext.requestId.
    """
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": "application/json"}
    if request_id:
        headers["x-amzn-RequestId"] = request_id
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            status, got, raw = answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as failed:  # 4xx and 5xx are answers too
        status, got, raw = failed.code, dict(failed.headers.items()), failed.read()
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {"text": raw.decode("utf-8", errors="replace")}
    lowered = {k.lower(): v for k, v in got.items()}
    body_dict = parsed if isinstance(parsed, dict) else {"value": parsed}
    return Reply(status, lowered.get("x-amzn-requestid", ""), body_dict, got)


def healthy_features(rng: random.Random) -> list[float]:
    """One plausible transaction: amount, hour, merchant risk, account age."""
    return [
        round(rng.lognormvariate(4.0, 1.1), 2),
        rng.randrange(24),
        round(rng.betavariate(2, 5), 3),
        rng.randrange(1, 3650),
    ]


def make_body(rng: random.Random, bad: bool) -> str:
    """A request body: the chapter-7 shape {"features": [...]} or one of the bad ones."""
    return rng.choice(BAD_BODIES) if bad else json.dumps({"features": healthy_features(rng)})


def invoke(function: str, body: str) -> Reply:
    """Send one body straight to a function with no API in front (8.5's stack): a {"body": ...} event, Invoke."""
    answer = client("lambda").invoke(FunctionName=function, Payload=json.dumps({"body": body}).encode())
    payload = json.loads(answer["Payload"].read() or b"null")
    request_id = answer.get("ResponseMetadata", {}).get("RequestId", "")
    if answer.get("FunctionError") or not isinstance(payload, dict):
        return Reply(502, request_id, {"message": "Internal server error"})
    parsed = json.loads(payload.get("body") or "{}")
    return Reply(int(payload.get("statusCode", 502)), parsed.get("requestId", request_id), parsed)


def _sender(url: str | None, function: str | None) -> Callable[[str], Reply]:
    """How a body is sent: to the function when one is named (no API in front), else to the invoke URL."""
    if function:
        return lambda body: invoke(function, body)
    target = _url(url)
    return lambda body: post(target, body)


def _url(url: str | None) -> str:
    """The URL to send to: the one given, else the workshop API's invoke URL."""
    if url:
        return url
    from helpers import apigateway

    return apigateway.endpoint_url()


def run(
    n: int = 100,
    concurrency: int = 4,
    bad_share: float = 0.0,
    *,
    url: str | None = None,
    function: str | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> Report:
    """Send n requests to the API's invoke URL (or url), concurrency at a time; bad_share of them invalid.

    The seed fixes what is sent; API Gateway gives every request a new id (a re-run sends new requests).
    """
    if n < 1 or concurrency < 1:
        raise ValueError("n and concurrency must be at least 1")
    if not 0.0 <= bad_share <= 1.0:
        raise ValueError(f"bad_share must be between 0 and 1, got {bad_share}")
    send_body = _sender(url, function)
    rng = random.Random(seed)
    bodies = [make_body(rng, rng.random() < bad_share) for _ in range(n)]
    report = Report(started=time.time())

    def send(body: str) -> tuple[Reply, float]:
        t0 = time.perf_counter()
        reply = send_body(body)
        return reply, (time.perf_counter() - t0) * 1000

    with (
        ThreadPoolExecutor(max_workers=concurrency) as pool,
        tqdm(total=n, desc="requests to the API", unit="req", disable=not progress, file=sys.stdout) as bar,
    ):
        for reply, elapsed in pool.map(send, bodies):
            report.sent += 1
            report.statuses[reply.status] += 1
            report.latencies_ms.append(elapsed)
            report.request_ids.append(reply.request_id)
            bar.update(1)
    report.seconds = time.time() - report.started
    return report


@contextlib.contextmanager
def background(
    rate_per_s: float = 2.0, *, url: str | None = None, function: str | None = None, seed: int | None = None
) -> Iterator[Report]:
    """Keep healthy requests flowing to the API (about rate_per_s) while the with-block runs; yields the live Report."""
    send_body = _sender(url, function)
    rng = random.Random(seed)
    report = Report(started=time.time())
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            reply = send_body(make_body(rng, bad=False))
            report.sent += 1
            report.statuses[reply.status] += 1
            report.request_ids.append(reply.request_id)
            stop.wait(1.0 / rate_per_s)

    thread = threading.Thread(target=loop, name="background-traffic", daemon=True)
    thread.start()
    try:
        yield report
    finally:
        stop.set()
        thread.join(timeout=60)
        report.seconds = time.time() - report.started


def start_at(moment: dt.datetime, **run_kwargs: Any) -> Future[Report]:
    """Run traffic in the background from `moment` (a timezone-aware time) on; the Future gives its Report."""
    delay = max(0.0, moment.timestamp() - time.time())
    future: Future[Report] = Future()
    if not run_kwargs.get("url") and not run_kwargs.get("function"):
        run_kwargs["url"] = _url(None)  # found now, in the caller's settings

    def go() -> None:
        time.sleep(delay)
        try:
            future.set_result(run(progress=False, **run_kwargs))
        except BaseException as exc:  # handed to whoever waits on the Future
            future.set_exception(exc)

    threading.Thread(target=go, name="scheduled-traffic", daemon=True).start()
    return future
