"""How the kit's results look in JupyterLab: tables never typeset as math, short summaries instead of
raw dicts and paths, tables that fit the notebook's width, and AWS CLI commands for this cloud.

Importing any helper in a notebook kernel calls ``setup()`` (``helpers/__init__.py``), so every
notebook gets the same display settings from the kit's own import.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def setup() -> None:
    """Display settings for every notebook: pandas' HTML tables are never typeset as math, never cut a value.

    JupyterLab typesets text between two ``$`` as MathJax, and the kit's tables are full of ``$``
    (CloudWatch filter patterns such as ``{ $.event = "inference" }``). With ``use_mathjax`` off,
    pandas marks each table ``tex2jax_ignore mathjax_ignore``, classes MathJax skips.
    """
    import pandas as pd

    pd.set_option("display.html.use_mathjax", False)
    # Show every value whole: log lines, filter patterns, ARNs and error messages are what the tables teach.
    pd.set_option("display.max_colwidth", None)


def aws_cli(*args: str) -> str:
    """The AWS CLI command an attendee can paste into a terminal, for the cloud the kit uses now.

    Local mode adds ``--endpoint-url`` with the local cloud's real URL (WORKSHOP_LOCAL_PORT); both modes
    add ``--region``. The local cloud accepts any credentials, but the CLI wants some: ``aws configure``
    or ``AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing`` in that terminal.
    """
    # boto3 is imported when a command is asked for, not with the display settings
    from helpers import session

    s = session.settings()
    where = ["--endpoint-url", s.local_url] if s.is_local else []
    return shlex.join(["aws", *where, "--region", s.region, *args])


def cli_input(
    service: str, operation: str, request: Mapping[str, Any], files: Mapping[str, str] | None = None
) -> str:
    """The AWS CLI command that makes the same request: ``aws <service> <operation> --cli-input-json '<request>'``.

    operation is the API's name (CreateTable); the CLI spells it create-table. Binary parameters (a Lambda
    ZipFile) cannot travel in JSON: files maps such a parameter to the file holding it (``--zip-file fileb://...``).
    """
    from botocore import xform_name

    files = files or {}
    body = {k: v for k, v in request.items() if k not in files}
    options = [
        item for name, path in files.items() for item in (f"--{xform_name(name, '-')}", f"fileb://{path}")
    ]
    return aws_cli(service, xform_name(operation, "-"), *options, "--cli-input-json", json.dumps(body))


def cli_inputs(
    requests: list[tuple[str, str, Mapping[str, Any]]],
    files: Mapping[str, str] | None = None,
    title: bool = True,
) -> None:
    """Print the AWS CLI commands making these (service, operation, request) from a terminal (under a title)."""
    if title:
        print("The same requests from a terminal (AWS CLI):")
    for service, operation, request in requests:
        binary = {k: v for k, v in (files or {}).items() if k in request}
        print(cli_input(service, operation, request, files=binary), end="\n\n")


def short_path(path: str | Path) -> str:
    """A path as an attendee reads it: relative to the kit's folder when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def table_line(table: dict[str, Any]) -> str:
    """One line about a DynamoDB table from its describe_table description: name, status, keys, indexes, billing."""
    keys = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in table.get("KeySchema", []))
    indexes = [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])]
    billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    parts = [f"{table['TableName']}: {table.get('TableStatus', '?')}", f"key {keys}"]
    if indexes:
        parts.append(f"index {', '.join(indexes)}")
    parts.append(billing)
    return " · ".join(parts)


def dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's columns grouped by type: a small two-column table instead of one row per column."""
    import pandas as pd

    types = frame.dtypes.astype(str)
    grouped = {dtype: ", ".join(types.index[types == dtype]) for dtype in dict.fromkeys(types)}
    return pd.DataFrame({"columns": grouped}).rename_axis("dtype")


def history_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """helpers.history.summary made to fit the notebook: one column per version and variant, rounded values."""
    import pandas as pd

    def fmt(name: str, value: Any) -> str:
        if pd.isna(value):
            return "–"
        if name in ("first", "last"):
            return f"{pd.Timestamp(value):%b %d %H:%M}"
        if name.endswith("rate"):
            return f"{value:.1%}"
        if name.endswith("_ms"):
            return f"{value:,.0f}"
        if name == "requests":
            return f"{int(value):,}"
        return f"{value:.3f}"

    labels = {
        "requests": "requests",
        "first": "first (UTC)",
        "last": "last (UTC)",
        "error_rate": "error rate",
        "client_error_rate": "client errors",
        "model_error_rate": "model errors",
        "latency_p50_ms": "latency p50 (ms)",
        "latency_p90_ms": "latency p90 (ms)",
        "latency_p99_ms": "latency p99 (ms)",
        "mean_prediction": "mean prediction",
        "cold_start_rate": "cold starts",
    }
    columns = {
        ("all" if version == "all" else f"v{version} {variant}"): {
            labels.get(name, name): fmt(name, row[name]) for name in summary.columns
        }
        for (version, variant), row in summary.iterrows()
    }
    return pd.DataFrame(columns)
