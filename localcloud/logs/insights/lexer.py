"""The tokens of a Logs Insights query: names, quoted strings, /regexes/, numbers, durations, operators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from localcloud.logs.insights.errors import QuerySyntaxError


@dataclass
class Token:
    """One token and where it stands in the query (offsets locate syntax errors)."""

    kind: str  # name, string, regex, number, duration, op, pipe, end
    text: str
    start: int
    end: int
    value: Any = None


_SPACE = re.compile(r"\s+|#[^\n]*")
_NAME = re.compile(r"[@A-Za-z_][@A-Za-z0-9_.]*")
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w)(?![A-Za-z0-9_])")
_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+")
_OPS = ("=~", "!=", "<=", ">=", "==", "=", "<", ">", "+", "-", "*", "/", "%", "^", "(", ")", ",", "[", "]")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_VALUE_KINDS = ("name", "string", "number", "duration", "regex")


def tokenize(query: str) -> list[Token]:
    """The query's tokens; `/` starts a regex unless it follows a value (then it divides)."""
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        space = _SPACE.match(query, i)
        if space:
            i = space.end()
            continue
        ch = query[i]
        if ch == "|":
            tokens.append(Token("pipe", "|", i, i + 1))
            i += 1
        elif ch in "\"'":
            text, end = _read_quoted(query, i, ch)
            tokens.append(Token("string", query[i:end], i, end, text))
            i = end
        elif ch == "`":
            end = query.find("`", i + 1)
            if end < 0:
                raise QuerySyntaxError("unterminated backtick field name", query, i, n)
            tokens.append(Token("name", query[i : end + 1], i, end + 1, query[i + 1 : end]))
            i = end + 1
        elif ch == "/" and not _divides(tokens):
            text, end = _read_quoted(query, i, "/")
            tokens.append(Token("regex", query[i:end], i, end, text))
            i = end
        elif ch.isdigit() or (ch == "." and i + 1 < n and query[i + 1].isdigit()):
            token = _read_number(query, i)
            tokens.append(token)
            i = token.end
        elif match := _NAME.match(query, i):
            tokens.append(Token("name", match.group(0), i, match.end(), match.group(0)))
            i = match.end()
        else:
            op = next((o for o in _OPS if query.startswith(o, i)), None)
            if op is None:
                raise QuerySyntaxError(f"unexpected symbol found {ch}", query, i, i + 1)
            tokens.append(Token("op", op, i, i + len(op)))
            i += len(op)
    tokens.append(Token("end", "", n, n))
    return tokens


def _read_number(query: str, start: int) -> Token:
    """The duration (value in ms) or number starting at start."""
    duration = _DURATION.match(query, start)
    if duration:
        ms = int(duration.group(1)) * _UNIT_MS[duration.group(2)]
        return Token("duration", duration.group(0), start, duration.end(), ms)
    number = _NUMBER.match(query, start)
    assert number is not None  # a digit, or a dot before a digit, starts a number
    text = number.group(0)
    value = float(text) if any(c in text for c in ".eE") else int(text)
    return Token("number", text, start, number.end(), value)


def _divides(tokens: list[Token]) -> bool:
    """True when a `/` here is division: it follows a value that is not the field of a parse."""
    if not tokens:
        return False
    prev = tokens[-1]
    if prev.kind == "op":
        return prev.text in (")", "]")
    if prev.kind == "name":
        if prev.text.lower() in ("like", "and", "or", "not", "in", "filter", "parse", "by", "as"):
            return False
        before = tokens[-2] if len(tokens) > 1 else None
        return not (before is not None and before.kind == "name" and before.text.lower() == "parse")
    return prev.kind in _VALUE_KINDS


def _read_quoted(query: str, start: int, quote: str) -> tuple[str, int]:
    """The text between quotes starting at start (backslash escapes the quote); and the end offset."""
    out: list[str] = []
    i = start + 1
    while i < len(query):
        ch = query[i]
        if ch == "\\" and i + 1 < len(query):
            nxt = query[i + 1]
            if quote == "/":
                out.append(nxt if nxt == "/" else ch + nxt)  # a regex keeps its escapes
            else:
                out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    what = "regular expression" if quote == "/" else "string"
    raise QuerySyntaxError(f"unterminated {what}", query, start, len(query))
