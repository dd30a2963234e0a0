"""Cleanup: delete what the kit created for a prefix, in dependency order, and prove nothing is left.

An attendee's cleanup deletes the kit's resources of their prefix that they created (the creator tag
names their identity) or that carry no creator tag (older kits); a resource of the same prefix created
by another identity is left alone and reported. Only the instructor's sweep (all_prefixes) deletes
everyone's, and says whose it deletes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from helpers import inventory, session
from helpers.errors import friendly, is_not_found
from helpers.inventory import Resource
from helpers.waiters import wait_for_state

# Error codes meaning "it is not there (any more)".
# How long each deletion may take to be visible (AWS: endpoints and tables take longest).
WAIT_S = {"endpoint": 900, "table": 600, "queue": 120, "event source mapping": 300}
DEFAULT_WAIT_S = 120


def _c(service: str):
    return session.client(service)


def _object_id(r: Resource) -> dict:
    """Key and VersionId of an object version; an unversioned bucket's 'null' version is addressed by key alone."""
    version = r.ref["VersionId"]
    return {"Key": r.ref["Key"], **({"VersionId": version} if version != "null" else {})}


def _delete_bucket(r: Resource) -> None:
    """Delete every object version left (written since the inventory), then the bucket."""
    s3 = _c("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=r.name):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=r.name, Delete={"Objects": doomed, "Quiet": True})
    s3.delete_bucket(Bucket=r.name)


def _delete_role(r: Resource) -> None:
    """Detach and delete policies added since the inventory, take the role out of instance profiles
    (someone else's: they stay), then delete the role."""
    iam = _c("iam")
    for profile in iam.list_instance_profiles_for_role(RoleName=r.name).get("InstanceProfiles", []):
        iam.remove_role_from_instance_profile(
            InstanceProfileName=profile["InstanceProfileName"], RoleName=r.name
        )
    for p in iam.list_attached_role_policies(RoleName=r.name).get("AttachedPolicies", []):
        iam.detach_role_policy(RoleName=r.name, PolicyArn=p["PolicyArn"])
    for name in iam.list_role_policies(RoleName=r.name).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=r.name, PolicyName=name)
    iam.delete_role(RoleName=r.name)


def _unsubscribe(r: Resource) -> None:
    if r.arn.startswith("arn:"):  # a pending subscription has no ARN yet; it goes with its topic
        _c("sns").unsubscribe(SubscriptionArn=r.arn)


def _subscription_exists(r: Resource) -> bool:
    if not r.arn.startswith("arn:"):
        return False
    _c("sns").get_subscription_attributes(SubscriptionArn=r.arn)
    return True


def _queue_exists(r: Resource) -> bool:
    _c("sqs").get_queue_attributes(QueueUrl=r.ref["QueueUrl"], AttributeNames=["QueueArn"])
    return True


def _table_exists(r: Resource) -> bool:
    _c("dynamodb").describe_table(TableName=r.name)
    return True


def _endpoint_exists(r: Resource) -> bool:
    _c("sagemaker").describe_endpoint(EndpointName=r.name)
    return True


def _attached(r: Resource) -> bool:
    attached = _c("iam").list_attached_role_policies(RoleName=r.parent).get("AttachedPolicies", [])
    return any(p["PolicyArn"] == r.arn for p in attached)


def _alarm_exists(r: Resource) -> bool:
    found = _c("cloudwatch").describe_alarms(
        AlarmNames=[r.name], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    return bool(found.get("MetricAlarms") or found.get("CompositeAlarms"))


def _metric_filter_exists(r: Resource) -> bool:
    found = (
        _c("logs")
        .describe_metric_filters(logGroupName=r.parent, filterNamePrefix=r.name)
        .get("metricFilters", [])
    )
    return any(f["filterName"] == r.name for f in found)


def _log_group_exists(r: Resource) -> bool:
    found = _c("logs").describe_log_groups(logGroupNamePrefix=r.name).get("logGroups", [])
    return any(g["logGroupName"] == r.name for g in found)


# (service, kind) -> (delete it, does it still exist? (may raise a "gone" ClientError))
ACTIONS: dict[tuple[str, str], tuple[Callable[[Resource], object], Callable[[Resource], bool]]] = {
    ("cloudwatch", "alarm"): (lambda r: _c("cloudwatch").delete_alarms(AlarmNames=[r.name]), _alarm_exists),
    ("cloudwatch", "dashboard"): (
        lambda r: _c("cloudwatch").delete_dashboards(DashboardNames=[r.name]),
        lambda r: bool(_c("cloudwatch").get_dashboard(DashboardName=r.name)),
    ),
    ("logs", "metric filter"): (
        lambda r: _c("logs").delete_metric_filter(logGroupName=r.parent, filterName=r.name),
        _metric_filter_exists,
    ),
    ("logs", "log group"): (lambda r: _c("logs").delete_log_group(logGroupName=r.name), _log_group_exists),
    ("lambda", "event source mapping"): (
        lambda r: _c("lambda").delete_event_source_mapping(UUID=r.ref["UUID"]),
        lambda r: bool(_c("lambda").get_event_source_mapping(UUID=r.ref["UUID"])),
    ),
    ("lambda", "function url"): (
        lambda r: _c("lambda").delete_function_url_config(FunctionName=r.parent),
        lambda r: bool(_c("lambda").get_function_url_config(FunctionName=r.parent)),
    ),
    ("lambda", "function"): (
        lambda r: _c("lambda").delete_function(FunctionName=r.name),
        lambda r: bool(_c("lambda").get_function(FunctionName=r.name)),
    ),
    ("sns", "subscription"): (_unsubscribe, _subscription_exists),
    ("sns", "topic"): (
        lambda r: _c("sns").delete_topic(TopicArn=r.arn),
        lambda r: bool(_c("sns").get_topic_attributes(TopicArn=r.arn)),
    ),
    ("sqs", "queue"): (lambda r: _c("sqs").delete_queue(QueueUrl=r.ref["QueueUrl"]), _queue_exists),
    ("dynamodb", "table"): (lambda r: _c("dynamodb").delete_table(TableName=r.name), _table_exists),
    ("sagemaker", "endpoint"): (
        lambda r: _c("sagemaker").delete_endpoint(EndpointName=r.name),
        _endpoint_exists,
    ),
    ("sagemaker", "endpoint config"): (
        lambda r: _c("sagemaker").delete_endpoint_config(EndpointConfigName=r.name),
        lambda r: bool(_c("sagemaker").describe_endpoint_config(EndpointConfigName=r.name)),
    ),
    ("sagemaker", "model"): (
        lambda r: _c("sagemaker").delete_model(ModelName=r.name),
        lambda r: bool(_c("sagemaker").describe_model(ModelName=r.name)),
    ),
    ("s3", "object"): (
        lambda r: _c("s3").delete_object(Bucket=r.parent, **_object_id(r)),
        lambda r: bool(_c("s3").head_object(Bucket=r.parent, **_object_id(r))),
    ),
    ("s3", "bucket"): (_delete_bucket, lambda r: bool(_c("s3").head_bucket(Bucket=r.name))),
    ("iam", "attached policy"): (
        lambda r: _c("iam").detach_role_policy(RoleName=r.parent, PolicyArn=r.arn),
        _attached,
    ),
    ("iam", "inline policy"): (
        lambda r: _c("iam").delete_role_policy(RoleName=r.parent, PolicyName=r.name),
        lambda r: bool(_c("iam").get_role_policy(RoleName=r.parent, PolicyName=r.name)),
    ),
    ("iam", "role"): (_delete_role, lambda r: bool(_c("iam").get_role(RoleName=r.name))),
}
assert set(ACTIONS) == set(inventory.DELETE_ORDER)


def _still_there(r: Resource) -> str:
    """'present' or 'gone', for wait_for_state."""
    try:
        return "present" if ACTIONS[(r.service, r.kind)][1](r) else "gone"
    except ClientError as exc:
        if is_not_found(exc):
            return "gone"
        raise


def delete_one(r: Resource, *, timeout_s: float | None = None, sweep: bool = False) -> bool:
    """Delete one resource of the kit and wait until it is gone; False when it was gone already.

    Another identity's resource is deleted only in the instructor's sweep (sweep=True).
    """
    if not r.owned:
        raise ValueError(f"refusing to delete {r.kind} {r.name}: it is not the kit's")
    if r.foreign and not sweep:
        raise ValueError(f"refusing to delete {r.kind} {r.name}: {inventory.not_yours(r.creator)}")
    doing = f"deleting {r.kind} {r.name}" + (f" in {r.parent}" if r.parent else "")
    try:
        # some deletes succeed on missing resources (DeleteAlarms, DeleteTopic): look first, to report truthfully
        if _still_there(r) == "gone":
            return False
        ACTIONS[(r.service, r.kind)][0](r)
    except ClientError as exc:
        if is_not_found(exc):
            return False
        raise friendly(exc, doing) from exc
    try:
        wait_for_state(
            lambda: _still_there(r),
            what=f"{r.kind} {r.name} to be deleted",
            done={"gone"},
            timeout_s=timeout_s or WAIT_S.get(r.kind, DEFAULT_WAIT_S),
            interval_s=0.05 if session.settings().is_local else 5,
            hint=f"Check in the console whether {r.service} still shows it, then run the cleanup again.",
        )
    except ClientError as exc:
        raise friendly(exc, f"checking that {r.kind} {r.name} is gone") from exc
    return True


@dataclass
class Report:
    """What a cleanup found, deleted, left alone, and what is left of the kit afterwards."""

    scope: str
    delete: bool
    sweep: bool = False  # every prefix and every creator (the instructor's --all-prefixes)
    found: list[Resource] = field(default_factory=list)  # the kit's, in scope (age), in deletion order
    left_alone: list[Resource] = field(default_factory=list)  # lookalikes and younger than older_than
    deleted: list[Resource] = field(default_factory=list)
    already_gone: list[Resource] = field(default_factory=list)
    left: list[Resource] = field(default_factory=list)  # the kit's, in scope, still there afterwards

    @property
    def ok(self) -> bool:
        """True when a deleting run left nothing of the kit in scope (always True for a listing)."""
        return not self.delete or not self.left

    @property
    def not_yours(self) -> list[Resource]:
        """The kit's resources of the prefix that another identity created: left alone."""
        return [r for r in self.left_alone if r.foreign]

    def whose(self) -> str:
        """The creators of what the sweep deletes (or would delete), grouped, with their prefixes."""
        groups: dict[str, list[Resource]] = {}
        for r in self.found:
            groups.setdefault(r.creator or "no creator tag (an older kit's)", []).append(r)
        return "; ".join(
            f"{who}: {len(rs)} (prefix {', '.join(sorted({r.prefix for r in rs}))})"
            for who, rs in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
        )

    def __str__(self) -> str:
        cost = inventory.hourly_total(self.found)
        whose = f" By creator: {self.whose()}." if self.sweep and self.found else ""
        theirs = self.not_yours
        others = (
            ""
            if not theirs
            else (
                f" Not yours, left alone: {len(theirs)} created by "
                + ", ".join(sorted({r.creator for r in theirs}))
                + " (the instructor's --all-prefixes sweep removes them)."
            )
        )
        if not self.delete:
            return (
                f"{self.scope}: {len(self.found)} resource(s) of the kit (~${cost:.4f}/hour), nothing deleted."
                f"{whose}{others} "
                "To delete them: `python -m helpers cleanup --yes` (or DELETE = True in the notebook)."
            )
        text = (
            f"{self.scope}: deleted {len(self.deleted)}, already gone {len(self.already_gone)}, "
            f"left alone {len(self.left_alone)}, left of the kit {len(self.left)}.{whose}{others}"
        )
        return text + ("" if self.ok else " Left: " + ", ".join(f"{r.kind} {r.name}" for r in self.left))


def _in_scope(r: Resource, cutoff: _dt.datetime | None, sweep: bool = False) -> bool:
    """The kit's, yours unless sweeping (another identity's creator tag: not yours), and (in a sweep with an
    age) created before the cutoff according to its tags."""
    if not r.owned or (r.foreign and not sweep):
        return False
    return cutoff is None or (r.created_at is not None and r.created_at < cutoff)


def cleanup(
    prefix: str | None = None,
    *,
    delete: bool | None = None,
    older_than: _dt.timedelta | None = None,
    all_prefixes: bool = False,
    show: bool = False,
) -> Report:
    """List the kit's resources for prefix (or every prefix), delete them when asked, and check none is left.

    delete=None means: delete in local mode, only list in aws mode. For one prefix, only the caller's
    resources (and those without a creator tag) are in scope; all_prefixes sweeps every creator's.
    """
    settings = session.settings()
    delete = settings.is_local if delete is None else delete
    prefix = None if all_prefixes else (prefix or settings.prefix)
    cutoff = _dt.datetime.now(_dt.UTC) - older_than if older_than else None
    scope = ("every prefix" if all_prefixes else f"prefix {prefix}") + (
        f", older than {older_than}" if older_than else ""
    )
    found = inventory.collect(prefix, settings, all_prefixes=all_prefixes)
    report = Report(scope, delete, sweep=all_prefixes)
    report.found = [r for r in found if _in_scope(r, cutoff, all_prefixes)]
    report.left_alone = [r for r in found if not _in_scope(r, cutoff, all_prefixes)]
    if show:
        inventory.show(found)
    if not delete:
        return report
    for r in report.found:
        (report.deleted if delete_one(r, sweep=all_prefixes) else report.already_gone).append(r)
        if show:
            print(f"deleted {r.kind:<20} {r.name}" + (f"  (in {r.parent})" if r.parent else ""))
    after = inventory.collect(prefix, settings, all_prefixes=all_prefixes)
    report.left = [r for r in after if _in_scope(r, cutoff, all_prefixes)]
    if show:
        print(report)
    return report
