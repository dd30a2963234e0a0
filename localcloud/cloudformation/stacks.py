"""How CloudFormation reports a stack operation: statuses, the reason a rollback gives, change-set details.

From the CloudFormation user guide (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
using-cfn-describing-stacks.html, using-cfn-updating-stacks-changesets-samples.html) and botocore's
cloudformation model: a resource that fails makes its stack roll back; a create that rolls back ends in
ROLLBACK_COMPLETE (only DeleteStack is possible then), an update in UPDATE_ROLLBACK_COMPLETE with the
previous template's resources back as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROLLBACK = {
    "CREATE": ("ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"),
    "UPDATE": ("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"),
}
# What CloudFormation waits for before a resource is complete, as the local cloud's profile delay that models it:
# a function is complete once Active, an update once Successful (docs: aws-resource-lambda-function.html).
STABILIZE = {
    ("AWS::Lambda::Function", "CREATE"): "lambda_create",
    ("AWS::Lambda::Function", "UPDATE"): "lambda_update",
}
CLEANUP = {
    "UPDATE": "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK": "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
}


def rollback_reason(operation: str, failed: list[str]) -> str:
    """The stack event's reason when a resource failed: AWS's own wording."""
    verb = "create" if operation == "CREATE" else "update"
    return f"The following resource(s) failed to {verb}: [{', '.join(failed)}]. Rollback requested by user."


def resource_reason(error: BaseException) -> str:
    """A failed resource's status reason: the service's error, as the event shows it."""
    code = getattr(error, "code", None) or getattr(error, "error_type", None) or type(error).__name__
    message = getattr(error, "message", None) or str(error)
    return f"{message} (Service: {code})" if message else str(code)


def property_changes(
    resource_type: str, old: Mapping[str, Any], new: Mapping[str, Any], replaced_by: frozenset[str]
) -> list[dict[str, Any]]:
    """The Details of one Modify: each changed property, and whether changing it recreates the resource."""
    names = sorted(set(old) | set(new))
    return [
        {
            "Target": {
                "Attribute": "Properties",
                "Name": name,
                "RequiresRecreation": "Always" if name in replaced_by else "Never",
            },
            "Evaluation": "Static",
            "ChangeSource": "DirectModification",
        }
        for name in names
        if old.get(name) != new.get(name)
    ]


def replacement(details: list[dict[str, Any]]) -> str:
    """A Modify's Replacement from its details: True when any change recreates the resource."""
    return "True" if any(d["Target"]["RequiresRecreation"] == "Always" for d in details) else "False"
