"""The model artifact's format, shared by the kit (which packs it) and the local cloud's container (which loads it).

SageMaker's built-in XGBoost container loads a file named ``xgboost-model`` from ``model.tar.gz``.
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xgboost as xgb

BOOSTER_FILE = "xgboost-model"  # the name SageMaker's built-in XGBoost container loads


def import_xgboost() -> None:
    """Import XGBoost as the kit and the container use it: without its scikit-learn integration.

    When scikit-learn is installed, XGBoost imports it (with SciPy's statistics and pandas) for its
    estimator classes, two thirds of its import time; the kit only trains and loads Boosters. The
    local cloud's first CreateEndpoint and InvokeEndpoint, and 00_setup's training, waited on it.
    scikit-learn itself stays importable afterwards.
    """
    if "xgboost" in sys.modules:
        return
    hidden = "sklearn" not in sys.modules
    if hidden:
        sys.modules["sklearn"] = None  # type: ignore[assignment]  # Python's own way to make an import fail
    try:
        import xgboost  # noqa: F401
    finally:
        if hidden:
            imported = sys.modules.pop("sklearn", None)
            if imported is not None:  # imported for real meanwhile, by another thread: keep it
                sys.modules["sklearn"] = imported


def package(booster_bytes: bytes) -> bytes:
    """A deterministic model.tar.gz holding the booster file (fixed mtime, owner and order)."""
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(BOOSTER_FILE)
        info.size, info.mtime, info.mode = len(booster_bytes), 0, 0o644
        tar.addfile(info, io.BytesIO(booster_bytes))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(tar_buffer.getvalue())
    return out.getvalue()


def unpack(artifact: bytes) -> bytes:
    """The booster bytes inside a model.tar.gz; ValueError naming what is wrong otherwise."""
    try:
        with tarfile.open(fileobj=io.BytesIO(artifact), mode="r:gz") as tar:
            names = tar.getnames()
            member = next((n for n in names if Path(n).name == BOOSTER_FILE), None)
            if member is None:
                raise ValueError(f"model.tar.gz holds {names}, not a file named {BOOSTER_FILE!r}")
            content = tar.extractfile(member)
            if content is None:
                raise ValueError(f"{member!r} in model.tar.gz is not a regular file")
            return content.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"not a readable model.tar.gz ({exc})") from exc


def load_booster(artifact: bytes) -> xgb.Booster:
    """An xgboost Booster from model.tar.gz bytes, as the built-in container loads it."""
    import_xgboost()
    import xgboost as xgb

    booster = xgb.Booster(params={"nthread": 1})
    try:
        booster.load_model(bytearray(unpack(artifact)))
    except xgb.core.XGBoostError as exc:
        raise ValueError(
            f"the booster file could not be loaded by XGBoost ({str(exc).splitlines()[0]})"
        ) from exc
    return booster


def predict(booster: xgb.Booster, rows: Sequence[Sequence[float]]) -> list[float]:
    """Probabilities for rows, as XGBoost answers for a native-format model (the built-in container's).

    XGBoost itself checks the width: more columns than the booster's features raise its XGBoostError
    ("Number of columns does not match number of features in booster."); fewer are not an error, the
    missing trailing features count as missing values (a silent, wrong prediction).
    """
    import_xgboost()
    import xgboost as xgb

    return [float(p) for p in booster.predict(xgb.DMatrix(np.asarray(rows, dtype=float)))]
