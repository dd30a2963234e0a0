"""CloudWatch Logs Insights: StartQuery runs the query over the stored log events, as AWS documents it.

moto 5.2.5 reads only `fields`, `sort` and `limit` (ignoring `filter`, `stats` and `parse`).
This hook replaces the evaluator moto's LogQuery calls (moto.logs.models.execute_query) with one
for the subset of the query language a workshop uses; see "CloudWatch Logs Insights language
query syntax", "Supported logs and discovered fields" and "Sample queries" (CloudWatch Logs
User Guide). GetQueryResults answers rows of {field, value} and the query's statistics; a query
that does not parse is refused by StartQuery with MalformedQueryException (HTTP 400).

Emulated: commands fields, display, filter, stats ... by, sort, limit, parse (glob and regex
with named groups); `#` comments; the system fields @timestamp, @message, @logStream, @log,
@ingestionTime, @ptr; JSON fields (nested as a.b, arrays as a.0.b; the first JSON fragment of a
line, as for Lambda logs); Lambda START/END/REPORT fields (@type, @requestId, @duration,
@billedDuration, @memorySize, @maxMemoryUsed in bytes, @initDuration).

Fidelity notes:
- Queries complete at once (status Complete on the first GetQueryResults), over the events
  searchable so far (helpers.local.logs_ingestion: under the aws profile, after the ingestion delay).
- Without `sort`, event rows come newest first and stats groups in the order their newest event
  was met; `sort` without asc/desc sorts descending (the documentation names no default).
- Comparisons with a missing field are false; numbers (and numeric strings) compare numerically.
- count_distinct is exact; pct is nearest-rank; stddev is the sample standard deviation.
- Not emulated: dedup, unnest, pattern, diff, anomaly, lookup, join, SOURCE, filterIndex,
  datetime functions other than bin, IP functions, jsonParse, parse's logfmt/CSV/multi modes,
  VPC flow log and Route 53 field discovery.
"""

from __future__ import annotations

import base64
import inspect
import json
import math
import re
import statistics as stats_lib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from moto.logs.exceptions import LogsClientError

from helpers.local import logs_ingestion
from helpers.local.hooks import MOTO_VERSION

DEFAULT_LIMIT = 10_000
MAX_LIMIT = 10_000
_installed = False

Record = dict[str, Any]
Expr = Callable[[Record], Any]


class MalformedQueryException(LogsClientError):
    """A query that does not parse (AWS answers MalformedQueryException, HTTP 400, from StartQuery)."""

    def __init__(self, problem: str, query: str = "", start: int = 0, end: int = 0) -> None:
        line = query.count("\n", 0, start) + 1
        column = start - (query.rfind("\n", 0, start) + 1)
        message = f"{problem} at line {line} and position {column}"
        super().__init__("MalformedQueryException", message)
        self.problem = problem
        self.description = json.dumps(
            {
                "__type": "MalformedQueryException",
                "message": message,
                "queryCompileError": {
                    "location": {"start": start, "end": max(start, end)},
                    "message": message,
                },
            }
        )


class Stamp(int):
    """A time in ms since the epoch: compares and computes as a number, shows as AWS shows times."""

    def __str__(self) -> str:
        return format_time(int(self))


def format_time(ms: int) -> str:
    """A time as Logs Insights shows it: `2026-11-27 12:00:00.123` (UTC)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


# ---------------------------------------------------------------- tokens


@dataclass
class Token:
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
                raise MalformedQueryException("unterminated backtick field name", query, i, n)
            tokens.append(Token("name", query[i : end + 1], i, end + 1, query[i + 1 : end]))
            i = end + 1
        elif ch == "/" and not _divides(tokens):
            text, end = _read_quoted(query, i, "/")
            tokens.append(Token("regex", query[i:end], i, end, text))
            i = end
        elif ch.isdigit() or (ch == "." and i + 1 < n and query[i + 1].isdigit()):
            duration = _DURATION.match(query, i)
            if duration:
                ms = int(duration.group(1)) * _UNIT_MS[duration.group(2)]
                tokens.append(Token("duration", duration.group(0), i, duration.end(), ms))
                i = duration.end()
            else:
                number = _NUMBER.match(query, i)
                assert number is not None  # a digit, or a dot before a digit, starts a number
                text = number.group(0)
                value = float(text) if any(c in text for c in ".eE") else int(text)
                tokens.append(Token("number", text, i, number.end(), value))
                i = number.end()
        elif match := _NAME.match(query, i):
            tokens.append(Token("name", match.group(0), i, match.end(), match.group(0)))
            i = match.end()
        else:
            op = next((o for o in _OPS if query.startswith(o, i)), None)
            if op is None:
                raise MalformedQueryException(f"unexpected symbol found {ch}", query, i, i + 1)
            tokens.append(Token("op", op, i, i + len(op)))
            i += len(op)
    tokens.append(Token("end", "", n, n))
    return tokens


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
    raise MalformedQueryException(f"unterminated {what}", query, start, len(query))


# ---------------------------------------------------------------- values


def to_number(value: Any) -> float | None:
    """A value as a number (numeric strings included), or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def to_text(value: Any) -> str:
    """A value as GetQueryResults shows it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Stamp):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    number = to_number(value)
    if number is not None:
        return number != 0
    return value != ""


def compare(left: Any, op: str, right: Any) -> bool:
    """A comparison: numerically when both sides are numbers, else as text; false if a side is missing."""
    if left is None or right is None:
        return False
    a, b = to_number(left), to_number(right)
    if a is None or b is None:
        return _compare(to_text(left), op, to_text(right))
    return _compare(a, op, b)


_Ordered = TypeVar("_Ordered", float, str)


def _compare(a: _Ordered, op: str, b: _Ordered) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def compile_regex(pattern: str, query: str = "", token: Token | None = None) -> re.Pattern:
    """A Logs Insights regex as a Python one: inline flags may stand anywhere, (?<name>) groups."""
    flags = "".join(re.findall(r"\(\?([aiLmsux]+)\)", pattern))
    body = re.sub(r"\(\?[aiLmsux]+\)", "", pattern)
    body = re.sub(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>", body)
    try:
        return re.compile((f"(?{''.join(sorted(set(flags)))})" if flags else "") + body)
    except re.error as exc:
        start, end = (token.start, token.end) if token else (0, 0)
        raise MalformedQueryException(
            f"invalid regular expression /{pattern}/: {exc}", query, start, end
        ) from exc


# ---------------------------------------------------------------- expressions


def _fn_bin(period_ms: int) -> Expr:
    return lambda rec: (
        None if rec.get("@timestamp") is None else Stamp(int(rec["@timestamp"]) // period_ms * period_ms)
    )


def _num_fn(fn: Callable[[float], float]) -> Callable[..., Any]:
    def apply(value: Any) -> Any:
        number = to_number(value)
        if number is None:
            return None
        try:
            return fn(number)
        except (ValueError, OverflowError):
            return None

    return apply


def _text_fn(fn: Callable[..., Any]) -> Callable[..., Any]:
    def apply(value: Any, *rest: Any) -> Any:
        return None if value is None else fn(to_text(value), *rest)

    return apply


def _trim(side: str) -> Callable[..., Any]:
    def apply(value: Any, chars: Any = None) -> Any:
        if value is None:
            return None
        text, strip = to_text(value), (None if chars is None else to_text(chars))
        return {"l": text.lstrip, "r": text.rstrip, "b": text.strip}[side](strip)

    return apply


def _substr(value: Any, start: Any, length: Any = None) -> Any:
    if value is None or (first := to_number(start)) is None:
        return None
    text, begin = to_text(value), int(first)
    if length is None:
        return text[begin:]
    return text[begin : begin + int(to_number(length) or 0)]


SCALAR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _num_fn(abs),
    "ceil": _num_fn(math.ceil),
    "floor": _num_fn(math.floor),
    "log": _num_fn(math.log),
    "sqrt": _num_fn(math.sqrt),
    "greatest": lambda *v: max((n for n in map(to_number, v) if n is not None), default=None),
    "least": lambda *v: min((n for n in map(to_number, v) if n is not None), default=None),
    "strlen": _text_fn(len),
    "tolower": _text_fn(str.lower),
    "toupper": _text_fn(str.upper),
    "ltrim": _trim("l"),
    "rtrim": _trim("r"),
    "trim": _trim("b"),
    "substr": _substr,
    "replace": lambda s, a, b: None if s is None else to_text(s).replace(to_text(a), to_text(b)),
    "strcontains": lambda s, t: None if s is None else int(to_text(t) in to_text(s)),
    "concat": lambda *v: "".join(to_text(x) for x in v if x is not None),
    "coalesce": lambda *v: next((x for x in v if x is not None), None),
}
PRESENCE_FUNCTIONS = {"ispresent", "isempty", "isblank"}
AGGREGATES = {
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "pct",
    "percentile",
    "stddev",
    "earliest",
    "latest",
}


@dataclass
class Group:
    """The events of one stats group (aggregates read them)."""

    rows: list[Record]


class Parser:
    """Recursive descent over one command's tokens; builds expressions as closures."""

    def __init__(self, query: str, tokens: list[Token]) -> None:
        self.query = query
        self.tokens = tokens
        self.i = 0
        self.aggregates_allowed = False

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, problem: str | None = None, token: Token | None = None) -> MalformedQueryException:
        token = token or self.tok
        what = token.text or "end of query"
        return MalformedQueryException(
            problem or f"unexpected symbol found {what}", self.query, token.start, token.end
        )

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "name" and self.tok.text.lower() in words

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.error(f"expected '{op}' but found {self.tok.text or 'end of query'}")
        return self.take()

    def at_end(self) -> bool:
        return self.tok.kind == "end"

    def text_since(self, start: Token) -> str:
        return self.query[start.start : self.tokens[self.i - 1].end].strip()

    # -- grammar
    def expression(self) -> Expr:
        return self.or_expr()

    def or_expr(self) -> Expr:
        left = self.and_expr()
        while self.is_word("or"):
            self.take()
            right, prev = self.and_expr(), left
            left = (lambda a, b: lambda rec: _truthy(a(rec)) or _truthy(b(rec)))(prev, right)
        return left

    def and_expr(self) -> Expr:
        left = self.not_expr()
        while self.is_word("and"):
            self.take()
            right, prev = self.not_expr(), left
            left = (lambda a, b: lambda rec: _truthy(a(rec)) and _truthy(b(rec)))(prev, right)
        return left

    def not_expr(self) -> Expr:
        if self.is_word("not") and not self._not_is_operator():
            self.take()
            inner = self.not_expr()
            return lambda rec: not _truthy(inner(rec))
        return self.comparison()

    def _not_is_operator(self) -> bool:
        nxt = self.tokens[self.i + 1]
        return nxt.kind == "name" and nxt.text.lower() in ("like", "in")

    def comparison(self) -> Expr:
        left = self.additive()
        negate = False
        if self.is_word("not") and self._not_is_operator():
            self.take()
            negate = True
        if self.is_word("like") or self.is_op("=~"):
            self.take()
            matcher = self.pattern()
            test: Expr = (lambda a, m: lambda rec: a(rec) is not None and m(to_text(a(rec))))(left, matcher)
        elif self.is_word("in"):
            self.take()
            options = self.list_literal()
            test = (lambda a, opts: lambda rec: any(compare(a(rec), "=", o) for o in opts))(left, options)
        elif negate:
            raise self.error("expected 'like' or 'in' after 'not'")
        elif self.is_op("=", "==", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            right = self.additive()
            return (lambda a, o, b: lambda rec: compare(a(rec), o, b(rec)))(left, op, right)
        else:
            return left
        if negate:
            return (lambda t: lambda rec: not t(rec))(test)
        return test

    def pattern(self) -> Callable[[str], bool]:
        token = self.take()
        if token.kind == "string":
            needle = token.value
            return lambda text: needle in text
        if token.kind == "regex":
            search = compile_regex(token.value, self.query, token).search
            return lambda text: search(text) is not None
        raise self.error('expected a "string" or a /regular expression/ after like', token)

    def list_literal(self) -> list[Any]:
        self.expect_op("[")
        values: list[Any] = []
        while not self.is_op("]"):
            token = self.take()
            if token.kind not in ("string", "number"):
                raise self.error("expected a string or number in the list", token)
            values.append(token.value)
            if not self.is_op("]"):
                self.expect_op(",")
        self.take()
        return values

    def additive(self) -> Expr:
        left = self.multiplicative()
        while self.is_op("+", "-"):
            op = self.take().text
            right, prev = self.multiplicative(), left
            left = _arith(prev, op, right)
        return left

    def multiplicative(self) -> Expr:
        left = self.unary()
        while self.is_op("*", "/", "%"):
            op = self.take().text
            right, prev = self.unary(), left
            left = _arith(prev, op, right)
        return left

    def unary(self) -> Expr:
        if self.is_op("-"):
            self.take()
            inner = self.unary()
            return lambda rec: _negate(inner(rec))
        base = self.primary()
        if self.is_op("^"):
            self.take()
            return _arith(base, "^", self.unary())
        return base

    def primary(self) -> Expr:
        token = self.tok
        if token.kind in ("number", "string"):
            self.take()
            value = token.value
            return lambda rec: value
        if self.is_op("("):
            self.take()
            inner = self.expression()
            self.expect_op(")")
            return inner
        if (
            token.kind == "name"
            and self.tokens[self.i + 1].kind == "op"
            and self.tokens[self.i + 1].text == "("
            and not token.text.startswith("`")
        ):
            return self.call()
        if token.kind == "name" and token.text.lower() not in ("and", "or", "not", "like", "in", "as", "by"):
            self.take()
            name = token.value
            return lambda rec: rec.get(name)
        raise self.error()

    def call(self) -> Expr:
        name_token = self.take()
        name = name_token.text.lower()
        self.expect_op("(")
        if name in AGGREGATES:
            return self.aggregate(name, name_token)
        if name == "bin":
            period = self.take()
            if period.kind != "duration":
                raise self.error("bin() takes a period such as 5m, 1h or 30s", period)
            self.expect_op(")")
            return _fn_bin(period.value)
        if name in PRESENCE_FUNCTIONS:
            arg = self.expression()
            self.expect_op(")")
            if name == "ispresent":
                return lambda rec: arg(rec) is not None
            if name == "isempty":
                return lambda rec: arg(rec) is None or to_text(arg(rec)) == ""
            return lambda rec: arg(rec) is None or to_text(arg(rec)).strip() == ""
        fn = SCALAR_FUNCTIONS.get(name)
        if fn is None:
            raise self.error(f"unknown function {name_token.text}", name_token)
        args = self.arguments()
        try:
            inspect.signature(fn).bind(*args)
        except TypeError:
            raise self.error(f"wrong number of arguments to {name_token.text}()", name_token) from None
        return lambda rec: fn(*(a(rec) for a in args))

    def arguments(self) -> list[Expr]:
        args: list[Expr] = []
        while not self.is_op(")"):
            args.append(self.expression())
            if not self.is_op(")"):
                self.expect_op(",")
        self.take()
        return args

    def aggregate(self, name: str, name_token: Token) -> Expr:
        if not self.aggregates_allowed:
            raise self.error(f"{name_token.text}() is an aggregate function: use it in stats", name_token)
        self.aggregates_allowed = False  # no aggregate inside an aggregate
        if name == "count" and self.is_op("*"):
            self.take()
            self.expect_op(")")
            self.aggregates_allowed = True
            return lambda group: len(_rows(group))
        args = self.arguments()
        self.aggregates_allowed = True
        wanted = 2 if name in ("pct", "percentile") else 1
        if len(args) != wanted:
            raise self.error(f"{name_token.text}() takes {wanted} argument{'s' * (wanted > 1)}", name_token)
        arg = args[0]
        if wanted == 2:
            rank = to_number(args[1]({}))
            if rank is None or not 0 <= rank <= 100:
                raise self.error(f"{name_token.text}() takes a percentile between 0 and 100", name_token)
            return lambda group: _percentile([to_number(arg(r)) for r in _rows(group)], rank)
        return lambda group: AGGREGATE_FUNCTIONS[name](_rows(group), arg)


def _negate(value: Any) -> float | None:
    number = to_number(value)
    return None if number is None else -number


def _rows(view: Record) -> list[Record]:
    """The rows of the stats group an aggregate reads: aggregates are evaluated over a _GroupView."""
    return cast(_GroupView, view).rows


def _arith(left: Expr, op: str, right: Expr) -> Expr:
    def apply(rec: Record) -> Any:
        a, b = to_number(left(rec)), to_number(right(rec))
        if a is None or b is None:
            return None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "^":
            return a**b
        if b == 0:
            return None
        return a / b if op == "/" else math.fmod(a, b)

    return apply


def _numbers(rows: list[Record], arg: Expr) -> list[float]:
    return [n for n in (to_number(arg(r)) for r in rows) if n is not None]


def _percentile(values: list[float | None], rank: float) -> float | None:
    """Nearest-rank percentile of the numeric values."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    return present[max(0, math.ceil(rank / 100 * len(present)) - 1)]


def _extreme(rows: list[Record], arg: Expr, pick: Callable) -> Any:
    values = [v for v in (arg(r) for r in rows) if v is not None]
    if not values:
        return None
    if all(to_number(v) is not None for v in values):
        return pick(values, key=to_number)
    return pick(values, key=to_text)


def _by_time(rows: list[Record], arg: Expr, pick: Callable) -> Any:
    present = [r for r in rows if arg(r) is not None]
    return arg(pick(present, key=lambda r: r.get("@timestamp") or 0)) if present else None


AGGREGATE_FUNCTIONS: dict[str, Callable[[list[Record], Expr], Any]] = {
    "count": lambda rows, arg: sum(1 for r in rows if arg(r) is not None),
    "count_distinct": lambda rows, arg: len({to_text(v) for v in (arg(r) for r in rows) if v is not None}),
    "sum": lambda rows, arg: sum(_numbers(rows, arg)) if _numbers(rows, arg) else None,
    "avg": lambda rows, arg: stats_lib.fmean(_numbers(rows, arg)) if _numbers(rows, arg) else None,
    "stddev": lambda rows, arg: (
        stats_lib.stdev(_numbers(rows, arg))
        if len(_numbers(rows, arg)) > 1
        else (0.0 if _numbers(rows, arg) else None)
    ),
    "min": lambda rows, arg: _extreme(rows, arg, min),
    "max": lambda rows, arg: _extreme(rows, arg, max),
    "earliest": lambda rows, arg: _by_time(rows, arg, min),
    "latest": lambda rows, arg: _by_time(rows, arg, max),
}


# ---------------------------------------------------------------- commands


@dataclass
class Command:
    name: str
    items: list[tuple[str, Expr]] = field(default_factory=list)  # (output name, expression)
    by: list[tuple[str, Expr]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int = 0
    predicate: Expr | None = None
    source: str = ""
    extract: Callable[[str], dict[str, str] | None] | None = None


@dataclass
class Query:
    text: str
    commands: list[Command]


def parse_query(text: str) -> Query:
    """Parse a Logs Insights query into its commands; raises MalformedQueryException."""
    tokens = tokenize(text)
    commands: list[Command] = []
    start = 0
    for i, token in enumerate(tokens):
        if token.kind in ("pipe", "end"):
            part = tokens[start:i] + [Token("end", "", token.start, token.start)]
            if len(part) == 1:
                raise MalformedQueryException("expected a command", text, token.start, token.end)
            commands.append(_parse_command(Parser(text, part)))
            start = i + 1
    return Query(text, commands)


def _parse_command(p: Parser) -> Command:
    head = p.take()
    name = head.text.lower()
    if head.kind != "name":
        raise p.error(f"expected a command but found {head.text}", head)
    if name in ("fields", "display"):
        cmd = Command(name, items=_named_list(p, allow_alias=name == "fields"))
    elif name == "filter":
        cmd = Command(name, predicate=p.expression())
    elif name == "stats":
        p.aggregates_allowed = True
        items = _named_list(p, allow_alias=True)
        p.aggregates_allowed = False
        by: list[tuple[str, Expr]] = []
        if p.is_word("by"):
            p.take()
            by = _named_list(p, allow_alias=True)
        cmd = Command(name, items=items, by=by)
    elif name == "sort":
        order: list[tuple[str, bool]] = []
        while True:
            token = p.take()
            if token.kind != "name":
                raise p.error("expected a field name to sort by", token)
            descending = True
            if p.is_word("asc", "desc"):
                descending = p.take().text.lower() == "desc"
            order.append((token.value, descending))
            if not p.is_op(","):
                break
            p.take()
        cmd = Command(name, order=order)
    elif name == "limit":
        token = p.take()
        if token.kind != "number" or not isinstance(token.value, int) or not 0 < token.value <= MAX_LIMIT:
            raise p.error(f"limit takes a whole number from 1 to {MAX_LIMIT}", token)
        cmd = Command(name, limit=token.value)
    elif name == "parse":
        cmd = _parse_parse(p)
    else:
        raise p.error(f"unknown command {head.text}", head)
    if not p.at_end():
        raise p.error()
    return cmd


def _named_list(p: Parser, allow_alias: bool) -> list[tuple[str, Expr]]:
    """expr [as alias], ... : each with its output name (the alias, or the expression as written)."""
    items: list[tuple[str, Expr]] = []
    while True:
        first = p.tok
        expr = p.expression()
        name = p.text_since(first)
        if first.kind == "name" and p.tokens[p.i - 1] is first:
            name = first.value
        if p.is_word("as"):
            if not allow_alias:
                raise p.error("display takes field names without aliases")
            p.take()
            alias = p.take()
            if alias.kind != "name":
                raise p.error("expected a name after 'as'", alias)
            name = alias.value
        items.append((name, expr))
        if not p.is_op(","):
            return items
        p.take()


def _parse_parse(p: Parser) -> Command:
    source = "@message"
    if p.tok.kind == "name" and p.tokens[p.i + 1].kind in ("string", "regex"):
        source = p.take().value
    token = p.take()
    if token.kind == "regex":
        regex = compile_regex(token.value, p.query, token)
        if not regex.groupindex:
            raise p.error("parse with a regular expression needs named groups such as (?<name>...)", token)

        def extract_regex(text: str) -> dict[str, str] | None:
            match = regex.search(text)
            return None if match is None else {k: v for k, v in match.groupdict().items() if v is not None}

        return Command("parse", source=source, extract=extract_regex)
    if token.kind != "string":
        raise p.error('parse takes a "glob pattern" with * or a /regular expression/', token)
    if not p.is_word("as"):
        raise p.error("expected 'as' and field names after the parse pattern")
    p.take()
    names: list[str] = []
    while True:
        name = p.take()
        if name.kind != "name":
            raise p.error("expected a field name", name)
        names.append(name.value)
        if not p.is_op(","):
            break
        p.take()
    pieces = token.value.split("*")
    if len(pieces) - 1 != len(names):
        raise p.error(f"the pattern has {len(pieces) - 1} wildcards for {len(names)} field names", token)
    body = "(.*?)".join(re.escape(piece) for piece in pieces)
    if body.endswith("(.*?)"):
        body = body[:-5] + "(.*)"
    glob = re.compile(body, re.DOTALL)

    def extract_glob(text: str) -> dict[str, str] | None:
        match = glob.search(text)
        return None if match is None else dict(zip(names, match.groups(), strict=True))

    return Command("parse", source=source, extract=extract_glob)


# ---------------------------------------------------------------- discovered fields

_REPORT_FIELDS = {
    "Duration": ("@duration", float, 1),
    "Billed Duration": ("@billedDuration", int, 1),
    "Memory Size": ("@memorySize", int, 1_000_000),
    "Max Memory Used": ("@maxMemoryUsed", int, 1_000_000),
    "Init Duration": ("@initDuration", float, 1),
}
_LAMBDA_LINE = re.compile(r"^(START|END|REPORT) RequestId: ([0-9A-Za-z-]+)")


def flatten(value: Any, prefix: str, out: Record) -> None:
    """JSON values as Logs Insights fields: nested objects as a.b, arrays as a.0; null is absent."""
    if isinstance(value, dict):
        for key, item in value.items():
            key = f"@{key}" if not prefix and str(key).startswith("@") else str(key)
            flatten(item, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}.{index}" if prefix else str(index), out)
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    elif value is not None and prefix:
        out[prefix] = value


def discover(message: str, out: Record) -> None:
    """Add the fields Logs Insights discovers in a message: Lambda platform lines, the first JSON object."""
    lam = _LAMBDA_LINE.match(message)
    if lam:
        out["@type"], out["@requestId"] = lam.group(1), lam.group(2)
        if lam.group(1) == "REPORT":
            for part in message.split("\t")[1:]:
                label, _, amount = part.partition(":")
                spec = _REPORT_FIELDS.get(label.strip())
                number = amount.strip().split(" ")[0]
                if spec and to_number(number) is not None:
                    out[spec[0]] = spec[1](float(number) * spec[2]) if spec[1] is int else float(number)
        return
    brace = message.find("{")
    if brace < 0:
        return
    try:
        document, _ = json.JSONDecoder().raw_decode(message, brace)
    except ValueError:
        return
    if isinstance(document, dict):
        flatten(document, "", out)


def event_record(event: Any, stream_name: str, group_name: str, account_id: str) -> Record:
    """One log event as a record of its system and discovered fields."""
    record: Record = {}
    discover(event.message, record)
    record.update(
        {
            "@timestamp": Stamp(event.timestamp),
            "@message": event.message,
            "@logStream": stream_name,
            "@log": f"{account_id}:{group_name}",
            "@ingestionTime": Stamp(event.ingestion_time),
            "@ptr": base64.b64encode(f"{group_name}\n{stream_name}\n{event.event_id}".encode()).decode(),
        }
    )
    return record


# ---------------------------------------------------------------- evaluation


class Results(list):
    """Result rows (field -> text), with the query's statistics."""

    statistics: dict[str, float]


def natural_key(value: Any) -> tuple:
    """AWS's sort order (ascending): non-numbers first, in natural order, then numbers by value."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value)):
        return (1, to_number(value), to_text(value))
    return (0, tuple(_chunk_key(c) for c in re.findall(r"\d+|\D+", to_text(value))))


def _chunk_key(chunk: str) -> tuple:
    """A run of digits sorts by length then value; any other run by Unicode. Against each other they
    compare by Unicode: "0" stands for every digit, no other character lies between "0" and "9"."""
    if chunk.isdecimal():
        return ("0", 1, len(chunk), int(chunk))
    return (chunk[0], 0, chunk, 0)


_PLAIN_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def sort_rows(rows: list[Record], order: list[tuple[str, bool]]) -> list[Record]:
    """Rows sorted by each (field, descending) in turn; rows without the field go last."""
    for name, descending in reversed(order):
        present = [r for r in rows if r.get(name) is not None]
        missing = [r for r in rows if r.get(name) is None]
        rows = sorted(present, key=lambda r: natural_key(r[name]), reverse=descending) + missing
    return rows


def run(query: Query, events: Iterable[Record]) -> tuple[list[Record], list[str], int]:
    """Evaluate the commands over the event records (newest first); the rows, shown fields, matched count."""
    rows = list(events)
    shown: list[str] | None = None
    aggregated = False
    limit = DEFAULT_LIMIT
    matched = len(rows)
    for cmd in query.commands:
        if cmd.name == "filter":
            predicate = cmd.predicate
            assert predicate is not None  # the parser gives every filter its predicate
            rows = [r for r in rows if _truthy(predicate(r))]
            matched = matched if aggregated else len(rows)
        elif cmd.name == "parse":
            extract = cmd.extract
            assert extract is not None  # the parser gives every parse its extractor
            for r in rows:
                source = r.get(cmd.source)
                found = extract(to_text(source)) if source is not None else None
                if found:
                    r.update(found)
        elif cmd.name == "fields":
            for r in rows:
                r.update({name: expr(r) for name, expr in cmd.items})
            shown = list(dict.fromkeys([*(shown or []), *(n for n, _ in cmd.items)]))
        elif cmd.name == "display":
            for r in rows:
                r.update({name: expr(r) for name, expr in cmd.items})
            shown = [n for n, _ in cmd.items]
        elif cmd.name == "stats":
            rows = _stats(cmd, rows)
            shown = [n for n, _ in cmd.by] + [n for n, _ in cmd.items]
            aggregated = True
        elif cmd.name == "sort":
            rows = sort_rows(rows, cmd.order)
        elif cmd.name == "limit":
            rows = rows[: cmd.limit]
            limit = min(limit, cmd.limit)
    if shown is None:
        shown = ["@timestamp", "@message"]
    if not aggregated:
        shown = [n for n in shown if n != "@ptr"] + ["@ptr"]
    return rows[:limit], shown, matched


def _stats(cmd: Command, rows: list[Record]) -> list[Record]:
    """Group the rows by the `by` expressions and compute the stats expressions per group."""
    groups: dict[tuple, tuple[Record, list[Record]]] = {}
    for r in rows:
        keys = {name: expr(r) for name, expr in cmd.by}
        if any(v is None for v in keys.values()):
            continue
        key = tuple(to_text(v) for v in keys.values())
        groups.setdefault(key, (keys, []))[1].append(r)
    if not cmd.by and not groups:
        groups[()] = ({}, [])
    out: list[Record] = []
    for keys, members in groups.values():
        result: Record = dict(keys)
        group = Group(members)
        for name, expr in cmd.items:
            result[name] = expr(_GroupView(result, group))
        out.append(result)
    return out


class _GroupView(dict):
    """What a stats expression sees: aggregates read the group's rows, names read earlier results."""

    def __init__(self, result: Record, group: Group) -> None:
        super().__init__(result)
        self.rows = group.rows


def execute_query(log_groups: list[Any], query: str, start_time: int, end_time: int) -> Results:
    """Run a Logs Insights query over the groups' events in [start_time, end_time] (epoch seconds, inclusive)."""
    parsed = parse_query(query)
    low = start_time * 1000 if start_time else None
    high = end_time * 1000 + 999 if end_time else None
    records: list[Record] = []
    scanned_bytes = 0
    for group in log_groups:
        for stream in list(group.streams.values()):
            for event in logs_ingestion.visible_events(stream):
                if (low is not None and event.timestamp < low) or (
                    high is not None and event.timestamp > high
                ):
                    continue
                scanned_bytes += len(event.message.encode())
                records.append(event_record(event, stream.log_stream_name, group.name, group.account_id))
    records.sort(key=lambda r: (r["@timestamp"], r["@ingestionTime"]), reverse=True)
    rows, shown, matched = run(parsed, records)
    results = Results(
        {name: to_text(row[name]) for name in shown if row.get(name) is not None} for row in rows
    )
    results.statistics = {
        "recordsMatched": float(matched),
        "recordsScanned": float(len(records)),
        "bytesScanned": float(scanned_bytes),
    }
    return results


def _wrap_to_result_json(original: Callable[..., dict]) -> Callable[..., dict]:
    """LogQuery.to_result_json that also answers the query's statistics."""

    def to_result_json(self) -> dict[str, Any]:
        answer = original(self)
        answer["statistics"] = getattr(
            self.results, "statistics", {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}
        )
        return answer

    to_result_json.__wrapped__ = original  # type: ignore[attr-defined]  # inspect.unwrap finds moto's own
    return to_result_json


def install() -> None:
    """Make moto's StartQuery run queries with this evaluator (idempotent)."""
    global _installed
    if _installed:
        return
    import moto
    import moto.logs.models as models

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"helpers.local.logs_insights was written against moto {MOTO_VERSION}, found {moto.__version__}"
        )
    expected: dict[Callable[..., Any], list[str]] = {
        models.execute_query: ["log_groups", "query", "start_time", "end_time"],
        models.LogQuery.__init__: ["self", "query_id", "start_time", "end_time", "query", "log_groups"],
        models.LogQuery.to_result_json: ["self"],
    }
    for target, params in expected.items():
        if list(inspect.signature(target).parameters) != params:
            raise RuntimeError(
                f"moto changed {target.__qualname__}; helpers.local.logs_insights needs updating"
            )
    if "execute_query(" not in inspect.getsource(models.LogQuery.__init__):
        raise RuntimeError(
            "moto's LogQuery no longer calls execute_query; helpers.local.logs_insights needs updating"
        )
    models.execute_query = execute_query
    models.LogQuery.to_result_json = _wrap_to_result_json(models.LogQuery.to_result_json)  # type: ignore[method-assign]  # the hook
    _installed = True
