"""Space-delimited patterns: `[ip, user, ..., status_code = 4*, bytes > 1000]` against fields of an event.

Field counts as CloudWatch Logs documents them: a pattern without an ellipsis names every field of
the event, so it matches only events with exactly that many fields (`[w1=ERROR, w2]` matches
`ERROR message`, not `ERROR WARN message`); each `...` stands for any number of fields, so
`[w1=ERROR, ...]` matches `ERROR` followed by anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from localcloud.logs.filter_patterns.compiled import Extracted, FilterPattern
from localcloud.logs.filter_patterns.errors import FilterPatternError
from localcloud.logs.filter_patterns.values import OPERATOR, read_quoted, read_value, value_test

_FIELD_NAME = re.compile(r"[A-Za-z0-9_]*")

Token = tuple[str, int]  # a field of the event and its start offset


class _Field:
    """One field of a space-delimited pattern: its name and a test of the field's text."""

    def __init__(self, name: str, test: Callable[[str], bool] | None) -> None:
        self.name = name
        self.test = test


def _split_fields(body: str, pattern: str) -> list[str]:
    """Split the inside of `[...]` on commas outside quotes and %regex%."""
    fields: list[str] = []
    start, i, n = 0, 0, len(body)
    while i < n:
        c = body[i]
        if c == '"':
            _, i = read_quoted(body, i)
            continue
        if c == "%":
            end = body.find("%", i + 1)
            if end < 0:
                raise FilterPatternError("unterminated regular expression (missing closing %)", pattern)
            i = end + 1
            continue
        if c == ",":
            fields.append(body[start:i])
            start = i + 1
        i += 1
    fields.append(body[start:])
    return fields


def _compile_field(spec: str, pattern: str, regex_count: list[int]) -> _Field:
    """`name`, `name = 4*`, `name > 10 && name != 403`, `a = x || a = y`."""
    spec = spec.strip()
    if not spec:
        return _Field("", None)
    alternatives: list[list[Callable[[str], bool]]] = [[]]
    name = None
    i, n = 0, len(spec)
    while True:
        while i < n and spec[i].isspace():
            i += 1
        m = _FIELD_NAME.match(spec, i)
        if not m or not m.group():
            raise FilterPatternError(f"field {spec!r} must start with a name", pattern)
        if name is None:
            name = m.group()
        i = m.end()
        while i < n and spec[i].isspace():
            i += 1
        if i >= n:
            if len(alternatives) == 1 and not alternatives[0]:
                return _Field(name, None)
            raise FilterPatternError(f"field {spec!r} has a condition without an operator", pattern)
        op = OPERATOR.match(spec, i)
        if not op:
            raise FilterPatternError(f"field {spec!r}: expected an operator after {m.group()!r}", pattern)
        value, i = read_value(spec, op.end(), "", pattern, regex_count)
        alternatives[-1].append(value_test(op.group(), value, pattern, i))
        while i < n and spec[i].isspace():
            i += 1
        if i >= n:
            break
        if spec.startswith("&&", i):
            i += 2
        elif spec.startswith("||", i):
            alternatives.append([])
            i += 2
        else:
            raise FilterPatternError(f"field {spec!r}: unexpected text {spec[i:]!r}", pattern)
    groups = [tuple(g) for g in alternatives]

    def test(text: str) -> bool:
        return any(all(t(text) for t in group) for group in groups)

    return _Field(name or "", test)


def _tokenize(message: str) -> list[Token]:
    """Fields of a space-delimited event with their start offsets; [..] and ".." are one field."""
    out = []
    i, n = 0, len(message)
    while i < n:
        c = message[i]
        if c.isspace():
            i += 1
            continue
        if c == "[" or c == '"':
            close = "]" if c == "[" else '"'
            end = message.find(close, i + 1)
            if end < 0:
                end = n
            out.append((message[i + 1 : end], i))
            i = end + 1
            continue
        j = i
        while j < n and not message[j].isspace():
            j += 1
        out.append((message[i:j], i))
        i = j
    return out


def compile_delimited(text: str, stripped: str) -> FilterPattern:
    """`[ip, user, ..., status_code = 4*, bytes > 1000]` against space-delimited events."""
    if not stripped.endswith("]"):
        raise FilterPatternError("a space-delimited pattern must end with ]", text)
    regex_count = [0]
    specs = _split_fields(stripped[1:-1], text)
    if len(specs) == 1 and not specs[0].strip():
        raise FilterPatternError("a space-delimited pattern needs at least one field", text)
    segments: list[list[_Field]] = [[]]
    for spec in specs:
        if spec.strip() == "...":
            segments.append([])
        else:
            segments[-1].append(_compile_field(spec, text, regex_count))
    has_ellipsis = len(segments) > 1
    minimum = sum(len(s) for s in segments)

    def fits(tokens: list[Token], fields: list[_Field], at: int) -> bool:
        for k, field in enumerate(fields):
            if field.test is not None and not field.test(tokens[at + k][0]):
                return False
        return True

    def place(message: str) -> tuple[list[Token], list[tuple[int, _Field]]] | None:
        tokens = _tokenize(message)
        if len(tokens) < minimum:
            return None
        if not has_ellipsis:
            fields = segments[0]
            if len(tokens) != len(fields):  # without an ellipsis, one field per field of the event
                return None
            if not fits(tokens, fields, 0):
                return None
            return tokens, list(enumerate(fields))
        first, last, middle = segments[0], segments[-1], segments[1:-1]
        if not fits(tokens, first, 0):
            return None
        end_start = len(tokens) - len(last)
        if not fits(tokens, last, end_start):
            return None
        placed = list(enumerate(first))
        at = len(first)
        for fields in middle:
            while at + len(fields) <= end_start and not fits(tokens, fields, at):
                at += 1
            if at + len(fields) > end_start:
                return None
            placed.extend((at + k, f) for k, f in enumerate(fields))
            at += len(fields)
        placed.extend((end_start + k, f) for k, f in enumerate(last))
        return tokens, placed

    def test(message: str) -> bool:
        return place(message) is not None

    def extract(message: str) -> Extracted | None:
        found = place(message)
        if found is None:
            return None
        tokens, placed = found
        names = {index: field.name for index, field in placed if field.name}
        values = {}
        for index, (token, _) in enumerate(tokens):
            values[f"${names[index]}" if index in names else f"${index + 1}"] = token
        return Extracted(values, None, message)

    return FilterPattern(text, "delimited", test, extract)
