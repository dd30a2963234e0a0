"""Build notebooks/*.ipynb from notebook_sources/*.py ('# %%' code cells, '# %% [markdown]' text cells).

The sources are what we review and edit; the notebooks are committed with outputs cleared.
`python tools/build_notebooks.py --check` fails when a notebook is out of date.
An image a markdown cell shows from the repository (`![what](../docs/pipeline.png)`) is embedded in the
notebook as the cell's attachment, so JupyterLab (served from notebooks/) and the HTML report show it.
PNG only: JupyterLab renders no SVG attachment (tools/render_diagram.py renders the diagram's SVG).
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import nbformat

from helpers.lab import KERNEL_DISPLAY_NAME, KERNEL_NAME

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebook_sources"
MARKER = re.compile(r"^# %%(?P<kind> \[markdown\])?(?P<tags>\s+tags=\[[^\]]*\])?\s*$")
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\.\./docs/(?P<name>[\w.-]+\.png)\)")


def attach_images(cell: nbformat.NotebookNode) -> None:
    """Embed the repository images a markdown cell links (../docs/NAME) as the cell's attachments."""
    attachments = {}

    def embed(match: re.Match[str]) -> str:
        path = ROOT / "docs" / match["name"]
        attachments[match["name"]] = {"image/png": base64.b64encode(path.read_bytes()).decode()}
        return f"![{match['alt']}](attachment:{match['name']})"

    cell.source = IMAGE.sub(embed, cell.source)
    if attachments:
        cell.attachments = attachments


def parse(text: str) -> nbformat.NotebookNode:
    """A notebook from percent-format source text."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": KERNEL_DISPLAY_NAME, "language": "python", "name": KERNEL_NAME},
        "language_info": {"name": "python"},
    }
    cells: list[tuple[str, list[str], list[str]]] = []
    for line in text.splitlines():
        match = MARKER.match(line)
        if match:
            tags = re.findall(r'"([^"]+)"', match.group("tags") or "")
            cells.append(("markdown" if match.group("kind") else "code", tags, []))
        elif cells:
            cells[-1][2].append(line)
    for kind, tags, lines in cells:
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(
                line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines()
            )
            cell = nbformat.v4.new_markdown_cell(body)
            attach_images(cell)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cell.pop("id", None)
        nb.cells.append(cell)
    return nb


def render(source: Path) -> str:
    """The .ipynb text for one source file (stable ids, so rebuilding changes nothing)."""
    nb = parse(source.read_text())
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem.replace('.', '-')}-{index:02d}"
    return nbformat.writes(nb) + "\n"


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) every notebook."""
    stale = []
    for source in sorted(SOURCES.glob("*.py")):
        target = ROOT / "notebooks" / f"{source.stem}.ipynb"
        text = render(source)
        if "--check" in argv:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
        else:
            target.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; run: python tools/build_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
