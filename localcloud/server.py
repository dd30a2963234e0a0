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
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, make_server

from localcloud import patching, profile
from localcloud.apigateway import hooks as apigateway_hooks
from localcloud.awslambda import hooks as awslambda_hooks
from localcloud.awslambda.runtime import hooks as awslambda_runtime_hooks
from localcloud.calls import hooks as calls_hooks
from localcloud.client import HEALTH_PATH, code_version
from localcloud.cloudformation import hooks as cloudformation_hooks
from localcloud.cloudwatch.alarms import hooks as cloudwatch_alarms_hooks
from localcloud.cloudwatch.statistics import hooks as cloudwatch_statistics_hooks
from localcloud.dynamodb import hooks as dynamodb_hooks
from localcloud.iam import hooks as iam_hooks
from localcloud.logs import hooks as logs_hooks
from localcloud.logs.filter_patterns import hooks as logs_filter_patterns_hooks
from localcloud.logs.insights import hooks as logs_insights_hooks
from localcloud.logs.metric_filters import hooks as logs_metric_filters_hooks
from localcloud.sagemaker import hooks as sagemaker_hooks
from localcloud.sagemaker.runtime import hooks as sagemaker_runtime_hooks
from localcloud.sagemaker.runtime import warmup
from localcloud.servicequotas import hooks as servicequotas_hooks
from localcloud.sns import hooks as sns_hooks
from localcloud.sqs import hooks as sqs_hooks

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# One module per AWS behaviour moto lacks, each exposing install() (idempotent); installed in this order.
HOOKS: tuple[ModuleType, ...] = (
    awslambda_runtime_hooks,
    awslambda_hooks,
    sagemaker_runtime_hooks,
    sagemaker_hooks,
    dynamodb_hooks,
    logs_filter_patterns_hooks,
    logs_metric_filters_hooks,
    logs_hooks,
    logs_insights_hooks,
    cloudwatch_statistics_hooks,
    cloudwatch_alarms_hooks,
    sns_hooks,
    sqs_hooks,
    iam_hooks,
    calls_hooks,  # after IAM's hook on the same method, so a call is recorded before IAM judges it
    servicequotas_hooks,
    cloudformation_hooks,
    apigateway_hooks,
)
HOOK_MODULES = tuple(module.__name__ for module in HOOKS)
# AWS accounts come with AWS-managed policies (AWSLambdaBasicExecutionRole, ...): localcloud.iam.hooks builds
# each from moto's catalogue when it is first named, whatever MOTO_IAM_LOAD_MANAGED_POLICIES says.
_installed = False


def install_hooks() -> list[str]:
    """Install every behaviour hook into moto (once per process); return the modules installed."""
    global _installed
    patching.check_moto()
    done = []
    for module in HOOKS:
        if not _installed:
            module.install()
        done.append(module.__name__)
    _installed = True
    return done


def wait_for_warm_up(timeout_s: float = 120.0) -> bool:
    """Wait until the hooks' background import of the model libraries is done; True when it is.

    For processes that install the hooks and go on doing other things (the test suite): code that
    walks every loaded module, such as freezegun's freeze_time, must not run during that import.
    Setting WORKSHOP_LOCAL_WARM_UP=off before install_hooks() skips the warm-up instead.
    """
    return warmup.wait(timeout_s)


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
            from localcloud.calls import record as call_record

            return call_record.wsgi(environ, start_response)
        return self.app(environ, start_response)


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

    invocations = sys.modules.get("localcloud.awslambda.runtime.invocations")
    running = invocations.started() if invocations is not None else None
    if running is not None:
        running.shutdown()


def main(argv: list[str] | None = None) -> None:
    """Run the server in the foreground until killed (localcloud.client starts this)."""
    parser = argparse.ArgumentParser(prog="python -m localcloud.server")
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
