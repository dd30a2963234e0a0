"""CloudWatch Logs: the kit's log groups (tagged, or created untagged by AWS for the kit's function or
endpoint, and then the kit's as their parent is) and the metric filters in them that publish to the
prefix's namespace (untaggable). A log group is priced by its stored bytes
(https://aws.amazon.com/cloudwatch/pricing/, Logs: storage per GB-month).
"""

from __future__ import annotations

from typing import Any, ClassVar

from helpers import session
from helpers.resources._kind import HOURS_PER_MONTH, Kind, Resource, Search, epoch_ms, owner, pages
from helpers.resources.awslambda import Function
from helpers.resources.sagemaker import Endpoint


class LogGroup(Kind):
    service, kind = "logs", "log group"
    STORAGE_USD_GB_MONTH: ClassVar[float] = 0.03

    def find(self, search: Search) -> None:
        """The kit's log groups (tagged, or created by AWS for the kit's function or endpoint), lookalikes,
        and the kit's metric filters in them."""
        logs = session.client("logs")
        derived = {f"/aws/lambda/{r.name}": r for r in search.owned(Function)}
        derived |= {f"/aws/sagemaker/Endpoints/{r.name}": r for r in search.owned(Endpoint)}
        n = search.names(search.prefix) if search.prefix else None
        for name, group in sorted(self.listed(search).items()):
            tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
            r: Resource | None
            if owner(tags) is None and name in derived:
                r = self.created_by_aws(search, group, derived[name])
            else:
                r = search.tagged(
                    self,
                    name,
                    tags,
                    arn=group.get("arn", ""),
                    est_hourly_usd=self.cost(group),
                    note=self.retention(group),
                )
            if r is not None:
                MetricFilter().find_in(search, r)
            elif n is not None and name in (n.function_log_group, n.endpoint_log_group):
                # a reused function's or endpoint's log group is not the kit's, but the kit's filters in it are
                MetricFilter().find_in(search, Resource("logs", "log group", name, prefix=n.prefix))

    def listed(self, search: Search) -> dict[str, dict[str, Any]]:
        """The log groups the prefix's functions and endpoints may have (every group for every prefix), by name."""
        logs = session.client("logs")
        if search.prefix is None:
            return {g["logGroupName"]: g for g in pages(logs, "describe_log_groups", "logGroups")}
        n = search.names(search.prefix)
        groups: dict[str, dict[str, Any]] = {}
        for stem in (
            f"/aws/lambda/{search.prefix}-",
            f"/aws/sagemaker/Endpoints/{search.prefix}-",
            n.function_log_group,
            n.endpoint_log_group,
        ):
            for g in pages(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=stem):
                groups[g["logGroupName"]] = g
        return groups

    def created_by_aws(self, search: Search, group: dict[str, Any], parent: Resource) -> Resource:
        """Add the untagged log group AWS created for the kit's function or endpoint: the kit's, as its parent is."""
        return search.add(
            Resource(
                self.service,
                self.kind,
                group["logGroupName"],
                arn=group.get("arn", ""),
                prefix=parent.prefix,
                created_at=parent.created_at,
                owned=True,
                est_hourly_usd=self.cost(group),
                creator=parent.creator,
                foreign=parent.foreign,
                note=search.whose(
                    parent.creator, f"created by AWS for {parent.kind} {parent.name}; {self.retention(group)}"
                ),
            )
        )

    def cost(self, group: dict[str, Any]) -> float:
        """USD per hour of the group's stored bytes."""
        return float(group.get("storedBytes", 0)) / 1e9 * self.STORAGE_USD_GB_MONTH / HOURS_PER_MONTH

    @staticmethod
    def retention(group: dict[str, Any]) -> str:
        """How long the group keeps its events."""
        days = group.get("retentionInDays")
        return f"retention {days} d" if days else "kept forever"

    def exists(self, r: Resource) -> bool:
        found = session.client("logs").describe_log_groups(logGroupNamePrefix=r.name).get("logGroups", [])
        return any(g["logGroupName"] == r.name for g in found)

    def delete(self, r: Resource) -> None:
        session.client("logs").delete_log_group(logGroupName=r.name)


class MetricFilter(Kind):
    service, kind = "logs", "metric filter"

    def find_in(self, search: Search, group: Resource) -> None:
        """The kit's metric filters in a log group: those publishing to the prefix's namespace."""
        if not group.prefix:
            return
        namespace = search.names(group.prefix).metric_namespace
        logs = session.client("logs")
        for mf in pages(logs, "describe_metric_filters", "metricFilters", logGroupName=group.name):
            if namespace not in {t.get("metricNamespace") for t in mf.get("metricTransformations", [])}:
                continue
            search.add(
                Resource(
                    self.service,
                    self.kind,
                    mf["filterName"],
                    prefix=group.prefix,
                    created_at=group.created_at or epoch_ms(mf.get("creationTime")),
                    owned=True,
                    creator=group.creator,
                    foreign=group.foreign,
                    parent=group.name,
                    note=search.whose(group.creator, f"namespace {namespace}"),
                    ref={"logGroupName": group.name},
                )
            )

    def exists(self, r: Resource) -> bool:
        logs = session.client("logs")
        found = logs.describe_metric_filters(logGroupName=r.parent, filterNamePrefix=r.name).get(
            "metricFilters", []
        )
        return any(f["filterName"] == r.name for f in found)

    def delete(self, r: Resource) -> None:
        session.client("logs").delete_metric_filter(logGroupName=r.parent, filterName=r.name)
