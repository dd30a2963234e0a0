"""Invocations as the Invoke API runs them: RequestResponse, Event (queued and retried) and DryRun.

``Runtime.run`` takes a concurrency slot (``concurrency``), an environment from the warm pool
(``warm_pool``), sends the invocation to it, and reports it (``reports``): the START/END/REPORT
lines and the handler's output, the AWS/Lambda metrics. A handler that times out or crashes
answers AWS's error payload (``Sandbox.Timedout``, ``Runtime.ExitError``) and its environment is
discarded. An Event invocation answers at once and runs on its own thread as AWS's event queue
does: a throttled attempt is retried for up to 6 hours, a failed one twice.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kitformats import clock
from localcloud.awslambda.runtime.concurrency import Concurrency, TooManyRequests
from localcloud.awslambda.runtime.environments import Crash, Timeout, max_memory_used_mb
from localcloud.awslambda.runtime.packages import forget_runtime_packages
from localcloud.awslambda.runtime.reports import log_events, publish_metrics, report_line, ship_logs
from localcloud.awslambda.runtime.warm_pool import WarmPool

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction

    from localcloud.profile import Profile

TAIL_BYTES = 4096
EVENT_RETRY_DELAYS = (1.0, 2.0)  # AWS waits about 1 and 2 minutes; the workshop cannot.
EVENT_MAX_AGE_S = 6 * 3600.0  # a throttled asynchronous event is retried for up to 6 hours
EVENT_THROTTLE_MAX_DELAY_S = 300.0  # ... every 1 s, doubling, at most every 5 minutes


class Runtime:
    """Runs the invocations of every function served by this local cloud process."""

    def __init__(self, profile: Callable[[], Profile]) -> None:
        self.environments = WarmPool()
        self.concurrency = Concurrency(profile)

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
        slot = self.concurrency.take(fn)
        try:
            return self._run(fn, body, request_id)
        finally:
            self.concurrency.give_back(slot)

    def _run(self, fn: LambdaFunction, body: str, request_id: str) -> tuple[bytes, bool, str]:
        """run() once a slot is taken: the invocation in an environment, its logs and metrics."""
        started_ms = _now_ms()
        try:
            worker = self.environments.acquire(fn)
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
        lines += [(end_ms, text) for text in log_events(output)]
        lines.append((end_ms, f"END RequestId: {request_id}"))
        init_ms = worker.init_ms if cold else None
        report = report_line(
            request_id, duration, fn.memory_size, max_memory_used_mb(worker), init_ms, status
        )
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
            self.environments.release(worker)
        else:
            worker.stop()
        return payload, error, "\n".join(text for _, text in lines) + "\n"

    def forget(self, function_arn: str) -> int:
        """Stop the idle environments of a deleted function; return how many."""
        return self.environments.forget(function_arn)

    def shutdown(self) -> None:
        """Stop every environment and remove unpacked code and the runtime's package folder."""
        self.environments.shutdown()
        forget_runtime_packages()


def exists(fn: LambdaFunction) -> bool:
    """True while the function has not been deleted."""
    from moto.awslambda.models import lambda_backends

    return lambda_backends[fn.account_id][fn.region].get_function_by_arn(fn.function_arn) is not None


def _now_ms() -> int:
    """Now, in epoch milliseconds."""
    return int(time.time() * 1000)


_runtime: Runtime | None = None


def runtime(profile: Callable[[], Profile]) -> Runtime:
    """The process-wide runtime (created on first use), under the profile in force (`profile()`)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime(profile)
    return _runtime


def started() -> Runtime | None:
    """The process-wide runtime if an invocation created it, else None."""
    return _runtime
