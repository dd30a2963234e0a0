"""API Gateway: the kit's REST APIs (tagged at creation; their resources, methods, deployments and
stages go with them). A REST API costs nothing while idle: $3.50 per million requests
(https://aws.amazon.com/api-gateway/pricing/, REST APIs, first 333 million a month).
"""

from __future__ import annotations

from helpers import session
from helpers.resources._kind import Kind, Resource, Search, pages
from helpers.waiters import retry


class RestApi(Kind):
    service, kind = "apigateway", "rest api"

    def find(self, search: Search) -> None:
        """The kit's REST APIs and lookalikes (GetRestApis answers each API's tags)."""
        agw = session.client("apigateway")
        for api, name in search.candidates(pages(agw, "get_rest_apis", "items"), lambda a: a["name"]):
            search.tagged(
                self,
                name,
                dict(api.get("tags") or {}),
                arn=session.arn("apigateway", f"/restapis/{api['id']}", account=""),
                note=f"id {api['id']}; $0 idle, $3.50 per million requests",
                ref={"restApiId": api["id"]},
            )

    def exists(self, r: Resource) -> bool:
        return bool(session.client("apigateway").get_rest_api(restApiId=r.ref["restApiId"]))

    def delete(self, r: Resource) -> None:
        # AWS allows one DeleteRestApi per 30 s per account: TooManyRequestsException meanwhile
        retry(
            lambda: session.client("apigateway").delete_rest_api(restApiId=r.ref["restApiId"]),
            what=f"deleting REST API {r.name}",
            codes={"TooManyRequestsException"},
            timeout_s=180,
            first_delay_s=5.0,
        )
