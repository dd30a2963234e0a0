"""The packages a handler can import beside its zip and the standard library, as in AWS's Python runtime.

AWS's managed Python runtime adds boto3 and its dependencies (``RUNTIME_PACKAGES``). The kit links
them from its own site-packages into one folder (``runtime_packages()``, the worker's
``LAMBDA_RUNTIME_DIR``), with their distribution metadata, so their versions are the kit's, not
those of AWS's runtime; nothing else the kit has installed is importable.

AWS's runtime ships them compiled; the worker writes no bytecode (``-B``: a function's code folder is
read-only on AWS), so without ``compile_for`` every cold start compiled boto3 and botocore again for
the worker's Python. ``compile_for`` writes their bytecode for an interpreter once per machine, beside
the kit's own (``__pycache__/*.cpython-313.pyc``); later calls only check that it is current.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
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


def _package_folders() -> list[Path]:
    """The runtime packages' folders in the kit's site-packages (its own files, not the links)."""
    folders = []
    for module in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(module)
        locations = spec.submodule_search_locations if spec is not None else None
        if locations:  # a package, not a single module
            folders.append(Path(locations[0]).resolve())
    return folders


def _compiled(folder: Path, tag: str) -> bool:
    """Whether the package in folder has current bytecode for the cache tag (e.g. cpython-313)."""
    compiled = folder / "__pycache__" / f"__init__.{tag}.pyc"
    return compiled.is_file() and compiled.stat().st_mtime >= (folder / "__init__.py").stat().st_mtime


_cache_tags: dict[
    str, str
] = {}  # interpreter -> its bytecode cache tag (cpython-313), asked once per process


def cache_tag(interpreter: str) -> str:
    """The interpreter's bytecode cache tag, e.g. cpython-313 (its compiled files are named after it)."""
    if interpreter not in _cache_tags:
        asked = subprocess.run(
            [interpreter, "-I", "-S", "-c", "import sys; print(sys.implementation.cache_tag)"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        _cache_tags[interpreter] = asked.stdout.strip()
    return _cache_tags[interpreter]


def compile_for(interpreter: str) -> None:
    """Compile the runtime packages to bytecode for interpreter (a Lambda runtime's Python) unless they
    have current bytecode for it already; a folder it cannot write to only costs the speed."""
    with _packages_lock:
        tag = cache_tag(interpreter)
        folders = [str(folder) for folder in _package_folders() if not _compiled(folder, tag)]
        if folders:
            subprocess.run(
                [interpreter, "-m", "compileall", "-q", *folders],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                timeout=600,
            )


def forget_runtime_packages() -> None:
    """Remove the runtime's package folder (made again on next use)."""
    global _packages_dir
    with _packages_lock:
        if _packages_dir is not None:
            shutil.rmtree(_packages_dir, ignore_errors=True)
        _packages_dir = None
