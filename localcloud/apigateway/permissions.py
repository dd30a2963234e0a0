"""Whether a function's resource-based policy lets API Gateway invoke it for one request.

"Control access to a REST API with IAM permissions" and Lambda's ``AddPermission``: API Gateway may
invoke the function when a statement allows ``lambda:InvokeFunction`` to the service principal
``apigateway.amazonaws.com`` on the function, with ``AWS:SourceArn`` (when the statement sets it)
matching ``arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}/{resource-path}``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html).
Without one, the integration fails and the client gets 500 (an API configuration error).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from localcloud.iam import policy as iam_policy

PRINCIPAL = "apigateway.amazonaws.com"


def source_arn(region: str, account: str, api_id: str, stage: str, method: str, path: str) -> str:
    """The execute-api ARN of one request: the method's, as AddPermission's SourceArn names it."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}{path}"


def _names_api_gateway(statement: Mapping[str, Any]) -> bool:
    """True when the statement's principal is API Gateway's service principal (or anyone)."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        services = principal.get("Service")
        return PRINCIPAL in (services if isinstance(services, list) else [services])
    return False


def allows(policy: str | Mapping[str, Any] | None, function_arn: str, source: str) -> bool:
    """True when the resource policy lets API Gateway invoke function_arn for the request source."""
    if not policy:
        return False
    document = json.loads(policy) if isinstance(policy, str) else policy
    if isinstance(document, Mapping) and isinstance(document.get("Policy"), str):
        document = json.loads(document["Policy"])  # GetPolicy's answer wraps the document
    kept = [s for s in iam_policy.statements([document]) if _names_api_gateway(s)]
    decision = iam_policy.evaluate(
        [{"Statement": kept}], "lambda:InvokeFunction", (function_arn,), {"aws:SourceArn": [source]}
    )
    return decision is iam_policy.Decision.ALLOWED
