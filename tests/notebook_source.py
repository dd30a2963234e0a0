"""The notebooks for tests: what a notebook's source assigns, read without running it (for tests that must
use exactly what a notebook shows), and the environment notebook kernels run in."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

SOURCES = Path(__file__).resolve().parents[1] / "notebook_sources"


def assigned(notebook: str, name: str, scope: dict[str, Any] | None = None) -> Any:
    """The value of the first `name = ...` in notebook_sources/<notebook>.py, evaluated in `scope`."""
    tree = ast.parse((SOURCES / f"{notebook}.py").read_text())
    assignment = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name
    )
    return eval(compile(ast.Expression(assignment.value), notebook, "eval"), dict(scope or {}))  # noqa: S307 - our own source


def _targets(node: ast.stmt) -> set[str]:
    """The names an assignment or definition binds."""
    if isinstance(node, ast.FunctionDef):
        return {node.name}
    found: set[str] = set()
    for target in node.targets if isinstance(node, ast.Assign) else []:
        found |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return found


def visible_requests(notebook: str, provided: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """The notebook's `requests_made` [(service, operation, request)], as its cells build them.

    Runs the notebook's assignments and function definitions (nothing else), in order, in a scope that
    holds only `provided` (and json): a statement needing anything more (boto3, a helper) is skipped, and
    one binding a provided name (a value the cell gets from AWS, e.g. topic_arn) is not run.
    """
    import json

    scope: dict[str, Any] = {"json": json, **provided}
    for node in ast.parse((SOURCES / f"{notebook}.py").read_text()).body:
        if not isinstance(node, (ast.Assign, ast.FunctionDef)) or _targets(node) & provided.keys():
            continue
        try:
            exec(compile(ast.Module(body=[node], type_ignores=[]), notebook, "exec"), scope)  # noqa: S102 - our own source
        except NameError:
            continue
    made: list[tuple[str, str, dict[str, Any]]] = scope["requests_made"]
    return made


def queue_policy_request(queue_url: str, queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """8.3's SetQueueAttributes request letting the topic deliver to the queue (SNS delivers nothing without)."""
    import json

    scope = {"queue_url": queue_url, "queue_arn": queue_arn, "topic_arn": topic_arn, "json": json}
    scope["queue_policy"] = assigned("8.3_monitor_with_cloudwatch", "queue_policy", scope)
    request: dict[str, Any] = assigned("8.3_monitor_with_cloudwatch", "queue_policy_spec", scope)
    return request


def free_port() -> int:
    """A TCP port nothing listens on now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kernel_env(prefix: str, state_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for notebook kernels: local mode, their own local cloud (a free port, a state folder), fast
    alarm periods, nothing of the caller's AWS or WORKSHOP settings; extra on top."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WORKSHOP_", "MPLBACKEND"))}
    env.update(
        WORKSHOP_MODE="local",
        WORKSHOP_PREFIX=prefix,
        WORKSHOP_LOCAL_PORT=str(free_port()),
        WORKSHOP_STATE_DIR=str(state_dir),
        WORKSHOP_ALARM_PERIOD="10",
        WORKSHOP_ALARM_INTERVAL="2",
        **extra,
    )
    return env


def stop_local_cloud(env: dict[str, str]) -> None:
    """Stop the local cloud the kernels of env started (if any)."""
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "localcloud", "down"], env=env, cwd=SOURCES.parent, capture_output=True
    )


def nbval_failure(stdout: str, stderr: str = "", limit: int = 7000) -> str:
    """What an nbval run's failure message shows: the first failed cell (its error, not the NameErrors it caused
    in later cells), then the summary lines."""
    import re

    first = re.search(r"^_{3,} .*::Cell \d+ _{3,}$", stdout, re.MULTILINE)
    head = stdout[first.start() : first.start() + limit] if first else stdout[-limit:]
    summary = "\n".join(line for line in stdout.splitlines() if line.startswith(("FAILED", "ERROR")))
    return f"{head}\n...\n{summary[-3000:]}\n{stderr[-1500:]}"
