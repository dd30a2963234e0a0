"""DynamoDB JSON as DynamoDB sends it, shared by the kit's history reader and the local cloud."""

from __future__ import annotations

from typing import Any


def without_none(value: Any) -> Any:
    """A DynamoDB JSON value with the None members of its maps left out, at every depth.

    DynamoDB never sends a None: arrow's reader adds them for the tags and keys other rows have,
    and moto's results hold them for members it leaves unset.
    """
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_none(v) for v in value]
    return value
