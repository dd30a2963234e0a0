"""The local cloud server: moto's WSGI app with the kit's hooks installed, on 127.0.0.1."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, make_server

from helpers.local import hooks, profile

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# One module per AWS behaviour moto lacks; each exposes install(), idempotent.
HOOK_MODULES = (
    "helpers.local.lambda_runtime.hooks",
    "helpers.local.lambda_states",
    "helpers.local.lambda_runtimes",
    "helpers.local.sagemaker_runtime.hooks",
    "helpers.local.sagemaker_endpoints",
    "helpers.local.dynamodb_tables",
    "helpers.local.filter_patterns.hooks",
    "helpers.local.metric_filters.hooks",
    "helpers.local.logs_ingestion",
    "helpers.local.logs_insights.hooks",
    "helpers.local.metric_statistics.hooks",
    "helpers.local.alarms.hooks",
    "helpers.local.dynamodb_fast_paths",
    "helpers.local.sns",
    "helpers.local.sqs",
    "helpers.local.iam_enforcement",
    "helpers.local.call_log",
    "helpers.local.service_quotas",
)
HEALTH_PATH = "/_workshop/health"
# AWS accounts come with AWS-managed policies (AWSLambdaBasicExecutionRole, ...); moto loads them on request.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
_installed = False


def install_hooks() -> list[str]:
    """Install every behaviour hook into moto (once per process); return the modules installed."""
    global _installed
    hooks.check_moto()
    done = []
    for name in HOOK_MODULES:
        module = importlib.import_module(name)  # a missing hook module fails loudly
        if not _installed:
            module.install()
        done.append(name)
    _installed = True
    return done


class HealthMiddleware:
    """Answers the kit's health path, so the kit can tell its own server from a stranger."""

    def __init__(self, app: WSGIApplication, info: dict[str, Any]) -> None:
        self.app = app
        self.info = info

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            body = json.dumps({**self.info, "uptime_s": round(time.time() - self.info["started"], 1)})
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body.encode()]
        if environ.get("PATH_INFO") == "/_workshop/calls":
            from helpers.local import call_log

            return call_log.wsgi(environ, start_response)
        return self.app(environ, start_response)


def code_version(here: Path | None = None) -> str:
    """A digest of the local cloud's own code, its packages included (a server started from older code is stale)."""
    import hashlib

    here = here or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*here.rglob("*.py"), here.parent / "model.py"]):
        digest.update(str(path.relative_to(here.parent)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def make_app(hook_names: list[str]) -> HealthMiddleware:
    """The WSGI app: moto's dispatcher wrapped by the health middleware."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    info = {
        "kit": "ml-pipeline-ch8",
        "pid": os.getpid(),
        "started": time.time(),
        "hooks": hook_names,
        "code": code_version(),
        **profile.current().describe(),
    }
    return HealthMiddleware(DomainDispatcherApplication(create_backend_app), info)


def build_server(port: int, host: str = "127.0.0.1") -> BaseWSGIServer:
    """Create (bind) the threaded server with hooks installed; port 0 picks a free port."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        def log_request(
            self, *args: Any, **kwargs: Any
        ) -> None:  # one line per request costs time and log space
            pass

    hook_names = install_hooks()
    server = make_server(host, port, make_app(hook_names), threaded=True, request_handler=QuietHandler)
    os.environ["WORKSHOP_LOCAL_URL"] = f"http://{host}:{server.server_address[1]}"
    threading.Thread(target=_warm_imports, name="warm-imports", daemon=True).start()
    return server


def _warm_imports() -> None:
    """Import the service models the workshop uses while the server waits for its first request."""
    for name in (
        "moto.iam.models",
        "moto.s3.models",
        "moto.sagemaker.models",
        "moto.awslambda.models",
        "moto.dynamodb.models",
        "moto.logs.models",
        "moto.sns.models",
        "moto.sqs.models",
    ):
        importlib.import_module(name)


class InProcessCloud:
    """The local cloud on a thread of this process (tests and benchmarks)."""

    def __init__(self, port: int = 0) -> None:
        self.server = build_server(port)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        os.environ["WORKSHOP_LOCAL_URL"] = self.url
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> InProcessCloud:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(timeout=10)
        _shutdown_runtimes()
        self.server.server_close()


def _shutdown_runtimes() -> None:
    """Stop Lambda execution environments before the server goes."""
    import sys

    invocations = sys.modules.get("helpers.local.lambda_runtime.invocations")
    running = invocations.started() if invocations is not None else None
    if running is not None:
        running.shutdown()


def main(argv: list[str] | None = None) -> None:
    """Run the server in the foreground until killed (helpers.local.process starts this)."""
    parser = argparse.ArgumentParser(prog="python -m helpers.local.server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = build_server(args.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        _shutdown_runtimes()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    described = profile.current().describe()
    print(
        f"local cloud listening on http://127.0.0.1:{args.port} (pid {os.getpid()}); {json.dumps(described)}",
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
