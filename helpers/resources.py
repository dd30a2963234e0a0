"""Resources: every kind the kit creates, each in one class that finds it, tells whether it is still
there, deletes it and prices it.

A resource is the kit's when it carries the kit's tag and the prefix tag. Resources that cannot
be tagged are the kit's by derivation: S3 objects, IAM policies, SNS subscriptions and Lambda
event source mappings by their tagged parent; a log group AWS created untagged by the name of
a tagged function or endpoint; metric filters in those log groups by the metric namespace that
carries the prefix; the dashboard by its exact name. Lookalikes (named after the prefix but
without the kit's tags) are listed with owned=False and never deleted.

Each resource also names its creator (the workshop-creator tag: the identity ARN that created it;
derived resources take their parent's). One carrying another identity's ARN is marked foreign: the
kit's, but not yours, and only the instructor's --all-prefixes sweep deletes it. Resources without
the creator tag (made by older versions of the kit) are judged by their prefix alone, as before.

Costs are estimates from us-east-1 on-demand list prices of PRICES_AS_OF (https://aws.amazon.com/pricing/),
kept on the class of the kind they price.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from helpers import session
from helpers.config import KIT_NAME, TAG_CREATED, TAG_CREATOR, TAG_KIT, TAG_PREFIX, Names, Settings
from helpers.errors import is_not_found

PRICES_AS_OF = "2025-06-01"  # us-east-1 on-demand list prices; check https://aws.amazon.com/pricing/
HOURS_PER_MONTH = 730


@dataclass
class Resource:
    """One resource found in the cloud, and whether it is the kit's to delete."""

    service: str
    kind: str
    name: str
    arn: str = ""
    prefix: str = ""
    created_at: _dt.datetime | None = None
    tagged: bool = False  # carries workshop-kit and workshop-prefix itself
    owned: bool = False  # the kit's: tagged, or derived from a tagged parent / exact kit name
    creator: str = ""  # the identity ARN in its workshop-creator tag ('' when made by an older kit)
    foreign: bool = (
        False  # the kit's, but created by another identity: only the --all-prefixes sweep deletes it
    )
    est_hourly_usd: float | None = 0.0
    parent: str = ""  # the bucket, role, log group, topic or function it belongs to
    note: str = ""
    ref: dict[str, str] = field(default_factory=dict, compare=False, repr=False)  # ids the delete call needs


def tag_dict(tags: dict[str, str] | list[dict[str, str]] | None) -> dict[str, str]:
    """Tags as a dict, from either shape AWS answers with."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags}


def owner(tags: dict[str, str]) -> str | None:
    """The prefix the kit's tags name, or None when the resource does not carry the kit's tags."""
    return tags.get(TAG_PREFIX) if tags.get(TAG_KIT) == KIT_NAME else None


def not_yours(creator: str) -> str:
    """Why a resource of another identity is left alone."""
    return f"created by {creator} — not yours; the instructor's --all-prefixes sweep removes it"


def parse_created(tags: dict[str, str]) -> _dt.datetime | None:
    """The creation time recorded in the kit's tag (aware UTC), or None."""
    text = tags.get(TAG_CREATED, "")
    try:
        return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)
    except ValueError:
        return None


def _code(exc: ClientError) -> str:
    """The error code of an AWS error."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def _epoch_ms(value: float | None) -> _dt.datetime | None:
    """A time AWS gives in milliseconds since the epoch, as aware UTC."""
    return _dt.datetime.fromtimestamp(value / 1000, _dt.UTC) if value else None


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """The items under key of every page (dicts for most operations; names or URLs for list_tables, list_queues...)."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


class Search:
    """One search of the cloud for the kit's resources of a prefix (of every prefix when prefix is None).

    me is the caller's identity ARN: a resource whose creator tag names another identity is foreign.
    """

    def __init__(self, prefix: str | None, settings: Settings, me: str = "") -> None:
        self.prefix = prefix
        self.settings = settings
        self.me = me
        self.found: list[Resource] = []

    def is_foreign(self, creator: str) -> bool:
        """True when creator names an identity other than the caller's (no creator: an older kit's, by prefix)."""
        return bool(creator) and creator != self.me

    def whose(self, creator: str, note: str = "") -> str:
        """The note, with the reason a foreign resource is left alone when listing one prefix."""
        if self.prefix is None or not self.is_foreign(creator):
            return note
        return "; ".join(filter(None, [not_yours(creator), note]))

    def names(self, prefix: str) -> Names:
        """The kit's names for a prefix (this attendee's settings carry overrides and the model version)."""
        return self.settings.names if prefix == self.settings.prefix else Names(prefix)

    def classify(self, name: str, tags: dict[str, str]) -> tuple[bool, str] | None:
        """(owned, prefix) for a resource named name with tags, or None when it is not of interest."""
        who = owner(tags)
        if who is not None:
            return (True, who) if self.prefix in (None, who) else None
        if self.prefix is not None and name.rsplit("/", 1)[-1].startswith(f"{self.prefix}-"):
            return (False, self.prefix)
        return None

    def name_filter(self, name: str) -> bool:
        """Cheap pre-filter before asking for tags: in prefix mode only names that start with the prefix."""
        if self.prefix is None:
            return True
        n = self.names(self.prefix)
        return name.startswith(f"{self.prefix}-") or name in (n.endpoint, n.function)

    def add(self, resource: Resource) -> Resource:
        """Record a resource found."""
        self.found.append(resource)
        return resource

    def owned(self, kind: type[Kind]) -> list[Resource]:
        """The kit's resources of one kind found so far."""
        return [r for r in self.found if r.owned and (r.service, r.kind) == (kind.service, kind.kind)]

    def tagged(
        self,
        kind: Kind,
        name: str,
        tags: dict[str, str],
        *,
        arn: str = "",
        est_hourly_usd: float | None = 0.0,
        note: str = "",
        ref: dict[str, str] | None = None,
    ) -> Resource | None:
        """Add a taggable resource when it is the kit's for this prefix or a lookalike."""
        verdict = self.classify(name, tags)
        if verdict is None:
            return None
        owned, prefix = verdict
        creator = tags.get(TAG_CREATOR, "") if owned else ""
        if not owned:
            note = "; ".join(filter(None, ["without the kit's tags: left alone", note]))
        return self.add(
            Resource(
                kind.service,
                kind.kind,
                name,
                arn=arn,
                prefix=prefix,
                created_at=parse_created(tags),
                tagged=owned,
                owned=owned,
                creator=creator,
                foreign=self.is_foreign(creator),
                est_hourly_usd=est_hourly_usd,
                note=self.whose(creator, note),
                ref=ref or {},
            )
        )

    def child(
        self,
        parent: Resource,
        kind: Kind,
        name: str,
        *,
        arn: str = "",
        est_hourly_usd: float | None = 0.0,
        note: str = "",
        ref: dict[str, str] | None = None,
    ) -> Resource:
        """Add a resource that belongs to parent (deleted before it, never on its own), created by parent's creator."""
        return self.add(
            Resource(
                kind.service,
                kind.kind,
                name,
                arn=arn,
                prefix=parent.prefix,
                created_at=parent.created_at,
                owned=parent.owned,
                creator=parent.creator,
                foreign=parent.foreign,
                est_hourly_usd=est_hourly_usd,
                parent=parent.name,
                note=self.whose(parent.creator, note),
                ref=ref or {},
            )
        )


class Kind:
    """One kind of resource the kit creates: how to find it, whether it is still there, how to delete it."""

    service: ClassVar[str]
    kind: ClassVar[str]
    wait_s: ClassVar[float] = 120  # how long its deletion may take to be visible

    def find(self, search: Search) -> None:
        """Add this kind's resources to the search (a kind that belongs to a parent is found by the parent's)."""

    def exists(self, r: Resource) -> bool:
        """True while r is there (may raise AWS's 'not found' error instead of answering False)."""
        raise NotImplementedError

    def delete(self, r: Resource) -> None:
        """Ask AWS to delete r."""
        raise NotImplementedError


# --- Lambda


class Function(Kind):
    service, kind = "lambda", "function"

    def find(self, search: Search) -> None:
        """The kit's functions and lookalikes, with the event source mappings and URL of the kit's."""
        lam = session.client("lambda")
        for fn in _pages(lam, "list_functions", "Functions"):
            if not search.name_filter(fn["FunctionName"]):
                continue
            tags = lam.list_tags(Resource=fn["FunctionArn"]).get("Tags", {})
            r = search.tagged(self, fn["FunctionName"], tags, arn=fn["FunctionArn"])
            if r is not None and r.owned:
                EventSourceMapping().find_in(search, r)
                FunctionUrl().find_in(search, r)

    def exists(self, r: Resource) -> bool:
        return bool(session.client("lambda").get_function(FunctionName=r.name))

    def delete(self, r: Resource) -> None:
        session.client("lambda").delete_function(FunctionName=r.name)


class EventSourceMapping(Kind):
    service, kind = "lambda", "event source mapping"
    wait_s = 300

    def find_in(self, search: Search, function: Resource) -> None:
        """The mappings that feed a function."""
        lam = session.client("lambda")
        for esm in _pages(
            lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=function.name
        ):
            search.child(
                function, self, esm["UUID"], arn=esm.get("EventSourceArn", ""), ref={"UUID": esm["UUID"]}
            )

    def exists(self, r: Resource) -> bool:
        return bool(session.client("lambda").get_event_source_mapping(UUID=r.ref["UUID"]))

    def delete(self, r: Resource) -> None:
        session.client("lambda").delete_event_source_mapping(UUID=r.ref["UUID"])


class FunctionUrl(Kind):
    service, kind = "lambda", "function url"

    def find_in(self, search: Search, function: Resource) -> None:
        """A function's URL, when it has one."""
        try:
            url = session.client("lambda").get_function_url_config(FunctionName=function.name)
        except ClientError as exc:
            if _code(exc) not in ("ResourceNotFoundException", "NotImplemented", "404"):
                raise
            return
        search.child(function, self, url["FunctionUrl"], ref={"FunctionName": function.name})

    def exists(self, r: Resource) -> bool:
        return bool(session.client("lambda").get_function_url_config(FunctionName=r.parent))

    def delete(self, r: Resource) -> None:
        session.client("lambda").delete_function_url_config(FunctionName=r.parent)


# --- SageMaker


class _SageMakerKind(Kind):
    """Endpoints, endpoint configurations and models: listed, tagged and named alike."""

    service = "sagemaker"
    operation: ClassVar[str]  # the List operation, the key of its items, and their name and ARN keys
    key: ClassVar[str]
    name_key: ClassVar[str]
    arn_key: ClassVar[str]

    def listed(self, search: Search) -> list[dict[str, Any]]:
        """The items of this kind whose name contains the prefix."""
        contains = {"NameContains": search.prefix} if search.prefix else {}
        return list(_pages(session.client("sagemaker"), self.operation, self.key, **contains))

    def find(self, search: Search) -> None:
        """The kit's items of this kind and lookalikes, the kit's priced."""
        sm = session.client("sagemaker")
        seen: set[str] = set()
        for item in self.listed(search):
            name = item[self.name_key]
            if name in seen or not search.name_filter(name):
                continue
            seen.add(name)
            tags = sm.list_tags(ResourceArn=item[self.arn_key]).get("Tags", [])
            r = search.tagged(self, name, tag_dict(tags), arn=item[self.arn_key])
            if r is not None and r.owned:
                self.price(r)

    def price(self, r: Resource) -> None:
        """Set r's hourly cost (nothing to pay for a configuration or a model)."""


class Endpoint(_SageMakerKind):
    kind = "endpoint"
    operation, key, name_key, arn_key = "list_endpoints", "Endpoints", "EndpointName", "EndpointArn"
    wait_s = 900
    INSTANCE_USD_HOUR: ClassVar[dict[str, float]] = {  # real-time inference, per instance-hour
        "ml.t2.medium": 0.056,
        "ml.t2.large": 0.111,
        "ml.m5.large": 0.115,
        "ml.m5.xlarge": 0.23,
        "ml.c5.large": 0.102,
        "ml.c5.xlarge": 0.204,
        "ml.g4dn.xlarge": 0.736,
    }

    def listed(self, search: Search) -> list[dict[str, Any]]:
        """The endpoints whose name contains the prefix, and the existing one this attendee reuses."""
        items = super().listed(search)
        reused = search.names(search.prefix).endpoint_name if search.prefix else ""
        if reused:
            sm = session.client("sagemaker")
            items += [e for e in _pages(sm, self.operation, self.key) if e[self.name_key] == reused]
        return items

    def price(self, r: Resource) -> None:
        r.est_hourly_usd, r.note = self.cost(r.name)

    def cost(self, name: str) -> tuple[float | None, str]:
        """USD per hour of an endpoint's instances (serverless: $0 idle), and what they are."""
        sm = session.client("sagemaker")
        try:
            endpoint = sm.describe_endpoint(EndpointName=name)
            config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        except ClientError:
            return None, "cost unknown (could not describe it)"
        total, notes = 0.0, []
        counts = {
            v["VariantName"]: v.get("CurrentInstanceCount") for v in endpoint.get("ProductionVariants", [])
        }
        for variant in config.get("ProductionVariants", []):
            if "ServerlessConfig" in variant:
                notes.append(f"{variant['VariantName']}: serverless, $0 idle")
                continue
            itype = variant.get("InstanceType", "?")
            count = counts.get(variant["VariantName"]) or variant.get("InitialInstanceCount", 1)
            price = self.INSTANCE_USD_HOUR.get(itype)
            if price is None:
                return None, f"{itype}: price not in the kit's table"
            total += price * count
            notes.append(f"{variant['VariantName']}: {count} x {itype}")
        return total, "; ".join(notes)

    def exists(self, r: Resource) -> bool:
        return bool(session.client("sagemaker").describe_endpoint(EndpointName=r.name))

    def delete(self, r: Resource) -> None:
        session.client("sagemaker").delete_endpoint(EndpointName=r.name)


class EndpointConfig(_SageMakerKind):
    kind = "endpoint config"
    operation, key = "list_endpoint_configs", "EndpointConfigs"
    name_key, arn_key = "EndpointConfigName", "EndpointConfigArn"

    def exists(self, r: Resource) -> bool:
        return bool(session.client("sagemaker").describe_endpoint_config(EndpointConfigName=r.name))

    def delete(self, r: Resource) -> None:
        session.client("sagemaker").delete_endpoint_config(EndpointConfigName=r.name)


class Model(_SageMakerKind):
    kind = "model"
    operation, key, name_key, arn_key = "list_models", "Models", "ModelName", "ModelArn"

    def exists(self, r: Resource) -> bool:
        return bool(session.client("sagemaker").describe_model(ModelName=r.name))

    def delete(self, r: Resource) -> None:
        session.client("sagemaker").delete_model(ModelName=r.name)


# --- CloudWatch Logs


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
            return {g["logGroupName"]: g for g in _pages(logs, "describe_log_groups", "logGroups")}
        n = search.names(search.prefix)
        groups: dict[str, dict[str, Any]] = {}
        for stem in (
            f"/aws/lambda/{search.prefix}-",
            f"/aws/sagemaker/Endpoints/{search.prefix}-",
            n.function_log_group,
            n.endpoint_log_group,
        ):
            for g in _pages(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=stem):
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
        for mf in _pages(logs, "describe_metric_filters", "metricFilters", logGroupName=group.name):
            if namespace not in {t.get("metricNamespace") for t in mf.get("metricTransformations", [])}:
                continue
            search.add(
                Resource(
                    self.service,
                    self.kind,
                    mf["filterName"],
                    prefix=group.prefix,
                    created_at=group.created_at or _epoch_ms(mf.get("creationTime")),
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


# --- CloudWatch


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
            for d in _pages(cw, "list_dashboards", "DashboardEntries", DashboardNamePrefix=name):
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


# --- SNS and SQS


class Topic(Kind):
    service, kind = "sns", "topic"

    def find(self, search: Search) -> None:
        """The kit's topics, with their subscriptions, and lookalikes."""
        sns = session.client("sns")
        for topic in _pages(sns, "list_topics", "Topics"):
            arn = topic["TopicArn"]
            name = arn.rsplit(":", 1)[-1]
            if not search.name_filter(name):
                continue
            tags = sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
            r = search.tagged(self, name, tag_dict(tags), arn=arn)
            if r is not None and r.owned:
                Subscription().find_in(search, r)

    def exists(self, r: Resource) -> bool:
        return bool(session.client("sns").get_topic_attributes(TopicArn=r.arn))

    def delete(self, r: Resource) -> None:
        session.client("sns").delete_topic(TopicArn=r.arn)


class Subscription(Kind):
    service, kind = "sns", "subscription"

    def find_in(self, search: Search, topic: Resource) -> None:
        """A topic's subscriptions, named protocol:endpoint."""
        for sub in _pages(
            session.client("sns"), "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic.arn
        ):
            pending = not sub["SubscriptionArn"].startswith("arn:")
            search.child(
                topic,
                self,
                f"{sub['Protocol']}:{sub['Endpoint']}",
                arn=sub["SubscriptionArn"],
                note="pending confirmation: goes with the topic" if pending else "",
            )

    def exists(self, r: Resource) -> bool:
        if not r.arn.startswith("arn:"):  # a pending subscription has no ARN yet; it goes with its topic
            return False
        session.client("sns").get_subscription_attributes(SubscriptionArn=r.arn)
        return True

    def delete(self, r: Resource) -> None:
        if r.arn.startswith("arn:"):
            session.client("sns").unsubscribe(SubscriptionArn=r.arn)


class Queue(Kind):
    service, kind = "sqs", "queue"

    def find(self, search: Search) -> None:
        """The kit's queues and lookalikes."""
        sqs = session.client("sqs")
        kwargs = {"QueueNamePrefix": f"{search.prefix}-"} if search.prefix else {}
        for url in _pages(sqs, "list_queues", "QueueUrls", **kwargs):
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
            search.tagged(self, url.rsplit("/", 1)[-1], tags, arn=url, ref={"QueueUrl": url})

    def exists(self, r: Resource) -> bool:
        session.client("sqs").get_queue_attributes(QueueUrl=r.ref["QueueUrl"], AttributeNames=["QueueArn"])
        return True

    def delete(self, r: Resource) -> None:
        session.client("sqs").delete_queue(QueueUrl=r.ref["QueueUrl"])


# --- DynamoDB


class Table(Kind):
    service, kind = "dynamodb", "table"
    wait_s = 600
    PROVISIONED_USD_HOUR: ClassVar[dict[str, float]] = {
        "read": 0.00013,
        "write": 0.00065,
    }  # per capacity unit

    def find(self, search: Search) -> None:
        """The kit's tables, priced, and lookalikes."""
        ddb = session.client("dynamodb")
        for name in _pages(ddb, "list_tables", "TableNames"):
            if not search.name_filter(name):
                continue
            try:
                table = ddb.describe_table(TableName=name)["Table"]
            except ClientError as exc:
                if _code(exc) == "ResourceNotFoundException":
                    continue
                raise
            tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
            cost, note = self.cost(table)
            search.tagged(self, name, tag_dict(tags), arn=table["TableArn"], est_hourly_usd=cost, note=note)

    def cost(self, table: dict[str, Any]) -> tuple[float, str]:
        """USD per hour of a table's provisioned capacity (on-demand: $0 idle), and its billing mode."""
        if table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") != "PROVISIONED":
            return 0.0, "on-demand: $0 idle"
        tput = table.get("ProvisionedThroughput", {})
        hourly = (
            tput.get("ReadCapacityUnits", 0) * self.PROVISIONED_USD_HOUR["read"]
            + tput.get("WriteCapacityUnits", 0) * self.PROVISIONED_USD_HOUR["write"]
        )
        return float(hourly), "provisioned capacity"

    def exists(self, r: Resource) -> bool:
        session.client("dynamodb").describe_table(TableName=r.name)
        return True

    def delete(self, r: Resource) -> None:
        session.client("dynamodb").delete_table(TableName=r.name)


# --- S3


class Bucket(Kind):
    service, kind = "s3", "bucket"

    def find(self, search: Search) -> None:
        """The kit's buckets, with every object version, and lookalikes (only names the kit could have made:
        other buckets may live in other regions)."""
        s3 = session.client("s3")
        for bucket in s3.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            if "-ml-workshop" not in name or not search.name_filter(name):
                continue
            arn = session.arn("s3", name, region="", account="")
            r = search.tagged(self, name, self.tags(name), arn=arn)
            if r is not None and r.owned:
                ObjectVersion().find_in(search, r)

    @staticmethod
    def tags(name: str) -> dict[str, str]:
        """A bucket's tags (none when it has no tag set)."""
        try:
            return tag_dict(session.client("s3").get_bucket_tagging(Bucket=name).get("TagSet", []))
        except ClientError as exc:
            if _code(exc) not in ("NoSuchTagSet", "NoSuchBucket"):
                raise
            return {}

    def exists(self, r: Resource) -> bool:
        return bool(session.client("s3").head_bucket(Bucket=r.name))

    def delete(self, r: Resource) -> None:
        """Delete every object version left (written since the inventory), then the bucket."""
        s3 = session.client("s3")
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=r.name):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=r.name, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=r.name)


class ObjectVersion(Kind):
    """One version (or delete marker) of an object in the kit's bucket."""

    service, kind = "s3", "object"
    STORAGE_USD_GB_MONTH: ClassVar[float] = 0.023

    def find_in(self, search: Search, bucket: Resource) -> None:
        """Every version and delete marker in a bucket."""
        s3 = session.client("s3")
        for key in ("Versions", "DeleteMarkers"):
            for v in _pages(s3, "list_object_versions", key, Bucket=bucket.name):
                size = v.get("Size", 0)
                what = "delete marker" if key == "DeleteMarkers" else f"{size:,} bytes"
                search.child(
                    bucket,
                    self,
                    v["Key"],
                    est_hourly_usd=size / 1e9 * self.STORAGE_USD_GB_MONTH / HOURS_PER_MONTH,
                    note=f"{what}, version {v['VersionId']}",
                    ref={"Key": v["Key"], "VersionId": v["VersionId"]},
                )

    @staticmethod
    def object_id(r: Resource) -> dict[str, str]:
        """Key and VersionId of an object version; an unversioned bucket's 'null' version is addressed by key alone."""
        version = r.ref["VersionId"]
        return {"Key": r.ref["Key"], **({"VersionId": version} if version != "null" else {})}

    def exists(self, r: Resource) -> bool:
        return bool(session.client("s3").head_object(Bucket=r.parent, **self.object_id(r)))

    def delete(self, r: Resource) -> None:
        session.client("s3").delete_object(Bucket=r.parent, **self.object_id(r))


# --- IAM


class Role(Kind):
    service, kind = "iam", "role"

    def find(self, search: Search) -> None:
        """The kit's roles, with their attached and inline policies, and lookalikes."""
        iam = session.client("iam")
        for role in _pages(iam, "list_roles", "Roles"):
            name = role["RoleName"]
            if not search.name_filter(name):
                continue
            tags = iam.list_role_tags(RoleName=name).get("Tags", [])
            r = search.tagged(self, name, tag_dict(tags), arn=role["Arn"])
            if r is not None and r.owned:
                AttachedPolicy().find_in(search, r)
                InlinePolicy().find_in(search, r)

    def exists(self, r: Resource) -> bool:
        return bool(session.client("iam").get_role(RoleName=r.name))

    def delete(self, r: Resource) -> None:
        """Detach and delete policies added since the inventory, take the role out of instance profiles
        (someone else's: they stay), then delete the role."""
        iam = session.client("iam")
        for profile in iam.list_instance_profiles_for_role(RoleName=r.name).get("InstanceProfiles", []):
            iam.remove_role_from_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=r.name
            )
        for p in iam.list_attached_role_policies(RoleName=r.name).get("AttachedPolicies", []):
            iam.detach_role_policy(RoleName=r.name, PolicyArn=p["PolicyArn"])
        for name in iam.list_role_policies(RoleName=r.name).get("PolicyNames", []):
            iam.delete_role_policy(RoleName=r.name, PolicyName=name)
        iam.delete_role(RoleName=r.name)


class AttachedPolicy(Kind):
    """A managed policy attached to the kit's role: detached, never deleted (it may be AWS's or shared)."""

    service, kind = "iam", "attached policy"

    def find_in(self, search: Search, role: Resource) -> None:
        """The managed policies attached to a role."""
        iam = session.client("iam")
        for p in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role.name):
            search.child(role, self, p["PolicyName"], arn=p["PolicyArn"], note="detached, not deleted")

    def exists(self, r: Resource) -> bool:
        attached = session.client("iam").list_attached_role_policies(RoleName=r.parent)
        return any(p["PolicyArn"] == r.arn for p in attached.get("AttachedPolicies", []))

    def delete(self, r: Resource) -> None:
        session.client("iam").detach_role_policy(RoleName=r.parent, PolicyArn=r.arn)


class InlinePolicy(Kind):
    service, kind = "iam", "inline policy"

    def find_in(self, search: Search, role: Resource) -> None:
        """The policies embedded in a role."""
        for policy in _pages(session.client("iam"), "list_role_policies", "PolicyNames", RoleName=role.name):
            search.child(role, self, policy)

    def exists(self, r: Resource) -> bool:
        return bool(session.client("iam").get_role_policy(RoleName=r.parent, PolicyName=r.name))

    def delete(self, r: Resource) -> None:
        session.client("iam").delete_role_policy(RoleName=r.parent, PolicyName=r.name)


# Every kind, in the order they are found: a parent before its children, functions and endpoints before
# the log groups AWS made for them, the dashboard (known by its prefix's tagged resources) last.
KINDS: tuple[Kind, ...] = (
    Function(),
    EventSourceMapping(),
    FunctionUrl(),
    Endpoint(),
    EndpointConfig(),
    Model(),
    LogGroup(),
    MetricFilter(),
    Alarm(),
    Topic(),
    Subscription(),
    Queue(),
    Table(),
    Bucket(),
    ObjectVersion(),
    Role(),
    AttachedPolicy(),
    InlinePolicy(),
    Dashboard(),
)
_BY_NAME = {(k.service, k.kind): k for k in KINDS}
_POSITION = {(k.service, k.kind): i for i, k in enumerate(KINDS)}


def kind_of(r: Resource) -> Kind:
    """The kind r is one of."""
    return _BY_NAME[(r.service, r.kind)]


def find(prefix: str | None, settings: Settings, me: str) -> list[Resource]:
    """The kit's resources of prefix (every prefix when None) and their lookalikes, kind by kind."""
    search = Search(prefix, settings, me)
    for kind in KINDS:
        kind.find(search)
    return sorted(search.found, key=lambda r: (_POSITION[(r.service, r.kind)], r.prefix, r.parent, r.name))


def exists(r: Resource) -> bool:
    """True while r is there (False once AWS says it is not found)."""
    try:
        return kind_of(r).exists(r)
    except ClientError as exc:
        if is_not_found(exc):
            return False
        raise


def delete(r: Resource) -> None:
    """Ask AWS to delete r (cleanup waits until it is gone)."""
    kind_of(r).delete(r)
