"""The README is the attendee's and instructor's guide, docs/ the reference, and the notebooks speak to attendees.

The README stays short and pastes no policy; every link between the README and docs/ reaches its file and
anchor; each notebook opens with what you will learn, how long it takes and a table of contents that
works; 00_setup shows the pipeline's diagram in JupyterLab and in the HTML report; the chapter ends with
what production still needs; and no notebook's markdown talks about the kit's machinery.
"""

from __future__ import annotations

import base64
import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DIAGRAM = ROOT / "docs" / "pipeline.svg"
DIAGRAM_PNG = DIAGRAM.with_suffix(".png")
README_MAX_LINES = 250
# What JupyterLab renders as a markdown cell's attachment (@jupyterlab/rendermime imageRendererFactory's
# mimeTypes, 4.6): any other type, SVG included, fails with "Cannot render unknown image mime type".
JUPYTERLAB_ATTACHMENT_TYPES = {"image/bmp", "image/png", "image/jpeg", "image/gif", "image/webp"}

# The kit's machinery, which belongs in docs/ and never in what an attendee reads in a notebook.
MACHINERY = {
    "CI": r"\bCI\b",
    "moto": r"(?i)\bmoto\b",
    "the test tools": r"(?i)\b(pytest|nbval|papermill)\b",
    "the local cloud's package, hooks or emulation": r"(?i)\blocalcloud\b|\bhooks?\b|\bemulat",
    "test settings": r"WORKSHOP_(ALARM_PERIOD|ALARM_INTERVAL|LOCAL_\w+|STATE_DIR)|(?i:time scale)",
    "queue drains": r"(?i)\bdrain",
    "notes_of": r"\bnotes_of\b",
    "reconciliation windows": r"(?i)reconciliation window|\bwindow_start\b|\bthe window\b",
    "threads": r"(?i)\bthread",
    "creator tags": r"(?i)workshop-creator|creator tag",
    "the local cloud's identities": r"user/moto|123456789012",
    "the fidelity table": r"(?i)\bfidelity\b",
    "the kit's retry constants": r"\bMETRIC_LAG_S\b",
}


def without_code(markdown: str) -> str:
    """The markdown without fenced code blocks and inline code spans (links there are examples, not links)."""
    markdown = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", markdown)


def github_anchor(heading: str) -> str:
    """The #anchor GitHub gives a markdown heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every #anchor a markdown page has (its headings' GitHub anchors)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    return {github_anchor(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def broken_links(page: Path) -> list[str]:
    """The page's relative links (files and #anchors) that reach nothing, as 'target: why'."""
    broken = []
    for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", without_code(page.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:, attachment: are not files of the repository
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(
                f"{target}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}"
            )
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: {file.name} has no heading with that anchor")
    return broken


def markdown_cells(notebook: Path) -> list[str]:
    """The text of a notebook's markdown cells, in order."""
    nb = nbformat.read(notebook, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "markdown"]


def jupyterlab_heading_ids(notebook: Path) -> set[str]:
    """The ids JupyterLab (and nbconvert's HTML) give a notebook's headings: their text, spaces to hyphens."""
    ids = set()
    for source in markdown_cells(notebook):
        for heading in re.findall(r"^#{1,6} (.+)$", source, re.M):
            text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip()
            ids.add(text.replace(" ", "-"))
    return ids


def test_the_readme_is_a_guide_of_at_most_250_lines():
    assert len(README.read_text().splitlines()) <= README_MAX_LINES


def test_the_readme_pastes_no_policy():
    text = README.read_text()
    assert '"Statement"' not in text and "```json" not in text


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_of_the_readme_and_docs_reaches_its_file_and_anchor(page):
    assert broken_links(page) == []


def test_the_link_check_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-section) [gone](missing.md) [no anchor](other.md#nowhere) [self](#page) "
        "`[code](not-a-link.md)` [web](https://example.com/x.md)\n\n# Page\n"
    )
    assert broken_links(page) == [
        "missing.md: no file " + str(tmp_path / "missing.md"),
        "other.md#nowhere: other.md has no heading with that anchor",
    ]


def test_every_docs_page_is_linked_from_the_readme():
    linked = {
        (README.parent / t.partition("#")[0]).resolve()
        for t in re.findall(r"\]\(([^)#\s]+)", README.read_text())
    }
    assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_no_notebook_markdown_talks_about_the_kits_machinery(notebook):
    found = {
        f"{what}: {match.group(0)!r}"
        for source in markdown_cells(notebook)
        for what, pattern in MACHINERY.items()
        for match in re.finditer(pattern, source)
    }
    assert sorted(found) == []


def test_the_machinery_word_list_catches_what_the_notebooks_used_to_say():
    said = [
        "CI sets `WORKSHOP_ALARM_PERIOD=10` to run this notebook faster.",
        "We empty the queue of the notes so far; `notes_of` waits for one.",
        "identity: arn:aws:sts::123456789012:user/moto",
        "It writes with `BatchWriteItem`, 25 items per call, by 4 threads.",
        "(the `workshop-creator` tag: the AWS identity that created it)",
        "The local cloud runs the same queries (README: fidelity table).",
    ]
    assert all(any(re.search(p, line) for p in MACHINERY.values()) for line in said)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_each_notebook_opens_with_what_you_learn_how_long_it_takes_and_its_contents(notebook):
    opening = markdown_cells(notebook)[0]
    how_long = re.search(r"\*\*How long:\*\*(.*?)(\n\n|$)", opening, re.S)
    assert "**You will learn**" in opening and "**Contents:**" in opening
    assert how_long and "local cloud" in how_long[1] and "AWS" in how_long[1]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_each_notebook_says_how_long_it_takes_as_the_readme_does(notebook):
    row = next(line for line in README.read_text().splitlines() if line.startswith(f"| `{notebook.stem}`"))
    planned = re.search(r"(\d+) min \|$", row)
    said = re.search(r"\*\*How long:\*\* about (\d+) minutes", markdown_cells(notebook)[0])
    assert planned and said and planned[1] == said[1]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_each_notebooks_contents_link_to_its_own_headings(notebook):
    contents = markdown_cells(notebook)[0].partition("**Contents:**")[2]
    targets = re.findall(r"\]\(#([^)]+)\)", contents)
    assert len(targets) >= 3
    assert [t for t in targets if t not in jupyterlab_heading_ids(notebook)] == []


def test_the_pipeline_diagram_shows_every_part_of_the_pipeline():
    root = ET.parse(DIAGRAM).getroot()
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox")
    for part in ("Client", "API Gateway", "Lambda", "SageMaker endpoint", "DynamoDB", "Logs", "Metrics"):
        assert part in texts
    for part in ("Alarms", "SNS topic", "SQS queue", "Dashboard", "pandas"):
        assert part in texts


def render_diagram():
    """tools/render_diagram.py as a module."""
    spec = importlib.util.spec_from_file_location("render_diagram", ROOT / "tools" / "render_diagram.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_diagrams_png_is_rendered_from_the_current_svg():
    tool = render_diagram()
    stamped = tool.text_chunks(DIAGRAM_PNG.read_bytes()).get(tool.SOURCE_KEY)
    assert stamped == tool.source_text(DIAGRAM.read_bytes()), "run: .venv/bin/python tools/render_diagram.py"


def test_the_png_stamp_names_the_svg_it_came_from():
    tool = render_diagram()
    stamped = tool.with_text(DIAGRAM_PNG.read_bytes(), b"Other", b"value")
    assert tool.text_chunks(stamped)[b"Other"] == b"value"
    assert tool.source_text(b"<svg/>") != tool.source_text(DIAGRAM.read_bytes())


def setup_diagram_cell() -> nbformat.NotebookNode:
    """00_setup's markdown cell that shows the pipeline diagram."""
    nb = nbformat.read(ROOT / "notebooks" / "00_setup.ipynb", as_version=4)
    return next(c for c in nb.cells if c.cell_type == "markdown" and "attachment:pipeline.png" in c.source)


def test_setup_carries_the_diagram_as_an_attachment():
    attached = setup_diagram_cell().attachments["pipeline.png"]["image/png"]
    assert base64.b64decode(attached) == DIAGRAM_PNG.read_bytes()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_every_image_a_notebook_attaches_is_one_jupyterlab_renders(notebook):
    nb = nbformat.read(notebook, as_version=4)
    types = {mime for cell in nb.cells for image in cell.get("attachments", {}).values() for mime in image}
    assert types <= JUPYTERLAB_ATTACHMENT_TYPES


def test_the_html_report_shows_setups_diagram():
    from nbconvert import HTMLExporter

    cell = setup_diagram_cell()
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.v4.new_notebook(cells=[cell]))
    assert "data:image/png;base64," + cell.attachments["pipeline.png"]["image/png"] in body


def test_the_chapter_ends_with_what_production_still_needs():
    last = markdown_cells(ROOT / "notebooks" / "8.4_analyze_inference_history.ipynb")[-1]
    assert last.startswith("## What production still needs")
    for need in (
        "Authentication on the API",
        "on-failure destination",
        "Tracing",
        "Model Monitor",
        "serverless endpoints",
        "Infrastructure as code",
        "Budgets",
    ):
        assert need in last
