"""The error a malformed filter pattern raises, worded as AWS words it."""

from __future__ import annotations


class FilterPatternError(ValueError):
    """A malformed filter pattern (AWS answers InvalidParameterException with this message)."""

    def __init__(self, problem: str, pattern: str = "", position: int | None = None) -> None:
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"Invalid filter pattern{where}: {problem}. Pattern: {pattern!r}")
