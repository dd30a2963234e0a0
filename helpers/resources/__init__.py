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

One module per AWS service holds the classes of its kinds (`cloudformation`, `apigateway`, `awslambda`, `sagemaker`, `logs`,
`cloudwatch`, `sns`, `sqs`, `dynamodb`, `s3`, `iam`); what they share is in `_kind`. This package
lists every kind in the order they are found (KINDS) and finds, checks and deletes any resource
through its kind (find, exists, delete, kind_of). Import from here, not from the modules.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from helpers.config import Settings
from helpers.errors import is_not_found
from helpers.resources._kind import PRICES_AS_OF, Kind, Resource, Search, not_yours
from helpers.resources.apigateway import RestApi
from helpers.resources.awslambda import EventSourceMapping, Function, FunctionUrl
from helpers.resources.cloudformation import Stack
from helpers.resources.cloudwatch import Alarm, Dashboard
from helpers.resources.dynamodb import Table
from helpers.resources.iam import AttachedPolicy, InlinePolicy, Role
from helpers.resources.logs import LogGroup, MetricFilter
from helpers.resources.s3 import Bucket, ObjectVersion
from helpers.resources.sagemaker import Endpoint, EndpointConfig, Model
from helpers.resources.sns import Subscription, Topic
from helpers.resources.sqs import Queue

__all__ = [
    "KINDS",
    "PRICES_AS_OF",
    "Alarm",
    "AttachedPolicy",
    "Bucket",
    "Dashboard",
    "Endpoint",
    "EndpointConfig",
    "EventSourceMapping",
    "Function",
    "FunctionUrl",
    "InlinePolicy",
    "Kind",
    "LogGroup",
    "MetricFilter",
    "Model",
    "ObjectVersion",
    "Queue",
    "Resource",
    "RestApi",
    "Role",
    "Stack",
    "Subscription",
    "Table",
    "Topic",
    "delete",
    "exists",
    "find",
    "kind_of",
    "not_yours",
]

# Every kind, in the order they are found: a stack before what it made, a parent before its children, functions and endpoints before
# the log groups AWS made for them, the dashboard (known by its prefix's tagged resources) last.
KINDS: tuple[Kind, ...] = (
    Stack(),
    RestApi(),
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
