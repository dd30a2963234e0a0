"""The traffic generator: what it sends (no cloud needed)."""

from __future__ import annotations

import json
import random

from helpers import traffic


def _sent(seed: int) -> list[tuple[str, str]]:
    """(body, request id) of 20 events from a generator seeded with `seed`."""
    rng = random.Random(seed)
    events = [traffic.make_event(rng, bad=rng.random() < 0.3) for _ in range(20)]
    return [(e.get("body") or json.dumps(e), rid) for e, rid in events]


def test_the_same_seed_sends_the_same_bodies_under_new_request_ids():
    first, again = _sent(7), _sent(7)
    assert [body for body, _ in first] == [body for body, _ in again]
    ids = [rid for _, rid in first + again if rid]  # direct invocations take the Lambda request id
    assert len(ids) > 20 and len(set(ids)) == len(ids)
