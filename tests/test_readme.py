"""The code maps' module tables (docs/design.md for helpers/, docs/local-cloud.md for localcloud/) match the files:
every module has a row, every row names a module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each table's header, the page it is on, and the folder its first column's paths are relative to.
TABLES = {
    "| module | what it manages |": (ROOT / "docs" / "design.md", ROOT / "helpers"),
    "| module | behaviour |": (ROOT / "docs" / "local-cloud.md", ROOT / "localcloud"),
}


def table_paths(header: str) -> set[str]:
    """The modules the table that starts with header names: the paths in a row's first column, and in a
    package's row (first column `package/`) the `name.py` its description lists, as `package/name.py`."""
    page = TABLES[header][0].read_text()
    lines = page[page.index(header) :].splitlines()[2:]
    rows = lines[: next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))]
    found = set()
    for row in rows:
        first = re.findall(r"`([\w/]+(?:\.py|/))`", row.split("|")[1])
        found.update(first)
        for package in (path for path in first if path.endswith("/")):
            found.update(package + name for name in re.findall(r"`(\w+\.py)`", row))
    return found


def modules(folder: Path) -> set[str]:
    """The folder's modules as the table names them: `name.py` (its own `__init__.py` too), and `package/` plus
    `package/name.py`."""
    found = set()
    for path in folder.rglob("*.py"):
        relative = path.relative_to(folder)
        if relative.name == "__init__.py" and len(relative.parts) > 1:
            found.add(f"{relative.parent.as_posix()}/")
            continue
        found.add(relative.as_posix())
    return found


@pytest.mark.parametrize("header", TABLES, ids=["helpers", "localcloud"])
def test_every_module_has_a_row_in_its_code_map(header):
    assert modules(TABLES[header][1]) - table_paths(header) == set()


@pytest.mark.parametrize("header", TABLES, ids=["helpers", "localcloud"])
def test_every_code_map_row_names_a_module_that_exists(header):
    assert table_paths(header) - modules(TABLES[header][1]) == set()
