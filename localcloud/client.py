"""The local cloud's background process: start once per machine, find it again, stop it by its pid."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from localcloud import profile

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 30.0
HEALTH_PATH = "/_workshop/health"
DEFAULT_PORT = 4566  # the port LocalStack made familiar; WORKSHOP_LOCAL_PORT chooses another
# API Gateway's invoke URLs in the local cloud (LocalStack's path-based form; no AWS API of moto's uses it)
EXECUTE_API_PATH = "/_aws/execute-api/"


def code_version(here: Path | None = None) -> str:
    """A digest of the local cloud's own code, its packages included (a server started from older code is stale)."""
    here = here or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*here.rglob("*.py"), *(here.parent / "kitformats").rglob("*.py")]):
        digest.update(str(path.relative_to(here.parent)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


class Call(TypedDict):
    """One kind of call: who (access key and, when IAM knows it, the identity's ARN), what, on what.

    ``service``/``operation``/``members``: the call as botocore sent it (``s3``, ``PutObject``, ``["Body",
    "Bucket", "Key", "Tagging"]``); ``actions``: the IAM actions it needs (kitformats.iam_actions), ``action``
    the first of them.
    """

    caller: str
    identity: str
    service: str
    operation: str
    members: list[str]
    action: str
    actions: list[str]
    resource: str
    region: str
    account: str


class CallRecord(Call):
    """A recorded kind of call as calls() and GET /_workshop/calls answer it: a Call and its count."""

    count: int


class LocalCloudError(RuntimeError):
    """The local cloud cannot be reached or started; the message says what to do."""


class PidRecord(TypedDict):
    """The pid file of a local cloud: what `up` started, where it logs, and when."""

    pid: int
    port: int
    log: str
    started: float


@dataclass(frozen=True)
class Status:
    """What is known about the local cloud on one port."""

    state: str  # running | starting | stopped | dead | foreign
    port: int
    pid: int | None = None
    uptime_s: float | None = None
    log: Path | None = None
    profile: str = ""  # e.g. "aws (seed 8, time scale 0.1)": set WORKSHOP_LOCAL_SEED to replay it

    @property
    def url(self) -> str:
        """The local cloud's endpoint URL."""
        return f"http://127.0.0.1:{self.port}"

    def describe(self) -> str:
        """One line for people."""
        if self.state == "running":
            return (
                f"local cloud running at {self.url} (pid {self.pid}, up {self.uptime_s:.0f} s, "
                f"profile {self.profile}, log {self.log})"
            )
        if self.state == "dead":
            return f"local cloud on port {self.port} is dead (pid {self.pid} is gone); `python -m localcloud up` restarts it"
        if self.state == "foreign":
            return (
                f"port {self.port} is taken by another program, not the workshop's local cloud. "
                f"Fix: stop that program, or choose another port: export WORKSHOP_LOCAL_PORT={self.port + 1}"
            )
        if self.state == "starting":
            return (
                f"local cloud on port {self.port} (pid {self.pid}) runs but does not answer yet; if that lasts, "
                f"`python -m localcloud down` then `up` restarts it (log {self.log})"
            )
        return f"local cloud is not running on port {self.port}; `python -m localcloud up` starts it"


def state_dir() -> Path:
    """Where pid and log files live (WORKSHOP_STATE_DIR, else ~/.cache/ml-workshop-ch8)."""
    path = Path(os.environ.get("WORKSHOP_STATE_DIR") or Path.home() / ".cache" / "ml-workshop-ch8")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pidfile(port: int) -> Path:
    return state_dir() / f"local-cloud-{port}.json"


def _health(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """The health answer of the local cloud on port; None when nothing (or something else) answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=timeout) as answer:
            info: dict[str, Any] = json.loads(answer.read())
            return info if info.get("kit") == "ml-pipeline-ch8" else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    """True while pid runs (a zombie, killed but not yet reaped by its parent, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child, now reaped
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _is_local_cloud(pid: int) -> bool:
    """True unless pid is known to run something else than the local cloud (a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: cannot tell
    return b"localcloud.server" in cmdline


def status(port: int) -> Status:
    """The local cloud's state on a port."""
    record = _record(port)
    info = _health(port)
    if info:
        described = f"{info.get('profile')} (seed {info.get('seed')}, time scale {info.get('time_scale')})"
        return Status(
            "running", port, info["pid"], info["uptime_s"], Path(record["log"]) if record else None, described
        )
    if _port_open(port):
        return Status("foreign", port)
    if record and not _alive(record["pid"]):
        return Status("dead", port, record["pid"], log=Path(record["log"]))
    if record and _is_local_cloud(record["pid"]):
        return Status("starting", port, record["pid"], log=Path(record["log"]))
    return Status("stopped", port)


def up(port: int, quiet: bool = False) -> Status:
    """Start the local cloud on port unless it runs already; wait until it answers."""
    try:
        profile.from_env()  # a bad WORKSHOP_LOCAL_* setting is named before anything starts
    except profile.ProfileError as exc:
        raise LocalCloudError(str(exc)) from None
    with _starting_lock(port):
        current = status(port)
        if current.state == "running":
            info = _health(port) or {}
            why = _restart_reason(info)
            if not why:
                return current
            print(
                f"The local cloud on port {port} {why}; restarting it "
                "(its resources are gone: run notebooks/00_setup again).",
                flush=True,
            )
            down(port)
            current = status(port)
        if current.state == "foreign":
            raise LocalCloudError(current.describe())
        if current.state == "starting":  # started by someone else a moment ago: wait for it
            proc, pid, log = None, current.pid, current.log
            assert pid is not None  # status() names the pid of a starting local cloud
        else:
            proc, log = _launch(port), state_dir() / f"local-cloud-{port}.log"
            pid = proc.pid
        if not quiet:
            print(f"Starting the local cloud on 127.0.0.1:{port} ...", end="", flush=True)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if (proc.poll() is not None) if proc else not _alive(pid):
                tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
                _pidfile(port).unlink(missing_ok=True)
                code = proc.returncode if proc else "unknown"
                raise LocalCloudError(f"The local cloud exited at start (code {code}). Its log:\n{tail}")
            if _health(port, timeout=0.5):
                if not quiet:
                    print(" ready.", flush=True)
                return status(port)
            time.sleep(0.02)
    raise LocalCloudError(
        f"The local cloud (pid {pid}) did not answer within {READY_TIMEOUT_S:.0f} s; see its log {log}. "
        "Fix: `python -m localcloud down`, then `python -m localcloud up`."
    )


def _restart_reason(info: Mapping[str, Any]) -> str:
    """Why a running local cloud cannot serve this process ('' when it can)."""
    if info.get("code") != code_version():
        return "runs older kit code"  # started before a git pull: its hooks are old
    wanted = profile.from_env()
    if info.get("profile") != wanted.name or info.get("time_scale") != wanted.scale:
        return (
            f"runs the {info.get('profile')!r} profile (time scale {info.get('time_scale')}), "
            f"WORKSHOP_LOCAL_PROFILE asks for {wanted.name!r} (time scale {wanted.scale})"
        )
    if os.environ.get("WORKSHOP_LOCAL_SEED") and info.get("seed") != wanted.seed:
        return f"runs seed {info.get('seed')}, WORKSHOP_LOCAL_SEED asks for {wanted.seed}"
    if info.get("quotas") != wanted.quotas:
        return f"enforces quotas {info.get('quotas')}, the WORKSHOP_LOCAL_* settings ask for {wanted.quotas}"
    return ""


def _launch(port: int) -> subprocess.Popen[bytes]:
    """Start the server process in its own session and record its pid."""
    log = state_dir() / f"local-cloud-{port}.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    # Inherited from a kernel or test that talks to another cloud; the server sets its own.
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("WORKSHOP_LOCAL_URL", None)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud.server", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the kernel or shell that started it
        )
    record = json.dumps(PidRecord(pid=proc.pid, port=port, log=str(log), started=time.time()))
    tmp = _pidfile(port).with_suffix(".tmp")
    tmp.write_text(record)
    tmp.replace(_pidfile(port))  # atomic: a reader never sees half a record
    return proc


@contextlib.contextmanager
def _starting_lock(port: int) -> Iterator[None]:
    """Serialise `up` on one port across processes (two kernels starting at once start one cloud)."""
    with open(state_dir() / f"local-cloud-{port}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _record(port: int) -> PidRecord | None:
    """The pid file's record, or None when there is none (or it is unreadable)."""
    try:
        record: PidRecord = json.loads(_pidfile(port).read_text())
        return record
    except (OSError, ValueError):
        return None


def down(port: int) -> str:
    """Stop the local cloud on port by its pid; say what happened."""
    path = _pidfile(port)
    record = _record(port)
    if record is None:
        current = status(port)
        if current.state != "running":
            return f"local cloud on port {port} was not running"
        pid = current.pid
        assert pid is not None  # a running local cloud's health answer names its pid
    else:
        pid = record["pid"]
    if not _alive(pid) or not _is_local_cloud(pid):
        path.unlink(missing_ok=True)
        return f"local cloud on port {port} was already gone (pid {pid}); cleaned its pid file"
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return f"local cloud on port {port} stopped (pid {pid})"


def publishes_like_aws() -> bool:
    """Whether the chosen profile publishes metrics as late as AWS does (WORKSHOP_LOCAL_PROFILE=aws)."""
    return profile.from_env().aws


def default_port() -> int:
    """WORKSHOP_LOCAL_PORT, else the local cloud's default port."""
    text = os.environ.get("WORKSHOP_LOCAL_PORT", str(DEFAULT_PORT))
    if not text.isdigit() or not 1024 <= int(text) <= 65535:
        raise LocalCloudError(
            f"WORKSHOP_LOCAL_PORT={text!r} is not a usable port. "
            f"Fix: export WORKSHOP_LOCAL_PORT={DEFAULT_PORT} (any free port from 1024 to 65535)."
        )
    return int(text)


def cli(argv: list[str] | None = None) -> int:
    """Run the command; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m localcloud", description="Manage the local cloud process: up | down | status."
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--port", type=int, help=f"default: WORKSHOP_LOCAL_PORT or {DEFAULT_PORT}")
    args = parser.parse_args(argv)
    try:
        port = args.port or default_port()
        if args.command == "up":
            print(up(port).describe())
        elif args.command == "down":
            print(down(port))
        else:
            current = status(port)
            print(current.describe())
            from localcloud.awslambda import pythons, runtimes  # only status needs them

            for runtime in runtimes.LIFECYCLE:
                if not runtimes.blocked(runtime, "create"):
                    print(pythons.describe(runtime))
            return 0 if current.state == "running" else 3
    except LocalCloudError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def invoke_url(base_url: str, api_id: str, stage: str) -> str:
    """A REST API stage's invoke URL in the local cloud at base_url (append the resource path).

    AWS's is ``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}``; the local cloud serves
    the same stage at ``{base_url}/_aws/execute-api/{api_id}/{stage}``.
    """
    return f"{base_url.rstrip('/')}{EXECUTE_API_PATH}{api_id}/{stage}"
