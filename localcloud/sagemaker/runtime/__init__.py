"""SageMaker runtime for the local cloud: InvokeEndpoint predicts with the endpoint's real model.

moto answers canned bytes, even for endpoints that do not exist. This hook replaces the
response method ``SageMakerRuntimeResponse.invoke_endpoint``: it resolves endpoint, endpoint
config, production variant (by weight), model and ``ModelDataUrl`` in the local S3, loads the
``model.tar.gz`` with XGBoost (cached by content) and predicts, in this process. It writes the
container's access log lines to ``/aws/sagemaker/Endpoints/<name>`` and publishes AWS/SageMaker
metrics, like the built-in XGBoost container behind a real endpoint.

Modules: ``container.py`` (the built-in XGBoost container's contract: request rows, answers, its
errors, the model loaded once per artifact), ``routing.py`` (the production variant a request
goes to), ``instances.py`` (the compute a deployment launches on its first request: cold starts, the
instance ids of log streams), ``reports.py`` (the endpoint's log lines and AWS/SageMaker metrics,
written as the model's execution role allows); ``hooks.py`` puts
them into moto's InvokeEndpoint.
"""

from localcloud.sagemaker.runtime.container import (
    ContainerError,
    access_line,
    booster_for,
    format_predictions,
    parse_rows,
)
from localcloud.sagemaker.runtime.instances import Instance, serving
from localcloud.sagemaker.runtime.reports import invocation_metrics
from localcloud.sagemaker.runtime.routing import choose_variant

__all__ = [
    "ContainerError",
    "Instance",
    "access_line",
    "booster_for",
    "choose_variant",
    "format_predictions",
    "invocation_metrics",
    "parse_rows",
    "serving",
]
