"""CloudFormation: deploy the chapter's template as a stack through a change set, wait, show, delete.

The notebook (8.5) shows the template, the change set and the stack's events; this module does the
waiting (bounded, with progress), turns a rollback into an error that names the resource that failed
and why, and deletes the stack.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from helpers import awslambda, errors, iam, s3, template, waiters
from helpers.config import Settings
from helpers.errors import WorkshopError
from helpers.session import client

DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
ROLLED_BACK = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"}
FAILED = ROLLED_BACK | {"CREATE_FAILED", "DELETE_FAILED", "UPDATE_FAILED"}
TIMEOUT_S = 900  # the chapter's stack takes a minute or two in AWS; a table or role can take longer
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]  # the template names its role


def stack_name(prefix: str) -> str:
    """The chapter stack's name for a prefix."""
    return f"{prefix}-chapter8"


def stack_tags(settings: Settings) -> dict[str, str]:
    """The stack's tags (CloudFormation copies them onto the resources it creates): the kit's, with the
    attendee's own prefix (the stack is theirs, whatever prefix its names start with)."""
    return settings.tags()


def upload_code(bucket: str, tags: dict[str, str]) -> str:
    """Upload the handler's zip (lambda/app.py) to the chapter-6 bucket under its digest; return the key."""
    package = awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "app.py"})
    key = f"lambda/app-{awslambda.code_sha256(package).replace('/', '_').replace('+', '-')[:16]}.zip"
    s3.put_if_changed(bucket, key, package, tags)
    return key


def parameters(settings: Settings, prefix: str, bucket: str, code_key: str, period: int) -> dict[str, str]:
    """The stack's parameters: the new prefix, and the chapter-6/7 state of `settings`' prefix it builds on."""
    names = settings.names
    endpoint = client("sagemaker").describe_endpoint(EndpointName=names.endpoint)
    return {
        "Prefix": prefix,
        "OwnerPrefix": settings.prefix,
        "EndpointName": names.endpoint,
        "EndpointArn": endpoint["EndpointArn"],
        "ModelName": names.model,
        "ModelVersion": settings.model_version,
        "CodeBucket": bucket,
        "CodeKey": code_key,
        "RecordTtlDays": str(settings.record_ttl_days),
        "AlarmPeriod": str(period),
        # the class boundary (python -m helpers class-setup), which the attendee's roles must carry
        "PermissionsBoundary": iam.permissions_boundary() or "",
    }


def describe(name: str) -> dict[str, Any] | None:
    """The stack's description, or None when there is no such stack (or only a deleted one)."""
    try:
        stack: dict[str, Any] = client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if errors.code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise
    return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack


def events(name: str, since: Any = None) -> pd.DataFrame:
    """The stack's events, oldest first: time, resource, type, status and reason."""
    found = client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
    rows = [
        {
            "time": e["Timestamp"],
            "resource": e["LogicalResourceId"],
            "type": e["ResourceType"],
            "status": e["ResourceStatus"],
            "reason": e.get("ResourceStatusReason", ""),
        }
        for e in reversed(found)
        if since is None or e["Timestamp"] >= since
    ]
    return pd.DataFrame(rows, columns=["time", "resource", "type", "status", "reason"])


def changes(description: Mapping[str, Any]) -> pd.DataFrame:
    """A change set's resource changes as a table: action, resource, type, replacement, changed properties."""
    rows = []
    for change in description.get("Changes", []):
        rc = change["ResourceChange"]
        rows.append(
            {
                "action": rc["Action"],
                "resource": rc["LogicalResourceId"],
                "type": rc["ResourceType"],
                "replacement": rc.get("Replacement", ""),
                "properties": ", ".join(d["Target"].get("Name", "") for d in rc.get("Details", [])),
            }
        )
    return pd.DataFrame(rows, columns=["action", "resource", "type", "replacement", "properties"])


def _wait_for_change_set(name: str, change_set: str) -> dict[str, Any]:
    """Wait (bounded) until CloudFormation has computed the change set; return its description."""
    cf = client("cloudformation")
    described: dict[str, Any] = {}

    def status() -> str:
        nonlocal described
        described = cf.describe_change_set(StackName=name, ChangeSetName=change_set)
        return str(described["Status"])

    waiters.wait_for_state(
        status,
        what=f"change set {change_set}",
        done={"CREATE_COMPLETE", "FAILED"},
        timeout_s=300,
        interval_s=2,
    )
    return described


def plan(name: str, body: str, params: Mapping[str, str], tags: Mapping[str, str]) -> dict[str, Any]:
    """Create a change set for the stack (CREATE when it does not exist yet); return its description.

    A change set that changes nothing comes back with Status FAILED and no changes: nothing to execute.
    """
    cf = client("cloudformation")
    existing = describe(name)
    kind = "UPDATE" if existing and existing["StackStatus"] != "REVIEW_IN_PROGRESS" else "CREATE"
    if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise WorkshopError(
            f"Stack {name} is in ROLLBACK_COMPLETE: its creation failed and CloudFormation allows only deleting it. "
            f"Fix: helpers.cloudformation.delete({name!r}), then deploy again."
        )
    change_set = f"{name}-{time.strftime('%Y%m%d%H%M%S')}"
    cf.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType=kind,
        TemplateBody=body,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    return _wait_for_change_set(name, change_set)


def wait(name: str, timeout_s: float = TIMEOUT_S) -> dict[str, Any]:
    """Wait (bounded, with progress) until the stack's operation ends; WorkshopError naming what failed if it rolled back."""
    stack_id = (describe(name) or {}).get("StackId", name)
    waiters.wait_for_state(
        lambda: str((describe(stack_id) or {"StackStatus": "DELETE_COMPLETE"})["StackStatus"]),
        what=f"stack {name}",
        done=DONE | FAILED | {"DELETE_COMPLETE"},
        timeout_s=timeout_s,
        interval_s=3,
    )
    stack = describe(stack_id) or {"StackStatus": "DELETE_COMPLETE", "StackName": name}
    if stack["StackStatus"] in FAILED:
        failed = events(stack_id)
        failed = failed[failed["status"].str.endswith("_FAILED")]
        why = "; ".join(f"{r.resource}: {r.reason}" for r in failed.itertuples()) or stack.get(
            "StackStatusReason", ""
        )
        raise WorkshopError(
            f"Stack {name} ended in {stack['StackStatus']}: {why}. Its events show the order."
        )
    return stack


def execute(description: Mapping[str, Any]) -> dict[str, Any]:
    """Execute a change set and wait for the stack; return the stack's description."""
    name = str(description["StackName"])
    if description["Status"] == "FAILED":  # nothing to change
        print(f"stack {name}: {description.get('StatusReason', 'no changes')}")
        return describe(name) or {}
    client("cloudformation").execute_change_set(ChangeSetName=description["ChangeSetId"])
    return wait(name)


def deploy(name: str, body: str, params: Mapping[str, str], tags: Mapping[str, str]) -> dict[str, Any]:
    """Plan and execute in one go (create or update the stack); print the changes; return the stack."""
    planned = plan(name, body, params, tags)
    print(changes(planned).to_string(index=False) if planned.get("Changes") else "no changes")
    return execute(planned)


def delete(name: str, timeout_s: float = TIMEOUT_S) -> None:
    """Delete the stack and everything in it; wait (bounded) until CloudFormation says DELETE_COMPLETE."""
    stack = describe(name)
    if stack is None:
        print(f"stack {name}: not there, nothing to delete")
        return
    client("cloudformation").delete_stack(StackName=name)
    stack_id = stack["StackId"]
    waiters.wait_for_state(
        lambda: str((describe(stack_id) or {"StackStatus": "DELETE_COMPLETE"})["StackStatus"]),
        what=f"deleting stack {name}",
        done={"DELETE_COMPLETE"},
        failed={"DELETE_FAILED"},
        timeout_s=timeout_s,
        interval_s=3,
    )
    print(f"stack {name}: deleted")


def outputs(stack: Mapping[str, Any]) -> dict[str, str]:
    """A stack's outputs as {key: value}."""
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def render() -> str:
    """The chapter's template (helpers.template), as the stack gets it."""
    return template.render()
