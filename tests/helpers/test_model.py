"""The chapter 6-7 model: deterministic training, a SageMaker-loadable artifact, sane validation metrics."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from helpers import model


@pytest.fixture(scope="module")
def trained() -> model.TrainedModel:
    return model.train()


def test_training_is_deterministic(trained):
    assert model.train().sha256 == trained.sha256


def test_another_seed_trains_another_model(trained):
    assert model.train(seed=7).sha256 != trained.sha256


def test_artifact_is_a_tar_gz_holding_only_the_booster_file(trained):
    assert trained.artifact[:2] == b"\x1f\x8b"  # gzip magic
    with tarfile.open(fileobj=io.BytesIO(trained.artifact), mode="r:gz") as tar:
        assert tar.getnames() == [model.BOOSTER_FILE] == ["xgboost-model"]
        assert tar.getmember("xgboost-model").isfile()


def test_artifact_base_score_is_one_number_as_sagemakers_xgboost_1_7_reads_it(trained):
    # XGBoost 3.2 writes "[4.8E-2]"; XGBoost 1.7 would silently keep 0.5 (tools/check_sagemaker_artifact.py).
    with tarfile.open(fileobj=io.BytesIO(trained.artifact), mode="r:gz") as tar:
        document = json.loads(tar.extractfile(model.BOOSTER_FILE).read())
    base_score = document["learner"]["learner_model_param"]["base_score"]
    assert 0.0 < float(base_score) < 1.0


def test_validation_metrics_are_sane(trained):
    metrics = trained.metrics
    assert metrics["auc"] > 0.7
    assert 0.0 < metrics["logloss"] < 0.693  # better than a coin
    assert 0.0 < metrics["positive_rate"] < 0.5
    assert metrics["accuracy"] >= 1 - metrics["positive_rate"] - 0.01
    assert (metrics["train_rows"], metrics["validation_rows"]) == (4800.0, 1200.0)


def test_loaded_booster_takes_four_features(trained):
    assert model.load_booster(trained.artifact).num_features() == len(model.FEATURES) == 4


def test_risky_transaction_scores_higher_than_an_ordinary_one(trained):
    ordinary, risky = model.predict(model.load_booster(trained.artifact), model.SAMPLE_FEATURES)
    assert 0.0 < ordinary < risky < 1.0


def test_predict_refuses_rows_wider_than_the_model_as_xgboost_does(trained):
    # dmlc/xgboost src/learner.cc ValidateDMatrix (../shared/reference/aws-api-iam-cfn.md, B)
    import xgboost as xgb

    with pytest.raises(xgb.core.XGBoostError, match="Number of columns does not match number of features"):
        model.predict(model.load_booster(trained.artifact), [[1.0, 2.0, 3.0, 4.0, 5.0]])


def test_predict_answers_rows_narrower_than_the_model_without_a_word(trained):
    booster = model.load_booster(trained.artifact)
    [narrow] = model.predict(booster, [model.SAMPLE_FEATURES[0][:3]])
    [full] = model.predict(booster, [model.SAMPLE_FEATURES[0]])
    assert 0.0 < narrow < 1.0 and narrow != full  # the missing age counts as missing: another answer


def test_version_2_is_trained_on_three_features():
    v2 = model.train(features=model.FEATURES_V2)
    assert model.load_booster(v2.artifact).num_features() == 3 and v2.features == model.FEATURES_V2


def test_training_on_an_unknown_feature_is_refused():
    with pytest.raises(ValueError, match="features must be some of"):
        model.train(features=("amount_usd", "colour"))


def test_unpack_names_what_an_artifact_holds_instead_of_the_booster():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.json")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ValueError, match=r"holds \['model.json'\], not a file named 'xgboost-model'"):
        model.unpack(out.getvalue())


def test_load_booster_refuses_bytes_that_are_not_an_artifact():
    with pytest.raises(ValueError, match="not a readable model.tar.gz"):
        model.load_booster(b"plain bytes")


def test_load_booster_refuses_a_booster_file_xgboost_cannot_read():
    with pytest.raises(ValueError, match="could not be loaded by XGBoost"):
        model.load_booster(model.package(b"not a booster"))


def test_dataset_is_deterministic():
    (x1, y1), (x2, y2) = model.make_dataset(n=50), model.make_dataset(n=50)
    assert (x1 == x2).all() and (y1 == y2).all() and x1.shape == (50, 4)


def test_save_metrics_writes_json(trained, tmp_path):
    import json

    path = tmp_path / "metrics.json"
    model.save_metrics(trained.metrics, path)
    assert json.loads(path.read_text()) == trained.metrics


def test_xgboost_is_imported_without_scikit_learn_which_stays_importable():
    """The kit only trains and loads Boosters: XGBoost's estimator classes (and the scikit-learn, SciPy
    statistics and pandas they import) are not loaded, yet scikit-learn imports afterwards as usual."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "from kitformats.model_artifact import import_xgboost\n"
        "import_xgboost()\n"
        "import xgboost\n"
        "print('sklearn' in sys.modules, xgboost.compat.SKLEARN_INSTALLED)\n"
        "import sklearn\n"
        "print(sklearn.__name__)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False", "sklearn"]
