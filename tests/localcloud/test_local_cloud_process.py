"""`python -m localcloud up | down | status`: one background local cloud per port, found again by its pid."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cli:
    """Runs `python -m localcloud` with its own state directory and port."""

    def __init__(self, state_dir: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "WORKSHOP_STATE_DIR": str(state_dir),
            "WORKSHOP_LOCAL_PORT": str(port),
        }
        self.env.pop("AWS_ENDPOINT_URL", None)

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "localcloud", *args], cwd=ROOT, env={**self.env, **env},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def pid(self) -> int:
        """The pid recorded for this port."""
        record = json.loads(
            (Path(self.env["WORKSHOP_STATE_DIR"]) / f"local-cloud-{self.port}.json").read_text()
        )
        return record["pid"]

    def answers(self) -> bool:
        """True when the cloud answers an AWS call."""
        try:
            sts = boto3.client("sts", endpoint_url=self.url, region_name="us-east-1")
            return sts.get_caller_identity()["Account"] == "123456789012"
        except Exception:
            return False


def gone(pid: int) -> bool:
    """True when pid no longer runs (or is a zombie waiting to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture()
def cli(tmp_path):
    """A CLI on a free port; whatever it started is stopped afterwards."""
    runner = Cli(tmp_path, free_port())
    yield runner
    runner("down")


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """One local cloud started by `up`, shared by the tests that only look at it."""
    runner = Cli(tmp_path_factory.mktemp("state"), free_port())
    result = runner("up")
    assert result.returncode == 0, result.stderr
    yield runner
    runner("down")


def test_up_returns_once_the_cloud_answers(running):
    assert running.answers()


def test_up_exits_zero_and_says_where_the_cloud_runs(cli):
    result = cli("up")
    assert result.returncode == 0
    assert f"local cloud running at {cli.url} (pid {cli.pid()}" in result.stdout


def test_cloud_outlives_the_command_that_started_it(running):
    assert not gone(running.pid())
    assert running.answers()


def test_up_is_idempotent(running):
    pid = running.pid()
    again = running("up")
    assert again.returncode == 0 and f"(pid {pid}," in again.stdout
    assert running.pid() == pid


def test_status_shows_url_pid_uptime_and_the_profile_to_replay(running):
    result = running("status")
    assert result.returncode == 0
    match = re.search(
        rf"running at {re.escape(running.url)} \(pid (\d+), up (\d+) s, "
        rf"profile (local|aws) \(seed (\d+), time scale ([\d.]+)\), log (\S+)\)",
        result.stdout,
    )
    assert match and int(match.group(1)) == running.pid() and Path(match.group(6)).exists()


def test_status_of_a_stopped_cloud_exits_3(cli):
    result = cli("status")
    assert result.returncode == 3
    assert "not running" in result.stdout and "python -m localcloud up" in result.stdout


def test_down_stops_the_cloud_by_its_pid(cli):
    cli("up")
    pid = cli.pid()
    result = cli("down")
    assert result.returncode == 0 and f"stopped (pid {pid})" in result.stdout
    assert gone(pid) and not cli.answers()
    assert cli("status").returncode == 3


def test_down_when_nothing_runs_says_so(cli):
    result = cli("down")
    assert result.returncode == 0 and "was not running" in result.stdout


def test_port_taken_by_another_program_is_a_clear_error(cli):
    class Stranger(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    stranger = HTTPServer(("127.0.0.1", cli.port), Stranger)
    threading.Thread(target=stranger.serve_forever, daemon=True).start()
    try:
        result = cli("up")
        status = cli("status")
    finally:
        stranger.shutdown()
        stranger.server_close()
    assert result.returncode == 2
    assert f"port {cli.port} is taken by another program" in result.stderr
    assert "WORKSHOP_LOCAL_PORT" in result.stderr
    assert status.returncode == 3 and "taken by another program" in status.stdout


def test_killed_cloud_is_reported_dead(cli):
    cli("up")
    pid = cli.pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    result = cli("status")
    assert result.returncode == 3
    assert f"is dead (pid {pid} is gone)" in result.stdout and "python -m localcloud up" in result.stdout


def test_up_recovers_a_killed_cloud(cli):
    cli("up")
    pid = cli.pid()
    os.kill(pid, signal.SIGKILL)
    result = cli("up")
    assert result.returncode == 0
    assert cli.pid() != pid and cli.answers()


def test_bad_port_setting_exits_2_with_the_fix(cli):
    result = cli("status", WORKSHOP_LOCAL_PORT="eighty")
    assert result.returncode == 2
    assert (
        "WORKSHOP_LOCAL_PORT='eighty'" in result.stderr and "export WORKSHOP_LOCAL_PORT=4566" in result.stderr
    )


def test_unknown_command_exits_2(cli):
    result = cli("restart")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_lambda_in_the_background_cloud_calls_that_cloud(cli):
    # A kernel or test that talks to another cloud must not leak its address into the new one.
    cli("up", WORKSHOP_LOCAL_URL="http://127.0.0.1:9", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    lam = boto3.client("lambda", endpoint_url=cli.url, region_name="us-east-1")
    iam = boto3.client("iam", endpoint_url=cli.url, region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr(
            "app.py", "import os\n\ndef handler(event, context):\n    return os.environ['AWS_ENDPOINT_URL']\n"
        )
    lam.create_function(FunctionName="where", Runtime="python3.13", Role=role, Handler="app.handler",
                        Code={"ZipFile": package.getvalue()})  # fmt: skip
    assert json.loads(lam.invoke(FunctionName="where")["Payload"].read()) == cli.url


def test_two_simultaneous_ups_start_one_cloud(cli):
    command = [sys.executable, "-m", "localcloud", "up"]
    first, second = (
        subprocess.Popen(
            command, cwd=ROOT, env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    )
    outputs = [p.communicate(timeout=60) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    pids = {re.search(r"\(pid (\d+),", out).group(1) for out, _ in outputs}
    assert pids == {str(cli.pid())}


def test_health_path_identifies_the_kit(running):
    with urllib.request.urlopen(f"{running.url}/_workshop/health", timeout=5) as answer:
        info = json.loads(answer.read())
    assert info["kit"] == "ml-pipeline-ch8" and info["pid"] == running.pid()


def test_up_restarts_a_cloud_started_from_older_kit_code(monkeypatch, tmp_path):
    from localcloud import client as process

    monkeypatch.setenv("WORKSHOP_STATE_DIR", str(tmp_path))
    port = _free_port_for_restart()
    first = process.up(port, quiet=True)
    try:
        monkeypatch.setattr(process, "code_version", lambda: "a-newer-kit")
        second = process.up(port, quiet=True)
        assert second.state == "running" and second.pid != first.pid
    finally:
        process.down(port)


def _free_port_for_restart() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
