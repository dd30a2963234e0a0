"""Inventory: everything the kit created for a prefix (or for every prefix), with an hourly cost estimate.

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
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from helpers import session
from helpers.config import (
    KIT_NAME,
    TAG_CREATED,
    TAG_CREATOR,
    TAG_KIT,
    TAG_PREFIX,
    Names,
    Settings,
    creator_tag_value,
)

PRICES_AS_OF = "2025-06-01"  # us-east-1 on-demand list prices; check https://aws.amazon.com/pricing/
HOURS_PER_MONTH = 730
# SageMaker real-time inference, per instance-hour.
SAGEMAKER_INSTANCE_USD_HOUR = {
    "ml.t2.medium": 0.056,
    "ml.t2.large": 0.111,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.c5.large": 0.102,
    "ml.c5.xlarge": 0.204,
    "ml.g4dn.xlarge": 0.736,
}
ALARM_USD_MONTH = {"standard": 0.10, "high-resolution": 0.30, "composite": 0.50}
DASHBOARD_USD_MONTH = 3.00  # beyond the account's first 3 dashboards
LOG_STORAGE_USD_GB_MONTH = 0.03
S3_STORAGE_USD_GB_MONTH = 0.023
DYNAMODB_PROVISIONED_USD_HOUR = {"read": 0.00013, "write": 0.00065}  # per capacity unit; on-demand idle: 0

# The order cleanup deletes in: whatever uses a resource goes before it.
DELETE_ORDER: tuple[tuple[str, str], ...] = (
    ("cloudwatch", "alarm"),
    ("cloudwatch", "dashboard"),
    ("logs", "metric filter"),
    ("logs", "log group"),
    ("lambda", "event source mapping"),
    ("lambda", "function url"),
    ("lambda", "function"),
    ("sns", "subscription"),
    ("sns", "topic"),
    ("sqs", "queue"),
    ("dynamodb", "table"),
    ("sagemaker", "endpoint"),
    ("sagemaker", "endpoint config"),
    ("sagemaker", "model"),
    ("s3", "object"),
    ("s3", "bucket"),
    ("iam", "attached policy"),
    ("iam", "inline policy"),
    ("iam", "role"),
)
RANK = {kind: i for i, kind in enumerate(DELETE_ORDER)}


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
    ref: dict = field(default_factory=dict, compare=False, repr=False)  # ids the delete call needs

    @property
    def rank(self) -> int:
        """Position in the deletion order."""
        return RANK[(self.service, self.kind)]


def tag_dict(tags: dict | list | None) -> dict[str, str]:
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
    return exc.response.get("Error", {}).get("Code", "")


def _epoch_ms(value: int | float | None) -> _dt.datetime | None:
    return _dt.datetime.fromtimestamp(value / 1000, _dt.UTC) if value else None


def _pages(client, operation: str, key: str, **kwargs) -> Iterator[Any]:
    """The items under key of every page (dicts for most operations; names or URLs for list_tables, list_queues...)."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


class _Finder:
    """Lists each service for the kit's resources of one prefix (or of every prefix when prefix is None).

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

    def client(self, service: str):
        return session.client(service)

    def classify(self, name: str, tags: dict[str, str]) -> tuple[bool, str] | None:
        """(owned, prefix) for a resource named name with tags, or None when it is not of interest."""
        who = owner(tags)
        if who is not None:
            return (True, who) if self.prefix in (None, who) else None
        if self.prefix is not None and name.rsplit("/", 1)[-1].startswith(f"{self.prefix}-"):
            return (False, self.prefix)
        return None

    def add(self, resource: Resource) -> Resource:
        self.found.append(resource)
        return resource

    def tagged(self, service: str, kind: str, name: str, tags: dict, **kw) -> Resource | None:
        """Add a taggable resource when it is the kit's for this prefix or a lookalike."""
        verdict = self.classify(name, tags)
        if verdict is None:
            return None
        owned, prefix = verdict
        note = kw.pop("note", "")
        creator = tags.get(TAG_CREATOR, "") if owned else ""
        if not owned:
            note = "; ".join(filter(None, ["without the kit's tags: left alone", note]))
        return self.add(
            Resource(
                service,
                kind,
                name,
                prefix=prefix,
                created_at=parse_created(tags),
                tagged=owned,
                owned=owned,
                creator=creator,
                foreign=self.is_foreign(creator),
                note=self.whose(creator, note),
                **kw,
            )
        )

    def child(self, parent: Resource, service: str, kind: str, name: str, **kw) -> Resource:
        """Add a resource that belongs to parent (deleted before it, never on its own), created by parent's creator."""
        note = self.whose(parent.creator, kw.pop("note", ""))
        return self.add(
            Resource(
                service,
                kind,
                name,
                prefix=parent.prefix,
                created_at=parent.created_at,
                owned=parent.owned,
                creator=parent.creator,
                foreign=parent.foreign,
                parent=parent.name,
                note=note,
                **kw,
            )
        )

    def owned(self, service: str, kind: str) -> list[Resource]:
        return [r for r in self.found if r.owned and (r.service, r.kind) == (service, kind)]

    def name_filter(self, name: str) -> bool:
        """Cheap pre-filter before asking for tags: in prefix mode only names that start with the prefix."""
        return self.prefix is None or name.startswith(f"{self.prefix}-") or name in self._exact_names()

    def _exact_names(self) -> set[str]:
        n = self.names(self.prefix) if self.prefix else None
        return {n.endpoint, n.function} if n else set()

    # --- services, in the order their dependencies need (functions and endpoints before log groups)

    def lambda_functions(self) -> None:
        lam = self.client("lambda")
        for fn in _pages(lam, "list_functions", "Functions"):
            if not self.name_filter(fn["FunctionName"]):
                continue
            tags = lam.list_tags(Resource=fn["FunctionArn"]).get("Tags", {})
            r = self.tagged("lambda", "function", fn["FunctionName"], tags, arn=fn["FunctionArn"])
            if r is None or not r.owned:
                continue
            for esm in _pages(
                lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=fn["FunctionName"]
            ):
                self.child(
                    r,
                    "lambda",
                    "event source mapping",
                    esm["UUID"],
                    arn=esm.get("EventSourceArn", ""),
                    ref={"UUID": esm["UUID"]},
                )
            try:
                url = lam.get_function_url_config(FunctionName=fn["FunctionName"])
                self.child(
                    r, "lambda", "function url", url["FunctionUrl"], ref={"FunctionName": fn["FunctionName"]}
                )
            except ClientError as exc:
                if _code(exc) not in ("ResourceNotFoundException", "NotImplemented", "404"):
                    raise

    def sagemaker(self) -> None:
        sm = self.client("sagemaker")
        contains = {"NameContains": self.prefix} if self.prefix else {}
        for kind, op, key, name_key, arn_key in (
            ("endpoint", "list_endpoints", "Endpoints", "EndpointName", "EndpointArn"),
            (
                "endpoint config",
                "list_endpoint_configs",
                "EndpointConfigs",
                "EndpointConfigName",
                "EndpointConfigArn",
            ),
            ("model", "list_models", "Models", "ModelName", "ModelArn"),
        ):
            items = list(_pages(sm, op, key, **contains))
            if kind == "endpoint" and self.prefix and self.names(self.prefix).endpoint_name:
                items += [
                    e for e in _pages(sm, op, key) if e[name_key] == self.names(self.prefix).endpoint_name
                ]
            seen = set()
            for item in items:
                name = item[name_key]
                if name in seen or not self.name_filter(name):
                    continue
                seen.add(name)
                tags = sm.list_tags(ResourceArn=item[arn_key]).get("Tags", [])
                r = self.tagged("sagemaker", kind, name, tag_dict(tags), arn=item[arn_key])
                if r is not None and kind == "endpoint":
                    r.est_hourly_usd, r.note = (
                        self._endpoint_cost(name) if r.owned else (r.est_hourly_usd, r.note)
                    )

    def _endpoint_cost(self, name: str) -> tuple[float | None, str]:
        sm = self.client("sagemaker")
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
            price = SAGEMAKER_INSTANCE_USD_HOUR.get(itype)
            if price is None:
                return None, f"{itype}: price not in the kit's table"
            total += price * count
            notes.append(f"{variant['VariantName']}: {count} x {itype}")
        return total, "; ".join(notes)

    def log_groups(self) -> None:
        logs = self.client("logs")
        derived = {f"/aws/lambda/{r.name}": r for r in self.owned("lambda", "function")}
        derived |= {f"/aws/sagemaker/Endpoints/{r.name}": r for r in self.owned("sagemaker", "endpoint")}
        groups: dict[str, dict] = {}
        n = self.names(self.prefix) if self.prefix else None
        if n is None:
            groups = {g["logGroupName"]: g for g in _pages(logs, "describe_log_groups", "logGroups")}
        else:
            for stem in (
                f"/aws/lambda/{self.prefix}-",
                f"/aws/sagemaker/Endpoints/{self.prefix}-",
                n.function_log_group,
                n.endpoint_log_group,
            ):
                for g in _pages(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=stem):
                    groups[g["logGroupName"]] = g
        for name, group in sorted(groups.items()):
            tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
            cost = group.get("storedBytes", 0) / 1e9 * LOG_STORAGE_USD_GB_MONTH / HOURS_PER_MONTH
            retention = (
                f"retention {group['retentionInDays']} d" if group.get("retentionInDays") else "kept forever"
            )
            r: Resource | None
            if owner(tags) is None and name in derived:
                parent = derived[name]
                r = self.add(
                    Resource(
                        "logs",
                        "log group",
                        name,
                        arn=group.get("arn", ""),
                        prefix=parent.prefix,
                        created_at=parent.created_at,
                        owned=True,
                        est_hourly_usd=cost,
                        creator=parent.creator,
                        foreign=parent.foreign,
                        note=self.whose(
                            parent.creator, f"created by AWS for {parent.kind} {parent.name}; {retention}"
                        ),
                    )
                )
            else:
                r = self.tagged(
                    "logs",
                    "log group",
                    name,
                    tags,
                    arn=group.get("arn", ""),
                    est_hourly_usd=cost,
                    note=retention,
                )
            if r is not None:
                self.metric_filters(r)
            elif n is not None and self.prefix and name in (n.function_log_group, n.endpoint_log_group):
                # a reused function's or endpoint's log group is not the kit's, but the kit's filters in it are
                self.metric_filters(Resource("logs", "log group", name, prefix=self.prefix))

    def metric_filters(self, group: Resource) -> None:
        """The kit's metric filters in a log group: those publishing to the prefix's namespace."""
        logs = self.client("logs")
        prefixes = [group.prefix] if group.prefix else []
        for mf in _pages(logs, "describe_metric_filters", "metricFilters", logGroupName=group.name):
            spaces = {t.get("metricNamespace") for t in mf.get("metricTransformations", [])}
            for prefix in prefixes:
                if self.names(prefix).metric_namespace in spaces:
                    self.add(
                        Resource(
                            "logs",
                            "metric filter",
                            mf["filterName"],
                            prefix=prefix,
                            created_at=group.created_at or _epoch_ms(mf.get("creationTime")),
                            owned=True,
                            creator=group.creator,
                            foreign=group.foreign,
                            parent=group.name,
                            note=self.whose(
                                group.creator, f"namespace {self.names(prefix).metric_namespace}"
                            ),
                            ref={"logGroupName": group.name},
                        )
                    )

    def alarms(self) -> None:
        cw = self.client("cloudwatch")
        kwargs = {"AlarmNamePrefix": f"{self.prefix}-"} if self.prefix else {}
        pages = cw.get_paginator("describe_alarms").paginate(
            AlarmTypes=["MetricAlarm", "CompositeAlarm"], **kwargs
        )
        for page in pages:
            for kind_key, alarms in (
                ("metric", page.get("MetricAlarms", [])),
                ("composite", page.get("CompositeAlarms", [])),
            ):
                for alarm in alarms:
                    tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
                    if kind_key == "composite":
                        monthly = ALARM_USD_MONTH["composite"]
                    else:
                        monthly = ALARM_USD_MONTH[
                            "high-resolution" if alarm.get("Period", 60) < 60 else "standard"
                        ]
                    self.tagged(
                        "cloudwatch",
                        "alarm",
                        alarm["AlarmName"],
                        tag_dict(tags),
                        arn=alarm["AlarmArn"],
                        est_hourly_usd=monthly / HOURS_PER_MONTH,
                        note=f"state {alarm.get('StateValue', '?')}",
                    )

    def dashboards(self) -> None:
        """Dashboards cannot be tagged: the kit's are those with the exact name of a prefix the tags know."""
        cw = self.client("cloudwatch")
        prefixes = {self.prefix} if self.prefix else {r.prefix for r in self.found if r.tagged}
        for prefix in sorted(prefixes):
            name = self.names(prefix).dashboard
            for d in _pages(cw, "list_dashboards", "DashboardEntries", DashboardNamePrefix=name):
                if d["DashboardName"] == name:
                    started = [
                        r.created_at for r in self.found if r.tagged and r.prefix == prefix and r.created_at
                    ]
                    created = min(started) if started else d.get("LastModified")
                    creator = self.dashboard_creator(prefix)
                    self.add(
                        Resource(
                            "cloudwatch",
                            "dashboard",
                            name,
                            arn=d.get("DashboardArn", ""),
                            prefix=prefix,
                            created_at=created,
                            owned=True,
                            creator=creator,
                            foreign=self.is_foreign(creator),
                            est_hourly_usd=DASHBOARD_USD_MONTH / HOURS_PER_MONTH,
                            note=self.whose(creator, "untaggable: the kit's exact name"),
                        )
                    )

    def dashboard_creator(self, prefix: str) -> str:
        """A dashboard has no tags: it is the caller's when any tagged resource of its prefix is (or none names a
        creator), else the creator of the prefix's other tagged resources."""
        creators = {r.creator for r in self.found if r.tagged and r.prefix == prefix}
        if self.me in creators:
            return self.me
        if not creators or "" in creators:
            return ""
        return sorted(creators)[0]

    def topics(self) -> None:
        sns = self.client("sns")
        for topic in _pages(sns, "list_topics", "Topics"):
            arn = topic["TopicArn"]
            name = arn.rsplit(":", 1)[-1]
            if not self.name_filter(name):
                continue
            tags = sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
            r = self.tagged("sns", "topic", name, tag_dict(tags), arn=arn)
            if r is None or not r.owned:
                continue
            for sub in _pages(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn):
                pending = not sub["SubscriptionArn"].startswith("arn:")
                self.child(
                    r,
                    "sns",
                    "subscription",
                    f"{sub['Protocol']}:{sub['Endpoint']}",
                    arn=sub["SubscriptionArn"],
                    note="pending confirmation: goes with the topic" if pending else "",
                )

    def queues(self) -> None:
        sqs = self.client("sqs")
        kwargs = {"QueueNamePrefix": f"{self.prefix}-"} if self.prefix else {}
        for url in _pages(sqs, "list_queues", "QueueUrls", **kwargs):
            name = url.rsplit("/", 1)[-1]
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
            self.tagged("sqs", "queue", name, tags, arn=url, ref={"QueueUrl": url})

    def tables(self) -> None:
        ddb = self.client("dynamodb")
        for name in _pages(ddb, "list_tables", "TableNames"):
            if not self.name_filter(name):
                continue
            try:
                table = ddb.describe_table(TableName=name)["Table"]
            except ClientError as exc:
                if _code(exc) == "ResourceNotFoundException":
                    continue
                raise
            tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
            mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
            cost, note = 0.0, "on-demand: $0 idle"
            if mode == "PROVISIONED":
                tput = table.get("ProvisionedThroughput", {})
                cost = (
                    tput.get("ReadCapacityUnits", 0) * DYNAMODB_PROVISIONED_USD_HOUR["read"]
                    + tput.get("WriteCapacityUnits", 0) * DYNAMODB_PROVISIONED_USD_HOUR["write"]
                )
                note = "provisioned capacity"
            self.tagged(
                "dynamodb",
                "table",
                name,
                tag_dict(tags),
                arn=table["TableArn"],
                est_hourly_usd=cost,
                note=note,
            )

    def buckets(self) -> None:
        s3 = self.client("s3")
        for bucket in s3.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            if "-ml-workshop" not in name or not self.name_filter(name):
                continue  # only names the kit could have made; other buckets may live in other regions
            try:
                tags = s3.get_bucket_tagging(Bucket=name).get("TagSet", [])
            except ClientError as exc:
                if _code(exc) not in ("NoSuchTagSet", "NoSuchBucket"):
                    raise
                tags = []
            r = self.tagged(
                "s3", "bucket", name, tag_dict(tags), arn=session.arn("s3", name, region="", account="")
            )
            if r is None or not r.owned:
                continue
            for kind_key in ("Versions", "DeleteMarkers"):
                for v in _pages(s3, "list_object_versions", kind_key, Bucket=name):
                    cost = v.get("Size", 0) / 1e9 * S3_STORAGE_USD_GB_MONTH / HOURS_PER_MONTH
                    note = "delete marker" if kind_key == "DeleteMarkers" else f"{v.get('Size', 0):,} bytes"
                    self.child(
                        r,
                        "s3",
                        "object",
                        v["Key"],
                        est_hourly_usd=cost,
                        note=f"{note}, version {v['VersionId']}",
                        ref={"Key": v["Key"], "VersionId": v["VersionId"]},
                    )

    def roles(self) -> None:
        iam = self.client("iam")
        for role in _pages(iam, "list_roles", "Roles"):
            name = role["RoleName"]
            if not self.name_filter(name):
                continue
            tags = iam.list_role_tags(RoleName=name).get("Tags", [])
            r = self.tagged("iam", "role", name, tag_dict(tags), arn=role["Arn"])
            if r is None or not r.owned:
                continue
            for p in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
                self.child(
                    r,
                    "iam",
                    "attached policy",
                    p["PolicyName"],
                    arn=p["PolicyArn"],
                    note="detached, not deleted",
                )
            for policy in _pages(iam, "list_role_policies", "PolicyNames", RoleName=name):
                self.child(r, "iam", "inline policy", policy)

    def run(self) -> list[Resource]:
        """Find everything; return it in deletion order."""
        for step in (
            self.lambda_functions,
            self.sagemaker,
            self.log_groups,
            self.alarms,
            self.topics,
            self.queues,
            self.tables,
            self.buckets,
            self.roles,
            self.dashboards,
        ):
            step()
        return sorted(self.found, key=lambda r: (r.rank, r.prefix, r.parent, r.name))


def collect(
    prefix: str | None = None, settings: Settings | None = None, *, all_prefixes: bool = False
) -> list[Resource]:
    """Everything of the kit for prefix (default: this attendee's), or for every prefix, in deletion order."""
    settings = settings or session.settings()
    session.prepare()
    me = creator_tag_value(session.identity_arn(settings))
    return _Finder(None if all_prefixes else (prefix or settings.prefix), settings, me).run()


def hourly_total(resources: Iterable[Resource]) -> float:
    """Estimated cost per hour of the kit's resources (unknown prices count as 0)."""
    return sum(r.est_hourly_usd or 0.0 for r in resources if r.owned)


def table(resources: Iterable[Resource]):
    """The resources as a pandas DataFrame, one row each."""
    import pandas as pd

    rows = [
        {
            "service": r.service,
            "kind": r.kind,
            "name": r.name,
            "prefix": r.prefix,
            "kit's": ("not yours" if r.foreign else "yes") if r.owned else "NO",
            "tagged": r.tagged,
            "created": r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else "",
            "USD/hour": None if r.est_hourly_usd is None else round(r.est_hourly_usd, 5),
            "in": r.parent,
            "note": r.note,
        }
        for r in resources
    ]
    return pd.DataFrame(
        rows,
        columns=["service", "kind", "name", "prefix", "kit's", "tagged", "created", "USD/hour", "in", "note"],
    )


def compact(frame):
    """The inventory narrowed to a notebook's width: one 'what' column, the parent beside the name, the prefix
    only when it varies."""
    what = frame["service"] + " " + frame["kind"]
    name = frame["name"].where(
        frame["in"].isna() | (frame["in"] == ""), frame["name"] + " (in " + frame["in"].astype(str) + ")"
    )
    narrow = frame.assign(what=what, name=name)
    columns = (
        ["what", "name"]
        + (["prefix"] if frame["prefix"].nunique() > 1 else [])
        + ["kit's", "created", "USD/hour", "note"]
    )
    narrow = narrow[columns]
    narrow["note"] = narrow["note"].fillna("").astype(str).str.slice(0, 48)
    return narrow


def show(resources: list[Resource]) -> None:
    """Display the inventory as a table with its estimated hourly cost."""
    if not resources:
        print("Nothing of the kit found.")
        return
    frame = table(resources)
    try:
        get_ipython  # type: ignore[name-defined]  # noqa: B018, F821  (defined inside IPython only)
        from IPython.display import display

        display(compact(frame))
    except NameError:
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.max_colwidth", 60, "display.width", 200):
            print(frame.to_string(index=False))
    owned = [r for r in resources if r.owned]
    unknown = sum(1 for r in owned if r.est_hourly_usd is None)
    print(
        f"{len(owned)} resource(s) of the kit, estimated ${hourly_total(owned):.4f}/hour"
        f"{f' plus {unknown} of unknown price' if unknown else ''} (prices of {PRICES_AS_OF}, us-east-1)."
        + (
            f" {len(resources) - len(owned)} lookalike(s) without the kit's tags are left alone."
            if len(owned) < len(resources)
            else ""
        )
    )
    by_creator = creators(resources)
    if len(by_creator) > 1 or any(r.foreign for r in owned):
        print("Created by: " + "; ".join(f"{who}: {n}" for who, n in by_creator.items()) + ".")


def creators(resources: Iterable[Resource]) -> dict[str, int]:
    """How many of the kit's resources each creator made (the creator tag), most first; older kits' as 'untagged'."""
    counts: dict[str, int] = {}
    for r in resources:
        if r.owned:
            who = r.creator or "no creator tag (an older kit's)"
            counts[who] = counts.get(who, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
