"""Lambda: deterministic packages, create-or-update with the waits AWS requires, invocation."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path

from botocore.exceptions import ClientError

from helpers.session import client
from helpers.waiters import retry

ROOT = Path(__file__).resolve().parents[1]
CONFIG_KEYS = ("Role", "Handler", "Runtime", "Timeout", "MemorySize", "Environment", "Description")


def build_zip(files: dict[str, Path]) -> bytes:
    """A zip of {name in zip: source path}, byte-identical for identical sources (fixed dates, order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, Path(files[name]).read_bytes())
    return out.getvalue()


def code_sha256(zip_bytes: bytes) -> str:
    """The CodeSha256 Lambda reports for a package (base64 of the SHA-256)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def _wait_updated(name: str) -> None:
    client("lambda").get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300}
    )


def _conflict_retry(call, what: str):
    return retry(call, what=what, codes={"ResourceConflictException"}, timeout_s=300)


def ensure_function(spec: dict, zip_bytes: bytes, reuse_existing: bool = False) -> dict:
    """Create the function, or update its code and configuration where they differ; print what changed.

    With reuse_existing, an existing function is used as it is (an attendee's own chapter-7 function).
    """
    lam = client("lambda")
    name = spec["FunctionName"]
    try:
        current = lam.get_function(FunctionName=name)["Configuration"]
        if reuse_existing:
            print(f"function {name}: exists, reused as it is")
            return current
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        created = retry(
            lambda: lam.create_function(**spec, Code={"ZipFile": zip_bytes}),
            what=f"creating function {name} (a new role takes seconds to be assumable)",
            codes={"InvalidParameterValueException"},
            message_contains="cannot be assumed",
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        print(f"created function {name}")
        return created
    changes = []
    if current["CodeSha256"] != code_sha256(zip_bytes):
        _conflict_retry(lambda: lam.update_function_code(FunctionName=name, ZipFile=zip_bytes), f"updating {name}'s code")
        _wait_updated(name)
        changes.append("code")
    wanted = {k: spec[k] for k in CONFIG_KEYS if k in spec}
    have = {k: current.get(k) for k in wanted}
    if "Environment" in have:
        have["Environment"] = {"Variables": (current.get("Environment") or {}).get("Variables", {})}
    differs = [k for k in wanted if wanted[k] != have[k]]
    if differs:
        update_configuration(name, wanted)
        changes += differs
    print(f"function {name}: " + (f"updated {', '.join(changes)}" if changes else "up to date, nothing to deploy"))
    return lam.get_function(FunctionName=name)["Configuration"]


def update_configuration(name: str, changes: dict) -> None:
    """Update the function's configuration, retrying while another update runs, and wait until done."""
    changes = {k: v for k, v in changes.items() if k in CONFIG_KEYS}
    _wait_updated(name)
    _conflict_retry(
        lambda: client("lambda").update_function_configuration(FunctionName=name, **changes),
        f"updating {name}'s configuration",
    )
    _wait_updated(name)


def invoke(name: str, event: dict) -> dict:
    """Invoke synchronously; return the decoded payload (raise if the function failed)."""
    answer = client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        raise RuntimeError(f"{name} failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
    return payload
