"""Notebooks run out of order stop at "Before you start" with the kit's one line ("Run 8.2 first: ..."),
never a botocore traceback, and the run still fails (nbval, `python -m helpers run`, Run All stop there).

Each notebook runs in a real kernel through nbclient, as `helpers.runner` runs them, on a local cloud
of its own (a free port, a fresh prefix).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import notebook_source
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {p.name.split("_")[0]: p for p in (ROOT / "notebooks").glob("*.ipynb") if p.name[0].isdigit()}

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """Environment for the notebook kernels: their own local cloud and a prefix nothing has used."""
    env = notebook_source.kernel_env("order", tmp_path_factory.mktemp("workshop-state"), MPLBACKEND="Agg")
    yield env
    notebook_source.stop_local_cloud(env)


def run(notebook: str, env: dict) -> tuple[bool, str]:
    """Execute a notebook (Run All: it stops at the first error); (ran to the end, every output as text)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    path = NOTEBOOKS[notebook]
    nb = nbformat.read(path, as_version=4)
    completed = True
    with tempfile.TemporaryDirectory(prefix="workshop-kernel-") as sockets:
        config = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}})
        client = NotebookClient(
            nb,
            config=config,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute(env=env)
        except CellExecutionError:
            completed = False
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                texts.append(output["text"])
            elif output["output_type"] == "error":
                texts.append("\n".join(output["traceback"]))  # what the notebook shows of an error
            else:
                texts.extend(str(v) for v in output.get("data", {}).values())
    return completed, re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(texts))


def assert_stops_with(notebook: str, env: dict, message: str) -> None:
    completed, text = run(notebook, env)
    assert not completed, f"{notebook} ran to the end out of order:\n{text[-3000:]}"
    assert message in text, f"{notebook}: no {message!r} in:\n{text[-3000:]}"
    for noise in ("Traceback", "botocore", "ClientError", "ResourceNotFoundException", 'File "'):
        assert noise not in text, f"{notebook} shows {noise!r}:\n{text[-3000:]}"
    errors = [line for line in text.splitlines() if line.startswith("NotReady: ")]
    assert len(errors) == 1 and message in errors[0], text[-3000:]  # one line says it all


@pytest.mark.parametrize("notebook", ["8.1", "8.2", "8.3", "8.4"])
def test_on_a_fresh_prefix_every_chapter_says_run_00_setup_first(kernel_env, notebook):
    assert_stops_with(notebook, kernel_env, "Run 00_setup first")


def test_each_chapter_names_the_earliest_notebook_whose_work_is_missing(kernel_env):
    completed, text = run("00", kernel_env)
    assert completed, text[-3000:]
    assert_stops_with("8.2", kernel_env, "Run 8.1 first: table order-inference-metadata does not exist.")
    assert_stops_with("8.4", kernel_env, "Run 8.1 first (then 8.2, 8.3)")

    completed, text = run("8.1", kernel_env)
    assert completed, text[-3000:]
    assert_stops_with("8.3", kernel_env, "Run 8.2 first: function order-inference")
    assert_stops_with("8.4", kernel_env, "Run 8.2 first (then 8.3)")

    completed, text = run("8.2", kernel_env)
    assert completed, text[-3000:]
    assert_stops_with("8.4", kernel_env, "Run 8.3 first: /aws/lambda/order-")


def test_a_missing_resource_is_reported_not_raised(local_cloud, monkeypatch):
    """The checks themselves, in this process: a prefix with nothing answers with what is missing."""
    from helpers import prerequisites, session

    monkeypatch.setenv("WORKSHOP_MODE", "local")
    monkeypatch.setenv("WORKSHOP_PREFIX", "nothing-here")
    monkeypatch.setattr(session, "_current", None)  # settings are read from the environment once per process
    gaps = prerequisites.missing("8.4")
    assert [m for m, _ in gaps] == ["00_setup", "8.1", "8.2", "8.3"], gaps
    assert "does not exist" in gaps[0][1]
    with pytest.raises(
        prerequisites.NotReady, match=r"^Run 00_setup first \(then 8.1, 8.2, 8.3\): endpoint "
    ):
        prerequisites.require("8.4")
    assert prerequisites.missing("00_setup") == []
