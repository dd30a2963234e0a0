"""IAM's decision for one request, as AWS makes it: which resource a call names, what the policies say.

Pure functions, no moto: ``resource_arns`` works out the ARN(s) an API call acts on (a DynamoDB
table or its index, a SageMaker endpoint by its lowercased name, an S3 object, a log group, ...),
``evaluate`` applies identity policies to an action on a resource (explicit Deny wins over any
Allow, no Allow means an implicit deny; action and resource wildcards ``*`` and ``?``), and
``denial`` words the refusal as the service does (its error code, HTTP status and message).

``evaluate_bounded`` adds a permissions boundary (effective permissions are the intersection). Policy
variables (``${aws:username}``, ``${aws:PrincipalTag/key}``, ``${aws:SourceIdentity}``, defaults and
``${*}``) are substituted in Resource and Condition values of 2012-10-17 policies. Conditions on the keys
the local cloud supplies (``MODELLED_KEYS``) are judged as IAM judges them, absent keys included
(``StringEquals`` fails, ``StringNotEquals`` holds, ``Null``, ``...IfExists``, ``ForAnyValue:``/
``ForAllValues:``); a condition on any other key is taken as met, so an emulator never refuses what
AWS would allow for a reason it cannot see.
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
    body = body.replace("\x01", r"\*").replace("\x02", r"\?")  # a variable's value: literal characters
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


# Condition keys the local cloud supplies whenever AWS would (lowercase; ``/`` ends a prefix). For these an
# absent key is judged as AWS judges it; a condition on any other key is taken as met.
MODELLED_KEYS = (
    "aws:username",
    "aws:userid",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:principaltag/",
    "aws:sourceidentity",
    "aws:requesttag/",
    "aws:tagkeys",
    "iam:permissionsboundary",
    "iam:passedtoservice",
    "iam:policyarn",
)
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
POLICY_VERSION = "2012-10-17"  # variables are substituted only in policies of this version


def modelled(key: str) -> bool:
    """True when the local cloud supplies the condition key wherever AWS does."""
    key = key.lower()
    return any(key == k or (k.endswith("/") and key.startswith(k)) for k in MODELLED_KEYS)


def substitute(text: str, context: Mapping[str, Sequence[str]], literal: bool = False) -> str | None:
    """text with its policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'x'}``, ``${*}``) replaced.

    None when a variable's key is absent and has no default (AWS: such a Resource matches nothing, such a
    condition value matches no key). A substituted value's own ``*``/``?`` stay literal unless literal is False
    and the text is a wildcard pattern (the value is escaped for the pattern matcher with ``\x00``).
    """
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1)
        if inner in ("*", "?", "$"):
            return inner if literal else {"*": "\x01", "?": "\x02", "$": "$"}[inner]
        key, _, default = inner.partition(",")
        found = context.get(key.strip().lower())
        if found:
            text = str(found[0])
        elif default.strip():
            text = default.strip().strip("'")
        else:
            missing = True
            return ""
        return text if literal else text.replace("*", "\x01").replace("?", "\x02")

    replaced = _VARIABLE.sub(value, text)
    return None if missing else replaced


def _values(expected: Any, context: Mapping[str, Sequence[str]], variables: bool) -> list[str]:
    """A condition's expected values, variables substituted (a value whose variable is absent is dropped)."""
    found = []
    for v in _as_list(expected):
        text = str(v).lower() if isinstance(v, bool) else str(v)
        if variables:
            replaced = substitute(text, context, literal=True)
            if replaced is None:
                continue
            text = replaced
        found.append(text)
    return found


def _compare(op: str, actual: str, wanted: list[str]) -> bool:
    """One value against a condition's expected values, for a positive operator."""
    if op in ("StringEquals", "ArnEquals"):
        return actual in wanted
    if op == "StringEqualsIgnoreCase":
        return actual.lower() in [w.lower() for w in wanted]
    if op in ("StringLike", "ArnLike"):
        return any(_wild(w, actual, False) for w in wanted)
    if op == "Bool":
        return actual.lower() in [w.lower() for w in wanted]
    return False


NEGATED = {
    "StringNotEquals": "StringEquals",
    "ArnNotEquals": "ArnEquals",
    "StringNotLike": "StringLike",
    "ArnNotLike": "ArnLike",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
}
POSITIVE = {"StringEquals", "ArnEquals", "StringEqualsIgnoreCase", "StringLike", "ArnLike", "Bool"}


def _test(
    operator: str, key: str, expected: Any, context: Mapping[str, Sequence[str]], variables: bool
) -> bool:
    """One condition test, as IAM's documentation describes operators, set qualifiers and absent keys."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    actual = context.get(key.lower())
    if op == "Null":
        absent = not actual
        return any(str(v).lower() == ("true" if absent else "false") for v in _as_list(expected))
    if actual is None or not actual:
        if not modelled(key):
            return True  # a key the local cloud does not supply: never refuse for it
        if if_exists:
            return True
        if qualifier.lower() == "forallvalues":
            return True
        return op in NEGATED and not qualifier
    negated = op in NEGATED
    base = NEGATED.get(op, op)
    if base not in POSITIVE:
        return True  # an operator the local cloud does not evaluate
    wanted = _values(expected, context, variables)
    matches = [_compare(base, a, wanted) for a in actual]
    if qualifier.lower() == "forallvalues":
        return all((not m) if negated else m for m in matches)
    if qualifier.lower() == "foranyvalue":
        return any((not m) if negated else m for m in matches)
    return (not any(matches)) if negated else any(matches)


def _condition_met(
    condition: Mapping[str, Any] | None, context: Mapping[str, Sequence[str]], variables: bool = True
) -> bool:
    """True when every test of the Condition block holds (tests AND together; a test's values OR)."""
    for operator, tests in (condition or {}).items():
        if not isinstance(tests, Mapping):
            continue
        for key, expected in tests.items():
            if not _test(operator, key, expected, context, variables):
                return False
    return True


def _resource_patterns(
    patterns: list[Any], context: Mapping[str, Sequence[str]], variables: bool
) -> list[str]:
    """Resource patterns with their variables substituted; a pattern with an absent variable names nothing."""
    found = []
    for p in patterns:
        if not isinstance(p, str):
            continue
        if variables and "${" in p:
            replaced = substitute(p, context)
            if replaced is None:
                continue
            p = replaced
        found.append(p)
    return found


def _statement_applies(
    statement: Mapping[str, Any],
    action: str,
    resource: Resource,
    context: Mapping[str, Sequence[str]],
    variables: bool = True,
) -> bool:
    """True when the statement speaks about this action on this resource under this context."""
    if "NotAction" in statement:
        if action_matches(_as_list(statement["NotAction"]), action):
            return False
    elif not action_matches(_as_list(statement.get("Action")), action):
        return False
    if "NotResource" in statement:
        if resource_matches(
            _resource_patterns(_as_list(statement["NotResource"]), context, variables), resource
        ):
            return False
    elif "Resource" in statement and not resource_matches(
        _resource_patterns(_as_list(statement["Resource"]), context, variables), resource
    ):
        return False
    return _condition_met(statement.get("Condition"), context, variables)


def _documents(documents: Iterable[str | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The policy documents parsed (JSON text or already parsed)."""
    found = []
    for document in documents:
        parsed = json.loads(document) if isinstance(document, str) else document
        if isinstance(parsed, Mapping):
            found.append(parsed)
    return found


def statements(documents: Iterable[str | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every statement of the given policy documents (JSON text or parsed)."""
    found: list[Mapping[str, Any]] = []
    for parsed in _documents(documents):
        found += [s for s in _as_list(parsed.get("Statement")) if isinstance(s, Mapping)]
    return found


def evaluate(
    documents: Iterable[str | Mapping[str, Any]],
    action: str,
    resource: Resource = ANY,
    context: Mapping[str, Sequence[str]] | None = None,
) -> Decision:
    """IAM's decision on action over resource from identity policies: explicit Deny > Allow > implicit deny.

    Policy variables are substituted from context in policies of Version 2012-10-17 (others keep them as text).
    """
    context = {k.lower(): [str(x) for x in _as_list(v)] for k, v in (context or {}).items()}
    allowed = False
    for parsed in _documents(documents):
        variables = parsed.get("Version") == POLICY_VERSION
        for statement in _as_list(parsed.get("Statement")):
            if not isinstance(statement, Mapping):
                continue
            if not _statement_applies(statement, action, resource, context, variables):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.EXPLICIT_DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY


def evaluate_bounded(
    documents: Iterable[str | Mapping[str, Any]],
    boundary: Iterable[str | Mapping[str, Any]] | None,
    action: str,
    resource: Resource = ANY,
    context: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Decision, bool]:
    """The decision with a permissions boundary (None: no boundary): allowed only where both allow.

    Returns (decision, refused by the boundary). An explicit Deny in either wins (IAM's documentation,
    "Permissions boundaries for IAM entities": effective permissions are the intersection).
    """
    own = evaluate(documents, action, resource, context)
    if boundary is None:
        return own, False
    capped = evaluate(list(boundary), action, resource, context)
    if Decision.EXPLICIT_DENY in (own, capped):
        return Decision.EXPLICIT_DENY, own is not Decision.EXPLICIT_DENY
    if own is Decision.ALLOWED and capped is not Decision.ALLOWED:
        return Decision.IMPLICIT_DENY, True
    return own, False


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


def _cloudformation(op: str, params: Mapping[str, Any], region: str, account: str) -> list[Resource]:
    """A stack by ARN or name (IAM authorizes stack and change-set actions on the stack; an unknown stack id
    is any id); list and validate calls on '*'."""
    stack = _one(params, "StackName")
    if not stack:
        return [ANY]
    if stack.startswith("arn:"):
        return [(stack,)]
    return [(f"arn:aws:cloudformation:{region}:{account}:stack/{stack}/*",)]


RESOLVERS = {
    "apigateway": _apigateway,
    "cloudformation": _cloudformation,
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
    "cloudformation": ("AccessDenied", 403),
}


def denial(
    principal: str,
    action: str,
    resource: Resource,
    decision: Decision,
    service: str | None = None,
    boundary: bool = False,
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
        where_deny = "a permissions boundary" if boundary else "an identity-based policy"
        reason = f"with an explicit deny in {where_deny}"
    elif boundary:
        reason = f"because no permissions boundary allows the {shown} action"
    else:
        reason = f"because no identity-based policy allows the {shown} action"
    return Denial(code, status, f"User: {principal} is not authorized to perform: {shown}{where} {reason}")
