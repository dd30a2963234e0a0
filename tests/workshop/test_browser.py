"""The workshop as attendees meet it: JupyterLab started as `make lab` starts it, driven by a real Chromium.

Every notebook is opened, run with Run ▸ Run All Cells, and read back from the page: the kit's kernel, the
final ✔ line, no error output, no math typeset from `$` signs, outputs that fit the notebook, finished
progress bars. A full-page screenshot of each lands in build/screenshots/ (linked from the HTML report).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

import pytest
from jupyterlab_page import LabPage, browser_missing, chromium, jupyterlab, quit_browser
from notebook_source import free_port, kernel_env, stop_local_cloud

from helpers import lab

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
IN_ORDER = [
    "00_setup",
    "8.1_create_dynamodb_table",
    "8.2_update_lambda_write_dynamodb",
    "8.3_monitor_with_cloudwatch",
    "8.4_analyze_inference_history",
    "8.5_deploy_as_a_template",
]
CLEANUP = "99_cleanup"
RUN_TIMEOUT_S = 420
# What must read literally on the page (8.3 teaches `$.field` patterns; JupyterLab typesets `$...$` as math),
# and whole: the values a lesson relies on, which a cut table cell would end before.
LITERAL = {
    "8.1_create_dynamodb_table": ["/model.tar.gz", "sagemaker-xgboost", "CreateTable", "PutRolePolicy",
                                  "AWSLambdaBasicExecutionRole"],
    "8.2_update_lambda_write_dynamodb": ["'features' must hold exactly 4 numbers, got 3", "+def lambda_handler",
                                         "UpdateFunctionCode", "UpdateFunctionConfiguration"],
    "8.3_monitor_with_cloudwatch": [
        '{ $.event = "inference" }',
        "$.latencyMs",
        "per month\n(list prices of",
        '{"event": "inference", "requestId": "a", "status": "ok", "latencyMs": 18.5}',
        '{"event": "metadata_write_failed", "record": {"requestId": {"S": "d"}}, "error": "Throttled"}',
        "sns.amazonaws.com",
        "SetQueueAttributes",
        "PutDashboard",
    ],
}  # fmt: skip
FIGURES = ROOT / "build" / "figures"
DASHBOARD = FIGURES / "8.3_dashboard.png"

# The failure demo as the page shows it: the model container's own error (a bad deploy), in the Lambda's answer
# (8.2) and in the endpoint's log group beside the Lambda's (8.3), and the alarm on the endpoint's metric.
SHOWN = {
    "8.2_update_lambda_write_dynamodb": ["Received client error (400) from primary", "UpdateEndpoint"],
    "8.3_monitor_with_cloudwatch": [
        "Number of columns does not match number of features in booster",
        "/aws/sagemaker/Endpoints/",
        "Invocation4XXErrors",
    ],
}

pytestmark = pytest.mark.browser


def _notebook_hashes() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in lab.NOTEBOOKS.glob("*.ipynb")}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A browser tab on the workshop's JupyterLab, with its own local cloud and a fresh attendee prefix."""
    missing = browser_missing()
    if missing:
        if os.environ.get("WORKSHOP_REQUIRE_BROWSER") or os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {missing}")
        pytest.skip(missing)
    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    # The test never saves: the repository's notebooks stay as committed (checked at the end).
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    env = kernel_env("browser", home / "state", JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    port, token = free_port(), secrets.token_hex(16)
    command = lab.command(port=port, token=token, open_browser=False) + [
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]
    before = _notebook_hashes()
    with jupyterlab(command, env, port, token, home / "jupyterlab.log") as url:
        driver = chromium()
        try:
            yield LabPage(driver, url, token)
        finally:
            quit_browser(driver)
            stop_local_cloud(env)
    assert _notebook_hashes() == before, "the browser run changed the repository's notebooks"


def _run_all(page: LabPage, notebook: str, extras, *, restart: bool = False, label: str = ""):
    """Open the notebook, run every cell from the menu, screenshot it; what the page shows."""
    page.open(f"{notebook}.ipynb")
    if restart:
        page.menu("Run", "runmenu:restart-and-run-all")
        page.accept_dialog("Restart")
    else:
        page.menu("Run", "runmenu:run-all")
    seconds = page.wait_until_run(RUN_TIMEOUT_S, progress=lambda line: print(f"{notebook}{line}", flush=True))
    report = page.read()
    report.seconds = seconds
    shot = page.screenshot(SCREENSHOTS / f"{notebook}{'-' + label if label else ''}.png")
    _link(extras, shot)
    page.shutdown_kernel()
    return report


def _link(extras, shot: Path) -> None:
    """Link the screenshot from the HTML report (pytest-html), relative to build/."""
    try:
        import pytest_html
    except ImportError:
        return
    extras.append(
        pytest_html.extras.url(str(shot.relative_to(ROOT / "build")), name=f"screenshot {shot.name}")
    )


def _assert_clean(report, notebook: str) -> None:
    assert report.kernel == lab.KERNEL_DISPLAY_NAME, (
        f"{notebook} ran on {report.kernel!r}, not the kit's kernel"
    )
    assert report.prompts and all(p.strip("[]: ").isdigit() for p in report.prompts), (
        f"{notebook}: not every cell ran: {report.prompts}"
    )
    assert not report.error_outputs, f"{notebook} shows error output: {report.error_outputs[0][:1500]}"
    assert report.last_check, f"{notebook} shows no ✔ line; its last output: {report.last_output[-800:]}"
    assert not report.math, f"{notebook} typesets text as math (a `$` pair?): {report.math[:3]}"
    assert not report.too_wide, f"{notebook} has outputs wider than the notebook: {report.too_wide[:3]}"
    assert not report.code_too_wide, f"{notebook} has code scrolling sideways: {report.code_too_wide[:3]}"
    assert not report.too_long, (
        f"{notebook} has outputs taller than a screenful or two: {report.too_long[:3]}"
    )
    assert not report.popups, f"{notebook}: the lab shows a pop-up: {report.popups}"
    assert not report.unfinished_bars, (
        f"{notebook} left progress bars unfinished: {report.unfinished_bars[:3]}"
    )
    assert not report.cut_cells, f"{notebook} shows table cells cut short: {report.cut_cells[:3]}"


def test_a_chapter_run_before_its_prerequisites_shows_the_kits_run_first_message(page, extras):
    report = _run_all(page, "8.3_monitor_with_cloudwatch", extras, label="out-of-order")
    shown = "\n".join(report.outputs)
    assert "Traceback" not in shown and "botocore" not in shown, (
        f"8.3 out of order shows a traceback:\n{shown[-2000:]}"
    )
    assert "first" in report.last_output and "Run " in report.last_output, (
        f"8.3 out of order does not say what to run first; its last output: {report.last_output[-800:]}"
    )


@pytest.mark.parametrize("notebook", IN_ORDER)
def test_each_notebook_runs_all_in_the_browser_and_shows_its_check_line(page, extras, notebook):
    report = _run_all(page, notebook, extras)
    print(f"{notebook}: {report.seconds:.0f} s, {report.last_check}")
    _assert_clean(report, notebook)
    shown = "\n".join(report.outputs) + "\n" + report.markdown_text
    for text in LITERAL.get(notebook, []):
        assert text in shown, f"{notebook} does not show {text!r} literally"
    outputs = "\n".join(report.outputs)
    for text in SHOWN.get(notebook, []):
        assert text in outputs, f"{notebook}'s outputs do not show {text!r}"
    if notebook == "8.3_monitor_with_cloudwatch":
        _assert_dashboard_units(DASHBOARD)


def _assert_dashboard_units(png: Path) -> None:
    """The dashboard figure the page shows (saved beside it) names a unit on every axis."""
    from PIL import Image

    axes = json.loads(Image.open(png).text["Description"])
    unlabelled = [a for a in axes if not (a["x"] and a["y"])]
    assert axes and not unlabelled, f"{png.name}: axes without a unit: {unlabelled}"


def test_restart_kernel_and_run_all_gives_the_same_check_line(page, extras):
    report = _run_all(page, "8.1_create_dynamodb_table", extras, restart=True, label="restarted")
    _assert_clean(report, "8.1_create_dynamodb_table (restarted)")


def test_cleanup_notebook_runs_in_the_browser(page, extras):
    report = _run_all(page, CLEANUP, extras)
    _assert_clean(report, CLEANUP)
