"""Headless notebook runs for demos, instructors and CI: executed copies, HTML report, summary."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.lab import KERNEL_NAME

if TYPE_CHECKING:
    from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
CLEANUP = "99_cleanup.ipynb"


@dataclass
class Result:
    """How one notebook run went."""

    notebook: str
    ok: bool
    seconds: float
    last_line: str
    error: str = ""


def workshop_notebooks(include_cleanup: bool = False) -> list[Path]:
    """The workshop's notebooks in order (cleanup last, and only when asked)."""
    found = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if p.name[0].isdigit())
    return [p for p in found if include_cleanup or p.name != CLEANUP]


def inject_parameters(nb: NotebookNode, parameters: Mapping[str, object]) -> None:
    """Insert a cell after the one tagged 'parameters' (papermill's convention) setting the values."""
    if not parameters:
        return
    import nbformat

    source = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    cell["id"] = "injected-parameters"
    index = next((i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), -1)
    nb.cells.insert(index + 1, cell)


def run_notebook(
    path: Path, out_dir: Path, parameters: Mapping[str, object] | None = None, timeout_s: int = 900
) -> Result:
    """Execute one notebook in its folder; write the executed copy and an HTML page under out_dir."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, parameters or {})
    started = time.monotonic()
    error = ""
    try:
        # The kernel talks over local sockets in a private folder: over TCP it warns about encryption.
        with tempfile.TemporaryDirectory(prefix="workshop-kernel-") as sockets:
            config = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}})
            NotebookClient(
                nb,
                config=config,
                timeout=timeout_s,
                kernel_name=KERNEL_NAME,
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
    except CellExecutionError as exc:
        error = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()[-1][:300]
    except Exception as exc:  # kernel died, timeout
        error = f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.monotonic() - started
    final_progress_only(nb)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / path.name)
    _write_html(nb, out_dir / f"{path.stem}.html")
    return Result(path.name, not error, seconds, _last_line(nb), error)


def as_terminal_shows(text: str) -> str:
    """Stream text as a terminal (or JupyterLab) shows it: a carriage return overwrites its line, so
    a progress bar keeps only its last state."""
    lines = []
    for line in text.split("\n"):
        segments = [segment for segment in line.split("\r") if segment]
        lines.append(segments[-1] if segments else "")
    return "\n".join(lines)


def final_progress_only(nb: NotebookNode) -> None:
    """Keep only the last state of every progress bar in the notebook's printed output."""
    for cell in nb.cells:
        merged: list[Any] = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                output.get("output_type") == "stream"
                and previous is not None
                and previous.get("output_type") == "stream"
                and previous.get("name") == output.get("name")
            ):
                previous["text"] += output.get("text", "")
            else:
                merged.append(output)
        for output in merged:
            if output.get("output_type") == "stream":
                output["text"] = as_terminal_shows(output["text"])
        if "outputs" in cell:
            cell["outputs"] = merged


def _write_html(nb: NotebookNode, target: Path) -> None:
    """The executed notebook as an HTML page (a .html.txt saying why, when the export fails)."""
    try:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        target.write_text(body)
    except Exception as exc:  # the report is a convenience; never fail the run for it
        target.with_suffix(".html.txt").write_text(f"HTML export failed: {exc}")


def _last_line(nb: NotebookNode) -> str:
    """The notebook's last check line (they start with ✔), else its last line of output."""
    lines: list[str] = [
        line.strip()
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        for line in output.get("text", "").splitlines()
        if line.strip()
    ]
    checks = [line for line in lines if line.startswith("✔")]
    return ((checks or lines or [""])[-1])[:100]


def run_all(
    notebooks: list[Path] | None = None,
    out_dir: Path | None = None,
    parameters: Mapping[str, object] | None = None,
) -> list[Result]:
    """Run notebooks in order, stopping at the first failure; print progress and a summary."""
    out_dir = out_dir or BUILD / "notebooks"
    results = []
    for path in notebooks or workshop_notebooks():
        print(f"▶ {path.name} ...", flush=True)
        result = run_notebook(path, out_dir, parameters)
        results.append(result)
        print(f"  {'ok' if result.ok else 'FAILED'} in {result.seconds:.1f} s", flush=True)
        if not result.ok:
            break
    print_summary(results, out_dir)
    (out_dir / "summary.json").write_text(json.dumps([r.__dict__ for r in results], indent=2))
    write_report(results, out_dir)
    return results


def write_report(results: list[Result], out_dir: Path) -> Path:
    """An index.html: one row per notebook (status, time, check line) linking to its executed page."""
    import html

    from helpers.session import settings

    rows = "\n".join(
        f'<tr><td><a href="{html.escape(Path(r.notebook).stem)}.html">{html.escape(r.notebook)}</a></td>'
        f'<td class="{"ok" if r.ok else "failed"}">{"ok" if r.ok else "FAILED"}</td><td>{r.seconds:.1f} s</td>'
        f"<td>{html.escape(r.error or r.last_line)}</td></tr>"
        for r in results
    )
    page = (
        "<!doctype html><meta charset='utf-8'><title>Workshop run</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}"
        ".ok{color:#1a7f37}.failed{color:#cf222e;font-weight:bold}</style>"
        f"<h1>Workshop run</h1><p>mode {settings().mode} · prefix {html.escape(settings().prefix)} · "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}</p>"
        f"<table><tr><th>notebook</th><th>result</th><th>time</th><th>check</th></tr>{rows}</table>"
    )
    target = out_dir / "index.html"
    target.write_text(page)
    return target


def print_summary(results: list[Result], out_dir: Path) -> None:
    """A one-screen summary of a run."""
    from helpers.session import settings

    width = max([len(r.notebook) for r in results] + [8])
    print("\n" + "=" * 78)
    print(f"Workshop run · mode {settings().mode} · prefix {settings().prefix}")
    print("=" * 78)
    for r in results:
        status = "ok" if r.ok else "FAILED"
        print(f"{r.notebook:<{width}}  {status:<6} {r.seconds:6.1f} s  {r.error or r.last_line}")
    figures = sorted((BUILD / "figures").glob("*.png")) if (BUILD / "figures").exists() else []
    print("-" * 78)
    print(f"executed notebooks and HTML report: {os.path.relpath(out_dir)}/index.html")
    if figures:
        print(f"figures ({len(figures)}): {os.path.relpath(BUILD / 'figures')}/")
    if settings().is_local:
        print(
            f"local cloud still running at {settings().local_url} (stop it: .venv/bin/python -m localcloud down)"
        )
    failed = [r for r in results if not r.ok]
    print("ALL NOTEBOOKS PASSED" if not failed else f"FAILED: {failed[0].notebook}: {failed[0].error}")
