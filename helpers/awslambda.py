"""Lambda: deterministic packages, create-or-update with the waits AWS requires, invocation."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from helpers.errors import is_not_found
from helpers.session import client
from helpers.waiters import retry, wait_for_state

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "build" / "lambda"
# The line of lambda/app.py after which the handler's parts follow it (8.2 shows the handler above it as a diff).
HANDLER_END = "# ================================================================ beside the handler"
T = TypeVar("T")
CONFIG_KEYS = ("Role", "Handler", "Runtime", "Timeout", "MemorySize", "Environment", "Description")


def build_zip(files: Mapping[str, Path]) -> bytes:
    """A zip of {name in zip: source path}, byte-identical for identical sources (fixed dates, order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, Path(files[name]).read_bytes())
    return out.getvalue()


def save_package(zip_bytes: bytes, name: str, directory: Path = PACKAGES) -> str:
    """Write a package under build/lambda (for the AWS CLI's fileb://); return its path as the kit's folder sees it."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_handler(path: Path = ROOT / "lambda" / "app.py") -> ModuleType:
    """lambda/app.py imported as a module (to read its functions), without deploying it."""
    spec = importlib.util.spec_from_file_location("app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_sha256(zip_bytes: bytes) -> str:
    """The CodeSha256 Lambda reports for a package (base64 of the SHA-256)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def _configuration(name: str) -> dict[str, Any]:
    """The function's configuration as Lambda reports it now."""
    configuration: dict[str, Any] = client("lambda").get_function_configuration(FunctionName=name)
    return configuration


def _wait_for(name: str, field: str, done: str, what: str) -> None:
    """Wait (with progress) until the configuration's field is done; fail clearly if it is Failed."""
    wait_for_state(
        lambda: _configuration(name).get(field, done),
        what=f"function {name}{what}",
        done={done},
        failed={"Failed"},
        timeout_s=300,
        interval_s=1,
        hint=f"Lambda's {field}Reason says why: aws lambda get-function-configuration --function-name {name}",
    )


def wait_active(name: str) -> None:
    """Wait until a new function leaves Pending (State Active)."""
    _wait_for(name, "State", "Active", " to be Active")


def wait_updated(name: str) -> None:
    """Wait until the function's last update is done (LastUpdateStatus Successful)."""
    _wait_for(name, "LastUpdateStatus", "Successful", "'s update to finish")


def _conflict_retry(call: Callable[[], T], what: str) -> T:
    """call, retried while Lambda answers ResourceConflictException (a create or another update still running)."""
    return retry(call, what=what, codes={"ResourceConflictException"}, timeout_s=300)


def ensure_function(
    spec: Mapping[str, Any], zip_bytes: bytes, reuse_existing: bool = False
) -> dict[str, Any]:
    """Create the function, or update its code and configuration where they differ; print what changed.

    With reuse_existing, an existing function is left as it is: only a missing one is created (00_setup,
    which must not undo the handler a later chapter deployed; or an attendee's own chapter-7 function).
    Every step waits as AWS requires: Active after create, Successful after each update.
    """
    name = spec["FunctionName"]
    try:
        client("lambda").get_function(FunctionName=name)
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        return _create(spec, zip_bytes)
    if reuse_existing:
        print(f"function {name}: exists, left as it is (a later chapter may have deployed its own code; "
              "99_cleanup deletes it)")  # fmt: skip
        wait_active(name)
        wait_updated(name)
        return _configuration(name)
    update_code({"FunctionName": name, "ZipFile": zip_bytes})
    update_configuration({"FunctionName": name, **{k: spec[k] for k in CONFIG_KEYS if k in spec}})
    return _configuration(name)


def update_code(request: Mapping[str, Any]) -> dict[str, Any]:
    """Apply an UpdateFunctionCode request (FunctionName, ZipFile) unless the function already runs that
    package; wait (with progress) until Lambda reports the update finished; return the configuration."""
    name = request["FunctionName"]
    wait_active(name)
    if _configuration(name)["CodeSha256"] == code_sha256(request["ZipFile"]):
        print(f"function {name}: code up to date (same CodeSha256), nothing to deploy")
        return _configuration(name)
    wait_updated(name)
    _conflict_retry(lambda: client("lambda").update_function_code(**request), f"updating {name}'s code")
    wait_updated(name)
    print(f"function {name}: code updated")
    return _configuration(name)


def _differences(request: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """The configuration keys an UpdateFunctionConfiguration request would change."""
    differs = []
    for key, wanted in request.items():
        if key == "FunctionName":
            continue
        have = current.get(key)
        if key == "Environment":
            have = {"Variables": (have or {}).get("Variables", {})}
            wanted = {"Variables": dict((wanted or {}).get("Variables", {}))}
        if wanted != have:
            differs.append(key)
    return differs


def _create(spec: Mapping[str, Any], zip_bytes: bytes) -> dict[str, Any]:
    """Create the function (retrying while its new role is not yet assumable) and wait until it is Active."""
    name = spec["FunctionName"]
    retry(
        lambda: client("lambda").create_function(**spec, Code={"ZipFile": zip_bytes}),
        what=f"creating function {name} (a new role takes seconds to be assumable)",
        codes={"InvalidParameterValueException"},
        message_contains="cannot be assumed",
    )
    wait_active(name)
    print(f"created function {name}")
    return _configuration(name)


def update_configuration(request: Mapping[str, Any]) -> dict[str, Any]:
    """Apply an UpdateFunctionConfiguration request where it differs from the function's configuration,
    retrying while another update runs, and wait until done; return the configuration."""
    name = request["FunctionName"]
    wait_active(name)
    wait_updated(name)
    differs = _differences(request, _configuration(name))
    if not differs:
        print(f"function {name}: configuration up to date")
        return _configuration(name)
    _conflict_retry(
        lambda: client("lambda").update_function_configuration(**request),
        f"updating {name}'s configuration",
    )
    wait_updated(name)
    print(f"function {name}: updated {', '.join(differs)}")
    return _configuration(name)


# IAM's eventual consistency: a role policy just put may take seconds to reach the function's own calls.
IAM_PROPAGATION_TIMEOUT_S = 120.0
DENIED_MARK = "is not authorized to perform"  # AWS's wording of every identity-policy denial


def invoke(name: str, event: Mapping[str, Any], *, after_policy_change: bool = False) -> dict[str, Any]:
    """Invoke synchronously; return the decoded payload (raise if the function failed).

    after_policy_change: the function's role policy just changed, so while the function's own AWS call is
    refused (``AccessDenied ... is not authorized to perform``), wait and invoke again, with progress,
    for at most IAM_PROPAGATION_TIMEOUT_S (IAM user guide: changes are "eventually consistent").
    """
    started, delay = time.monotonic(), 1.0
    while True:
        answer = client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload: dict[str, Any] = json.loads(answer["Payload"].read() or b"null")
        if not answer.get("FunctionError"):
            return payload
        message = f"{name} failed: {payload.get('errorType')}: {payload.get('errorMessage')}"
        denied = DENIED_MARK in str(payload.get("errorMessage", ""))
        if not (after_policy_change and denied) or time.monotonic() - started > IAM_PROPAGATION_TIMEOUT_S:
            raise RuntimeError(message)
        print(
            f"  {name}: its role's new policy has not reached it yet (AccessDenied), retrying in {delay:.0f} s"
        )
        time.sleep(delay)
        delay = min(delay * 2, 15)


def keep_version(name: str, alias: str, description: str, replacing_with: str) -> dict[str, Any] | None:
    """Publish the function's current code as a version with an alias, before code replacing_with (a CodeSha256)
    replaces it; the alias answers (GetAlias) when it exists already, None when the current code is that code.
    """
    lam = client("lambda")
    try:
        found: dict[str, Any] = lam.get_alias(FunctionName=name, Name=alias)
        print(f"alias {alias}: version {found['FunctionVersion']} (kept before)")
        return found
    except ClientError as exc:
        if not is_not_found(exc):
            raise
    if _configuration(name)["CodeSha256"] == replacing_with:
        print(f"alias {alias}: nothing to keep, {name} already runs the new code")
        return None
    wait_updated(name)
    version = _conflict_retry(
        lambda: lam.publish_version(FunctionName=name, Description=description), f"publishing {name}"
    )
    made: dict[str, Any] = lam.create_alias(
        FunctionName=name, Name=alias, FunctionVersion=version["Version"], Description=description
    )
    print(f"published version {version['Version']} of {name} as alias {alias}: {made['AliasArn']}")
    return made


@contextmanager
def environment(name: str, **changes: str) -> Iterator[None]:
    """The function runs with these environment variables changed inside the block, as before after it."""
    variables = dict(_configuration(name).get("Environment", {}).get("Variables", {}))
    update_configuration({"FunctionName": name, "Environment": {"Variables": {**variables, **changes}}})
    try:
        yield
    finally:
        update_configuration({"FunctionName": name, "Environment": {"Variables": variables}})
