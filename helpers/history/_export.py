"""Export of the history frame to flat files: CSV (lists as JSON text) and Parquet (types kept)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd


def _exportable(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with list and dict cells as JSON text (for flat file formats)."""
    out = df.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = [
                json.dumps(v, default=str) if isinstance(v, list | dict[str, Any] | set) else v
                for v in out[name]
            ]
    return out


def to_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the frame as CSV (timestamps ISO-8601 UTC, lists as JSON); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _exportable(df).to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    return path


def to_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the frame as Parquet (types kept: categories, UTC timestamps, nullable ints); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _exportable(df).to_parquet(path, index=False)
    return path
