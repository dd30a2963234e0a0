"""JSON patterns: `{ selector op value && ... || ... }` against events that are JSON objects."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localcloud.logs.filter_patterns.compiled import Extracted, FilterPattern
from localcloud.logs.filter_patterns.errors import FilterPatternError
from localcloud.logs.filter_patterns.selectors import (
    MISSING,
    Getter,
    compile_selector,
    parse_object,
    read_selector,
)
from localcloud.logs.filter_patterns.values import OPERATOR, as_text, read_value, value_test

MAX_WILDCARD_SELECTORS = 3  # per filter pattern
_KEYWORD = re.compile(r"(IS\s+NULL|IS\s+TRUE|IS\s+FALSE|NOT\s+EXISTS?)\b", re.IGNORECASE)

Predicate = Callable[[Any], bool]
Condition = tuple[Predicate, list[str]]  # a predicate over the document, and literals a match contains


def _leaf(getter: Getter, wild: bool, test: Callable[[Any], bool]) -> Predicate:
    """Predicate for one condition; containers and missing properties never match."""
    if wild:

        def any_of(doc: Any) -> bool:
            for v in getter(doc):
                if type(v) is not dict and type(v) is not list and test(v):
                    return True
            return False

        return any_of

    def one(doc: Any) -> bool:
        v = getter(doc)
        if v is MISSING:
            return False
        t = type(v)
        if t is dict or t is list:
            return False
        return test(v)

    return one


class _JsonParser:
    """Recursive descent over `{ expr }`: || of && of conditions or parenthesised expressions."""

    def __init__(self, pattern: str, body: str, offset: int) -> None:
        self.pattern = pattern
        self.offset = offset  # where body starts in pattern, for error positions
        self.text = body
        self.i = 0
        self.selectors: list[tuple[str, Getter, bool]] = []
        self.required_literals: list[str] = []  # literals every match must contain (pre-check)
        self.regex_count = [0]
        self.wildcards = 0

    def error(self, problem: str) -> FilterPatternError:
        """The error for a problem at the current position."""
        return FilterPatternError(problem, self.pattern, self.i + self.offset)

    def skip(self) -> None:
        """Move past whitespace."""
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def peek(self, token: str) -> bool:
        """Whether token comes next (after whitespace)."""
        self.skip()
        return self.text.startswith(token, self.i)

    def parse(self) -> Predicate:
        """The predicate of the whole body."""
        predicate, _ = self.expr(top=True)
        self.skip()
        if self.i != len(self.text):
            raise self.error(f"unexpected text {self.text[self.i : self.i + 20]!r}")
        return predicate

    def expr(self, top: bool = False) -> Condition:
        """`a || b || ...`."""
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

    def conjunction(self, top: bool) -> Condition:
        """`a && b && ...`."""
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

    def primary(self) -> Condition:
        """A parenthesised expression or one condition."""
        self.skip()
        if self.peek("("):
            self.i += 1
            inner = self.expr()
            if not self.peek(")"):
                raise self.error("missing closing parenthesis")
            self.i += 1
            return inner
        return self.condition()

    def condition(self) -> Condition:
        """`selector op value`, `selector IS NULL|TRUE|FALSE` or `selector NOT EXISTS`."""
        self.skip()
        if not self.peek("$"):
            raise self.error("expected a selector starting with $")
        start = self.i
        selector, self.i = read_selector(self.text, self.i, self.pattern)
        getter, wild = compile_selector(selector, self.pattern)
        if wild:
            self.wildcards += 1
            if self.wildcards > MAX_WILDCARD_SELECTORS:
                raise self.error(f"at most {MAX_WILDCARD_SELECTORS} wildcard selectors per filter pattern")
        self.selectors.append((selector, getter, wild))
        self.skip()
        word = _KEYWORD.match(self.text, self.i)
        if word:
            self.i = word.end()
            kind = " ".join(word.group().upper().split())
            if kind.startswith("NOT"):
                if wild:
                    return (lambda doc: not getter(doc)), []
                return (lambda doc: getter(doc) is MISSING), []
            target = {"IS NULL": None, "IS TRUE": True, "IS FALSE": False}[kind]
            return _leaf(getter, wild, lambda v: v is target), []
        op_match = OPERATOR.match(self.text, self.i)
        if not op_match:
            raise self.error(f"expected an operator (=, !=, <, >, <=, >=, IS, NOT EXISTS) after {selector}")
        op = op_match.group()
        self.i = op_match.end()
        value, self.i = read_value(self.text, self.i, "()", self.pattern, self.regex_count)
        test = value_test(op, value, self.pattern, start)
        literals = []
        if op == "=" and value.kind == "string":
            core = value.text.strip("*")
            if any(ch.isalpha() for ch in core) and '"' not in core and "\\" not in core:
                literals.append(core)
        return _leaf(getter, wild, test), literals


def compile_json(text: str, stripped: str) -> FilterPattern:
    """`{ selector op value && ... }` against events that are JSON objects."""
    if not stripped.endswith("}"):
        raise FilterPatternError("a JSON pattern must end with }", text)
    parser = _JsonParser(text, stripped[1:-1], text.index("{") + 1)
    predicate = parser.parse()
    selectors = [(s, g) for s, g, wild in parser.selectors if not wild]
    literals = tuple(parser.required_literals)

    def parse(message: str) -> dict[str, Any] | None:
        if literals and "\\" not in message:
            # Cheap pre-check: a required string value must appear verbatim (no escapes).
            for literal in literals:
                if literal not in message:
                    return None
        return parse_object(message)

    def test(message: str) -> bool:
        document = parse(message)
        return document is not None and predicate(document)

    def extract(message: str) -> Extracted | None:
        document = parse(message)
        if document is None or not predicate(document):
            return None
        values = {}
        for selector, getter in selectors:
            s = as_text(getter(document))
            if s is not None:
                values[selector] = s
        return Extracted(values, document, message)

    return FilterPattern(text, "json", test, extract)
