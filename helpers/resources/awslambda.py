"""Lambda: the kit's functions (tagged), and the event source mappings and function URL of each
(untaggable: the kit's by their function). None costs anything while idle
(https://aws.amazon.com/lambda/pricing/: requests and compute time only).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from helpers import errors, session
from helpers.resources._kind import Kind, Resource, Search, pages


class EventSourceMapping(Kind):
    service, kind = "lambda", "event source mapping"
    wait_s = 300

    def find_in(self, search: Search, function: Resource) -> None:
        """The mappings that feed a function."""
        lam = session.client("lambda")
        for esm in pages(
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
            if errors.code(exc) not in ("ResourceNotFoundException", "NotImplemented", "404"):
                raise
            return
        search.child(function, self, url["FunctionUrl"], ref={"FunctionName": function.name})

    def exists(self, r: Resource) -> bool:
        return bool(session.client("lambda").get_function_url_config(FunctionName=r.parent))

    def delete(self, r: Resource) -> None:
        session.client("lambda").delete_function_url_config(FunctionName=r.parent)


class Function(Kind):
    service, kind = "lambda", "function"
    children = (EventSourceMapping(), FunctionUrl())

    def find(self, search: Search) -> None:
        """The kit's functions and lookalikes."""
        lam = session.client("lambda")
        for fn, name in search.candidates(
            pages(lam, "list_functions", "Functions"), lambda f: f["FunctionName"]
        ):
            tags = lam.list_tags(Resource=fn["FunctionArn"]).get("Tags", {})
            search.tagged(self, name, tags, arn=fn["FunctionArn"])

    def exists(self, r: Resource) -> bool:
        return bool(session.client("lambda").get_function(FunctionName=r.name))

    def delete(self, r: Resource) -> None:
        session.client("lambda").delete_function(FunctionName=r.name)
