"""lambda/app.py loaded in-process, cold, with a fake SageMaker runtime or a failing table injected."""

from __future__ import annotations

import importlib.util
import io
import math
import uuid
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

APP_PATH = Path(__file__).resolve().parents[1] / "lambda" / "app.py"
ENDPOINT = "t-classifier-endpoint"
WEIGHTS = (0.8, -0.5, 0.3, 0.1)


def probability(features: list[float]) -> float:
    """The fake model: a logistic function of the features (what the fake endpoint answers)."""
    z = sum(w * x for w, x in zip(WEIGHTS, features, strict=False))
    return 1 / (1 + math.exp(-max(-700.0, min(700.0, z))))


class FakeRuntime:
    """A sagemaker-runtime client answering like the XGBoost container, or failing on request."""

    def __init__(self, error_code: str | None = None) -> None:
        self.error_code = error_code
        self.calls: list[dict] = []

    def invoke_endpoint(self, **kwargs):
        self.calls.append(kwargs)
        if self.error_code:
            raise ClientError(
                {"Error": {"Code": self.error_code, "Message": f"{self.error_code} from the test"}},
                "InvokeEndpoint",
            )
        features = [float(x) for x in kwargs["Body"].split(",")]
        return {
            "Body": io.BytesIO(f"{probability(features)!r}\n".encode()),
            "ContentType": "text/csv",
            "InvokedProductionVariant": "AllTraffic",
        }


class FailingTable:
    """A dynamodb client whose PutItem always fails with one error code; counts attempts."""

    def __init__(self, code: str) -> None:
        self.code, self.attempts = code, 0

    def put_item(self, **kwargs):
        self.attempts += 1
        raise ClientError({"Error": {"Code": self.code, "Message": f"{self.code} from the test"}}, "PutItem")


def load_app(table: str, runtime=None, dynamodb_client=None, **overrides):
    """A fresh copy of lambda/app.py (cold), configured for the test table, with its clients injected."""
    spec = importlib.util.spec_from_file_location(f"app_{uuid.uuid4().hex}", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = {
        "TABLE_NAME": table,
        "ENDPOINT_NAME": ENDPOINT,
        "MODEL_VERSION": "1",
        "MODEL_NAME": "t-classifier-v1",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        **overrides,
    }
    module.SETTINGS = module.Settings(env)
    module.CLIENTS["sagemaker-runtime"] = runtime or FakeRuntime()
    module.CLIENTS["dynamodb"] = dynamodb_client or boto3.client("dynamodb")
    return module
