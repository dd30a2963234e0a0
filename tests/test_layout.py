"""The code's layout: the local cloud is its own package, a folder per AWS service, engines apart from hooks.

As moto keeps `logs/logs_query/` apart from `models.py`, every folder of localcloud/ holds engine
modules that import without moto (pure, tested alone) and at most one `hooks.py`, the module that
puts them into moto, installed by the server. The kit (helpers/) reaches the local cloud only
through its client (localcloud/client.py), and the local cloud imports nothing of the kit's.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud import server

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "localcloud"
SERVICES = {
    "apigateway",
    "awslambda",
    "calls",
    "cloudformation",
    "cloudwatch",
    "dynamodb",
    "iam",
    "logs",
    "sagemaker",
    "servicequotas",
    "sns",
    "sqs",
}
FOLDERS = sorted(path.parent for path in LOCAL.rglob("__init__.py") if path.parent != LOCAL)
PATCHES = re.compile(r"\bpatching\.(patch|add_action)\(")


def module_name(path: Path) -> str:
    """The importable name of a file under the repository root."""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports_of(path: Path) -> set[str]:
    """Every module name a file imports (absolute or relative), at any depth of its code."""
    found: set[str] = set()
    package = module_name(path).rpartition(".")[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def engine_modules(folder: Path) -> list[str]:
    """The folder's modules other than its hooks and the mixed ones, as importable names."""
    return [module_name(path) for path in sorted(folder.glob("*.py")) if path.name != "hooks.py"]


def test_the_local_cloud_has_a_folder_per_service():
    assert {path.name for path in LOCAL.iterdir() if (path / "__init__.py").is_file()} == SERVICES


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(LOCAL)))
def test_a_folder_s_engine_imports_without_moto(folder):
    script = (
        "import importlib, json, sys\n"
        f"for name in {engine_modules(folder)!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'moto')))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(LOCAL)))
def test_only_a_folder_s_hooks_module_patches_moto(folder):
    for path in folder.glob("*.py"):
        if path.name != "hooks.py":
            assert not PATCHES.search(path.read_text()), f"{path.relative_to(ROOT)} patches moto"


# Engines that still read the process-wide profile instead of being given it (split from their hooks
# recently); the list only shrinks: a test below fails when one of them no longer reads it.
READS_PROFILE = {"awslambda/states.py", "dynamodb/tables.py", "logs/ingestion.py", "servicequotas/quotas.py"}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(LOCAL)))
def test_a_folder_s_engine_is_given_the_profile_rather_than_reading_it(folder):
    """Engines receive the profile in force (or what they need of it) from their hooks; only hooks read
    localcloud.profile's process-wide one."""
    for path in folder.glob("*.py"):
        if path.name != "hooks.py" and str(path.relative_to(LOCAL)) not in READS_PROFILE:
            assert "profile.current(" not in path.read_text(), f"{path.relative_to(ROOT)} reads the profile"


@pytest.mark.parametrize("engine", sorted(READS_PROFILE))
def test_an_engine_listed_as_reading_the_profile_still_does(engine):
    assert "profile.current(" in (LOCAL / engine).read_text(), f"{engine} no longer reads it: drop it"


def test_every_hooks_module_is_installed_by_the_server():
    hooks = {module_name(path) for path in LOCAL.rglob("hooks.py")}
    assert hooks <= set(server.HOOK_MODULES)


def test_the_local_cloud_imports_nothing_of_the_kit():
    for path in LOCAL.rglob("*.py"):
        kit = sorted(name for name in imports_of(path) if name.split(".")[0] == "helpers")
        assert kit == [], f"{path.relative_to(ROOT)} imports {kit}"


def test_the_kit_reaches_the_local_cloud_only_through_its_client():
    for path in [*(ROOT / "helpers").rglob("*.py"), ROOT / "lambda" / "app.py"]:
        inner = sorted(
            name
            for name in imports_of(path)
            if name.split(".")[0] == "localcloud" and not re.fullmatch(r"localcloud(\.client(\.\w+)?)?", name)
        )
        assert inner == [], f"{path.relative_to(ROOT)} imports the local cloud's internals {inner}"


def test_the_shared_formats_import_neither_side():
    for path in (ROOT / "kitformats").rglob("*.py"):
        roots = {name.split(".")[0] for name in imports_of(path)}
        assert not roots & {"helpers", "localcloud"}, path


@pytest.mark.parametrize(
    "packages",
    [("localcloud", "kitformats"), ("helpers", "localcloud", "kitformats")],
    ids=["localcloud", "kit"],
)
def test_the_module_graph_has_no_cycle(packages):
    files = [path for package in packages for path in (ROOT / package).rglob("*.py")]
    names = {module_name(path): path for path in files}
    graph = {
        name: {target for target in imports_of(path) if target in names and target != name}
        for name, path in names.items()
    }
    # Lazy imports inside functions are imports too; a package's __init__ importing its own modules is not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(target) :], target]))
            if target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


KIT_PACKAGES = sorted(
    path.parent for path in (ROOT / "helpers").rglob("__init__.py") if path.parent != ROOT / "helpers"
)
USERS = (
    "helpers",
    "kitformats",
    "notebook_sources",
    "tools",
    "lambda",
)  # what the kit runs: not tests, not bench


@pytest.mark.parametrize("package", KIT_PACKAGES, ids=lambda p: module_name(p / "__init__.py"))
def test_a_package_exports_only_what_its_users_call(package):
    """A name in __all__ is called from outside the package by a notebook, the CLI or another helper;
    the error types its functions raise are there for callers to catch."""
    import importlib

    name = module_name(package / "__init__.py")
    module = importlib.import_module(name)
    inside = set(package.rglob("*.py"))
    texts = [p.read_text() for d in USERS for p in (ROOT / d).rglob("*.py") if p not in inside]
    unused = []
    for exported in getattr(module, "__all__", []):
        value = getattr(module, exported)
        if isinstance(value, type) and issubclass(value, BaseException):
            continue
        called = re.compile(
            rf"\b{package.name}\.{exported}\b|from {re.escape(name)} import (\([^)]*|[^\n]*)\b{exported}\b"
        )
        if not any(called.search(text) for text in texts):
            unused.append(exported)
    assert unused == [], f"{name} exports {unused}, which only its own modules, tests or benchmarks use"
