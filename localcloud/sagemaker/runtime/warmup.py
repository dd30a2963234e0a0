"""The model libraries' warm-up: XGBoost imported on a thread when the hooks install.

XGBoost takes about half a second to import; the server pays it while it waits for its first
requests instead of in the first ``InvokeEndpoint``. In a process that does other things at the
same time (the test suite installs the hooks in-process), a background import can collide with
code that walks every loaded module: freezegun's ``freeze_time`` did, and the process crashed in
pandas (a segmentation fault or a ``_DeadlockError`` on pandas' module locks). Such a process can:

- ``wait()`` for the warm-up before it goes on (the test suite's ``local_cloud`` fixture does), or
- set ``WORKSHOP_LOCAL_WARM_UP=off`` before the hooks install: nothing is imported in the
  background, and the first ``InvokeEndpoint`` imports what it needs.
"""

from __future__ import annotations

import os
import threading

ENV = "WORKSHOP_LOCAL_WARM_UP"
MODES = ("background", "off")
_lock = threading.Lock()
_thread: threading.Thread | None = None


def mode(env: dict[str, str] | None = None) -> str:
    """The warm-up mode the environment asks for ('background' unless WORKSHOP_LOCAL_WARM_UP says 'off')."""
    value = (os.environ if env is None else env).get(ENV, "background").strip().lower() or "background"
    if value not in MODES:
        raise ValueError(
            f"{ENV}={value!r} is not a warm-up mode. Fix: set {ENV}=background (import the model libraries on a "
            f"thread when the local cloud starts, the default) or {ENV}=off (import them on the first InvokeEndpoint)."
        )
    return value


def start() -> bool:
    """Start the background import once per process, unless the mode is 'off'; True when it runs (or ran)."""
    global _thread
    if mode() == "off":
        return False
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=import_model_libraries, daemon=True, name="xgboost-import")
            _thread.start()
    return True


def wait(timeout_s: float = 120.0) -> bool:
    """Wait (at most timeout_s) until the background import is done; True when none is running any more."""
    with _lock:
        thread = _thread
    if thread is not None:
        thread.join(timeout_s)
        return not thread.is_alive()
    return True


def import_model_libraries() -> None:
    """Import what predicting needs, so the first InvokeEndpoint does not wait for it."""
    from kitformats import model_artifact

    model_artifact.import_xgboost()
