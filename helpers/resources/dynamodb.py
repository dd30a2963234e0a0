"""DynamoDB: the kit's tables (tagged). A provisioned table is priced by its capacity units
(https://aws.amazon.com/dynamodb/pricing/provisioned/); an on-demand table costs nothing while idle.
"""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError

from helpers import errors, session
from helpers.resources._kind import Kind, Resource, Search, pages, tag_dict


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
        for _, name in search.candidates(pages(ddb, "list_tables", "TableNames"), str):
            try:
                table = ddb.describe_table(TableName=name)["Table"]
            except ClientError as exc:
                if errors.code(exc) == "ResourceNotFoundException":
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
