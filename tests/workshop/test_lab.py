"""The workshop's JupyterLab: the kit's kernel, named by every notebook, and a lab without distractions."""

from __future__ import annotations

import json

import nbformat

from helpers import lab


def test_every_notebook_names_the_kits_kernel():
    for path in sorted(lab.NOTEBOOKS.glob("*.ipynb")):
        spec = nbformat.read(path, as_version=4).metadata["kernelspec"]
        assert (spec["name"], spec["display_name"]) == (lab.KERNEL_NAME, lab.KERNEL_DISPLAY_NAME), path.name


def test_the_kits_kernel_is_registered_in_its_environment():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(lab.KERNEL_NAME)
    assert spec.display_name == lab.KERNEL_DISPLAY_NAME
    assert spec.argv[0].startswith(str(lab.ROOT)) or ".venv" in spec.argv[0], spec.argv


def test_lab_settings_turn_off_the_news_pop_up_and_keep_other_overrides(tmp_path):
    target = tmp_path / "settings" / "overrides.json"
    target.parent.mkdir()
    target.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    written = json.loads(lab.write_settings(tmp_path).read_text())
    assert written["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert written["@jupyterlab/apputils-extension:notification"]["checkForUpdates"] is False
    assert written["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}


def test_lab_command_opens_the_notebooks_folder_with_the_kits_kernel():
    command = lab.command(port=8899, token="t", open_browser=False)
    assert f"--ServerApp.root_dir={lab.NOTEBOOKS}" in command
    assert f"--MultiKernelManager.default_kernel_name={lab.KERNEL_NAME}" in command
    assert "--no-browser" in command and "--ServerApp.port=8899" in command


def test_the_file_browser_shows_only_the_workshops_notebooks():
    shown = sorted(p.name for p in lab.NOTEBOOKS.iterdir() if not p.name.startswith("."))
    assert shown and all(name.endswith(".ipynb") for name in shown), shown


def test_a_kernel_for_a_jupyter_outside_the_venv_finds_the_kit(tmp_path, monkeypatch):
    import json as _json

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    where = lab.register_kernel(user=True)
    spec = _json.loads((where / "kernel.json").read_text())
    assert spec["env"]["PYTHONPATH"] == str(lab.ROOT)
    assert str(where).startswith(str(tmp_path))
