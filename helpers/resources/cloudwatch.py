"""CloudWatch: the kit's metric and composite alarms (tagged) and its dashboard (untaggable: the kit's
by its exact name, so found after the tagged resources of its prefix). Priced per alarm-month by
tier and per dashboard-month (https://aws.amazon.com/cloudwatch/pricing/).
"""

from __future__ import annotations

from typing import Any, ClassVar

from helpers import session
from helpers.resources._kind import HOURS_PER_MONTH, Kind, Resource, Search, pages, tag_dict


class Alarm(Kind):
    service, kind = "cloudwatch", "alarm"
    USD_MONTH: ClassVar[dict[str, float]] = {"standard": 0.10, "high-resolution": 0.30, "composite": 0.50}
    TYPES: ClassVar[list[str]] = ["MetricAlarm", "CompositeAlarm"]

    def find(self, search: Search) -> None:
        """The kit's metric and composite alarms, and lookalikes."""
        cw = session.client("cloudwatch")
        kwargs = {"AlarmNamePrefix": f"{search.prefix}-"} if search.prefix else {}
        for page in cw.get_paginator("describe_alarms").paginate(AlarmTypes=self.TYPES, **kwargs):
            for composite, alarms in (
                (False, page.get("MetricAlarms", [])),
                (True, page.get("CompositeAlarms", [])),
            ):
                for alarm in alarms:
                    tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
                    search.tagged(
                        self,
                        alarm["AlarmName"],
                        tag_dict(tags),
                        arn=alarm["AlarmArn"],
                        est_hourly_usd=self.cost(alarm, composite),
                        note=f"state {alarm.get('StateValue', '?')}",
                    )

    def cost(self, alarm: dict[str, Any], composite: bool) -> float:
        """USD per hour of an alarm: composite, high-resolution (a period under 60 s) or standard."""
        tier = "composite" if composite else "high-resolution" if alarm.get("Period", 60) < 60 else "standard"
        return self.USD_MONTH[tier] / HOURS_PER_MONTH

    def exists(self, r: Resource) -> bool:
        found = session.client("cloudwatch").describe_alarms(AlarmNames=[r.name], AlarmTypes=self.TYPES)
        return bool(found.get("MetricAlarms") or found.get("CompositeAlarms"))

    def delete(self, r: Resource) -> None:
        session.client("cloudwatch").delete_alarms(AlarmNames=[r.name])


class Dashboard(Kind):
    service, kind = "cloudwatch", "dashboard"
    USD_MONTH: ClassVar[float] = 3.00  # beyond the account's first 3 dashboards

    def find(self, search: Search) -> None:
        """Dashboards cannot be tagged: the kit's are those with the exact name of a prefix the tags know
        (so they are found last)."""
        cw = session.client("cloudwatch")
        prefixes = {search.prefix} if search.prefix else {r.prefix for r in search.found if r.tagged}
        for prefix in sorted(prefixes):
            name = search.names(prefix).dashboard
            for d in pages(cw, "list_dashboards", "DashboardEntries", DashboardNamePrefix=name):
                if d["DashboardName"] == name:
                    self.add(search, prefix, d)

    def add(self, search: Search, prefix: str, entry: dict[str, Any]) -> None:
        """Add the prefix's dashboard, created when the prefix's first tagged resource was, by its creator."""
        started = [r.created_at for r in search.found if r.tagged and r.prefix == prefix and r.created_at]
        creator = self.creator(search, prefix)
        search.add(
            Resource(
                self.service,
                self.kind,
                entry["DashboardName"],
                arn=entry.get("DashboardArn", ""),
                prefix=prefix,
                created_at=min(started) if started else entry.get("LastModified"),
                owned=True,
                creator=creator,
                foreign=search.is_foreign(creator),
                est_hourly_usd=self.USD_MONTH / HOURS_PER_MONTH,
                note=search.whose(creator, "untaggable: the kit's exact name"),
            )
        )

    @staticmethod
    def creator(search: Search, prefix: str) -> str:
        """A dashboard has no tags: it is the caller's when any tagged resource of its prefix is (or none names a
        creator), else the creator of the prefix's other tagged resources."""
        creators = {r.creator for r in search.found if r.tagged and r.prefix == prefix}
        if search.me in creators:
            return search.me
        if not creators or "" in creators:
            return ""
        return sorted(creators)[0]

    def exists(self, r: Resource) -> bool:
        return bool(session.client("cloudwatch").get_dashboard(DashboardName=r.name))

    def delete(self, r: Resource) -> None:
        session.client("cloudwatch").delete_dashboards(DashboardNames=[r.name])
