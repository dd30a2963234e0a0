"""compile_pattern: a filter pattern's text to a FilterPattern, by the kind its first character says."""

from __future__ import annotations

from functools import lru_cache

from localcloud.logs.filter_patterns.compiled import Extracted, FilterPattern
from localcloud.logs.filter_patterns.delimited import compile_delimited
from localcloud.logs.filter_patterns.json_patterns import compile_json
from localcloud.logs.filter_patterns.terms import compile_regex_pattern, compile_terms


@lru_cache(maxsize=2048)
def compile_pattern(text: str | None) -> FilterPattern:
    """Compile a filter pattern (cached); raises FilterPatternError when it is malformed."""
    text = text or ""
    stripped = text.strip()
    if not stripped:
        return FilterPattern(text, "all", lambda m: True, lambda m: Extracted({}, message=m))
    if stripped[0] == "{":
        return compile_json(text, stripped)
    if stripped[0] == "[":
        return compile_delimited(text, stripped)
    if len(stripped) > 1 and stripped[0] == "%" and stripped[-1] == "%":
        return compile_regex_pattern(text, stripped[1:-1])
    return compile_terms(text)
