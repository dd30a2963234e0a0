"""The compute behind an endpoint's variant: launched on the first request after a deployment, then warm.

A deployment (CreateEndpoint, or UpdateEndpoint to a new configuration) starts new compute: the
first request it serves waits while SageMaker launches it and the container loads the model (for a
serverless endpoint that is a cold start, reported as ``ModelSetupTime``); later requests find the
model loaded. Each instance has the id its log stream is named after: ``i-`` and 17 hex digits for
instance endpoints (an EC2-style id, stable per endpoint, variant and configuration); for serverless
endpoints, whose stream names AWS does not document, 32 hex digits new at every launch.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str, str, str, str, str]  # account, region, endpoint, configuration, variant, model


@dataclass(frozen=True)
class Instance:
    """One launched compute environment of a variant, with its loaded model."""

    id: str
    model: Any  # what the container loaded (an XGBoost booster)


_instances: dict[Key, Instance] = {}
_lock = threading.Lock()


def instance_id(key: Key, serverless: bool) -> str:
    """The id an instance's log stream is named after."""
    if serverless:
        return uuid.uuid4().hex
    return "i-" + hashlib.sha1("/".join(key).encode()).hexdigest()[:17]


def serving(key: Key, serverless: bool, load: Callable[[], Any]) -> tuple[Instance, float | None]:
    """The instance serving key, launched (load() timed) when there is none yet; its setup time in µs when launched now.

    A load that raises launches nothing: the next request tries again.
    """
    with _lock:
        found = _instances.get(key)
    if found is not None:
        return found, None
    started = time.perf_counter()
    loaded = load()
    setup_us = (time.perf_counter() - started) * 1e6
    with _lock:
        found = _instances.get(key)
        if found is not None:  # another request launched it meanwhile
            return found, None
        instance = _instances[key] = Instance(instance_id(key, serverless), loaded)
    return instance, setup_us


def forget(account: str, region: str, endpoint: str) -> None:
    """Drop every instance of an endpoint (it was deleted: a new one of that name launches afresh)."""
    with _lock:
        for key in [k for k in _instances if k[:3] == (account, region, endpoint)]:
            del _instances[key]
