"""CloudWatch Logs filter patterns: terms, regex, JSON and space-delimited, as AWS documents them.

Used by FilterLogEvents, StartLiveTail, TestMetricFilter and the metric filters of the local
cloud. Reference: "Filter pattern syntax for metric filters, subscription filters, filter log
events, and Live Tail" (CloudWatch Logs User Guide, FilterAndPatternSyntax).

A pattern is compiled once (cached) into closures; each JSON event is parsed once.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from moto.logs.exceptions import InvalidParameterException

_MISSING = object()  # a selector that resolves to nothing
_WILD = object()  # a `*` step in a selector
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z0-9_\-]+")
_FIELD_NAME = re.compile(r"[A-Za-z0-9_]*")
_UNQUOTED = re.compile(r"[A-Za-z0-9_.*\-:/]+")
_MAX_REGEX = 2
_MAX_WILDCARD_SELECTORS = 3

Predicate = Callable[[Any], bool]


class FilterPatternError(InvalidParameterException):
    """A malformed filter pattern (AWS answers InvalidParameterException)."""

    def __init__(self, problem: str, pattern: str = "", position: int | None = None) -> None:
        where = f" at position {position}" if position is not None else ""
        self.problem = problem
        super().__init__(msg=f"Invalid filter pattern{where}: {problem}. Pattern: {pattern!r}")


class Extracted(dict):
    """The values a match extracted (AWS's extractedValues), plus the parsed JSON event if any."""

    def __init__(self, values: dict[str, str], document: Any = None, message: str = "") -> None:
        super().__init__(values)
        self.document = document
        self.message = message

    def lookup(self, selector: str) -> Any:
        """The value a metric selector (`$.a.b` or `$name`) names in this event, or None."""
        if selector.startswith("$.") or selector.startswith("$["):
            document = self.document
            if document is None:
                document = _parse_object(self.message)
                if document is None:
                    return None
                self.document = document
            value = _selector_getter(selector)(document)
            return None if value is _MISSING else value
        return self.get(selector)


class FilterPattern:
    """A compiled filter pattern: matches(message) and extract(message)."""

    def __init__(
        self, text: str, kind: str, test: Callable[[str], bool], extract: Callable[[str], Extracted | None]
    ):
        self.text = text
        self.kind = kind  # "all", "terms", "regex", "json" or "delimited"
        self._test = test
        self._extract = extract

    def matches(self, message: str) -> bool:
        """True when the log event message matches the pattern."""
        return self._test(message)

    def extract(self, message: str) -> Extracted | None:
        """The extracted values of a matching message; None when it does not match."""
        return self._extract(message)

    def __repr__(self) -> str:
        return f"FilterPattern({self.text!r}, kind={self.kind!r})"


@lru_cache(maxsize=2048)
def compile_pattern(text: str | None) -> FilterPattern:
    """Compile a filter pattern (cached); raises FilterPatternError when it is malformed."""
    text = text or ""
    stripped = text.strip()
    if not stripped:
        return FilterPattern(text, "all", lambda m: True, lambda m: Extracted({}, message=m))
    if stripped[0] == "{":
        return _compile_json(text, stripped)
    if stripped[0] == "[":
        return _compile_delimited(text, stripped)
    if len(stripped) > 1 and stripped[0] == "%" and stripped[-1] == "%":
        search = _compile_regex(stripped[1:-1], text).search
        return FilterPattern(
            text,
            "regex",
            lambda m: search(m) is not None,
            lambda m: Extracted({}, message=m) if search(m) is not None else None,
        )
    return _compile_terms(text)


# ---------------------------------------------------------------- terms


def _compile_terms(text: str) -> FilterPattern:
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
            term, i = _read_quoted(text, i)
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


def _read_quoted(text: str, i: int) -> tuple[str, int]:
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


# ---------------------------------------------------------------- values (JSON and delimited)


def _compile_regex(body: str, pattern: str) -> re.Pattern:
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


def _as_text(value: Any) -> str | None:
    """A JSON scalar as the text a string comparison sees (None for null and containers)."""
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return repr(value)
    return None


_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


class _Value:
    """A literal on the right of a comparison: number, string (with wildcards), regex, or `*`."""

    def __init__(self, kind: str, text: str, number: float | None = None, regex: re.Pattern | None = None):
        self.kind = kind  # "number", "string", "regex", "any"
        self.text = text
        self.number = number
        self.regex = regex


def _read_value(text: str, i: int, stops: str, pattern: str, regex_count: list[int]) -> tuple[_Value, int]:
    """Read a comparison value at text[i]; unquoted values end at whitespace or a stop character."""
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    if i >= n:
        raise FilterPatternError("a comparison needs a value", pattern, i)
    c = text[i]
    if c == '"':
        literal, j = _read_quoted(text, i)
        return _Value("string", literal), j
    if c == "%":
        end = text.find("%", i + 1)
        if end < 0:
            raise FilterPatternError("unterminated regular expression (missing closing %)", pattern, i)
        regex_count[0] += 1
        if regex_count[0] > _MAX_REGEX:
            raise FilterPatternError(
                f"at most {_MAX_REGEX} regular expressions per filter pattern", pattern, i
            )
        return _Value("regex", text[i : end + 1], regex=_compile_regex(text[i + 1 : end], pattern)), end + 1
    j = i
    while j < n and not text[j].isspace() and text[j] not in stops and text[j : j + 2] not in ("&&", "||"):
        j += 1
    raw = text[i:j]
    if not raw:
        raise FilterPatternError("a comparison needs a value", pattern, i)
    if raw == "*":
        return _Value("any", raw), j
    if _NUMBER.fullmatch(raw):
        return _Value("number", raw, number=float(raw)), j
    if not _UNQUOTED.fullmatch(raw):
        raise FilterPatternError(
            f"value {raw!r} has characters other than letters and digits; enclose it in double quotes",
            pattern,
            i,
        )
    return _Value("string", raw), j


def _value_test(op: str, value: _Value, pattern: str, position: int) -> Callable[[Any], bool]:
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
                    return (v == literal) if op == "=" else (op == "!=")
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
            s = _as_text(v)
            if s is None:
                return value.kind == "any" and v is None
            return hit(s)

        return equal

    def not_equal(v: Any) -> bool:
        s = _as_text(v)
        return s is not None and not hit(s)

    return not_equal


# ---------------------------------------------------------------- JSON


@lru_cache(maxsize=512)
def _selector_getter(selector: str) -> Callable[[Any], Any]:
    """A cached getter for a metric value or dimension selector."""
    return _compile_selector(selector, selector)[0]


def _compile_selector(selector: str, pattern: str) -> tuple[Callable[[Any], Any], bool]:
    """A getter for `$.a[0].b` (returns _MISSING when absent) and whether it has a wildcard.

    A wildcard getter returns the list of candidate values instead.
    """
    steps = _parse_selector(selector, pattern)
    if _WILD in steps:
        k = steps.index(_WILD)
        head, tail = steps[:k], steps[k + 1 :]

        def get_all(doc: Any) -> list[Any]:
            parent = _walk(doc, head)
            if type(parent) is dict:
                children = list(parent.values())
            elif type(parent) is list:
                children = parent
            else:
                return []
            found = (_walk(child, tail) for child in children)
            return [v for v in found if v is not _MISSING]

        return get_all, True
    if len(steps) == 1 and type(steps[0]) is str:
        key = steps[0]
        return (lambda doc: doc.get(key, _MISSING) if type(doc) is dict else _MISSING), False
    if len(steps) == 2 and type(steps[0]) is str and type(steps[1]) is str:
        k1, k2 = steps

        def get2(doc: Any) -> Any:
            inner = doc.get(k1, _MISSING) if type(doc) is dict else _MISSING
            return inner.get(k2, _MISSING) if type(inner) is dict else _MISSING

        return get2, False
    return (lambda doc: _walk(doc, steps)), False


def _walk(node: Any, steps: list) -> Any:
    """Follow keys and indexes from node; _MISSING when a step does not resolve."""
    for step in steps:
        if type(step) is str:
            if type(node) is not dict:
                return _MISSING
            node = node.get(step, _MISSING)
            if node is _MISSING:
                return _MISSING
        else:
            if type(node) is not list or step >= len(node):
                return _MISSING
            node = node[step]
    return node


def _parse_selector(selector: str, pattern: str) -> list:
    """`$.a.b[0]['c.d'][*]` -> ["a", "b", 0, "c.d", _WILD]."""
    if not selector.startswith("$"):
        raise FilterPatternError(f"selector {selector!r} must start with $", pattern)
    steps: list = []
    i, n = 1, len(selector)
    while i < n:
        c = selector[i]
        if c == "." and i + 1 < n and selector[i + 1] == "[":
            i += 1
            continue
        if c == ".":
            if i + 1 < n and selector[i + 1] == "*":
                steps.append(_WILD)
                i += 2
                continue
            m = _NAME.match(selector, i + 1)
            if not m:
                raise FilterPatternError(
                    f"selector {selector!r} has an empty or invalid property name", pattern
                )
            steps.append(m.group())
            i = m.end()
        elif c == "[":
            end = selector.find("]", i)
            if end < 0:
                raise FilterPatternError(f"selector {selector!r} has an unclosed [", pattern)
            inner = selector[i + 1 : end].strip()
            if inner == "*":
                steps.append(_WILD)
            elif inner.isdigit():
                steps.append(int(inner))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                steps.append(inner[1:-1])
            else:
                raise FilterPatternError(f"selector {selector!r} has an invalid index [{inner}]", pattern)
            i = end + 1
        else:
            raise FilterPatternError(f"selector {selector!r} has an unexpected character {c!r}", pattern)
    if not steps:
        raise FilterPatternError("a selector must name a property, like $.field", pattern)
    if steps.count(_WILD) > 1:
        raise FilterPatternError(f"selector {selector!r} has more than one wildcard", pattern)
    return steps


def _read_selector(text: str, i: int, pattern: str) -> tuple[str, int]:
    """Read the selector text starting at text[i] == '$'."""
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "[":
            end = text.find("]", j)
            if end < 0:
                raise FilterPatternError("unclosed [ in selector", pattern, j)
            j = end + 1
        elif c.isalnum() or c in "._-*":
            j += 1
        else:
            break
    return text[i:j], j


def _leaf(getter: Callable[[Any], Any], wild: bool, test: Callable[[Any], bool], absent: bool) -> Predicate:
    """Predicate for one condition; containers never match, a missing field gives `absent`."""
    if wild:

        def any_of(doc: Any) -> bool:
            values = getter(doc)
            if not values:
                return absent
            for v in values:
                if type(v) is not dict and type(v) is not list and test(v):
                    return True
            return False

        return any_of

    def one(doc: Any) -> bool:
        v = getter(doc)
        if v is _MISSING:
            return absent
        t = type(v)
        if t is dict or t is list:
            return False
        return test(v)

    return one


class _JsonParser:
    """Recursive descent over `{ expr }`: || of && of conditions or parenthesised expressions."""

    def __init__(self, pattern: str, body: str, offset: int) -> None:
        self.pattern = pattern
        self.offset = offset
        self.text = body
        self.i = 0
        self.selectors: list[tuple[str, Callable[[Any], Any], bool]] = []
        self.required_literals: list[str] = []  # literals every match must contain (pre-check)
        self.regex_count = [0]
        self.wildcards = 0

    def error(self, problem: str) -> FilterPatternError:
        return FilterPatternError(problem, self.pattern, self.i + self.offset)

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def peek(self, token: str) -> bool:
        self.skip()
        return self.text.startswith(token, self.i)

    def parse(self) -> Predicate:
        predicate, _ = self.expr(top=True)
        self.skip()
        if self.i != len(self.text):
            raise self.error(f"unexpected text {self.text[self.i : self.i + 20]!r}")
        return predicate

    def expr(self, top: bool = False) -> tuple[Predicate, list[str]]:
        terms = [self.conjunction(top)]
        while self.peek("||"):
            self.i += 2
            terms.append(self.conjunction(False))
        if len(terms) == 1:
            return terms[0]
        if top:
            self.required_literals.clear()
        preds = [t[0] for t in terms]
        return (lambda doc: any(p(doc) for p in preds)), []

    def conjunction(self, top: bool) -> tuple[Predicate, list[str]]:
        parts = [self.primary()]
        while self.peek("&&"):
            self.i += 2
            parts.append(self.primary())
        if top:
            for _, literals in parts:
                self.required_literals.extend(literals)
        preds = [p[0] for p in parts]
        if len(preds) == 1:
            return parts[0]
        if len(preds) == 2:
            a, b = preds
            return (lambda doc: a(doc) and b(doc)), []
        return (lambda doc: all(p(doc) for p in preds)), []

    def primary(self) -> tuple[Predicate, list[str]]:
        self.skip()
        if self.peek("("):
            self.i += 1
            inner, literals = self.expr()
            if not self.peek(")"):
                raise self.error("missing closing parenthesis")
            self.i += 1
            return inner, literals
        return self.condition()

    def condition(self) -> tuple[Predicate, list[str]]:
        self.skip()
        if not self.peek("$"):
            raise self.error("expected a selector starting with $")
        start = self.i
        selector, self.i = _read_selector(self.text, self.i, self.pattern)
        getter, wild = _compile_selector(selector, self.pattern)
        if wild:
            self.wildcards += 1
            if self.wildcards > _MAX_WILDCARD_SELECTORS:
                raise self.error(f"at most {_MAX_WILDCARD_SELECTORS} wildcard selectors per filter pattern")
        self.selectors.append((selector, getter, wild))
        self.skip()
        word = re.compile(r"(IS\s+NULL|IS\s+TRUE|IS\s+FALSE|NOT\s+EXISTS?)\b", re.IGNORECASE).match(
            self.text, self.i
        )
        if word:
            self.i = word.end()
            kind = " ".join(word.group().upper().split())
            if kind.startswith("NOT"):
                if wild:
                    return (lambda doc: not getter(doc)), []
                return (lambda doc: getter(doc) is _MISSING), []
            target = {"IS NULL": None, "IS TRUE": True, "IS FALSE": False}[kind]
            return _leaf(getter, wild, lambda v: v is target, False), []
        op_match = re.compile(r"!=|<=|>=|=|<|>").match(self.text, self.i)
        if not op_match:
            raise self.error(f"expected an operator (=, !=, <, >, <=, >=, IS, NOT EXISTS) after {selector}")
        op = op_match.group()
        self.i = op_match.end()
        value, self.i = _read_value(self.text, self.i, "()", self.pattern, self.regex_count)
        test = _value_test(op, value, self.pattern, start)
        literals = []
        if op == "=" and value.kind == "string":
            core = value.text.strip("*")
            if any(ch.isalpha() for ch in core) and '"' not in core and "\\" not in core:
                literals.append(core)
        return _leaf(getter, wild, test, False), literals


def _parse_object(message: str) -> dict | None:
    """The message as a JSON object, or None."""
    if message[:1] != "{":
        message = message.lstrip()
        if message[:1] != "{":
            return None
    try:
        document = json.loads(message)
    except ValueError:
        return None
    return document if type(document) is dict else None


def _compile_json(text: str, stripped: str) -> FilterPattern:
    """`{ selector op value && ... }` against events that are JSON objects."""
    if not stripped.endswith("}"):
        raise FilterPatternError("a JSON pattern must end with }", text)
    parser = _JsonParser(text, stripped[1:-1], text.index("{") + 1)
    predicate = parser.parse()
    selectors = [(s, g) for s, g, wild in parser.selectors if not wild]
    literals = tuple(parser.required_literals)
    loads = json.loads

    def parse(message: str) -> dict | None:
        if literals and "\\" not in message:
            # Cheap pre-check: a required string value must appear verbatim (no escapes).
            for literal in literals:
                if literal not in message:
                    return None
        if message[:1] != "{":
            message = message.lstrip()
            if message[:1] != "{":
                return None
        try:
            document = loads(message)
        except ValueError:
            return None
        return document if type(document) is dict else None

    def test(message: str) -> bool:
        document = parse(message)
        return document is not None and predicate(document)

    def extract(message: str) -> Extracted | None:
        document = parse(message)
        if document is None or not predicate(document):
            return None
        values = {}
        for selector, getter in selectors:
            s = _as_text(getter(document))
            if s is not None:
                values[selector] = s
        return Extracted(values, document, message)

    return FilterPattern(text, "json", test, extract)


# ---------------------------------------------------------------- space-delimited


def _split_fields(body: str, pattern: str) -> list[str]:
    """Split the inside of `[...]` on commas outside quotes and %regex%."""
    fields, start, i, n = [], 0, 0, len(body)
    while i < n:
        c = body[i]
        if c == '"':
            _, i = _read_quoted(body, i)
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


class _Field:
    """One field of a space-delimited pattern: its name and a test of the field's text."""

    def __init__(self, name: str, test: Callable[[str], bool] | None) -> None:
        self.name = name
        self.test = test


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
        op = re.compile(r"!=|<=|>=|=|<|>").match(spec, i)
        if not op:
            raise FilterPatternError(f"field {spec!r}: expected an operator after {m.group()!r}", pattern)
        value, i = _read_value(spec, op.end(), "", pattern, regex_count)
        alternatives[-1].append(_value_test(op.group(), value, pattern, i))
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


def _tokenize(message: str) -> list[tuple[str, int]]:
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


def _compile_delimited(text: str, stripped: str) -> FilterPattern:
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

    def fits(tokens: list[tuple[str, int]], fields: list[_Field], at: int) -> bool:
        for k, field in enumerate(fields):
            if field.test is not None and not field.test(tokens[at + k][0]):
                return False
        return True

    def place(message: str) -> tuple[list[tuple[str, int]], list[tuple[int, _Field]]] | None:
        tokens = _tokenize(message)
        if len(tokens) < minimum:
            return None
        if not has_ellipsis:
            fields = segments[0]
            if len(tokens) > len(fields) and fields:
                # The last field takes the rest of the line.
                rest = message[tokens[len(fields) - 1][1] :].rstrip()
                tokens = tokens[: len(fields) - 1] + [(rest, tokens[len(fields) - 1][1])]
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


# ---------------------------------------------------------------- moto hooks


class EventMessageFilter:
    """Drop-in for moto.logs.models.EventMessageFilter, backed by compile_pattern."""

    def __init__(self, pattern: str | None) -> None:
        self._pattern = compile_pattern(pattern or "")

    def matches(self, message: str) -> bool:
        """True when the message matches the pattern."""
        return self._pattern.matches(message)


def test_metric_filter(self) -> str:
    """LogsResponse.test_metric_filter: TestMetricFilter, which moto lacks."""
    pattern = self._get_param("filterPattern")
    messages = self._get_param("logEventMessages")
    if pattern is None:
        raise InvalidParameterException(msg="filterPattern is required.")
    if not messages or len(messages) > 50:
        raise InvalidParameterException(
            constraint="Member must have length between 1 and 50",
            parameter="logEventMessages",
            value=len(messages or []),
        )
    compiled = compile_pattern(pattern)
    matches = []
    for number, message in enumerate(messages, start=1):
        extracted = compiled.extract(message)
        if extracted is not None:
            matches.append(
                {"eventNumber": number, "eventMessage": message, "extractedValues": dict(extracted)}
            )
    return json.dumps({"matches": matches})


test_metric_filter.__test__ = False  # type: ignore[attr-defined]  # not a pytest test (pytest reads the attribute)


def install() -> None:
    """Make moto's FilterLogEvents/StartLiveTail use this engine and add TestMetricFilter."""
    import moto.logs.models as models
    import moto.logs.utils as utils
    from moto.logs.responses import LogsResponse

    original = utils.EventMessageFilter
    if list(inspect.signature(original.__init__).parameters) != ["self", "pattern"] or not hasattr(
        original, "matches"
    ):
        raise RuntimeError(
            "moto.logs EventMessageFilter changed; helpers.local.filter_patterns needs updating"
        )
    if not hasattr(LogsResponse, "_get_param"):
        raise RuntimeError("moto LogsResponse changed; helpers.local.filter_patterns needs updating")
    filter_log_events = models.LogsBackend.filter_log_events
    if "filter_pattern" not in inspect.signature(filter_log_events).parameters:
        raise RuntimeError(
            "moto LogsBackend.filter_log_events changed; helpers.local.filter_patterns needs updating"
        )
    # Replacing moto's classes and methods by assignment is the hook itself: mypy cannot type it.
    models.EventMessageFilter = EventMessageFilter  # type: ignore[misc, assignment]
    utils.EventMessageFilter = EventMessageFilter  # type: ignore[misc, assignment]
    LogsResponse.test_metric_filter = test_metric_filter  # type: ignore[attr-defined]
    if not getattr(filter_log_events, "_validates_pattern", False):
        models.LogsBackend.filter_log_events = _validating(filter_log_events)  # type: ignore[method-assign]


def _validating(original: Callable[..., Any]) -> Callable[..., Any]:
    """FilterLogEvents that refuses a malformed pattern even when no event is searched."""
    parameters = list(inspect.signature(original).parameters)
    index = parameters.index("filter_pattern")

    def filter_log_events(*args: Any, **kwargs: Any) -> Any:
        pattern = kwargs["filter_pattern"] if "filter_pattern" in kwargs else args[index]
        compile_pattern(pattern or "")
        return original(*args, **kwargs)

    filter_log_events._validates_pattern = True  # type: ignore[attr-defined]  # the mark install() reads
    return filter_log_events
