"""One Lambda execution environment: imports the handler once, then runs invocations sent by the parent.

Runs as its own process, by file path (started by environments.py), with the function's code
directory as working directory and the environment AWS would set. Started without site-packages
(``python -I -S``), it imports what AWS's Python runtime offers: the code directory first, then the
runtime's packages (``LAMBDA_RUNTIME_DIR``: boto3 and its dependencies), then the standard library.
stdout and stderr are a log file the parent reads; requests and answers travel on two pipes
as length-prefixed JSON frames. This file imports nothing from the kit, like AWS's bootstrap.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import site
import struct
import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypedDict

_HEADER = struct.Struct("!I")
Handler = Callable[[Any, "LambdaContext"], Any]


class ErrorPayload(TypedDict):
    """What AWS answers (and logs) for an error: the payload of a failed invocation."""

    errorMessage: str
    errorType: str
    requestId: str
    stackTrace: list[str]


def read_frame(fd: int) -> dict[str, Any] | None:
    """Read one frame from fd; None when the parent has gone."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(header)[0])
    if body is None:
        return None
    frame: dict[str, Any] = json.loads(body)
    return frame


def write_frame(fd: int, message: dict[str, Any]) -> None:
    """Write one frame to fd."""
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    while data:
        data = data[os.write(fd, data) :]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class LambdaContext:
    """The context object AWS passes to a Python handler."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id = request["requestId"]
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = request["invokedFunctionArn"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = request["deadlineMs"]

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out."""
        return max(0, int(self._deadline_ms - time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


class _LambdaFormatter(logging.Formatter):
    """AWS's format: one event per record, even when the message spans lines."""

    converter = staticmethod(time.gmtime)

    def format(self, record: logging.LogRecord) -> str:
        # A record is one log event in AWS; \r keeps it one line through the line-based log file.
        return super().format(record).replace("\n", "\r")


def configure_logging() -> _RequestIdFilter:
    """Pre-configure the root logger the way the Lambda Python runtime does."""
    handler = logging.StreamHandler(sys.stdout)
    request_filter = _RequestIdFilter()
    handler.addFilter(request_filter)
    handler.setFormatter(
        _LambdaFormatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARNING"))
    return request_filter


def _user_frames(tb: TracebackType | None) -> list[str]:
    """Formatted stack frames without this bootstrap's own frames."""
    frames = [f for f in traceback.extract_tb(tb) if os.path.abspath(f.filename) != os.path.abspath(__file__)]
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    runtime_dir = os.environ.get("LAMBDA_RUNTIME_DIR", "/var/runtime")
    # Show the paths a handler has in AWS (/var/task/..., /var/runtime/botocore/...), not this machine's.
    return [
        line.replace(task_root, "/var/task").replace(runtime_dir, "/var/runtime")
        for line in traceback.format_list(frames)
    ]


def error_payload(
    exc: BaseException, error_type: str | None = None, message: str | None = None
) -> ErrorPayload:
    """The error payload AWS answers for an exception escaping the handler."""
    return {
        "errorMessage": str(exc) if message is None else message,
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": _user_frames(exc.__traceback__),
    }


def log_error(payload: ErrorPayload) -> None:
    """Log an error as the runtime does: one event, '[ERROR] Type: message' then the traceback."""
    lines = [
        f"[ERROR] {payload['errorType']}: {payload['errorMessage']}",
        "Traceback (most recent call last):",
    ]
    lines += [frame.rstrip("\n") for frame in payload["stackTrace"]]
    # One event: frames hold newlines themselves, and the log file is split on newlines.
    sys.stdout.write("\n".join(lines).replace("\n", "\r") + "\n")


def load_handler(spec: str) -> Handler:
    """Import the handler 'module.function' as the runtime does, mapping failures to AWS error types."""
    module_name, _, function_name = spec.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except SyntaxError as exc:
        raise _InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    except ImportError as exc:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    handler: Handler | None = getattr(module, function_name, None)
    if handler is None:
        raise _InitError(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        )
    return handler


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def main() -> None:
    """Serve invocations until the parent closes the request pipe."""
    request_fd, response_fd = int(sys.argv[1]), int(sys.argv[2])
    sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], os.environ["LAMBDA_RUNTIME_DIR"]]
    site.setquit()  # the builtins site adds (exit, quit, help), without site's package folders
    site.sethelper()
    request_filter = configure_logging()
    init_started = time.perf_counter()
    handler: Handler | None = None
    init_error: ErrorPayload | None = None
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except _InitError as exc:
        init_error = error_payload(exc, exc.error_type, str(exc))
    except Exception as exc:  # an exception raised while the module initialises
        init_error = error_payload(exc)
    init_ms = (time.perf_counter() - init_started) * 1000
    write_frame(response_fd, {"ready": True, "initMs": init_ms})

    while True:
        request = read_frame(request_fd)
        if request is None:
            return
        request_filter.request_id = request["requestId"]
        started = time.perf_counter()
        answer: dict[str, Any]
        if init_error is not None:
            answer = {"error": {**init_error, "requestId": request["requestId"]}}
            log_error(answer["error"])
        else:
            assert handler is not None  # loaded, since init did not fail
            answer = _invoke(handler, request)
        sys.stdout.flush()
        sys.stderr.flush()
        answer["durationMs"] = (time.perf_counter() - started) * 1000
        write_frame(response_fd, answer)


def _invoke(handler: Handler, request: dict[str, Any]) -> dict[str, Any]:
    """Run the handler once; return {'payload': json text} or {'error': payload}."""
    try:
        event = json.loads(request["event"]) if request["event"] else {}
        result = handler(event, LambdaContext(request))
    except Exception as exc:
        payload = error_payload(exc)
        payload["requestId"] = request["requestId"]
        log_error(payload)
        return {"error": payload}
    try:
        return {"payload": json.dumps(result)}
    except (TypeError, ValueError) as exc:
        payload = {
            "errorMessage": f"Unable to marshal response: {exc}",
            "errorType": "Runtime.MarshalError",
            "requestId": request["requestId"],
            "stackTrace": [],
        }
        log_error(payload)
        return {"error": payload}


if __name__ == "__main__":
    main()
