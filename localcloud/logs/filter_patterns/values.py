"""What JSON and space-delimited patterns share: quoted strings, `%regex%` and comparison values."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localcloud.logs.filter_patterns.errors import FilterPatternError

MAX_REGEX = 2  # regular expressions per filter pattern
OPERATOR = re.compile(r"!=|<=|>=|=|<|>")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_UNQUOTED = re.compile(r"[A-Za-z0-9_.*\-:/]+")
_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def read_quoted(text: str, i: int) -> tuple[str, int]:
    """Read a double-quoted string starting at text[i] == '"'; return it and the index after."""
    out = []
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            out.append(text[j + 1])
            j += 2
            continue
        if c == '"':
            return "".join(out), j + 1
        out.append(c)
        j += 1
    raise FilterPatternError("unterminated double-quoted string", text, i)


def compile_regex(body: str, pattern: str) -> re.Pattern[str]:
    """A `%...%` regex in the subset AWS supports (no parentheses)."""
    if not body:
        raise FilterPatternError("empty regular expression", pattern)
    if "(" in body or ")" in body:
        raise FilterPatternError("parentheses are not supported in regular expressions", pattern)
    if any(ord(c) > 127 for c in body):
        raise FilterPatternError("multi-byte characters are not supported in regular expressions", pattern)
    body = re.sub(r"\{\s*(\d*)\s*,\s*(\d*)\s*\}", r"{\1,\2}", body)
    try:
        return re.compile(body, re.ASCII)
    except re.error as exc:
        raise FilterPatternError(f"bad regular expression %{body}%: {exc}", pattern) from None


def _string_matcher(literal: str) -> Callable[[str], bool]:
    """Equality with `*` as a wildcard at the start and/or end of the literal."""
    if literal == "*" or literal == "**":
        return lambda s: True
    lead, trail = literal.startswith("*"), literal.endswith("*")
    core = literal[1 if lead else 0 : len(literal) - 1 if trail else len(literal)]
    if lead and trail:
        return lambda s: core in s
    if lead:
        return lambda s: s.endswith(core)
    if trail:
        return lambda s: s.startswith(core)
    return lambda s: s == literal


def as_text(value: Any) -> str | None:
    """A JSON scalar as the text a string comparison sees (None for null and containers)."""
    t = type(value)
    if t is str:
        text: str = value
        return text
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return repr(value)
    return None


class Value:
    """A literal on the right of a comparison: number, string (with wildcards), regex, or `*`."""

    def __init__(
        self, kind: str, text: str, number: float | None = None, regex: re.Pattern[str] | None = None
    ) -> None:
        self.kind = kind  # "number", "string", "regex", "any"
        self.text = text
        self.number = number
        self.regex = regex


def read_value(text: str, i: int, stops: str, pattern: str, regex_count: list[int]) -> tuple[Value, int]:
    """Read a comparison value at text[i]; unquoted values end at whitespace or a stop character."""
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    if i >= n:
        raise FilterPatternError("a comparison needs a value", pattern, i)
    c = text[i]
    if c == '"':
        literal, j = read_quoted(text, i)
        return Value("string", literal), j
    if c == "%":
        end = text.find("%", i + 1)
        if end < 0:
            raise FilterPatternError("unterminated regular expression (missing closing %)", pattern, i)
        regex_count[0] += 1
        if regex_count[0] > MAX_REGEX:
            raise FilterPatternError(
                f"at most {MAX_REGEX} regular expressions per filter pattern", pattern, i
            )
        return Value("regex", text[i : end + 1], regex=compile_regex(text[i + 1 : end], pattern)), end + 1
    j = i
    while j < n and not text[j].isspace() and text[j] not in stops and text[j : j + 2] not in ("&&", "||"):
        j += 1
    raw = text[i:j]
    if not raw:
        raise FilterPatternError("a comparison needs a value", pattern, i)
    if raw == "*":
        return Value("any", raw), j
    if _NUMBER.fullmatch(raw):
        return Value("number", raw, number=float(raw)), j
    if not _UNQUOTED.fullmatch(raw):
        raise FilterPatternError(
            f"value {raw!r} has characters other than letters and digits; enclose it in double quotes",
            pattern,
            i,
        )
    return Value("string", raw), j


def value_test(op: str, value: Value, pattern: str, position: int) -> Callable[[Any], bool]:
    """A test of one JSON scalar (or delimited field text) against `op value`."""
    if value.kind == "number":
        compare = _NUMERIC_OPS[op]
        bound = value.number
        assert bound is not None  # a "number" value always carries its number
        literal = value.text

        def numeric(v: Any) -> bool:
            t = type(v)
            if t is int or t is float:
                return compare(v, bound)
            if t is str:
                try:
                    return compare(float(v), bound)
                except ValueError:
                    # `= 200` against a non-numeric string: compare as text.
                    return bool(v == literal) if op == "=" else (op == "!=")
            return False

        return numeric
    if op not in ("=", "!="):
        raise FilterPatternError(f"operator {op} needs a number, got {value.text!r}", pattern, position)
    if value.kind == "any":
        hit: Callable[[str], bool] = lambda s: True  # noqa: E731
    elif value.kind == "regex":
        assert value.regex is not None  # a "regex" value always carries its compiled pattern
        search = value.regex.search
        hit = lambda s: search(s) is not None  # noqa: E731
    else:
        hit = _string_matcher(value.text)
    if op == "=":

        def equal(v: Any) -> bool:
            s = as_text(v)
            if s is None:
                return value.kind == "any" and v is None
            return hit(s)

        return equal

    def not_equal(v: Any) -> bool:
        s = as_text(v)
        return s is not None and not hit(s)

    return not_equal
