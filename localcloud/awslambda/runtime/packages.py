"""The packages a handler can import beside its zip and the standard library, as in AWS's Python runtime.

AWS's managed Python runtime adds boto3 and its dependencies (``RUNTIME_PACKAGES``). The kit links
them from its own site-packages into one folder (``runtime_packages()``, the worker's
``LAMBDA_RUNTIME_DIR``), with their distribution metadata, so their versions are the kit's, not
those of AWS's runtime; nothing else the kit has installed is importable.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import tempfile
import threading
from pathlib import Path

# What AWS's Python runtime adds to the standard library: {importable name: distribution}.
RUNTIME_PACKAGES = {
    "boto3": "boto3", "botocore": "botocore", "s3transfer": "s3transfer", "jmespath": "jmespath",
    "dateutil": "python-dateutil", "six": "six", "urllib3": "urllib3",
}  # fmt: skip

_packages_dir: Path | None = None
_packages_lock = threading.Lock()


def runtime_packages() -> Path:
    """A folder holding only RUNTIME_PACKAGES (links into the kit's site-packages), made once per process."""
    global _packages_dir
    with _packages_lock:
        if _packages_dir is None or not _packages_dir.is_dir():
            folder = Path(tempfile.mkdtemp(prefix="workshop-lambda-runtime-"))
            for module, distribution in RUNTIME_PACKAGES.items():
                spec = importlib.util.find_spec(module)
                locations = spec.submodule_search_locations if spec is not None else None
                origin = locations[0] if locations else spec.origin if spec is not None else None
                if origin is None:
                    raise RuntimeError(
                        f"{module} is not installed; the local Lambda runtime offers it. Fix: make install"
                    )
                source = Path(origin)
                (folder / source.name).symlink_to(source)
                metadata = getattr(importlib.metadata.distribution(distribution), "_path", None)
                if metadata is not None:  # importlib.metadata in a handler finds the versions too
                    (folder / Path(metadata).name).symlink_to(metadata)
            _packages_dir = folder
        return _packages_dir


def forget_runtime_packages() -> None:
    """Remove the runtime's package folder (made again on next use)."""
    global _packages_dir
    with _packages_lock:
        if _packages_dir is not None:
            shutil.rmtree(_packages_dir, ignore_errors=True)
        _packages_dir = None
