"""IAM's decision for one request, as AWS makes it: which resource a call names, what the policies say.

Pure functions, no moto: ``resource_arns`` works out the ARN(s) an API call acts on (a DynamoDB
table or its index, a SageMaker endpoint by its lowercased name, an S3 object, a log group, ...),
``evaluate`` applies identity policies to an action on a resource (explicit Deny wins over any
Allow, no Allow means an implicit deny; action and resource wildcards ``*`` and ``?``), and
``denial`` words the refusal as the service does (its error code, HTTP status and message).

Deliberate limits: policy variables (``${aws:username}``) are not substituted, and a Condition
whose key the local cloud does not supply is taken as met (``context`` names the keys it knows),
so an emulator never refuses what AWS would allow for a reason it cannot see.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

Resource = tuple[str, ...]  # one resource, in every spelling a policy may name it by (the first is canonical)
ANY: Resource = ("*",)


class Decision(enum.Enum):
    """IAM's answer for one action on one resource."""

    ALLOWED = "allowed"
    IMPLICIT_DENY = "implicit"  # no statement allows it
    EXPLICIT_DENY = "explicit"  # a Deny statement matches


# ---------------------------------------------------------------------------------------------
# Policy evaluation


def _as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@lru_cache(maxsize=4096)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    """A compiled IAM wildcard pattern (``*`` any run, ``?`` one character, everything else literal)."""
    body = re.escape(text).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"(?s:{body})\\Z", re.IGNORECASE if ignore_case else 0)


def _wild(pattern: str, value: str, ignore_case: bool) -> bool:
    """True when an IAM wildcard pattern matches value."""
    return _pattern(pattern, ignore_case).match(value) is not None


def action_matches(patterns: Iterable[object], action: str) -> bool:
    """True when one of the Action patterns names action (service prefix and name, any case)."""
    return any(isinstance(p, str) and _wild(p, action, True) for p in patterns)


def resource_matches(patterns: Iterable[object], resource: Resource) -> bool:
    """True when one of the Resource patterns names the resource in one of its spellings (ARNs: exact case)."""
    return any(
        isinstance(p, str) and (p == "*" or any(_wild(p, r, False) for r in resource)) for p in patterns
    )


def _condition_met(condition: Mapping[str, Any] | None, context: Mapping[str, Sequence[str]]) -> bool:
    """True unless a condition on a key the context supplies fails (unknown keys count as met)."""
    for operator, tests in (condition or {}).items():
        if not isinstance(tests, Mapping):
            continue
        op = operator.removesuffix("IfExists")
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                continue
            wanted = [str(v) for v in _as_list(expected)]
            if op in ("StringEquals", "ArnEquals"):
                ok = any(a in wanted for a in actual)
            elif op == "StringEqualsIgnoreCase":
                ok = any(a.lower() in [w.lower() for w in wanted] for a in actual)
            elif op in ("StringLike", "ArnLike"):
                ok = any(_wild(w, a, False) for w in wanted for a in actual)
            elif op in ("StringNotEquals", "ArnNotEquals"):
                ok = all(a not in wanted for a in actual)
            elif op in ("StringNotLike", "ArnNotLike"):
                ok = not any(_wild(w, a, False) for w in wanted for a in actual)
            elif op == "Bool":
                ok = any(a.lower() in [w.lower() for w in wanted] for a in actual)
            else:
                continue  # an operator the local cloud does not evaluate
            if not ok:
                return False
    return True


def _statement_applies(
    statement: Mapping[str, Any], action: str, resource: Resource, context: Mapping[str, Sequence[str]]
) -> bool:
    """True when the statement speaks about this action on this resource under this context."""
    if "NotAction" in statement:
        if action_matches(_as_list(statement["NotAction"]), action):
            return False
    elif not action_matches(_as_list(statement.get("Action")), action):
        return False
    if "NotResource" in statement:
        if resource_matches(_as_list(statement["NotResource"]), resource):
            return False
    elif "Resource" in statement and not resource_matches(_as_list(statement["Resource"]), resource):
        return False
    return _condition_met(statement.get("Condition"), context)


def statements(documents: Iterable[str | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every statement of the given policy documents (JSON text or parsed)."""
    found: list[Mapping[str, Any]] = []
    for document in documents:
        parsed = json.loads(document) if isinstance(document, str) else document
        found += [s for s in _as_list((parsed or {}).get("Statement")) if isinstance(s, Mapping)]
    return found


def evaluate(
    documents: Iterable[str | Mapping[str, Any]],
    action: str,
    resource: Resource = ANY,
    context: Mapping[str, Sequence[str]] | None = None,
) -> Decision:
    """IAM's decision on action over resource from identity policies: explicit Deny > Allow > implicit deny."""
    context = {k.lower(): _as_list(v) for k, v in (context or {}).items()}
    allowed = False
    for statement in statements(documents):
        if not _statement_applies(statement, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.EXPLICIT_DENY
        if statement.get("Effect") == "Allow":
            allowed = True
    return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY


def trusts(document: str | Mapping[str, Any] | None, service: str) -> bool:
    """True when a role's trust policy lets the AWS service principal (``lambda.amazonaws.com``) assume it."""
    try:
        found = statements([document or "{}"])
    except ValueError:
        return False
    allowed = False
    for statement in found:
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, Mapping) else []
        names_service = (
            principal == "*"
            or service in services
            or (isinstance(principal, Mapping) and principal.get("AWS") == "*")
        )
        if not names_service or not action_matches(_as_list(statement.get("Action")), "sts:AssumeRole"):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


# ---------------------------------------------------------------------------------------------
# The resource a call names


def _one(params: Mapping[str, Any], *names: str) -> str | None:
    """The first of the named parameters the request carries, as text."""
    for name in names:
        value = params.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _many(params: Mapping[str, Any], name: str) -> list[str]:
    """A list parameter (JSON list, or query-protocol ``Name.member.N``)."""
    value = params.get(name)
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, str):
        return [value]
    members = sorted(
        (k for k in params if k.startswith(f"{name}.member.")), key=lambda k: int(k.rsplit(".", 1)[1])
    )
    return [params[k] for k in members if isinstance(params[k], str)]


def _dynamodb(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """Tables by ARN; a Query or Scan on an index acts on ``table/T/index/NAME``."""

    def table(name: str) -> Resource:
        return (name,) if name.startswith("arn:") else (f"arn:aws:dynamodb:{region}:{account}:table/{name}",)

    if op in ("BatchWriteItem", "BatchGetItem"):
        return [table(t) for t in (params.get("RequestItems") or {})] or [ANY]
    if op in ("TransactWriteItems", "TransactGetItems"):
        names = []
        for item in params.get("TransactItems") or []:
            for inner in (item or {}).values():
                if isinstance(inner, Mapping) and inner.get("TableName") not in names:
                    names.append(inner["TableName"])
        return [table(t) for t in names] or [ANY]
    arn = _one(params, "ResourceArn")
    if arn:
        return [(arn,)]
    name = _one(params, "TableName")
    if not name:
        return [ANY]
    index = _one(params, "IndexName")
    if index and op in ("Query", "Scan"):
        return [(f"{table(name)[0]}/index/{index}",)]
    return [table(name)]


def _sagemaker(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """SageMaker names resources in lowercase in its ARNs: ``endpoint/<lowercased name>``."""
    arn = _one(params, "ResourceArn")
    if arn:
        return [(arn,)]
    base = f"arn:aws:sagemaker:{region}:{account}"
    if "EndpointConfig" in op and _one(params, "EndpointConfigName"):
        return [(f"{base}:endpoint-config/{params['EndpointConfigName'].lower()}",)]
    if "Endpoint" in op and _one(params, "EndpointName"):
        return [(f"{base}:endpoint/{params['EndpointName'].lower()}",)]
    if "Model" in op and _one(params, "ModelName"):
        return [(f"{base}:model/{params['ModelName'].lower()}",)]
    return [ANY]


def _lambda(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """A function by ARN, with its qualifier when the call names one."""
    arn = _one(params, "Resource", "ARN")
    if arn and arn.startswith("arn:"):
        return [(arn,)]
    name = _one(params, "FunctionName")
    if not name:
        return [ANY]
    if not name.startswith("arn:"):
        name = f"arn:aws:lambda:{region}:{account}:function:{name}"
    qualifier = _one(params, "Qualifier")
    if qualifier and name.count(":") == 6:
        name = f"{name}:{qualifier}"
    return [(name,)]


def _logs(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """Log groups (also spelled with AWS's ``:*`` suffix), or one stream of a group."""
    arn = _one(params, "resourceArn", "resourceIdentifier")
    if arn:
        return [(arn,)]
    base = f"arn:aws:logs:{region}:{account}:log-group:"

    def group(name: str) -> Resource:
        if name.startswith("arn:"):
            name = name.split(":log-group:", 1)[-1].removesuffix(":*")
        return (f"{base}{name}", f"{base}{name}:*")

    name = _one(params, "logGroupName", "logGroupIdentifier")
    stream = _one(params, "logStreamName")
    if name and stream:
        return [(f"{base}{name}:log-stream:{stream}",)]
    if name:
        return [group(name)]
    names = _many(params, "logGroupNames") + _many(params, "logGroupIdentifiers")
    if names:
        return [group(n) for n in names]
    if op == "DescribeLogGroups":
        return [(f"{base}*",)]
    return [ANY]


def _cloudwatch(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """Alarms and dashboards by ARN (a dashboard's ARN has no region); metric calls act on ``*``."""
    arn = _one(params, "ResourceARN")
    if arn:
        return [(arn,)]
    alarms = _many(params, "AlarmNames") or _many(params, "AlarmName")
    if alarms:
        return [(f"arn:aws:cloudwatch:{region}:{account}:alarm:{a}",) for a in alarms]
    dashboards = _many(params, "DashboardNames") or _many(params, "DashboardName")
    if dashboards:
        return [(f"arn:aws:cloudwatch::{account}:dashboard/{d}",) for d in dashboards]
    return [ANY]


def _sns(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """Topics by ARN; a subscription acts on its topic."""
    arn = _one(params, "TopicArn", "ResourceArn")
    if arn:
        return [(arn,)]
    subscription = _one(params, "SubscriptionArn")
    if subscription and subscription.count(":") >= 6:
        return [(subscription.rsplit(":", 1)[0],)]
    if op == "CreateTopic" and _one(params, "Name"):
        return [(f"arn:aws:sns:{region}:{account}:{params['Name']}",)]
    return [ANY]


def _sqs(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """Queues by ARN, worked out from the queue URL (its account and name) or the queue name."""
    url = _one(params, "QueueUrl")
    if url:
        parts = [p for p in urlparse(url).path.split("/") if p]
        if len(parts) >= 2:
            return [(f"arn:aws:sqs:{region}:{parts[-2]}:{parts[-1]}",)]
    name = _one(params, "QueueName")
    if name:
        return [(f"arn:aws:sqs:{region}:{account}:{name}",)]
    return [ANY]


def _iam(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """Roles, users, groups and policies by ARN (IAM is global: no region)."""
    base = f"arn:aws:iam::{account}"
    for param, kind in (
        ("RoleName", "role"),
        ("UserName", "user"),
        ("GroupName", "group"),
        ("InstanceProfileName", "instance-profile"),
    ):
        name = _one(params, param)
        if name:
            return [(f"{base}:{kind}/{name}",)]
    arn = _one(params, "PolicyArn")
    if arn:
        return [(arn,)]
    if op == "CreatePolicy" and _one(params, "PolicyName"):
        return [(f"{base}:policy/{params['PolicyName']}",)]
    return [ANY]


REQUEST_PATH = "__path__"  # the request's URL path, for services whose IAM resource is the path (API Gateway)


@lru_cache(maxsize=1)
def _apigateway_methods() -> dict[str, str]:
    """API Gateway's operations (CreateRestApi) and their HTTP methods, from botocore's service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("apigateway")
    return {name: model.operation_model(name).http["method"] for name in model.operation_names}


def apigateway_action(operation: str) -> str:
    """The IAM action of an API Gateway management operation: its HTTP method (CreateRestApi -> apigateway:POST)."""
    return f"apigateway:{_apigateway_methods().get(operation, operation)}"


def _apigateway(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """API Gateway authorizes ``apigateway:METHOD`` on the request's path: ``arn:aws:apigateway:R::/restapis/...``."""
    path = _one(params, REQUEST_PATH)
    return [(f"arn:aws:apigateway:{region}::{path}",)] if path else [ANY]


def _sts(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    arn = _one(params, "RoleArn")
    return [(arn,)] if arn else [ANY]


RESOLVERS = {
    "apigateway": _apigateway,
    "dynamodb": _dynamodb,
    "sagemaker": _sagemaker,
    "lambda": _lambda,
    "logs": _logs,
    "cloudwatch": _cloudwatch,
    "sns": _sns,
    "sqs": _sqs,
    "iam": _iam,
    "sts": _sts,
}


def resource_arns(action: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """The resources an IAM action (``dynamodb:Query``) acts on, from the request's parameters; [ANY] if none."""
    service, _, op = action.partition(":")
    resolve = RESOLVERS.get(service.lower())
    return resolve(op, params, region, account) if resolve else [ANY]


# ---------------------------------------------------------------------------------------------
# The refusal, in each service's words


@dataclass(frozen=True)
class Denial:
    """A refused call: the service's error code, HTTP status and message."""

    code: str
    status: int
    message: str


# IAM prefix -> (error code, HTTP status), as each service answers an identity-policy denial.
DENIAL_SHAPE: dict[str, tuple[str, int]] = {
    "dynamodb": ("AccessDeniedException", 400),
    "sagemaker": ("AccessDeniedException", 400),
    "logs": ("AccessDeniedException", 400),
    "lambda": ("AccessDeniedException", 403),
    "cloudwatch": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "sqs": ("AccessDenied", 403),
    "s3": ("AccessDenied", 403),
    "iam": ("AccessDenied", 403),
    "sts": ("AccessDenied", 403),
}


def denial(
    principal: str, action: str, resource: Resource, decision: Decision, service: str | None = None
) -> Denial:
    """The error a service answers when IAM refuses action on resource to principal (an assumed-role or user ARN)."""
    prefix = (service or action.partition(":")[0]).lower()
    code, status = DENIAL_SHAPE.get(prefix, ("AccessDeniedException", 400))
    shown = action
    if prefix == "sns":
        shown = "SNS:" + action.partition(":")[2]  # SNS spells its prefix in capitals
    elif prefix == "sqs":
        shown = action.lower()  # SQS lowercases the action
    arn = resource[0]
    where = "" if arn == "*" else f' on resource: "{arn}"' if prefix == "s3" else f" on resource: {arn}"
    if decision is Decision.EXPLICIT_DENY:
        reason = "with an explicit deny in an identity-based policy"
    else:
        reason = f"because no identity-based policy allows the {shown} action"
    return Denial(code, status, f"User: {principal} is not authorized to perform: {shown}{where} {reason}")
