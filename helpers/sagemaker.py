"""SageMaker: the model, its endpoint configuration and the endpoint (chapters 6-7 state), through the SDK.

00_setup creates them the way the SageMaker Python SDK v3 teaches: the image URI from
``sagemaker.core.image_uris.retrieve``, and the typed resources of ``sagemaker.core.resources``
(``Model.create``, ``EndpointConfig.create``, ``Endpoint.create``, ``Endpoint.invoke``). This module
adds what the lesson is not: a resource that exists is kept (``create_once``), a new role is waited
for, an endpoint is waited on, re-created when ``Failed`` and pointed at a new configuration.

The SDK takes seconds to import, so it is imported inside the functions that need it (only
00_setup calls them): importing ``helpers`` never imports ``sagemaker``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from helpers import errors
from helpers.errors import WorkshopError, is_not_found
from helpers.regions import XGBOOST_VERSION
from helpers.session import client, sdk_session, settings
from helpers.waiters import retry, wait_for_state

if TYPE_CHECKING:  # the SDK ships no type information: these are Any to mypy, named for the reader
    from sagemaker.core.resources import Endpoint

ROLE_PROPAGATION_TEXT = "Could not access model data at"
ROLE_PROPAGATION_TIMEOUT_S = 180
SERVERLESS_QUOTA_CODE = "L-96300102"
IN_PROGRESS = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
# The field naming each SDK resource.
NAME_FIELDS = {"Model": "model_name", "EndpointConfig": "endpoint_config_name", "Endpoint": "endpoint_name"}


class Create(Protocol):
    """An SDK resource's create, bound to its resource class (Model.create, EndpointConfig.create, Endpoint.create)."""

    __self__: type

    def __call__(self, **request: Any) -> Any: ...


def xgboost_image_uri(region: str, version: str = XGBOOST_VERSION) -> str:
    """SageMaker's built-in XGBoost inference image in a region: the SDK's own answer (offline, every region it knows)."""
    from sagemaker.core import image_uris  # seconds to import: only where the image is needed

    uri: str = image_uris.retrieve("xgboost", region=region, version=version)
    return uri


def sdk() -> dict[str, Any]:
    """The session and region arguments of the SDK's resource calls: the kit's session, reaching the chosen cloud."""
    _fix_sdk_serverless_field()
    return {"session": sdk_session(), "region": settings().region}


def _fix_sdk_serverless_field() -> None:
    """Make the SDK send ServerlessConfig's MemorySizeInMB under its real name.

    sagemaker-core builds request keys from field names (memory_size_in_mb -> MemorySizeInMb), which
    botocore refuses for every serverless EndpointConfig.create: aws/sagemaker-core issue #225, open
    since 1.0.16 and still so in 2.27.0. The SDK's own table of exceptions takes the right name.
    """
    from sagemaker.core.utils import utils

    utils.SPECIAL_SNAKE_TO_PASCAL_MAPPINGS.setdefault("memory_size_in_mb", "MemorySizeInMB")


def _get(resource: Any, name: str, options: Mapping[str, Any]) -> Any:
    """resource.get(name), or None when SageMaker has no such resource."""
    try:
        return resource.get(name, session=options.get("session"), region=options.get("region"))
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise


def create_once(create: Create, **request: Any) -> Any:
    """Call an SDK resource's create (Model.create, EndpointConfig.create) unless the resource exists; return it.

    An existing resource is kept as it is (re-running the cell changes nothing). Model.create is retried
    while SageMaker cannot yet use a new execution role (IAM is eventually consistent: seconds).
    """
    resource = create.__self__
    kind, name = resource.__name__, request[NAME_FIELDS[resource.__name__]]
    found = _get(resource, name, request)
    if found is not None:
        print(f"{kind} {name}: exists, kept as it is")
        return found
    made = _create_model(create, request) if kind == "Model" else create(**request)
    print(f"{kind} {name}: created")
    return made


def _create_model(create: Create, request: Mapping[str, Any]) -> Any:
    """Model.create, retried while SageMaker cannot yet read the model data with a new role."""
    print_reason = [True]
    role = request.get("execution_role_arn")

    def attempt() -> Any:
        try:
            return create(**request)
        except ClientError as exc:
            if print_reason[0] and ROLE_PROPAGATION_TEXT in exc.response["Error"].get("Message", ""):
                print_reason[0] = False
                print(f"  SageMaker cannot read the model data with role {role} yet: a new role and its policy "
                      "take a few seconds to reach SageMaker (IAM is eventually consistent). Retrying.")  # fmt: skip
            raise

    try:
        return retry(attempt, what=f"creating model {request['model_name']}", codes={"ValidationException"},
                     message_contains=ROLE_PROPAGATION_TEXT, timeout_s=ROLE_PROPAGATION_TIMEOUT_S)  # fmt: skip
    except WorkshopError as exc:
        raise WorkshopError(
            f"{exc}\nFix: check that the role trusts sagemaker.amazonaws.com and may s3:GetObject the artifact "
            "(Step 3's policy), that the object exists, and that the bucket is in this region; then re-run the cell."
        ) from exc.__cause__


def _quota_error(exc: ClientError, name: str, config_name: str) -> WorkshopError:
    """The attendee's message for ResourceLimitExceeded: what the quota is and the three ways out."""
    return WorkshopError(
        f"SageMaker refused endpoint {name} with configuration {config_name}: {exc.response['Error']['Message']}\n"
        "Serverless concurrency is shared by every serverless endpoint of the account in this region. Fix: lower "
        "MaxConcurrency in the endpoint configuration spec (then delete the old configuration or give the spec a "
        "new name); or delete serverless endpoints you no longer need (in a shared account another attendee may "
        "hold the rest: python -m helpers cleanup --all-prefixes --older-than 8h lists old ones); or ask for an "
        f'increase of the quota "Maximum total concurrency that can be allocated across all serverless endpoints" '
        f"({SERVERLESS_QUOTA_CODE}) in Service Quotas."
    )


def _interval() -> float:
    return 1 if settings().is_local else 15


def _status(endpoint: Endpoint) -> str:
    """The endpoint's status as SageMaker describes it now (the SDK's refresh), or "Gone" once it no longer exists."""
    try:
        status: str = endpoint.refresh().endpoint_status
        return status
    except ClientError as exc:
        if is_not_found(exc):
            return "Gone"
        raise


def _wait_settled(endpoint: Endpoint, goal: str = "be InService") -> str:
    """Wait while the endpoint is Creating, Updating or Deleting (bounded, with progress); return its status.

    The SDK's own Endpoint.wait_for_status draws a rich Live panel, which Jupyter shows only with
    ipywidgets (without it: a warning and no progress); the kit's wait polls the same refresh().
    """
    return wait_for_state(
        lambda: _status(endpoint),
        what=f"endpoint {endpoint.endpoint_name} to {goal}",
        done={"InService", "Failed", "OutOfService", "Gone"},
        timeout_s=1800,
        interval_s=_interval(),
        hint="SageMaker is still working on it; re-run this cell to keep waiting.",
    )


def _delete_failed(endpoint: Endpoint) -> None:
    """Delete a Failed endpoint and wait until it is gone (SageMaker cannot update or re-create it)."""
    print(f"endpoint {endpoint.endpoint_name} is Failed: {endpoint.failure_reason or 'no reason given'}\n"
          "  deleting it to create it again")  # fmt: skip
    endpoint.delete()
    wait_for_state(lambda: _status(endpoint), what=f"endpoint {endpoint.endpoint_name} to be deleted", done={"Gone"},
                   timeout_s=900, interval_s=_interval())  # fmt: skip


def _update(endpoint: Endpoint, config_name: str) -> None:
    """Point the endpoint at another configuration (the quota's message when SageMaker refuses)."""
    old = endpoint.endpoint_config_name
    endpoint.endpoint_config_name = config_name  # Endpoint.update() deploys the resource's configuration
    try:
        endpoint.update()
    except ClientError as exc:
        endpoint.endpoint_config_name = old
        if errors.code(exc) == "ResourceLimitExceeded":
            raise _quota_error(exc, endpoint.endpoint_name, config_name) from None
        raise
    print(
        f"updating endpoint {endpoint.endpoint_name} to {config_name} (the old configuration serves meanwhile)"
    )


def _text(value: object) -> str | None:
    """An SDK field's value, None when SageMaker left it out (the SDK's Unassigned)."""
    return value if isinstance(value, str) else None


def ensure_endpoint(create: Create, reuse_existing: bool = False, **request: Any) -> Endpoint:
    """Endpoint.create(**request) unless the endpoint exists; wait until it is InService; return the SDK's Endpoint.

    An existing endpoint is kept when it already serves request's configuration, else pointed at it
    (Endpoint.update). A change in progress is waited for; a Failed endpoint is deleted and created
    again (SageMaker allows nothing else). With reuse_existing, an existing endpoint keeps its
    configuration (an attendee's own chapter-6 endpoint) and is never deleted.
    """
    resource = create.__self__
    name, config_name = request["endpoint_name"], request["endpoint_config_name"]
    current = _get(resource, name, request)
    if current is not None and current.endpoint_status in IN_PROGRESS:
        print(f"endpoint {name} is {current.endpoint_status}: waiting for SageMaker to finish")
        if _wait_settled(current, f"finish {current.endpoint_status}") == "Gone":
            current = None
    if current is not None and reuse_existing:
        print(f"endpoint {name}: exists, reused as it is ({current.endpoint_config_name})")
    elif current is not None and current.endpoint_status == "Failed":
        _delete_failed(current)
        current = None
    elif current is not None and current.endpoint_config_name != config_name:
        _update(current, config_name)
    elif current is not None:
        print(f"endpoint {name}: exists, serving {config_name}")
    if current is None:
        try:
            current = create(**request)
        except ClientError as exc:
            if errors.code(exc) == "ResourceLimitExceeded":
                raise _quota_error(exc, name, config_name) from None
            raise
        print(f"creating endpoint {name} (in AWS this takes a few minutes)")
    _wait_settled(current)
    status, reason = current.endpoint_status, _text(current.failure_reason)
    if status != "InService":
        raise WorkshopError(
            f"endpoint {name} ended {status}: {reason or 'no reason given'}\n"
            "Fix: check the model's image and artifact (tools/check_sagemaker_artifact.py) and the model's role, "
            "then re-run this cell: a Failed endpoint is deleted and created again."
        )
    if not reuse_existing and current.endpoint_config_name != config_name:
        raise WorkshopError(
            f"endpoint {name} could not switch to {config_name} and still serves {current.endpoint_config_name}: "
            f"{reason or 'no reason given'}\nFix: correct the model or configuration, then re-run this cell."
        )
    return current


# ---------------------------------------------------------------- deploying a model version (8.2, 8.3)


def _existing_arn(describe: Callable[[], str], what: str) -> str | None:
    """The ARN describe() answers, printing that what is kept as it is; None when it does not exist."""
    try:
        arn = describe()
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        return None
    print(f"{what}: exists, kept as it is")
    return arn


def ensure_model(spec: Mapping[str, Any]) -> str:
    """CreateModel(**spec) unless the model exists (kept as it is); its ARN. Retried while a new role propagates."""
    sm = client("sagemaker")
    name = spec["ModelName"]
    arn = _existing_arn(lambda: sm.describe_model(ModelName=name)["ModelArn"], f"model {name}")
    if arn is not None:
        return arn
    made: str = retry(lambda: sm.create_model(**spec), what=f"creating model {name}", codes={"ValidationException"},
                      message_contains=ROLE_PROPAGATION_TEXT, timeout_s=ROLE_PROPAGATION_TIMEOUT_S)["ModelArn"]  # fmt: skip
    print(f"model {name}: created (CreateModel)")
    return made


def ensure_endpoint_config(spec: Mapping[str, Any]) -> str:
    """CreateEndpointConfig(**spec) unless the configuration exists (kept: configurations cannot change); its ARN."""
    sm = client("sagemaker")
    name = spec["EndpointConfigName"]
    what = f"endpoint configuration {name}"
    arn = _existing_arn(
        lambda: sm.describe_endpoint_config(EndpointConfigName=name)["EndpointConfigArn"], what
    )
    if arn is not None:
        return arn
    made: str = sm.create_endpoint_config(**spec)["EndpointConfigArn"]
    print(f"endpoint configuration {name}: created (CreateEndpointConfig)")
    return made


def serving_config(endpoint: str) -> str:
    """The endpoint configuration an endpoint serves now (DescribeEndpoint), once no update is in progress."""
    _wait_described(endpoint, "finish its change")
    name: str = client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    return name


def _described_status(endpoint: str) -> str:
    """DescribeEndpoint's EndpointStatus."""
    status: str = client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
    return status


def _wait_described(endpoint: str, goal: str) -> str:
    """Wait while the endpoint is Creating, Updating or RollingBack (bounded, with progress)."""
    return wait_for_state(lambda: _described_status(endpoint), what=f"endpoint {endpoint} to {goal}",
                          done={"InService", "Failed", "OutOfService"}, timeout_s=1800, interval_s=_interval(),
                          hint="SageMaker is still working on it; re-run this cell to keep waiting.")  # fmt: skip


def deploy(endpoint: str, config_name: str) -> dict[str, Any]:
    """Point an endpoint at config_name with UpdateEndpoint (a roll-out or a roll-back) and wait until it serves it.

    A serverless endpoint takes one production variant, so a new model version goes out all at once: the old
    configuration keeps serving while the endpoint is Updating. An endpoint already serving config_name is left
    as it is. DescribeEndpoint's answer is returned.
    """
    sm = client("sagemaker")
    if serving_config(endpoint) == config_name:
        print(f"endpoint {endpoint} already serves {config_name}")
    else:
        try:
            sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
        except ClientError as exc:
            if errors.code(exc) == "ResourceLimitExceeded":
                raise _quota_error(exc, endpoint, config_name) from None
            raise
        print(f"UpdateEndpoint {endpoint} -> {config_name} (the old configuration serves until it is done)")
        _wait_described(endpoint, f"serve {config_name}")
    described: dict[str, Any] = sm.describe_endpoint(EndpointName=endpoint)
    if described["EndpointConfigName"] != config_name or described["EndpointStatus"] != "InService":
        raise WorkshopError(
            f"endpoint {endpoint} is {described['EndpointStatus']} on {described['EndpointConfigName']}, not on "
            f"{config_name}: {described.get('FailureReason') or 'no reason given'}\nFix: check the model of "
            f"{config_name} (its image and artifact), then re-run this cell."
        )
    print(f"endpoint {endpoint} is InService on {config_name}")
    return described


def rollback_target(endpoint: str, rolling_out: str, fallback: str) -> str:
    """The configuration to roll back to: the one serving now, or fallback when rolling_out already serves
    (a run that stopped between roll-out and roll-back)."""
    serving = serving_config(endpoint)
    return fallback if serving == rolling_out else serving


@contextmanager
def rolled_out(endpoint: str, config_name: str, fallback: str) -> Iterator[None]:
    """config_name serves the endpoint inside the block (UpdateEndpoint); what served before serves again after it."""
    back_to = rollback_target(endpoint, config_name, fallback)
    deploy(endpoint, config_name)
    try:
        yield
    finally:
        deploy(endpoint, back_to)
