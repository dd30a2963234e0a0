"""Check that SageMaker's XGBoost 1.7-1 container would predict what the kit's model predicts.

The kit trains with XGBoost 3.2; SageMaker's built-in XGBoost image 1.7-1 serves with XGBoost 1.7.4
(aws/sagemaker-xgboost-container, docker/1.7-1/base/Dockerfile.cpu). This script loads the kit's
artifact with that XGBoost, from a throwaway venv under build/ (created with pip on first use: the
one step that needs the network, as for bench_history's awswrangler), and compares its predictions
on 1,000 rows with the kit's own. Exit status 0 when they are equal to float32 precision.

Run: .venv/bin/python tools/check_sagemaker_artifact.py
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from helpers import model  # noqa: E402

CONTAINER_XGBOOST = "1.7.4"
VENV = ROOT / "build" / f"venv-xgboost-{CONTAINER_XGBOOST}"
LOAD_AND_PREDICT = """
import sys, numpy as np, xgboost as xgb
booster = xgb.Booster(model_file=sys.argv[1])  # the container loads the file by path
print(xgb.__version__)
np.save(sys.argv[3], booster.predict(xgb.DMatrix(np.load(sys.argv[2]))))
"""


def container_python() -> Path:
    """Python of a venv with the container's XGBoost, created on first use."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", f"import xgboost; assert xgboost.__version__ == '{CONTAINER_XGBOOST}'"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {VENV.relative_to(ROOT)} with xgboost=={CONTAINER_XGBOOST} (pip, once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"xgboost=={CONTAINER_XGBOOST}", "numpy<2"], check=True
    )
    return python


def main() -> int:
    """Compare predictions; print the verdict; 0 when equal."""
    trained = model.train()
    with tarfile.open(fileobj=io.BytesIO(trained.artifact), mode="r:gz") as tar:
        booster_file = tar.extractfile(model.BOOSTER_FILE).read()
    rows, _ = model.make_dataset(n=1000, seed=1)
    ours = model.predict(model.load_booster(trained.artifact), rows.tolist())
    with tempfile.TemporaryDirectory() as tmp:
        path, x, out = Path(tmp) / model.BOOSTER_FILE, Path(tmp) / "x.npy", Path(tmp) / "p.npy"
        path.write_bytes(booster_file)
        np.save(x, rows)
        done = subprocess.run(
            [str(container_python()), "-c", LOAD_AND_PREDICT, str(path), str(x), str(out)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(
                f"FAIL: XGBoost {CONTAINER_XGBOOST} could not load the artifact:\n{done.stderr.strip()[-2000:]}"
            )
            return 1
        theirs = np.load(out)
    diff = float(np.max(np.abs(np.asarray(ours) - theirs)))
    verdict = "PASS" if diff <= 1e-6 else "FAIL"
    print(
        f"{verdict}: artifact {trained.sha256[:12]} loaded by XGBoost {done.stdout.strip()}; "
        f"max |difference| over {len(rows)} predictions = {diff:.2e} (kit: XGBoost 3.2)"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
