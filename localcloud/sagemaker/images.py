"""Which container image SageMaker can pull for a model: the local cloud's image check.

SageMaker pulls each container's ``Image`` from ECR when it creates (or updates) an endpoint. The
built-in algorithm images live in AWS-owned registry accounts, one per region (us-east-1's XGBoost
is ``683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1``, ap-south-1's
``720646828776…``); an image naming another region's account, another region's host, or a tag
the registry does not publish cannot be pulled, and the endpoint ends ``Failed`` with
:data:`PULL_FAILURE` (SageMaker's wording). Images in the caller's own account are checked
against the local ECR (repository and tag pushed).

The published images are read from the SageMaker Python SDK's own registry data
(``sagemaker/core/image_uri_config/<framework>.json``, what ``image_uris.retrieve`` answers
from) as JSON files, found without importing the SDK (seconds of import the local cloud must
not pay); the ECR host comes from botocore's endpoint data, as the SDK builds it.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

# The frameworks whose registry images the local cloud knows (the kit deploys the built-in XGBoost).
FRAMEWORKS = ("xgboost",)
# DescribeEndpoint's FailureReason when a variant's image cannot be pulled.
PULL_FAILURE = ("Please make sure all images included in the model for the production variant {variant} exist, "
                "and that the execution role used to create the model has permissions to access them.")  # fmt: skip
_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.(?P<host>ecr\.(?P<region>[a-z0-9-]+)\.[a-z0-9.-]+)/(?P<repository>[a-z0-9._/-]+)"
    r"(?::(?P<tag>[A-Za-z0-9._-]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def _sdk_data_dir() -> Path | None:
    """sagemaker/core/image_uri_config of the installed SDK, located without importing it; None when absent."""
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config"
    return path if path.is_dir() else None


@cache
def _inference_config(framework: str) -> dict[str, Any]:
    """The SDK's inference image registry of a framework ({} when the SDK or the framework is absent)."""
    folder = _sdk_data_dir()
    path = folder / f"{framework}.json" if folder else None
    if path is None or not path.is_file():
        return {}
    doc = json.loads(path.read_text())
    config: dict[str, Any] = doc.get("inference", doc)
    return config


@cache
def _ecr_host(region: str) -> str | None:
    """ECR's host name in a region, from botocore's endpoint data (e.g. ecr.cn-north-1.amazonaws.com.cn)."""
    import botocore.loaders
    import botocore.regions

    resolver = botocore.regions.EndpointResolver(botocore.loaders.create_loader().load_data("endpoints"))
    found = resolver.construct_endpoint("ecr", region)
    return found["hostname"] if found else None


def registry_image(framework: str, region: str, version: str) -> str | None:
    """The registry image of framework at version in region, as the SDK's image_uris.retrieve answers; None when
    the registry does not publish it there."""
    config = _inference_config(framework)
    version = (config.get("version_aliases") or {}).get(version, version)
    entry = (config.get("versions") or {}).get(version)
    host = _ecr_host(region)
    if not entry or region not in entry.get("registries", {}) or host is None:
        return None
    return (
        f"{entry['registries'][region]}.dkr.{host}/{entry['repository']}:{entry.get('tag_prefix', version)}"
    )


@cache
def _repositories() -> dict[str, str]:
    """Registry repository name -> framework, for the frameworks known here."""
    return {entry["repository"]: framework for framework in FRAMEWORKS
            for entry in (_inference_config(framework).get("versions") or {}).values() if "repository" in entry}  # fmt: skip


def _own_image_exists(account: str, region: str, repository: str, tag: str, digest: str | None) -> bool:
    """Whether the local ECR holds that repository with that tag (or digest)."""
    from moto.ecr.models import ecr_backends

    repo = ecr_backends[account][region].repositories.get(repository)
    if repo is None:
        return False
    for image in repo.images:
        if digest and image.image_digest == digest:
            return True
        if not digest and tag in (image.image_tags or [image.image_tag]):
            return True
    return False


def pullable(image: str, account: str, region: str) -> bool:
    """Whether SageMaker in account and region could pull image for a model."""
    found = _IMAGE.match(image or "")
    if found is None:
        return False
    tag = found["tag"] or ("" if found["digest"] else "latest")
    framework = _repositories().get(found["repository"])
    if found["account"] == account:
        return found["region"] == region and found["host"] == _ecr_host(region) and _own_image_exists(
            account, region, found["repository"], tag, found["digest"])  # fmt: skip
    if framework is None or not tag:
        return False  # another account's private image: the local cloud can pull none
    return image == registry_image(framework, region, tag)


def image_failure(container: Mapping[str, Any], account: str, region: str, variant: str) -> str | None:
    """SageMaker's FailureReason for a variant whose container image cannot be pulled, or None."""
    if pullable(container.get("Image") or "", account, region):
        return None
    return PULL_FAILURE.format(variant=variant)
