"""The chapter 6-7 model: a small XGBoost binary classifier, trained deterministically, packaged for SageMaker."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

# The artifact's format is shared with the local cloud's container; the kit's users find it here.
from kitformats.model_artifact import BOOSTER_FILE as BOOSTER_FILE
from kitformats.model_artifact import import_xgboost
from kitformats.model_artifact import load_booster as load_booster
from kitformats.model_artifact import package as package
from kitformats.model_artifact import predict as predict
from kitformats.model_artifact import unpack as unpack

if TYPE_CHECKING:
    import xgboost as xgb

FEATURES = ("amount_usd", "hour_of_day", "merchant_risk", "account_age_days")
# Version 2 of the model, retrained without the account's age: a realistic bad deploy in 8.2 and 8.3, because
# the handler still sends four features. SageMaker's XGBoost container answers rows wider than the model with
# a 400 ("Number of columns does not match number of features in booster."), which InvokeEndpoint reports
# as ModelError. (Narrower rows would be worse: XGBoost predicts from them without a word.)
FEATURES_V2 = ("amount_usd", "hour_of_day", "merchant_risk")
SEED = 20261127
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "max_depth": 3,
    "eta": 0.3,
    "subsample": 1.0,
    "nthread": 1,  # one thread: the same bytes on every machine
    "seed": 0,
    "tree_method": "exact",
}
ROUNDS = 40
SAMPLE_FEATURES = [
    [42.5, 14, 0.12, 900],  # an ordinary afternoon purchase on an old account
    [1890.0, 3, 0.91, 12],  # a large night-time purchase at a risky merchant, new account
]


@dataclass(frozen=True)
class TrainedModel:
    """A trained booster, its artifact bytes and its validation metrics."""

    artifact: bytes
    metrics: dict[str, float]
    features: tuple[str, ...] = FEATURES

    @property
    def sha256(self) -> str:
        """Digest of the artifact (it identifies the model version's bytes)."""
        return hashlib.sha256(self.artifact).hexdigest()


def make_dataset(n: int = 6000, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic card transactions (four numeric features) and fraud labels, deterministic."""
    rng = np.random.default_rng(seed)
    amount = np.round(rng.lognormal(mean=4.0, sigma=1.1, size=n), 2)
    hour = rng.integers(0, 24, size=n).astype(float)
    merchant_risk = np.round(rng.beta(2, 5, size=n), 3)
    account_age = rng.integers(1, 3650, size=n).astype(float)
    night = ((hour < 6) | (hour > 22)).astype(float)
    logit = (
        -4.0
        + 0.9 * np.log1p(amount / 100)
        + 1.2 * night
        + 4.5 * merchant_risk
        - 0.0012 * account_age
        + rng.normal(0, 0.6, size=n)
    )
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return np.column_stack([amount, hour, merchant_risk, account_age]), label


def train(seed: int = SEED, features: tuple[str, ...] = FEATURES) -> TrainedModel:
    """Train the classifier on these of the dataset's features (a fixed split); package it as SageMaker's model.tar.gz."""
    import_xgboost()
    import xgboost as xgb

    unknown = [f for f in features if f not in FEATURES]
    if unknown or not features:
        raise ValueError(f"features must be some of {FEATURES}, got {features}")
    x, y = make_dataset(seed=seed)
    x = x[:, [FEATURES.index(f) for f in features]]
    cut = int(len(y) * 0.8)
    train_set = xgb.DMatrix(x[:cut], label=y[:cut])
    valid_set = xgb.DMatrix(x[cut:], label=y[cut:])
    booster = xgb.train(PARAMS, train_set, num_boost_round=ROUNDS)
    scores = booster.predict(valid_set)
    metrics = classification_metrics(y[cut:], scores)
    metrics.update({"train_rows": float(cut), "validation_rows": float(len(y) - cut)})
    return TrainedModel(artifact=package(portable_json(booster)), metrics=metrics, features=features)


def portable_json(booster: xgb.Booster) -> bytes:
    """The booster as JSON that SageMaker's XGBoost 1.7 container reads as this XGBoost does.

    XGBoost 3.1+ writes base_score as a vector ("[4.8E-2]"); XGBoost 1.7 reads it as one number,
    fails on the bracket without a word and keeps its default 0.5, so every prediction would shift.
    """
    document = json.loads(bytes(booster.save_raw(raw_format="json")))
    params = document["learner"]["learner_model_param"]
    scores = params["base_score"].strip("[]").split(",")
    if len(scores) != 1:
        raise ValueError(
            f"base_score {params['base_score']} has {len(scores)} values; XGBoost 1.7 reads one (single-target models only)."
        )
    params["base_score"] = scores[0].strip()
    return json.dumps(document, separators=(",", ":")).encode()


def classification_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUC, accuracy at 0.5, log loss and positive rate, rounded for the registry."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    positives = labels == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    auc = (ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    clipped = np.clip(scores, 1e-7, 1 - 1e-7)
    logloss = -np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped))
    return {
        "auc": round(float(auc), 4),
        "accuracy": round(float(np.mean((scores >= 0.5) == positives)), 4),
        "logloss": round(float(logloss), 4),
        "positive_rate": round(float(positives.mean()), 4),
    }


def save_metrics(metrics: dict[str, float], path: Path) -> None:
    """Write the training metrics next to the artifact (the model registry reads them)."""
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
