"""What attendees see in JupyterLab: no math made of dollar signs, CLI commands for the cloud in use,
tables that fit. (The real rendering in Chromium is tests/workshop/test_browser.py's.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import session, show

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Code spans and fenced code, as JupyterLab 4's removeMath protects them (MathJax skips <code> too).
CODE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1`*$|(`+)[^\n]*?[^`\n]\2(?!`)", re.M)


def _markdown_cells():
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                yield path.name, "".join(cell["source"])


@pytest.mark.parametrize(("notebook", "source"), list(_markdown_cells()))
def test_no_dollar_sign_in_markdown_outside_code(notebook, source):
    """JupyterLab typesets text between two `$` as math, even written `\\$` (marked unescapes it, then
    MathJax typesets the page): dollar signs in markdown go in code spans."""
    prose = CODE.sub("", source)
    assert "$" not in prose, f"{notebook}: a $ outside a code span in:\n{source}"


def test_the_kits_import_in_a_kernel_keeps_pandas_tables_out_of_mathjax():
    script = (
        "import IPython, pandas as pd\n"
        "import helpers.config\n"
        "print(pd.get_option('display.html.use_mathjax'))\n"
        "print('tex2jax_ignore' in pd.DataFrame({'p': ['{ $.event = 1 }', '$0.10']})._repr_html_())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "True"]


def test_a_process_without_ipython_does_not_import_pandas_for_it():
    script = "import sys, helpers.config; print('pandas' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    ("mode", "port", "expected"),
    [
        (
            "local",
            "4711",
            "aws --endpoint-url http://127.0.0.1:4711 --region eu-west-1 lambda list-functions",
        ),
        ("aws", "4711", "aws --region eu-west-1 lambda list-functions"),
    ],
)
def test_aws_cli_commands_use_the_settings(monkeypatch, mode, port, expected):
    monkeypatch.setenv("WORKSHOP_MODE", mode)
    monkeypatch.setenv("WORKSHOP_LOCAL_PORT", port)
    monkeypatch.setenv("WORKSHOP_REGION", "eu-west-1")
    monkeypatch.setenv("WORKSHOP_PREFIX", "jane-doe")
    monkeypatch.setattr(session, "_current", None)
    assert show.aws_cli("lambda", "list-functions") == expected


def test_no_notebook_writes_a_local_cloud_url_into_its_source():
    for path in (ROOT / "notebook_sources").glob("*.py"):
        text = path.read_text()
        assert "127.0.0.1" not in text and "--endpoint-url" not in text, path.name


def test_the_history_summary_fits_the_notebook():
    from helpers import history
    from helpers.history import _arrow

    rng = pd.date_range("2026-11-20", periods=200, freq="17min", tz="UTC")
    frame = _arrow.empty_frame().reindex(range(len(rng)))
    frame["timestamp"] = rng
    frame["modelVersion"] = pd.Categorical(["1", "2"] * 100)
    frame["variantName"] = pd.Categorical(["AllTraffic"] * 150 + ["Canary"] * 50)
    frame["status"] = pd.Categorical(["ok"] * 190 + ["model_error"] * 10)
    frame["latencyMs"] = 20.0
    frame["prediction"] = 0.5
    frame["coldStart"] = False
    table = show.history_summary(history.summary(frame))
    assert list(table.columns)[-1] == "all" and len(table.columns) <= 6
    assert table.map(len).max().max() <= 14  # every value short: rounded, dates without seconds
    assert table.loc["requests", "all"] == "200" and table.loc["error rate", "all"] == "5.0%"


def test_the_printed_aws_cli_commands_run_against_the_local_cloud(local_cloud, monkeypatch, tmp_path):
    import shlex

    import boto3

    port = local_cloud.rsplit(":", 1)[1]
    monkeypatch.setenv("WORKSHOP_MODE", "local")
    monkeypatch.setenv("WORKSHOP_LOCAL_PORT", port)
    monkeypatch.setattr(session, "_current", None)
    table = "cli-check-inference-metadata"
    boto3.client("dynamodb", endpoint_url=local_cloud, region_name="us-east-1").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "requestId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "requestId", "KeyType": "HASH"}],
    )
    command = shlex.split(
        show.aws_cli("dynamodb", "describe-table", "--table-name", table, "--output", "json")
    )
    assert command[0] == "aws"
    aws = Path(sys.executable).with_name("aws")  # the kit installs the AWS CLI into its venv
    env = {
        "PATH": str(aws.parent),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "HOME": str(tmp_path),
    }  # no endpoint or region from the environment: the command carries them
    answer = subprocess.run([str(aws), *command[1:]], env=env, capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["Table"]["TableName"] == table
