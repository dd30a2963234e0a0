"""What a notebook's source assigns, read without running the notebook (for tests that must use
exactly what a notebook shows)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

SOURCES = Path(__file__).resolve().parents[1] / "notebook_sources"


def assigned(notebook: str, name: str, scope: dict[str, Any] | None = None) -> Any:
    """The value of the first `name = ...` in notebook_sources/<notebook>.py, evaluated in `scope`."""
    tree = ast.parse((SOURCES / f"{notebook}.py").read_text())
    assignment = next(
        node for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name
    )
    return eval(compile(ast.Expression(assignment.value), notebook, "eval"), dict(scope or {}))  # noqa: S307 - our own source
