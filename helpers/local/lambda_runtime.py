"""Lambda execution for the local cloud: runs the deployed zip in warm worker processes, as AWS does.

moto without Docker never runs a handler. This hook replaces ``LambdaFunction.invoke`` (every
invocation path reaches it: the Invoke API, Event invocations, SNS/SQS triggers) and runs the
function's code in an execution environment (helpers/local/lambda_worker.py): one process per
concurrent invocation, reused warm while code and configuration stay the same, discarded after
a timeout or crash. It writes START/END/REPORT and the handler's output to the function's log
group in AWS's stream naming, and publishes AWS/Lambda metrics.

A handler imports what AWS's managed Python runtime offers and nothing more: its zip, the standard
library, and boto3 with its dependencies (``RUNTIME_PACKAGES``, linked from the kit's own
site-packages, so their versions are the kit's, not those of AWS's runtime), on the runtime's own
Python version when this machine has it (``lambda_pythons``). Concurrent executions
are limited per function (reserved concurrency) and per account and region (the profile's
``lambda_concurrent_executions`` quota), answering AWS's ``TooManyRequestsException``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.cloudwatch.models import cloudwatch_backends

from helpers import clock
from helpers.local import hooks, lambda_pythons, lambda_states, profile
from helpers.local.lambda_worker import read_frame, write_frame
from helpers.local.locks import cloudwatch_lock

WORKER = Path(__file__).with_name("lambda_worker.py")
IDLE_SECONDS = 600.0  # AWS reclaims idle environments after minutes; so do we.
TAIL_BYTES = 4096
EVENT_RETRY_DELAYS = (1.0, 2.0)  # AWS waits about 1 and 2 minutes; the workshop cannot.
EVENT_MAX_AGE_S = 6 * 3600.0  # a throttled asynchronous event is retried for up to 6 hours
EVENT_THROTTLE_MAX_DELAY_S = 300.0  # ... every 1 s, doubling, at most every 5 minutes
MAX_EVENT_BYTES = 256 * 1024 - 26  # CloudWatch Logs' limit for one event (26 bytes go to its header)
# What AWS's Python runtime adds to the standard library: {importable name: distribution}.
RUNTIME_PACKAGES = {
    "boto3": "boto3", "botocore": "botocore", "s3transfer": "s3transfer", "jmespath": "jmespath",
    "dateutil": "python-dateutil", "six": "six", "urllib3": "urllib3",
}  # fmt: skip
# What makes an environment reusable: function ARN, version, code digest, configuration, identity.
EnvKey = tuple[str, str, str, str, int]
Slot = tuple[str, tuple[str, str] | None]  # a function ARN and, when unreserved, its (account, region)


class Timeout(Exception):
    """The handler ran past the function's timeout."""


class Crash(Exception):
    """The execution environment died during an invocation."""


@dataclass
class Worker:
    """One execution environment: a process, its pipes, its log file and log stream."""

    key: EnvKey
    proc: subprocess.Popen[bytes]
    request_fd: int
    response_fd: int
    log_file: io.BufferedRandom
    log_stream: str
    init_ms: float
    cold: bool = True
    last_used: float = field(default_factory=time.monotonic)
    log_offset: int = 0

    def new_output(self) -> str:
        """Text the process wrote to stdout/stderr since the last call."""
        self.log_file.flush()
        size = os.fstat(self.log_file.fileno()).st_size
        data = os.pread(self.log_file.fileno(), size - self.log_offset, self.log_offset)
        self.log_offset = size
        return data.decode("utf-8", errors="replace")

    def call(self, request: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one invocation and wait for its answer, at most timeout_s seconds."""
        write_frame(self.request_fd, request)
        ready, _, _ = select.select([self.response_fd], [], [], max(timeout_s, 0.0))
        if not ready:
            raise Timeout()
        answer = read_frame(self.response_fd)
        if answer is None:
            raise Crash(self.proc.wait(timeout=5))
        return answer

    def stop(self) -> None:
        """Kill the process group and release its resources."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(timeout=5)
        for fd in (self.request_fd, self.response_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log_file.close()


class Runtime:
    """Execution environments of every function served by this local cloud process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[EnvKey, list[Worker]] = {}
        self._busy: dict[str, int] = {}  # running invocations per function ARN
        # ... of functions without reserved concurrency, per (account, region)
        self._unreserved: dict[tuple[str, str], int] = {}
        self._code_dirs: dict[str, Path] = {}
        self._root = Path(tempfile.mkdtemp(prefix="workshop-lambda-"))
        self._reaper = threading.Thread(target=self._reap_idle, daemon=True, name="lambda-reaper")
        self._reaper.start()

    # -- environments -------------------------------------------------------------------------
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

    @staticmethod
    def env_key(fn: LambdaFunction) -> EnvKey:
        """What makes an environment reusable: the function (version) itself, its code and configuration."""
        config = json.dumps(
            [fn.handler, fn.run_time, fn.environment_vars, fn.timeout, fn.memory_size, fn.role],
            sort_keys=True,
            default=str,
        )
        # A function deleted and created again under the same name gets new environments.
        return (fn.function_arn, str(fn.version), code_digest(fn), config, lambda_states.identity(fn))

    def acquire(self, fn: LambdaFunction) -> Worker:
        """An idle warm environment for fn, or a new (cold) one."""
        key = self.env_key(fn)
        stale: list[Worker] = []
        with self._lock:
            for other in list(self._idle):
                if other[:2] == key[:2] and other != key:  # code or configuration changed
                    stale += self._idle.pop(other)
            pool = self._idle.get(key)
            worker = pool.pop() if pool else None
        for old in stale:
            old.stop()
        return worker or self._start(fn, key)

    def release(self, worker: Worker) -> None:
        """Return a healthy environment to the warm pool."""
        worker.cold = False
        worker.last_used = time.monotonic()
        with self._lock:
            self._idle.setdefault(worker.key, []).append(worker)

    def _start(self, fn: LambdaFunction, key: EnvKey) -> Worker:
        """A new (cold) execution environment for fn, once its runtime said hello."""
        version = str(fn.version)
        stream = f"{dt.datetime.now(dt.UTC):%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"
        code = self.code_dir(fn)
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        log_file = tempfile.TemporaryFile()
        env = self.environment(fn, version, stream, code)
        proc = subprocess.Popen(
            # -I -S: no site-packages, no PYTHON* variables; the worker puts the code and the runtime's packages first
            [
                lambda_pythons.interpreter(fn.run_time),
                "-I",
                "-S",
                "-B",
                "-u",
                str(WORKER),
                str(request_r),
                str(response_w),
            ],
            cwd=code,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            pass_fds=(request_r, response_w),
            start_new_session=True,  # a process group, so a timeout kills the handler's children too
        )
        os.close(request_r)
        os.close(response_w)
        worker = Worker(key, proc, request_w, response_r, log_file, stream, init_ms=0.0)
        try:
            ready, _, _ = select.select([response_r], [], [], 10.0 + float(fn.timeout))
            hello = read_frame(response_r) if ready else None
        except OSError:
            hello = None
        if not hello:
            output = worker.new_output()
            worker.stop()
            raise Crash(f"the execution environment did not start: {output[-2000:]}")
        worker.init_ms = hello["initMs"]
        return worker

    @staticmethod
    def environment(fn: LambdaFunction, version: str, stream: str, code: Path) -> dict[str, str]:
        """The process environment AWS gives a Python function, pointed back at this local cloud."""
        from helpers.local.iam_enforcement import role_credentials

        url = os.environ.get("WORKSHOP_LOCAL_URL", "http://127.0.0.1:4566")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONDONTWRITEBYTECODE": "1",
            **{k: str(v) for k, v in (fn.environment_vars or {}).items()},
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time or 'python3.13'}",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "LAMBDA_TASK_ROOT": str(code),
            "LAMBDA_RUNTIME_DIR": str(runtime_packages()),
            "_HANDLER": fn.handler or "lambda_function.lambda_handler",
            # The execution role's temporary credentials: calls made with them are authorized as the role.
            **role_credentials(fn),
            "AWS_ENDPOINT_URL": url,
        }
        return env

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
        """Stop every environment and remove unpacked code."""
        with self._lock:
            workers = [w for pool in self._idle.values() for w in pool]
            self._idle.clear()
        for worker in workers:
            worker.stop()
        shutil.rmtree(self._root, ignore_errors=True)
        forget_runtime_packages()

    # -- invocations --------------------------------------------------------------------------
    def invoke(
        self, fn: LambdaFunction, body: str, request_headers: Any, response_headers: dict[str, str]
    ) -> bytes:
        """Run one invocation as the Invoke API would; return the response payload."""
        headers = {k.lower(): v for k, v in dict(request_headers or {}).items()}
        invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type == "DryRun":
            return b""
        request_id = str(uuid.uuid4())
        response_headers["x-amzn-requestid"] = request_id  # AWS answers with the invocation's id
        if invocation_type == "Event":  # queued: a throttle delays it, the caller still gets 202
            threading.Thread(target=self._run_event, args=(fn, body, request_id), daemon=True).start()
            return b""
        payload, error, tail = self.run(fn, body, request_id)
        if error:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-log-result"] = base64.b64encode(tail.encode()[-TAIL_BYTES:]).decode()
        response_headers["x-amz-executed-version"] = str(fn.version)
        return payload

    def _throttle_reason(self, fn: LambdaFunction) -> str | None:
        """AWS's Reason for refusing an invocation of fn now, or None when a slot is free (hold self._lock)."""
        reserved = fn.reserved_concurrency
        if reserved is not None:  # a reservation is the function's own: only it limits the function
            full = self._busy.get(fn.function_arn, 0) >= int(reserved)
            return "ReservedFunctionConcurrentInvocationLimitExceeded" if full else None
        # Unreserved functions share what the account's quota leaves after every reservation.
        pool = profile.current().quota("lambda_concurrent_executions") - reserved_concurrency(
            fn.account_id, fn.region
        )
        full = self._unreserved.get((fn.account_id, fn.region), 0) >= pool
        return "ConcurrentInvocationLimitExceeded" if full else None

    def _take_slot(self, fn: LambdaFunction) -> Slot:
        """Take an execution slot for fn; return what _give_back needs (TooManyRequests when none is free)."""
        with self._lock:  # check and take at once, so two callers cannot both take the last slot
            reason = self._throttle_reason(fn)
            if reason is None:
                shared = (fn.account_id, fn.region) if fn.reserved_concurrency is None else None
                self._busy[fn.function_arn] = self._busy.get(fn.function_arn, 0) + 1
                if shared:
                    self._unreserved[shared] = self._unreserved.get(shared, 0) + 1
                return fn.function_arn, shared
        publish_metrics(fn, {"Throttles": (1, "Count")})
        raise TooManyRequests(reason)

    def _give_back(self, slot: Slot) -> None:
        """Release a slot taken by _take_slot."""
        arn, shared = slot
        with self._lock:
            self._busy[arn] -= 1
            if shared:
                self._unreserved[shared] -= 1

    def _run_event(self, fn: LambdaFunction, body: str, request_id: str) -> None:
        """Run an asynchronous invocation as AWS's event queue does, always with the same request id.

        A throttled attempt goes back to the queue (retried after 1 s, doubling, for up to 6 hours);
        a failed one is retried twice.
        """
        deadline = time.monotonic() + EVENT_MAX_AGE_S
        delay, throttle_delay, failures = 0.0, 1.0, 0
        while time.monotonic() < deadline and exists(fn):
            time.sleep(delay)
            try:
                _, error, _ = self.run(fn, body, request_id)
            except TooManyRequests:
                delay, throttle_delay = throttle_delay, min(throttle_delay * 2, EVENT_THROTTLE_MAX_DELAY_S)
                continue
            if not error or failures == len(EVENT_RETRY_DELAYS):
                return
            delay, failures = EVENT_RETRY_DELAYS[failures], failures + 1

    def run(self, fn: LambdaFunction, body: str, request_id: str | None = None) -> tuple[bytes, bool, str]:
        """Run the handler once; return (payload, errored, log text of this invocation)."""
        request_id = request_id or str(uuid.uuid4())
        slot = self._take_slot(fn)
        try:
            return self._run(fn, body, request_id)
        finally:
            self._give_back(slot)

    def _run(self, fn: LambdaFunction, body: str, request_id: str) -> tuple[bytes, bool, str]:
        """run() once a slot is taken: the invocation in an environment, its logs and metrics."""
        started_ms = _now_ms()
        try:
            worker = self.acquire(fn)
        except Crash as exc:
            failure = {
                "errorMessage": f"RequestId: {request_id} Error: {exc}",
                "errorType": "Runtime.Unknown",
            }
            return json.dumps(failure).encode(), True, str(exc)
        version = worker.log_stream.split("[", 1)[1].split("]", 1)[0]
        lines = [(started_ms, f"START RequestId: {request_id} Version: {version}")]
        cold = worker.cold
        request = {
            "requestId": request_id,
            "event": body or "",
            "invokedFunctionArn": fn.function_arn,
            "deadlineMs": started_ms + float(fn.timeout) * 1000,
        }
        t0 = time.perf_counter()
        keep = True
        try:
            answer = worker.call(request, float(fn.timeout))
            duration = answer.get("durationMs", (time.perf_counter() - t0) * 1000)
            output = worker.new_output()
            if "error" in answer:
                payload, error = json.dumps(answer["error"]).encode(), True
            else:
                payload, error = answer["payload"].encode(), False
            status = None
        except Timeout:
            keep, error = False, True
            duration = float(fn.timeout) * 1000
            output = worker.new_output()
            stamp = clock.now_iso_ms()
            output += f"{stamp} {request_id} Task timed out after {float(fn.timeout):.2f} seconds\n"
            payload = json.dumps(
                {
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after {float(fn.timeout):.2f} seconds",
                    "errorType": "Sandbox.Timedout",
                }
            ).encode()
            status = "timeout"
        except (Crash, OSError) as exc:
            keep, error = False, True
            duration = (time.perf_counter() - t0) * 1000
            output = worker.new_output()
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else worker.proc.poll()
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
            output += message + "\n"
            payload = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode()
            status = "error"
        end_ms = _now_ms()
        lines += [(end_ms, text) for text in _events(output)]
        lines.append((end_ms, f"END RequestId: {request_id}"))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {max(1, int(-(-duration // 1)))} ms\tMemory Size: {fn.memory_size} MB\t"
            f"Max Memory Used: {_max_rss_mb(worker)} MB"
        )
        if cold:
            report += f"\tInit Duration: {worker.init_ms:.2f} ms"
        if status:
            report += f"\tStatus: {status}"
        lines.append((end_ms, report))
        ship_logs(fn, worker.log_stream, lines)
        publish_metrics(
            fn,
            {
                "Invocations": (1, "Count"),
                "Errors": (1 if error else 0, "Count"),
                "Duration": (duration, "Milliseconds"),
            },
            at_ms=end_ms,  # the same moment as the invocation's END line, so the two never straddle a minute
        )
        if keep:
            self.release(worker)
        else:
            worker.stop()
        return payload, error, "\n".join(text for _, text in lines) + "\n"


_packages_dir: Path | None = None
_packages_lock = threading.Lock()


def runtime_packages() -> Path:
    """A folder holding only RUNTIME_PACKAGES (links into the kit's site-packages), made once per process."""
    global _packages_dir
    with _packages_lock:
        if _packages_dir is None or not _packages_dir.is_dir():
            folder = Path(tempfile.mkdtemp(prefix="workshop-lambda-runtime-"))
            for module, distribution in RUNTIME_PACKAGES.items():
                spec = importlib.util.find_spec(module)
                locations = spec.submodule_search_locations if spec is not None else None
                origin = locations[0] if locations else spec.origin if spec is not None else None
                if origin is None:
                    raise RuntimeError(
                        f"{module} is not installed; the local Lambda runtime offers it. Fix: make install"
                    )
                source = Path(origin)
                (folder / source.name).symlink_to(source)
                metadata = getattr(importlib.metadata.distribution(distribution), "_path", None)
                if metadata is not None:  # importlib.metadata in a handler finds the versions too
                    (folder / Path(metadata).name).symlink_to(metadata)
            _packages_dir = folder
        return _packages_dir


def forget_runtime_packages() -> None:
    """Remove the runtime's package folder (made again on next use)."""
    global _packages_dir
    with _packages_lock:
        if _packages_dir is not None:
            shutil.rmtree(_packages_dir, ignore_errors=True)
        _packages_dir = None


def code_digest(fn: LambdaFunction) -> str:
    """Hex SHA-256 of the function's zip (moto keeps it beside the bytes; hashing per call costs ms for big zips)."""
    return getattr(fn, "code_digest", "") or hashlib.sha256(fn.code_bytes).hexdigest()


class TooManyRequests(Exception):
    """Raised as TooManyRequestsException (429) by install(); args[0] is AWS's Reason."""


class TooManyRequestsException(LambdaClientError):
    """AWS's throttling answer: 429 with the Reason and Type fields boto3 reads."""

    code = 429

    def __init__(self, reason: str) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": "Rate Exceeded.",
                "Reason": reason,
                "Type": "User",
            }
        )


def exists(fn: LambdaFunction) -> bool:
    """True while the function has not been deleted."""
    return lambda_backends[fn.account_id][fn.region].get_function_by_arn(fn.function_arn) is not None


def reserved_concurrency(account_id: str, region: str) -> int:
    """The concurrency reserved by all functions of an account in a region."""
    functions = lambda_backends[account_id][region].list_functions()
    return sum(int(f.reserved_concurrency) for f in functions if f.reserved_concurrency is not None)


def _now_ms() -> int:
    """Now, in epoch milliseconds."""
    return int(time.time() * 1000)


def _events(output: str) -> list[str]:
    """Split captured output into log events: one per line, none larger than CloudWatch allows."""
    events = []
    for line in output.split("\n"):
        if line:
            events += _chunks(line.replace("\r", "\n"), MAX_EVENT_BYTES)
    return events


def _chunks(text: str, limit: int) -> list[str]:
    """text cut into pieces of at most limit UTF-8 bytes, never inside a character."""
    data = text.encode()
    if len(data) <= limit:
        return [text]
    pieces = []
    while data:
        cut = min(limit, len(data))
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # a continuation byte: back off
            cut -= 1
        pieces.append(data[:cut].decode())
        data = data[cut:]
    return pieces


def _max_rss_mb(worker: Worker) -> int:
    """The environment's peak resident memory in MB (the REPORT line's Max Memory Used), at least 1."""
    try:
        with open(f"/proc/{worker.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(1, int(line.split()[1]) // 1024)
    except OSError:
        pass
    return 1


def ship_logs(fn: LambdaFunction, stream: str, lines: list[tuple[int, str]]) -> None:
    """Write an invocation's log events to /aws/lambda/<function>, creating group and stream."""
    logs = fn.logs_backend
    logs.ensure_log_group(fn.logs_group_name)
    logs.ensure_log_stream(fn.logs_group_name, stream)
    events = [{"timestamp": ts, "message": text} for ts, text in lines]
    logs.put_log_events(fn.logs_group_name, stream, events)


def publish_metrics(
    fn: LambdaFunction, values: dict[str, tuple[float, str]], at_ms: int | None = None
) -> None:
    """Publish AWS/Lambda datapoints for one invocation, per FunctionName (at at_ms, else now)."""
    moment = dt.datetime.now(dt.UTC) if at_ms is None else dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC)
    now = moment.replace(tzinfo=None)  # moto keeps naive UTC
    dims = [{"Name": "FunctionName", "Value": fn.function_name}]
    data = [
        {"MetricName": name, "Value": float(value), "Unit": unit, "Dimensions": dims, "Timestamp": now}
        for name, (value, unit) in values.items()
    ]
    with cloudwatch_lock:
        cloudwatch_backends[fn.account_id][fn.region].put_metric_data("AWS/Lambda", data)


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The process-wide runtime (created on first use)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


def _invoke_in_runtime(original: Callable[..., Any]) -> Callable[..., bytes]:
    """LambdaFunction.invoke that runs the handler in the kit's runtime."""

    def invoke(
        self: LambdaFunction, body: str, request_headers: Any, response_headers: dict[str, str]
    ) -> bytes:
        # Pending refuses the Invoke API (internal triggers pass no headers); an update runs the previous version
        fn = lambda_states.serving(self, trigger=not request_headers)
        try:
            return runtime().invoke(fn, body, request_headers, response_headers)
        except TooManyRequests as exc:
            raise TooManyRequestsException(exc.args[0]) from None

    return invoke


def _forgetting_environments(original: Callable[..., None]) -> Callable[..., None]:
    """LambdaBackend.delete_function that also ends the deleted function's warm environments."""

    def delete_function(self: LambdaBackend, function_name: str, qualifier: str | None = None) -> None:
        try:
            arn: str | None = self.get_function(function_name).function_arn
        except Exception:  # moto raises its own not-found error below
            arn = None
        original(self, function_name, qualifier)
        if arn and qualifier is None and _runtime is not None:
            _runtime.forget(arn)  # AWS reclaims a deleted function's environments; we do at once

    return delete_function


def _keeping_request_id(original: Callable[..., Any]) -> Callable[..., tuple[dict[str, str], Any]]:
    """LambdaResponse._enrich_response that keeps the invocation's request id (moto would draw a random one)."""

    def enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        request_id = headers.get("x-amzn-requestid")
        headers, body = original(headers, body)
        if request_id:
            headers["x-amzn-requestid"] = request_id
        return headers, body

    return enrich_response


def install() -> None:
    """Replace moto's LambdaFunction.invoke with the kit's runtime; DeleteFunction ends warm environments."""
    hooks.patch(
        LambdaFunction, "invoke", ["self", "body", "request_headers", "response_headers"], _invoke_in_runtime
    )
    hooks.patch(
        LambdaBackend, "delete_function", ["self", "function_name", "qualifier"], _forgetting_environments
    )
    # A staticmethod LambdaResponse inherits from BaseResponse: hooked for Lambda's responses alone.
    hooks.patch(LambdaResponse, "_enrich_response", ["headers", "body"], _keeping_request_id)
