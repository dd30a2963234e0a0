"""Which production variant serves a request: the one it targets, else one drawn by weight."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

_variant_rng = random.Random(0)


def choose_variant(variants: Sequence[dict[str, Any]], requested: str | None) -> dict[str, Any]:
    """The production variant for this request: the one targeted, else by weight."""
    if requested:
        for variant in variants:
            if variant["VariantName"] == requested:
                return variant
        raise LookupError(requested)
    weights = [float(v.get("InitialVariantWeight", 1.0) or 0.0) for v in variants]
    if sum(weights) <= 0:
        weights = [1.0] * len(variants)
    return _variant_rng.choices(variants, weights=weights)[0]
