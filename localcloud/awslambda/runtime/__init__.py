"""Lambda execution for the local cloud: runs the deployed zip in warm worker processes, as AWS does.

moto without Docker never runs a handler. The hooks (``hooks.py``) replace ``LambdaFunction.invoke``
(every invocation path reaches it: the Invoke API, Event invocations, SNS/SQS triggers) and run
the function's code in an execution environment (``environments.py``, a ``worker.py`` process):
one process per concurrent invocation, reused warm while code and configuration stay the same
(``warm_pool.py``), discarded after a timeout or crash. An invocation (``invocations.py``) writes
START/END/REPORT and the handler's output to the function's log group in AWS's stream naming,
and publishes AWS/Lambda metrics (``reports.py``).

A handler imports what AWS's managed Python runtime offers and nothing more: its zip, the standard
library, and boto3 with its dependencies (``RUNTIME_PACKAGES`` in ``packages.py``, linked from the
kit's own site-packages, so their versions are the kit's, not those of AWS's runtime), on the
runtime's own Python version when this machine has it (``lambda_pythons``). Concurrent executions
are limited per function (reserved concurrency) and per account and region (the profile's
``lambda_concurrent_executions`` quota), answering AWS's ``TooManyRequestsException``
(``concurrency.py``).

This package exports the engine, importable without moto (it reads moto's backends only when it
runs an invocation); ``hooks`` puts it into moto.
"""

from localcloud.awslambda.runtime.concurrency import Concurrency, Slot, TooManyRequests, reserved_concurrency
from localcloud.awslambda.runtime.environments import WORKER, Crash, EnvKey, Timeout, Worker
from localcloud.awslambda.runtime.invocations import (
    EVENT_MAX_AGE_S,
    EVENT_RETRY_DELAYS,
    EVENT_THROTTLE_MAX_DELAY_S,
    TAIL_BYTES,
    Runtime,
    runtime,
    started,
)
from localcloud.awslambda.runtime.packages import RUNTIME_PACKAGES, forget_runtime_packages, runtime_packages
from localcloud.awslambda.runtime.reports import (
    MAX_EVENT_BYTES,
    log_events,
    publish_metrics,
    report_line,
    ship_logs,
)
from localcloud.awslambda.runtime.warm_pool import IDLE_SECONDS, WarmPool, code_digest, env_key

__all__ = [
    "EVENT_MAX_AGE_S",
    "EVENT_RETRY_DELAYS",
    "EVENT_THROTTLE_MAX_DELAY_S",
    "IDLE_SECONDS",
    "MAX_EVENT_BYTES",
    "RUNTIME_PACKAGES",
    "TAIL_BYTES",
    "WORKER",
    "Concurrency",
    "Crash",
    "EnvKey",
    "Runtime",
    "Slot",
    "Timeout",
    "TooManyRequests",
    "WarmPool",
    "Worker",
    "code_digest",
    "env_key",
    "forget_runtime_packages",
    "log_events",
    "publish_metrics",
    "report_line",
    "reserved_concurrency",
    "runtime",
    "runtime_packages",
    "ship_logs",
    "started",
]
