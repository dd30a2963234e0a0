"""CloudFormation: the kit's stacks (8.5's, tagged with the kit's tags; the stack's own resources carry them
too and go with it). CloudFormation itself costs nothing for AWS resource types: what a stack made is priced
by its own kind."""

from __future__ import annotations

from helpers import session
from helpers.resources._kind import Kind, Resource, Search, pages


class Stack(Kind):
    service, kind = "cloudformation", "stack"
    wait_s = 600  # DeleteStack deletes every resource of the stack first

    def find(self, search: Search) -> None:
        """The kit's stacks and lookalikes (ListStacks for the names, DescribeStacks for the tags)."""
        cfn = session.client("cloudformation")
        live = pages(cfn, "list_stacks", "StackSummaries", StackStatusFilter=LIVE)
        for summary, name in search.candidates(live, lambda s: s["StackName"]):
            [stack] = cfn.describe_stacks(StackName=summary["StackId"])["Stacks"]
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            search.tagged(self, name, tags, arn=stack["StackId"], note=stack["StackStatus"],
                          ref={"StackName": stack["StackId"]})  # fmt: skip

    def exists(self, r: Resource) -> bool:
        [stack] = session.client("cloudformation").describe_stacks(StackName=r.ref["StackName"])["Stacks"]
        return bool(stack["StackStatus"] != "DELETE_COMPLETE")

    def delete(self, r: Resource) -> None:
        session.client("cloudformation").delete_stack(StackName=r.ref["StackName"])


# Every status but DELETE_COMPLETE (ListStacks lists deleted stacks for 90 days).
LIVE = [
    "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE", "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED", "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
]  # fmt: skip
