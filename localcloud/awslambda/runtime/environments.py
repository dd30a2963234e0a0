"""One execution environment, seen from the local cloud: a worker process, its pipes, log file and stream.

``start`` runs ``worker.py`` by file path on the function's runtime Python (``lambda_pythons``),
without site-packages, in the function's unpacked code directory, with the process environment
AWS gives a Python function (``environment``: the role's temporary credentials included), and
waits for the worker's hello. A ``Worker`` then sends one invocation at a time (``call``), reads
what the process wrote (``new_output``), and is killed with its process group (``stop``) after
a timeout or crash, or when the warm pool discards it.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import select
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localcloud.awslambda import pythons as lambda_pythons
from localcloud.awslambda.runtime.packages import compile_for, runtime_packages
from localcloud.awslambda.runtime.worker import read_frame, write_frame

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction

WORKER = Path(__file__).with_name("worker.py")
# What makes an environment reusable: function ARN, version, code digest, configuration, identity.
EnvKey = tuple[str, str, str, str, int]


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


def prepare_python(run_time: str) -> None:
    """Ready a runtime's Python for cold starts: find it and compile the runtime's packages for it."""
    compile_for(lambda_pythons.interpreter(run_time))


def start(fn: LambdaFunction, key: EnvKey, code: Path) -> Worker:
    """A new (cold) execution environment for fn running the code unpacked in code, once it said hello."""
    version = str(fn.version)
    stream = f"{dt.datetime.now(dt.UTC):%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"
    interpreter = lambda_pythons.interpreter(fn.run_time)
    compile_for(interpreter)  # boto3 compiled for this Python, as AWS's runtime ships it
    request_r, request_w = os.pipe()
    response_r, response_w = os.pipe()
    log_file = tempfile.TemporaryFile()
    env = environment(fn, version, stream, code)
    proc = subprocess.Popen(
        # -I -S: no site-packages, no PYTHON* variables; the worker puts the code and the runtime's packages first
        [
            interpreter,
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


def environment(fn: LambdaFunction, version: str, stream: str, code: Path) -> dict[str, str]:
    """The process environment AWS gives a Python function, pointed back at this local cloud."""
    from localcloud.iam.enforcement import role_credentials

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


def max_memory_used_mb(worker: Worker) -> int:
    """The environment's peak resident memory in MB (the REPORT line's Max Memory Used), at least 1."""
    try:
        with open(f"/proc/{worker.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(1, int(line.split()[1]) // 1024)
    except OSError:
        pass
    return 1
