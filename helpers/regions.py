"""Regions and partitions: the partition of a region (its ARNs, its console), and whether the workshop
can run there (SageMaker Serverless Inference and the built-in XGBoost image offered).

Read from the data the installed SDKs ship, not from a table of our own: botocore's
``data/partitions.json`` (every partition's regions and region pattern; botocore resolves endpoints,
and ``Session.get_partition_for_region`` answers, from the same data), and the SageMaker Python SDK's
image registry ``sagemaker/core/image_uri_config/xgboost.json`` (the regions the XGBoost image is
published in, what ``image_uris.retrieve`` reads). Both are read as JSON files, located without
importing their packages: no notebook pays the SDK's import (seconds) for a region check, and
building settings stays free of boto3.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

# The built-in XGBoost image the kit deploys (helpers.sagemaker.xgboost_image_uri's version; a test checks they agree).
XGBOOST_VERSION = "1.7-1"
# "Serverless Inference is generally available in all AWS commercial Regions where SageMaker is available
# (except the AWS China Regions)": https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html.
# Commercial = the `aws` partition; nothing is promised for GovCloud, the ISO partitions or the EU sovereign cloud.
SERVERLESS_PARTITIONS = ("aws",)
# The console host of each partition that has a public console (botocore's data has none); the
# commercial console answers on a per-region host, the others take the region from the query.
CONSOLE_HOSTS = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-cn": "https://console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}
_REGION_SHAPE = re.compile(
    r"^[a-z]+(-[a-z]+)+-\d+$"
)  # us-east-1, us-gov-west-1, eusc-de-east-1; not aws-global


def _package_file(package: str, relative: str) -> Path | None:
    """A data file inside an installed package, found without importing the package; None when absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.is_file() else None


@cache
class Partition(TypedDict):
    """The fields of a partition in botocore's data/partitions.json the kit reads."""

    id: str
    regions: dict[str, Any]
    regionRegex: str


def _partitions() -> tuple[Partition, ...]:
    path = _package_file("botocore", "data/partitions.json")
    if path is None:  # botocore is boto3's own dependency: always there
        raise RuntimeError("botocore's data/partitions.json was not found: reinstall the kit (make install).")
    return tuple(json.loads(path.read_text())["partitions"])


def partitions() -> list[str]:
    """The partitions botocore knows (aws, aws-cn, aws-us-gov, the ISO partitions, aws-eusc...)."""
    return [p["id"] for p in _partitions()]


def find_partition(region: str) -> str | None:
    """The partition of a region as botocore resolves it (listed region first, then each partition's region
    pattern), or None when no partition claims it (not a region name)."""
    if not _REGION_SHAPE.match(region):
        return None
    for p in _partitions():
        if region in p["regions"]:
            return p["id"]
    for p in _partitions():
        if re.match(p["regionRegex"], region):
            return p["id"]
    return None


def partition(region: str) -> str:
    """The partition of a region: 'aws', 'aws-cn' (cn-*), 'aws-us-gov' (us-gov-*), ... ValueError for a non-region."""
    found = find_partition(region)
    if found is None:
        raise ValueError(
            f"{region!r} is not a region of any AWS partition botocore knows ({', '.join(partitions())})."
        )
    return found


def arn(region: str, service: str, resource: str, account: str = "", *, regional: bool = True) -> str:
    """An ARN in region's partition: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE. regional=False leaves the
    region field empty (IAM, S3 buckets, CloudWatch dashboards) while the partition still follows region."""
    return f"arn:{partition(region)}:{service}:{region if regional else ''}:{account}:{resource}"


def console_url(region: str, path: str) -> str | None:
    """The AWS console page path (e.g. 'lambda/home#/functions/f') in region, on its partition's console host;
    None for a partition without a public console. The region goes in the query, before any '#fragment'."""
    host = CONSOLE_HOSTS.get(partition(region))
    if host is None:
        return None
    page, hash_, fragment = path.lstrip("/").partition("#")
    return f"{host.format(region=region)}/{page}{'&' if '?' in page else '?'}region={region}{hash_}{fragment}"


def serverless_offered(region: str) -> bool:
    """Whether SageMaker Serverless Inference is documented as offered in region (see SERVERLESS_PARTITIONS)."""
    return find_partition(region) in SERVERLESS_PARTITIONS


@cache
def xgboost_image_regions(version: str = XGBOOST_VERSION) -> frozenset[str] | None:
    """The regions the SageMaker SDK's registry publishes the XGBoost inference image of version in; None when
    the SDK is not installed (the registry cannot be read: nothing is known)."""
    path = _package_file("sagemaker", "core/image_uri_config/xgboost.json")
    if path is None:
        return None
    versions = json.loads(path.read_text())["inference"]["versions"]
    return frozenset(versions[version]["registries"]) if version in versions else frozenset()


def workshop_regions() -> list[str]:
    """The regions where the workshop can run: serverless inference offered and the XGBoost image published."""
    images = xgboost_image_regions()
    listed = {r for p in _partitions() for r in p["regions"] if _REGION_SHAPE.match(r)}
    return sorted(
        r
        for r in (listed if images is None else images | listed)
        if serverless_offered(r) and (images is None or r in images)
    )


def alternatives(region: str, limit: int = 4) -> list[str]:
    """Regions to choose instead of region: workshop regions of the same area (ap-, eu-, us-...), those sharing
    more of its name first (us-gov-west-1: us-west-1, us-west-2, ...), else us-east-1."""
    words = set(region.split("-")[:-1])
    near = [r for r in workshop_regions() if r.split("-", 1)[0] == region.split("-", 1)[0] and r != region]
    near.sort(key=lambda r: (-len(words & set(r.split("-")[:-1])), r))
    return near[:limit] or ["us-east-1"]
