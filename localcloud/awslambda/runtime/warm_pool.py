"""The warm pool: idle execution environments kept for reuse, as AWS keeps them between invocations.

An environment is reused while its function (version), code digest, configuration and identity
stay the same (``env_key``); when one of them changes, the function's idle environments are
stopped at its next invocation, a deleted function's at once (``forget``), and any environment
idle for IDLE_SECONDS by a reaper thread. Each code digest's zip is unpacked once (``code_dir``).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from localcloud.awslambda.runtime import environments
from localcloud.awslambda.runtime.environments import EnvKey, Worker

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction

IDLE_SECONDS = 600.0  # AWS reclaims idle environments after minutes; so do we.


class WarmPool:
    """The idle execution environments of every function served by this local cloud process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[EnvKey, list[Worker]] = {}
        self._code_dirs: dict[str, Path] = {}
        self._root = Path(tempfile.mkdtemp(prefix="workshop-lambda-"))
        self._reaper = threading.Thread(target=self._reap_idle, daemon=True, name="lambda-reaper")
        self._reaper.start()

    def code_dir(self, fn: LambdaFunction) -> Path:
        """The function's zip unpacked once per code digest."""
        digest = code_digest(fn)
        with self._lock:
            path = self._code_dirs.get(digest)
            if path is None:
                path = self._root / digest
                tmp = self._root / f"{digest}.tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
                    archive.extractall(tmp)
                tmp.rename(path)
                self._code_dirs[digest] = path
        return path

    def acquire(self, fn: LambdaFunction) -> Worker:
        """An idle warm environment for fn, or a new (cold) one."""
        key = env_key(fn)
        stale: list[Worker] = []
        with self._lock:
            for other in list(self._idle):
                if other[:2] == key[:2] and other != key:  # code or configuration changed
                    stale += self._idle.pop(other)
            pool = self._idle.get(key)
            worker = pool.pop() if pool else None
        for old in stale:
            old.stop()
        return worker or environments.start(fn, key, self.code_dir(fn))

    def release(self, worker: Worker) -> None:
        """Return a healthy environment to the warm pool."""
        worker.cold = False
        worker.last_used = time.monotonic()
        with self._lock:
            self._idle.setdefault(worker.key, []).append(worker)

    def _reap_idle(self) -> None:
        """Stop environments idle for IDLE_SECONDS, every 30 s, forever (a daemon thread)."""
        while True:
            time.sleep(30)
            now = time.monotonic()
            expired: list[Worker] = []
            with self._lock:
                for key, pool in list(self._idle.items()):
                    keep = [w for w in pool if now - w.last_used < IDLE_SECONDS]
                    expired += [w for w in pool if w not in keep]
                    self._idle[key] = keep
            for worker in expired:
                worker.stop()

    def forget(self, function_arn: str) -> int:
        """Stop the idle environments of a deleted function; return how many."""
        with self._lock:
            keys = [key for key in self._idle if key[0] == function_arn]
            workers = [w for key in keys for w in self._idle.pop(key)]
        for worker in workers:
            worker.stop()
        return len(workers)

    def shutdown(self) -> None:
        """Stop every idle environment and remove unpacked code."""
        with self._lock:
            workers = [w for pool in self._idle.values() for w in pool]
            self._idle.clear()
        for worker in workers:
            worker.stop()
        shutil.rmtree(self._root, ignore_errors=True)


def env_key(fn: LambdaFunction) -> EnvKey:
    """What makes an environment reusable: the function (version) itself, its code and configuration."""
    from localcloud.awslambda import states as lambda_states

    config = json.dumps(
        [fn.handler, fn.run_time, fn.environment_vars, fn.timeout, fn.memory_size, fn.role],
        sort_keys=True,
        default=str,
    )
    # A function deleted and created again under the same name gets new environments.
    return (fn.function_arn, str(fn.version), code_digest(fn), config, lambda_states.identity(fn))


def code_digest(fn: LambdaFunction) -> str:
    """Hex SHA-256 of the function's zip (moto keeps it beside the bytes; hashing per call costs ms for big zips)."""
    return getattr(fn, "code_digest", "") or hashlib.sha256(fn.code_bytes).hexdigest()
