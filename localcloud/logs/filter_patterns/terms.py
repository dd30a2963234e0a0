"""Patterns over unstructured events: terms (all must appear; `?a ?b` any; `-a` must not) and `%regex%`."""

from __future__ import annotations

from localcloud.logs.filter_patterns.compiled import Extracted, FilterPattern
from localcloud.logs.filter_patterns.errors import FilterPatternError
from localcloud.logs.filter_patterns.values import compile_regex, read_quoted


def compile_terms(text: str) -> FilterPattern:
    """Unstructured terms: all must appear; `?a ?b` any; `-a` must not appear."""
    required: list[str] = []
    excluded: list[str] = []
    optional: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        prefix = ""
        if text[i] in "?-":
            prefix = text[i]
            i += 1
            while i < n and text[i].isspace():  # the documentation writes `"ERROR" - "Exiting"`
                i += 1
            if i >= n:
                raise FilterPatternError(f"'{prefix}' must be followed by a term", text, i - 1)
        if text[i] == '"':
            term, i = read_quoted(text, i)
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] != '"':
                i += 1
            term = text[start:i]
        if not term.strip():
            continue  # `" "` matches every event
        {"?": optional, "-": excluded, "": required}[prefix].append(term)
    if required or excluded:
        # AWS ignores `?` terms mixed with other terms.
        def test(message: str) -> bool:
            for term in required:
                if term not in message:
                    return False
            for term in excluded:
                if term in message:
                    return False
            return True
    elif optional:

        def test(message: str) -> bool:
            for term in optional:
                if term in message:
                    return True
            return False
    else:

        def test(message: str) -> bool:
            return True

    return FilterPattern(text, "terms", test, lambda m: Extracted({}, message=m) if test(m) else None)


def compile_regex_pattern(text: str, body: str) -> FilterPattern:
    """`%regex%` alone: events the regular expression finds a match in."""
    search = compile_regex(body, text).search
    return FilterPattern(
        text,
        "regex",
        lambda m: search(m) is not None,
        lambda m: Extracted({}, message=m) if search(m) is not None else None,
    )
