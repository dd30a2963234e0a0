"""SageMaker: the kit's endpoints, endpoint configurations and models (tagged; listed by NameContains
the prefix, plus the existing endpoint an attendee reuses). An endpoint is priced by its instances
(real-time inference, per instance-hour: https://aws.amazon.com/sagemaker/pricing/); a serverless
endpoint, a configuration and a model cost nothing while idle.
"""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError

from helpers import session
from helpers.resources._kind import Kind, Resource, Search, pages, tag_dict


class _SageMakerKind(Kind):
    """Endpoints, endpoint configurations and models: listed, tagged, named, described and deleted alike."""

    service = "sagemaker"
    operation: ClassVar[str]  # the List operation, the key of its items, and their name and ARN keys
    key: ClassVar[str]
    name_key: ClassVar[str]
    arn_key: ClassVar[str]
    describe_operation: ClassVar[str]  # the Describe and Delete operations, which take the name key
    delete_operation: ClassVar[str]

    def listed(self, search: Search) -> list[dict[str, Any]]:
        """The items of this kind whose name contains the prefix."""
        contains = {"NameContains": search.prefix} if search.prefix else {}
        return list(pages(session.client("sagemaker"), self.operation, self.key, **contains))

    def find(self, search: Search) -> None:
        """The kit's items of this kind and lookalikes, the kit's priced."""
        sm = session.client("sagemaker")
        seen: set[str] = set()
        for item, name in search.candidates(self.listed(search), lambda listed: listed[self.name_key]):
            if name in seen:
                continue
            seen.add(name)
            tags = sm.list_tags(ResourceArn=item[self.arn_key]).get("Tags", [])
            r = search.tagged(self, name, tag_dict(tags), arn=item[self.arn_key])
            if r is not None and r.owned:
                self.price(r)

    def price(self, r: Resource) -> None:
        """Set r's hourly cost (nothing to pay for a configuration or a model)."""

    def exists(self, r: Resource) -> bool:
        sm = session.client("sagemaker")
        return bool(getattr(sm, self.describe_operation)(**{self.name_key: r.name}))

    def delete(self, r: Resource) -> None:
        getattr(session.client("sagemaker"), self.delete_operation)(**{self.name_key: r.name})


class Endpoint(_SageMakerKind):
    kind = "endpoint"
    operation, key, name_key, arn_key = "list_endpoints", "Endpoints", "EndpointName", "EndpointArn"
    describe_operation, delete_operation = "describe_endpoint", "delete_endpoint"
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
            items += [e for e in pages(sm, self.operation, self.key) if e[self.name_key] == reused]
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


class EndpointConfig(_SageMakerKind):
    kind = "endpoint config"
    operation, key = "list_endpoint_configs", "EndpointConfigs"
    name_key, arn_key = "EndpointConfigName", "EndpointConfigArn"
    describe_operation, delete_operation = "describe_endpoint_config", "delete_endpoint_config"


class Model(_SageMakerKind):
    kind = "model"
    operation, key, name_key, arn_key = "list_models", "Models", "ModelName", "ModelArn"
    describe_operation, delete_operation = "describe_model", "delete_model"
