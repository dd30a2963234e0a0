"""The model registry: what is deployed where, with the artifact, image and training metrics."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from helpers.session import client
from kitformats import clock


def deployment_entry(
    endpoint: str, model_version: str, config_name: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """A registry item describing the model behind an endpoint (or behind config_name, a version to deploy
    there): config, variant, artifact, image, metrics; status "deployed" while the endpoint serves it."""
    sm = client("sagemaker")
    ep = sm.describe_endpoint(EndpointName=endpoint)
    config_name = config_name or ep["EndpointConfigName"]
    config = sm.describe_endpoint_config(EndpointConfigName=config_name)
    variant = config["ProductionVariants"][0]
    model = sm.describe_model(ModelName=variant["ModelName"])
    container = model["PrimaryContainer"]
    artifact = container["ModelDataUrl"]
    metrics = training_metrics(artifact)
    return {
        "modelName": variant["ModelName"],
        "modelVersion": model_version,
        "endpointName": endpoint,
        "endpointConfigName": config_name,
        "variantName": variant["VariantName"],
        "artifactUri": artifact,
        "image": container["Image"],
        # DynamoDB's resource layer refuses Python floats: numbers go in as Decimal, written from text.
        "metrics": {k: Decimal(str(v)) for k, v in metrics.items()},
        "createdAt": clock.iso_ms(model["CreationTime"]),
        "deployedAt": clock.iso_ms(ep["CreationTime"]),
        "status": status or _status(ep, config_name),
    }


def training_metrics(artifact_url: str) -> dict[str, float]:
    """The metrics.json the setup stored beside the artifact ({} when there is none)."""
    bucket, _, key = artifact_url[5:].partition("/")
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key.replace("model.tar.gz", "metrics.json"))["Body"]
        metrics: dict[str, float] = json.loads(body.read())
        return metrics
    except client("s3").exceptions.NoSuchKey:
        return {}


def _status(endpoint: dict[str, Any], config_name: str) -> str:
    """The registry status of the model behind config_name on the described endpoint."""
    if endpoint["EndpointConfigName"] != config_name:
        return "registered"
    return (
        "deployed" if endpoint["EndpointStatus"] == "InService" else str(endpoint["EndpointStatus"]).lower()
    )
