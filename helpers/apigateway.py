"""Chapter 7's REST API: create-or-keep each piece (API, resource, method and Lambda proxy integration,
the invoke permission, deployment and stage), and the invoke URL, in one place for both clouds.

Every ensure_* takes the exact parameters of one API Gateway (or Lambda) request, as the notebook shows
them, and makes that request only when what it would create is missing; each says what it did.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from helpers import errors, specs
from helpers.session import client, settings
from helpers.waiters import retry
from localcloud import client as local_client

STAGE = specs.API_STAGE  # chapter 7's stage
RESOURCE_PATH = f"/{specs.API_PATH}"  # chapter 7's resource


def lambda_uri(function_arn: str) -> str:
    """The integration URI of a Lambda proxy integration to the function (any qualifier included)."""
    region = function_arn.split(":")[3]
    partition = function_arn.split(":")[1]
    return specs.lambda_integration_uri(partition, region, function_arn)


def find_api(name: str) -> dict[str, Any] | None:
    """The REST API with this name (the newest when several share it), or None."""
    found: list[dict[str, Any]] = []
    for page in client("apigateway").get_paginator("get_rest_apis").paginate():
        found += [api for api in page.get("items", []) if api.get("name") == name]
    return max(found, key=lambda api: str(api.get("createdDate", ""))) if found else None


def ensure_rest_api(spec: Mapping[str, Any], reuse_existing: bool = False) -> dict[str, Any]:
    """The REST API named spec['name']: created with the CreateRestApi request spec when missing.

    An existing one is kept (reuse_existing: an attendee's own chapter-7 API, left exactly as it is).
    """
    existing = find_api(spec["name"])
    if existing is not None:
        why = "yours, left as it is" if reuse_existing else "kept"
        print(f"REST API {spec['name']} ({existing['id']}): exists, {why}")
        return existing
    if reuse_existing:
        raise errors.WorkshopError(
            f"There is no REST API named {spec['name']!r} (WORKSHOP_API_NAME) in {settings().region}. "
            "Fix: set WORKSHOP_API_NAME to the name of your chapter-7 API (API Gateway → APIs), or unset it "
            "so that this notebook creates the kit's own."
        )
    created: dict[str, Any] = client("apigateway").create_rest_api(**spec)
    print(f"created REST API {spec['name']} ({created['id']})")
    return created


def resources(api_id: str) -> dict[str, dict[str, Any]]:
    """The API's resources by path ('/', '/predict', ...)."""
    found: dict[str, dict[str, Any]] = {}
    for page in client("apigateway").get_paginator("get_resources").paginate(restApiId=api_id):
        found.update({r["path"]: r for r in page.get("items", [])})
    return found


def ensure_resource(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The resource spec['pathPart'] under spec['parentId']: created with the CreateResource request when missing."""
    for resource in resources(spec["restApiId"]).values():
        if resource.get("parentId") == spec["parentId"] and resource.get("pathPart") == spec["pathPart"]:
            return resource
    created: dict[str, Any] = client("apigateway").create_resource(**spec)
    print(f"created resource {created['path']}")
    return created


def ensure_method(method_spec: Mapping[str, Any], integration_spec: Mapping[str, Any]) -> bool:
    """The method (PutMethod request) and its integration (PutIntegration request), put where they differ.

    Returns True when something changed (the stage then needs a new deployment).
    """
    agw = client("apigateway")
    where = {k: method_spec[k] for k in ("restApiId", "resourceId", "httpMethod")}
    try:
        method = agw.get_method(**where)
    except ClientError as exc:
        if not errors.is_not_found(exc):
            raise
        method = None
    changed = False
    if method is None or method.get("authorizationType") != method_spec.get("authorizationType"):
        if method is not None:
            agw.delete_method(**where)
        agw.put_method(**method_spec)
        changed = True
        method = {}
    integration = method.get("methodIntegration") or {}
    wanted = {"type": integration_spec["type"], "uri": integration_spec["uri"]}
    if changed or {k: integration.get(k) for k in wanted} != wanted:
        agw.put_integration(**integration_spec)
        changed = True
    print(
        f"method {method_spec['httpMethod']}: " + ("put, with its integration" if changed else "up to date")
    )
    return changed


def allow_invoke(spec: Mapping[str, Any]) -> None:
    """The function's permission for API Gateway (AddPermission request spec), added when its statement is missing."""
    lam = client("lambda")
    try:
        policy = json.loads(lam.get_policy(FunctionName=spec["FunctionName"])["Policy"])
    except ClientError as exc:
        if not errors.is_not_found(exc):
            raise
        policy = {"Statement": []}
    if any(s.get("Sid") == spec["StatementId"] for s in policy.get("Statement", [])):
        print(f"permission {spec['StatementId']}: exists")
        return
    retry(
        lambda: lam.add_permission(**spec),
        what=f"adding permission {spec['StatementId']}",
        codes={"ResourceConflictException"},
        timeout_s=120,
    )
    print(f"added permission {spec['StatementId']}: {spec['Principal']} may invoke {spec['FunctionName']}")


def ensure_deployment(spec: Mapping[str, Any], changed: bool = False) -> dict[str, Any]:
    """The stage spec['stageName'], deployed with the CreateDeployment request spec when missing or changed."""
    agw = client("apigateway")
    try:
        stage: dict[str, Any] = agw.get_stage(restApiId=spec["restApiId"], stageName=spec["stageName"])
    except ClientError as exc:
        if not errors.is_not_found(exc):
            raise
        stage = {}
    if stage and not changed:
        print(f"stage {spec['stageName']}: deployed ({stage.get('deploymentId')})")
        return stage
    deployment = agw.create_deployment(**spec)
    print(f"deployed stage {spec['stageName']} ({deployment['id']})")
    stage = agw.get_stage(restApiId=spec["restApiId"], stageName=spec["stageName"])
    return stage


def invoke_url(api_id: str, stage: str = STAGE, path: str = RESOURCE_PATH) -> str:
    """The URL a client calls: the local cloud's form in local mode, AWS's execute-api host in aws mode."""
    s = settings()
    if s.is_local:
        base = local_client.invoke_url(s.local_url, api_id, stage)
    else:
        base = f"https://{api_id}.execute-api.{s.region}.amazonaws.com/{stage}"
    return base + path


def endpoint_url(name: str | None = None) -> str:
    """The invoke URL of the workshop's API (names.api, or name) at stage prod, resource /predict."""
    api_name = name or settings().names.api
    api = find_api(api_name)
    if api is None:
        raise errors.WorkshopError(
            f"There is no REST API named {api_name!r}. Fix: run notebooks/00_setup.ipynb, which creates it."
        )
    return invoke_url(api["id"])


def curl_line(url: str, features: list[float]) -> str:
    """The curl command that sends one prediction request to url, as chapter 7 tests its API."""
    body = json.dumps({"features": features})
    return f"curl -X POST {url} -H 'Content-Type: application/json' -d '{body}'"
