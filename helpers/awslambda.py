"""Lambda: deterministic packages, create-or-update with the waits AWS requires, invocation."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import zipfile
from collections.abc import Callable, Mapping
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


def invoke(name: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """Invoke synchronously; return the decoded payload (raise if the function failed)."""
    answer = client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    payload: dict[str, Any] = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        raise RuntimeError(f"{name} failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
    return payload
