"""CloudFormation in moto for every resource type of the chapter's template, with events and rollback.

moto 5.2.5 skips AWS::CloudWatch::Alarm, AWS::Logs::MetricFilter, AWS::SNS::Subscription and
AWS::SQS::QueuePolicy with only a warning (``moto/cloudformation/parsing.py``), ignores a table's TTL and
PITR and a role's ManagedPolicyArns, reports one event per stack operation and no resource events, and
lets a failing resource's exception escape instead of rolling the stack back. Here:

- the four types are moto CloudFormation models (moto finds models as CloudFormationModel subclasses)
  whose work is done by ``localcloud.cloudformation.resources`` through the services' backends;
- tables get their TTL and PITR, roles their managed policies (and inline documents as JSON text);
- every resource creation, update and deletion is a stack event (IN_PROGRESS, then COMPLETE or FAILED);
- a failed create rolls the stack back to ROLLBACK_COMPLETE, a failed update to UPDATE_ROLLBACK_COMPLETE
  (the previous template's resources restored), for CreateStack, UpdateStack and ExecuteChangeSet alike;
- change sets say, for each Modify, which properties changed and whether that replaces the resource.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from typing import Any

from moto.apigateway.models import RestAPI, apigateway_backends
from moto.awslambda.models import lambda_backends
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.parsing import OutputMap
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.iam.models import Role, iam_backends
from moto.logs.models import logs_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition

from localcloud import patching, profile
from localcloud.cloudformation import resources, stacks
from localcloud.iam import hooks as iam_hooks

Original = Callable[..., Any]


class _Model:
    """A stack resource of a type moto lacks: its physical id and the properties it was made with.

    Each type also subclasses CloudFormationModel directly: moto finds models by its direct subclasses.
    """

    TYPE = ""
    NAME_PROPERTY = ""

    def __init__(self, physical_id: str, properties: dict[str, Any], account_id: str, region: str) -> None:
        self.physical_id = physical_id
        self.properties = properties
        self.account_id = account_id
        self.region = region

    @property
    def physical_resource_id(self) -> str:
        """What Ref returns and the stack's resources list."""
        return self.physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        """Fn::GetAtt: the physical id (these types' one attribute)."""
        return self.physical_id

    @classmethod
    def make(cls, properties: dict[str, Any], account_id: str, region: str) -> str:
        """Create the resource; return its physical id."""
        raise NotImplementedError

    def remove(self) -> None:
        """Delete the resource."""
        raise NotImplementedError

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _Model:
        properties = cloudformation_json["Properties"]
        return cls(cls.make(properties, account_id, region_name), properties, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: _Model,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _Model:
        new = cloudformation_json["Properties"]
        replaced = resources.REPLACED_BY.get(cls.TYPE, frozenset())
        if any(original_resource.properties.get(p) != new.get(p) for p in replaced):
            made = cls(cls.make(new, account_id, region_name), new, account_id, region_name)
            original_resource.remove()  # the replacement first, then the old one goes (cleanup)
            return made
        return cls(cls.make(new, account_id, region_name), new, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cls(resource_name, cloudformation_json["Properties"], account_id, region_name).remove()

    def delete(self, account_id: str, region_name: str) -> None:
        """What moto's stack deletion calls."""
        self.remove()

    def is_created(self) -> bool:
        return True


class MetricAlarm(_Model, CloudFormationModel):
    """AWS::CloudWatch::Alarm: PutMetricAlarm; Ref is the alarm's name."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"

    @classmethod
    def make(cls, properties: dict[str, Any], account_id: str, region: str) -> str:
        return resources.put_alarm(cloudwatch_backends[account_id][region], properties)

    def get_cfn_attribute(self, attribute_name: str) -> str:
        """Fn::GetAtt Alarm.Arn."""
        return f"arn:{get_partition(self.region)}:cloudwatch:{self.region}:{self.account_id}:alarm:{self.physical_id}"

    def remove(self) -> None:
        resources.delete_alarm(cloudwatch_backends[self.account_id][self.region], self.physical_id)


class MetricFilter(_Model, CloudFormationModel):
    """AWS::Logs::MetricFilter: PutMetricFilter on its log group; Ref is the filter's name."""

    TYPE = "AWS::Logs::MetricFilter"
    NAME_PROPERTY = "FilterName"

    @classmethod
    def make(cls, properties: dict[str, Any], account_id: str, region: str) -> str:
        return resources.put_metric_filter(logs_backends[account_id][region], properties)

    def remove(self) -> None:
        logs = logs_backends[self.account_id][self.region]
        if self.properties["LogGroupName"] in logs.groups:
            resources.delete_metric_filter(logs, self.physical_id, self.properties["LogGroupName"])


class Subscription(_Model, CloudFormationModel):
    """AWS::SNS::Subscription: Subscribe; Ref is the subscription's ARN."""

    TYPE = "AWS::SNS::Subscription"

    @classmethod
    def make(cls, properties: dict[str, Any], account_id: str, region: str) -> str:
        return resources.subscribe(sns_backends[account_id][region], properties)

    def remove(self) -> None:
        sns_backends[self.account_id][self.region].unsubscribe(self.physical_id)


class QueuePolicy(_Model, CloudFormationModel):
    """AWS::SQS::QueuePolicy: SetQueueAttributes(Policy) on each queue; deleting it removes the policy."""

    TYPE = "AWS::SQS::QueuePolicy"

    @classmethod
    def make(cls, properties: dict[str, Any], account_id: str, region: str) -> str:
        resources.set_queue_policies(
            sqs_backends[account_id][region], properties["Queues"], properties["PolicyDocument"]
        )
        return f"queue-policy-{uuid.uuid4().hex[:12]}"

    def remove(self) -> None:
        resources.clear_queue_policies(sqs_backends[self.account_id][self.region], self.properties["Queues"])


class ApiStage(_Model, CloudFormationModel):
    """AWS::ApiGateway::Stage: CreateStage on its deployment; Ref is the stage's name."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"

    @classmethod
    def make(cls, properties: dict[str, Any], account_id: str, region: str) -> str:
        deployment = properties["DeploymentId"]  # moto's Ref to its Deployment model gives the model itself
        if not isinstance(deployment, str):
            deployment = deployment["id"] if isinstance(deployment, dict) else deployment.id
        return resources.create_stage(
            apigateway_backends[account_id][region], {**properties, "DeploymentId": deployment}
        )

    def remove(self) -> None:
        backend = apigateway_backends[self.account_id][self.region]
        resources.delete_stage(backend, self.properties["RestApiId"], self.physical_id)


MODELS: tuple[type[_Model], ...] = (MetricAlarm, MetricFilter, Subscription, QueuePolicy, ApiStage)


def _register_models() -> None:
    """Let moto's CloudFormation find the models (its lookups are cached on first use)."""
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


# ---- tables and roles: what moto's own models leave out ----


def _table_create(original: Original) -> Original:
    def create(
        cls: type,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        table = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        resources.table_settings(
            dynamodb_backends[account_id][region_name], table.name, cloudformation_json["Properties"]
        )
        return table

    return create


def _role_create(original: Original) -> Original:
    def create(
        cls: type,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = dict(cloudformation_json["Properties"])
        properties["Policies"] = resources.role_policies(properties)
        if not properties.get("PermissionsBoundary"):
            properties.pop("PermissionsBoundary", None)
        role = original(
            cls,
            resource_name,
            {**cloudformation_json, "Properties": properties},
            account_id,
            region_name,
            **kwargs,
        )
        iam = iam_backends[account_id][get_partition(region_name)]
        try:
            resources.attach_managed(iam, role.name, properties.get("ManagedPolicyArns", []))
        except Exception:  # a failed resource leaves nothing behind: CloudFormation's rollback cannot see it
            resources.detach_managed(iam, role.name, list(role.managed_policies))
            Role.delete_from_cloudformation_json(role.name, cloudformation_json, account_id, region_name)
            raise
        return role

    return create


def _role_delete(original: Original) -> Original:
    def delete(
        cls: type, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        iam = iam_backends[account_id][get_partition(region_name)]
        role = next((r for r in iam.roles.values() if r.name == resource_name), None)
        if role is not None:
            resources.detach_managed(iam, resource_name, list(role.managed_policies))
        original(cls, resource_name, cloudformation_json, account_id, region_name)

    return delete


def _rest_api_delete(original: Original) -> Original:
    def delete(
        cls: type, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = apigateway_backends[account_id][region_name]
        if resource_name in backend.apis:  # moto leaves a stack's REST API behind
            backend.delete_rest_api(resource_name)

    return delete


# ---- resource events ----


def _stack_of(resources_map: Any) -> Any:
    """The moto Stack a resource map belongs to (None while a change set is only being reviewed)."""
    backend = cfn_models.cloudformation_backends[resources_map._account_id][resources_map._region_name]
    return backend.stacks.get(resources_map.stack_id)


def _event(
    stack: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: str = "",
    reason: str | None = None,
) -> None:
    """Add one resource event to the stack."""
    if stack is None:
        return
    stack.events.append(
        cfn_models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _physical(resource: Any) -> str:
    """A created resource's physical id, as the event shows it."""
    return str(getattr(resource, "physical_resource_id", "") or "")


def _stabilize(kind: str, verb: str, made: Any) -> None:
    """Wait as CloudFormation does before it reports a resource complete: a function until it is Active
    (after create) or its update Successful (the aws profile's Pending and InProgress)."""
    delay = stacks.STABILIZE.get((kind, verb))
    arn = getattr(made, "function_arn", None)
    if delay and arn:
        time.sleep(profile.current().remaining(delay, arn))


def _wait_for_role(kind: str, resource_json: dict[str, Any], resources_map: Any) -> None:
    """Wait, as CloudFormation does, until a function's new execution role is usable by Lambda: a stack
    that makes a role and its function together succeeds on AWS, though a CreateFunction sent as soon as
    the role exists is refused ("cannot be assumed") while IAM propagates."""
    role = resource_json.get("Properties", {}).get("Role")
    if kind != "AWS::Lambda::Function" or role is None:
        return
    arn = str(parsing.clean_json(role, resources_map))
    time.sleep(iam_hooks.role_usable_in(arn.rsplit("/", 1)[-1]))


def _tag(
    kind: str, made: Any, resource_json: dict[str, Any], resources_map: Any, account: str, region: str
) -> None:
    """Give a function, topic or REST API its template Tags, as CloudFormation does (moto 5.2.5 drops them)."""
    tags = resource_json.get("Properties", {}).get("Tags")
    if not tags or kind not in TAGGED_BY_US:
        return
    resolved = {t["Key"]: str(t["Value"]) for t in parsing.clean_json(tags, resources_map)}
    if kind == "AWS::Lambda::Function":
        lambda_backends[account][region].tag_resource(made.function_arn, resolved)
    elif kind == "AWS::SNS::Topic":
        sns_backends[account][region].tag_resource(made.arn, resolved)
    else:  # a REST API keeps its tags as a map
        made.tags = {**(made.tags or {}), **resolved}


# The template's types whose Tags moto's CloudFormation ignores.
TAGGED_BY_US = ("AWS::Lambda::Function", "AWS::SNS::Topic", "AWS::ApiGateway::RestApi")


def _evented(verb: str) -> Callable[[Original], Original]:
    """Wrap moto's parse_and_{create,update}_resource: an IN_PROGRESS event, then COMPLETE or FAILED."""

    def make(original: Original) -> Original:
        def run(
            logical_id: str,
            resource_json: dict[str, Any],
            resources_map: Any,
            account_id: str,
            region_name: str,
        ) -> Any:
            stack = _stack_of(resources_map)
            kind = resource_json.get("Type", "")
            _event(stack, logical_id, kind, f"{verb}_IN_PROGRESS")
            try:
                _wait_for_role(kind, resource_json, resources_map)
                made = original(logical_id, resource_json, resources_map, account_id, region_name)
            except Exception as exc:
                _event(stack, logical_id, kind, f"{verb}_FAILED", reason=stacks.resource_reason(exc))
                if stack is not None:
                    stack.failed_resources = [*getattr(stack, "failed_resources", []), logical_id]
                raise
            _tag(kind, made, resource_json, resources_map, account_id, region_name)
            _stabilize(kind, verb, made)
            _event(stack, logical_id, kind, f"{verb}_COMPLETE", _physical(made))
            return made

        return run

    return make


def _delete_evented(original: Original) -> Original:
    def delete(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        stack = _stack_of(self)
        logical_id = getattr(parsed_resource, "logical_resource_id", "")
        kind = resource_json.get("Type", "")
        _event(stack, logical_id, kind, "DELETE_IN_PROGRESS", _physical(parsed_resource))
        try:
            original(self, parsed_resource, resource_json)
        except Exception as exc:
            _event(
                stack,
                logical_id,
                kind,
                "DELETE_FAILED",
                _physical(parsed_resource),
                stacks.resource_reason(exc),
            )
            raise
        _event(stack, logical_id, kind, "DELETE_COMPLETE", _physical(parsed_resource))

    return delete


# ---- rollback ----


def _roll_back_create(stack: Any) -> None:
    """Delete what a failed create made; the stack ends in ROLLBACK_COMPLETE (or ROLLBACK_FAILED)."""
    in_progress, complete = stacks.ROLLBACK["CREATE"]
    stack.status = in_progress
    stack._add_stack_event(
        in_progress, stacks.rollback_reason("CREATE", getattr(stack, "failed_resources", []))
    )
    try:
        stack.resource_map.delete()
    except Exception as exc:
        stack.status = "ROLLBACK_FAILED"
        stack._add_stack_event("ROLLBACK_FAILED", stacks.resource_reason(exc))
        return
    stack.resource_map._resource_json_map = {}  # nothing is left, and nothing may be made again lazily
    stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)
    stack.status = complete
    stack._add_stack_event(complete)


def _create_resources(original: Original) -> Original:
    def create(self: Any) -> None:
        self.failed_resources = []
        try:
            original(self)
        except Exception:
            _roll_back_create(self)

    return create


def _roll_back_update(
    stack: Any, old_template: Any, old_parameters: dict[str, Any], old_template_dict: dict[str, Any]
) -> None:
    """Restore the previous template's resources; the stack ends in UPDATE_ROLLBACK_COMPLETE."""
    in_progress, complete = stacks.ROLLBACK["UPDATE"]
    stack.status = in_progress
    stack._add_stack_event(
        in_progress, stacks.rollback_reason("UPDATE", getattr(stack, "failed_resources", []))
    )
    try:
        stack.resource_map.update(copy.deepcopy(old_template_dict), old_parameters)
    except Exception as exc:
        stack.status = "UPDATE_ROLLBACK_FAILED"
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED", stacks.resource_reason(exc))
        return
    stack.template, stack.parameters = old_template, old_parameters
    stack._parse_template()
    stack.output_map = stack._create_output_map()
    stack._add_stack_event(stacks.CLEANUP["UPDATE_ROLLBACK"])
    stack.status = complete
    stack._add_stack_event(complete)


def _stack_update(original: Original) -> Original:
    def update(
        self: Any,
        template: str,
        role_arn: str | None = None,
        parameters: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        old = (self.template, dict(self.parameters), copy.deepcopy(self.template_dict))
        self.failed_resources = []
        try:
            original(self, template, role_arn, parameters, tags)
        except Exception:
            _roll_back_update(self, *old)
            return
        done = self.events.pop()  # UPDATE_COMPLETE comes after the cleanup phase
        self._add_stack_event(stacks.CLEANUP["UPDATE"])
        self.events.append(done)

    return update


def _execute_change_set(original: Original) -> Original:
    def execute(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
        )
        if change_set is None:
            original(self, change_set_name, stack_name)  # moto's own error
            return
        stack = self.stacks[change_set.stack_id]
        old = (stack.template, dict(stack.parameters), copy.deepcopy(getattr(stack, "template_dict", {})))
        stack.failed_resources = []
        try:
            original(self, change_set_name, stack_name)
        except Exception:
            change_set.execution_status = "EXECUTE_FAILED"
            if change_set.change_set_type == "CREATE":
                _roll_back_create(stack)
            else:
                _roll_back_update(stack, *old)
            return
        stack.template = change_set.template
        stack._parse_template()
        stack.parameters = change_set.parameters or stack.parameters
        stack.output_map = stack._create_output_map()
        stack.description = stack.template_dict.get("Description")

    return execute


# ---- change-set details ----


def _change_set_diff(original: Original) -> Original:
    def diff(self: Any) -> list[Any]:
        changes: list[Any] = original(self)
        old = self.stack.resource_map._resource_json_map
        new = self.template_dict.get("Resources", {})
        for change in changes:
            if change.action != "Modify":
                continue
            kind = change.resource_type
            details = stacks.property_changes(
                kind,
                old[change.logical_resource_id].get("Properties", {}),
                new[change.logical_resource_id].get("Properties", {}),
                resources.REPLACED_BY.get(kind, frozenset()),
            )
            change.replacement = stacks.replacement(details)
            change.details = details
        return changes

    return diff


def install() -> None:
    """Register the missing types and hook moto's CloudFormation (idempotent)."""
    _register_models()
    patching.patch(
        Table,
        "create_from_cloudformation_json",
        ["cls", "resource_name", "cloudformation_json", "account_id", "region_name", "kwargs"],
        _table_create,
    )
    patching.patch(
        Role,
        "create_from_cloudformation_json",
        ["cls", "resource_name", "cloudformation_json", "account_id", "region_name", "kwargs"],
        _role_create,
    )
    patching.patch(
        Role,
        "delete_from_cloudformation_json",
        ["cls", "resource_name", "cloudformation_json", "account_id", "region_name"],
        _role_delete,
    )
    patching.patch(
        RestAPI,
        "delete_from_cloudformation_json",
        ["cls", "resource_name", "cloudformation_json", "account_id", "region_name"],
        _rest_api_delete,
    )
    resource_params = ["logical_id", "resource_json", "resources_map", "account_id", "region_name"]
    patching.patch(parsing, "parse_and_create_resource", resource_params, _evented("CREATE"))
    patching.patch(parsing, "parse_and_update_resource", resource_params, _evented("UPDATE"))
    patching.patch(
        parsing.ResourceMap, "_delete_resource", ["self", "parsed_resource", "resource_json"], _delete_evented
    )
    patching.patch(cfn_models.Stack, "create_resources", ["self"], _create_resources)
    patching.patch(
        cfn_models.Stack, "update", ["self", "template", "role_arn", "parameters", "tags"], _stack_update
    )
    patching.patch(
        cfn_models.CloudFormationBackend,
        "execute_change_set",
        ["self", "change_set_name", "stack_name"],
        _execute_change_set,
    )
    patching.patch(cfn_models.ChangeSet, "diff", ["self"], _change_set_diff)
