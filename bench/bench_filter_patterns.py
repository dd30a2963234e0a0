"""Benchmark: filter-pattern matching on realistic JSON inference log lines, beside json.loads alone.

Run: .venv/bin/python bench/bench_filter_patterns.py [N]
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid

from localcloud.logs.filter_patterns import compile_pattern  # noqa: E402

PATTERNS = {
    "event = inference": '{ $.event = "inference" }',
    "status model_error || client_error": '{ $.status = "model_error" || $.status = "client_error" }',
    "latencyMs > 100": "{ $.latencyMs > 100 }",
    "term model_error": '"model_error"',
}


def make_events(n: int, seed: int = 7) -> list[str]:
    """N JSON log lines like the inference handler's, with a few other lines mixed in."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        if i % 20 == 0:
            events.append(f"START RequestId: {uuid.UUID(int=rng.getrandbits(128))} Version: $LATEST")
            continue
        status = rng.choices(["ok", "client_error", "model_error"], [0.9, 0.06, 0.04])[0]
        events.append(
            json.dumps(
                {
                    "event": "inference",
                    "requestId": str(uuid.UUID(int=rng.getrandbits(128))),
                    "timestamp": "2026-11-27T12:00:00.123Z",
                    "endpointName": "ws-attendee-endpoint",
                    "modelName": "churn-xgb",
                    "modelVersion": "3",
                    "variant": "AllTraffic",
                    "status": status,
                    "latencyMs": round(rng.lognormvariate(3.5, 0.6), 2),
                    "modelLatencyMs": round(rng.lognormvariate(3.0, 0.5), 2),
                    "prediction": round(rng.random(), 4),
                    "coldStart": rng.random() < 0.01,
                }
            )
        )
    return events


def rate(fn, events: list[str]) -> tuple[float, int]:
    """Events per second for fn over the events (best of 3), and how many it accepted."""
    best = float("inf")
    hits = 0
    for _ in range(3):
        start = time.perf_counter()
        hits = sum(1 for e in events if fn(e))
        best = min(best, time.perf_counter() - start)
    return len(events) / best, hits


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    events = make_events(n)

    def loads_only(e: str) -> bool:
        try:
            json.loads(e)
        except ValueError:
            return False
        return True

    floor, parsed = rate(loads_only, events)
    print(f"{n} events, one core; json.loads alone (floor): {floor:,.0f} events/s ({parsed} parsed)")
    print(f"{'pattern':40} {'events/s':>12} {'matched':>8} {'vs json.loads':>14}")
    for label, text in PATTERNS.items():
        pattern = compile_pattern(text)
        per_second, hits = rate(pattern.matches, events)
        print(f"{label:40} {per_second:12,.0f} {hits:8} {per_second / floor:13.2f}x")


if __name__ == "__main__":
    main()
