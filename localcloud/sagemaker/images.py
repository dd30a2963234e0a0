"""Which container image SageMaker can pull for a model: the local cloud's image check.

SageMaker pulls each container's ``Image`` from ECR when it creates (or updates) an endpoint. The
built-in images (the algorithms: XGBoost, factorization-machines, k-means, ...; the framework and
inference containers: scikit-learn, PyTorch, TensorFlow, Hugging Face, DJL, ...) live in
AWS-owned registry accounts, one per region and image family (us-east-1's XGBoost is
``683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1``, ap-south-1's
``720646828776…``); an image naming another region's account, another region's host, a
repository the registry does not hold or a tag it does not publish cannot be pulled, and the
endpoint ends ``Failed`` with :data:`PULL_FAILURE` (SageMaker's wording). Images in the caller's
own account are checked against the local ECR (repository and tag pushed).

The published images are read from the SageMaker Python SDK's own registry data
(``sagemaker/core/image_uri_config/<framework>.json``, what ``image_uris.retrieve`` answers
from), every framework of it, as JSON files found without importing the SDK (seconds of import
the local cloud must not pay); the ECR host comes from botocore's endpoint data, as the SDK builds
it. A tag is published when it is one of an entry's versions (or their aliases, or its
``tag_prefix``), alone or followed by ``-`` and the processor, Python and container parts the SDK
appends (``2.1-cpu-py310``, ``1.2-1-cpu-py3``).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

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
def frameworks() -> tuple[str, ...]:
    """Every framework (image family) the SDK's registry data describes."""
    folder = _sdk_data_dir()
    return tuple(sorted(path.stem for path in folder.glob("*.json"))) if folder else ()


class Published(NamedTuple):
    """One registry entry: the repository, its registry account per region, the tags' leading parts."""

    repository: str
    registries: Mapping[str, str]
    tag_starts: frozenset[str]


def _walk(node: Any, version: str | None, aliases: Mapping[str, str]) -> Iterator[Published]:
    """The entries under one node of a framework's registry data, with the version each sits under."""
    if not isinstance(node, dict):
        return
    aliases = {**aliases, **(node.get("version_aliases") or {})}
    if isinstance(node.get("registries"), dict) and isinstance(node.get("repository"), str) and version:
        starts = {version, *(alias for alias, target in aliases.items() if target == version)}
        if isinstance(node.get("tag_prefix"), str):
            starts.add(node["tag_prefix"])
        yield Published(node["repository"], node["registries"], frozenset(starts))
    for key, child in node.items():
        if key == "versions" and isinstance(child, dict):
            for name, entry in child.items():
                yield from _walk(entry, name, aliases)
        elif key not in ("registries", "version_aliases") and isinstance(child, dict):
            yield from _walk(child, version, aliases)


@cache
def _published() -> dict[str, list[Published]]:
    """Registry repository name -> the entries that publish it, over every framework."""
    found: dict[str, list[Published]] = {}
    folder = _sdk_data_dir()
    for framework in frameworks():
        if folder is None:
            break
        for entry in _walk(json.loads((folder / f"{framework}.json").read_text()), None, {}):
            found.setdefault(entry.repository, []).append(entry)
    return found


def published(repository: str, account: str, region: str, tag: str) -> bool:
    """Whether the SDK's registry publishes repository:tag from account's registry in region."""
    for entry in _published().get(repository, []):
        if entry.registries.get(region) != account:
            continue
        if any(tag == start or tag.startswith(start + "-") for start in entry.tag_starts):
            return True
    return False


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
    if found["region"] != region or found["host"] != _ecr_host(region):
        return False  # another region's image, or the wrong partition's host
    if found["account"] == account:
        return _own_image_exists(account, region, found["repository"], tag, found["digest"])
    # a registry image (another account's private image: the local cloud can pull none)
    return bool(tag) and published(found["repository"], found["account"], region, tag)


def image_failure(container: Mapping[str, Any], account: str, region: str, variant: str) -> str | None:
    """SageMaker's FailureReason for a variant whose container image cannot be pulled, or None."""
    if pullable(container.get("Image") or "", account, region):
        return None
    return PULL_FAILURE.format(variant=variant)
