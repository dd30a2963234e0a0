"""Logs Insights queries parsed into commands: a recursive-descent parser that builds expressions as closures."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localcloud.logs.insights.errors import QuerySyntaxError
from localcloud.logs.insights.functions import (
    AGGREGATE_FUNCTIONS,
    AGGREGATES,
    PRESENCE_FUNCTIONS,
    SCALAR_FUNCTIONS,
    Expr,
    arithmetic,
    bin_of,
    group_rows,
    logical,
    negate,
    percentile,
)
from localcloud.logs.insights.lexer import Token, tokenize
from localcloud.logs.insights.values import compare, compile_regex, to_number, to_text, truthy

DEFAULT_LIMIT = 10_000  # rows a query answers without `limit`
MAX_LIMIT = 10_000


@dataclass
class Command:
    """One command of a query (fields, display, filter, stats, sort, limit or parse) and its arguments."""

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
    """A parsed query: its text and its commands in order."""

    text: str
    commands: list[Command]


def parse_query(text: str) -> Query:
    """Parse a Logs Insights query into its commands; raises QuerySyntaxError."""
    tokens = tokenize(text)
    commands: list[Command] = []
    start = 0
    for i, token in enumerate(tokens):
        if token.kind in ("pipe", "end"):
            part = tokens[start:i] + [Token("end", "", token.start, token.start)]
            if len(part) == 1:
                raise QuerySyntaxError("expected a command", text, token.start, token.end)
            commands.append(_parse_command(Parser(text, part)))
            start = i + 1
    return Query(text, commands)


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
        """The token at the cursor."""
        return self.tokens[self.i]

    def error(self, problem: str | None = None, token: Token | None = None) -> QuerySyntaxError:
        """A syntax error at token (the cursor's by default), by default 'unexpected symbol'."""
        token = token or self.tok
        what = token.text or "end of query"
        return QuerySyntaxError(
            problem or f"unexpected symbol found {what}", self.query, token.start, token.end
        )

    def take(self) -> Token:
        """The token at the cursor; the cursor moves past it."""
        token = self.tok
        self.i += 1
        return token

    def is_word(self, *words: str) -> bool:
        """Whether the cursor is at one of these keywords (any case)."""
        return self.tok.kind == "name" and self.tok.text.lower() in words

    def is_op(self, *ops: str) -> bool:
        """Whether the cursor is at one of these operators."""
        return self.tok.kind == "op" and self.tok.text in ops

    def expect_op(self, op: str) -> Token:
        """Take the operator op, or raise naming what stands there instead."""
        if not self.is_op(op):
            raise self.error(f"expected '{op}' but found {self.tok.text or 'end of query'}")
        return self.take()

    def at_end(self) -> bool:
        """Whether the command's tokens are used up."""
        return self.tok.kind == "end"

    def text_since(self, start: Token) -> str:
        """The query text from token start to the last token taken (an unaliased item's name)."""
        return self.query[start.start : self.tokens[self.i - 1].end].strip()

    # -- grammar
    def expression(self) -> Expr:
        """expression := or_expr."""
        return self.or_expr()

    def joined(
        self,
        operand: Callable[[], Expr],
        combine: Callable[[Expr, str, Expr], Expr],
        *,
        words: tuple[str, ...] = (),
        ops: tuple[str, ...] = (),
    ) -> Expr:
        """operand (operator operand)*, combined left to right; the operators are keywords or ops."""
        left = operand()
        while self.is_word(*words) or self.is_op(*ops):
            operator = self.take().text.lower()
            left = combine(left, operator, operand())
        return left

    def or_expr(self) -> Expr:
        """or_expr := and_expr (or and_expr)*."""
        return self.joined(self.and_expr, logical, words=("or",))

    def and_expr(self) -> Expr:
        """and_expr := not_expr (and not_expr)*."""
        return self.joined(self.not_expr, logical, words=("and",))

    def not_expr(self) -> Expr:
        """not_expr := not not_expr | comparison."""
        if self.is_word("not") and not self._not_is_operator():
            self.take()
            inner = self.not_expr()
            return lambda rec: not truthy(inner(rec))
        return self.comparison()

    def _not_is_operator(self) -> bool:
        """Whether the `not` at the cursor negates a following like/in (not a whole expression)."""
        nxt = self.tokens[self.i + 1]
        return nxt.kind == "name" and nxt.text.lower() in ("like", "in")

    def comparison(self) -> Expr:
        """comparison := additive [[not] like|=~ pattern | [not] in [list] | op additive]."""
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
        """The matcher after like or =~: a "substring" or a /regex/."""
        token = self.take()
        if token.kind == "string":
            needle = token.value
            return lambda text: needle in text
        if token.kind == "regex":
            search = compile_regex(token.value, self.query, token).search
            return lambda text: search(text) is not None
        raise self.error('expected a "string" or a /regular expression/ after like', token)

    def list_literal(self) -> list[Any]:
        """[value, ...]: the strings and numbers an `in` compares with."""
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
        """additive := multiplicative ((+|-) multiplicative)*."""
        return self.joined(self.multiplicative, arithmetic, ops=("+", "-"))

    def multiplicative(self) -> Expr:
        """multiplicative := unary ((*|/|%) unary)*."""
        return self.joined(self.unary, arithmetic, ops=("*", "/", "%"))

    def unary(self) -> Expr:
        """unary := -unary | primary [^ unary]."""
        if self.is_op("-"):
            self.take()
            inner = self.unary()
            return lambda rec: negate(inner(rec))
        base = self.primary()
        if self.is_op("^"):
            self.take()
            return arithmetic(base, "^", self.unary())
        return base

    def primary(self) -> Expr:
        """primary := number | string | (expression) | call | field name."""
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
        """A function call: an aggregate, bin(period), a presence test or a scalar function."""
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
            return bin_of(period.value)
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
        try:  # the arity of the kit's own function (moto is not involved): a wrong count is a syntax error
            inspect.signature(fn).bind(*args)
        except TypeError:
            raise self.error(f"wrong number of arguments to {name_token.text}()", name_token) from None
        return lambda rec: fn(*(a(rec) for a in args))

    def arguments(self) -> list[Expr]:
        """The call's arguments up to and including its ')'."""
        args: list[Expr] = []
        while not self.is_op(")"):
            args.append(self.expression())
            if not self.is_op(")"):
                self.expect_op(",")
        self.take()
        return args

    def aggregate(self, name: str, name_token: Token) -> Expr:
        """An aggregate (only in stats, never nested): an expression over a GroupView."""
        if not self.aggregates_allowed:
            raise self.error(f"{name_token.text}() is an aggregate function: use it in stats", name_token)
        self.aggregates_allowed = False  # no aggregate inside an aggregate
        if name == "count" and self.is_op("*"):
            self.take()
            self.expect_op(")")
            self.aggregates_allowed = True
            return lambda group: len(group_rows(group))
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
            return lambda group: percentile([to_number(arg(r)) for r in group_rows(group)], rank)
        return lambda group: AGGREGATE_FUNCTIONS[name](group_rows(group), arg)


def _parse_command(p: Parser) -> Command:
    """One command from its tokens."""
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
    """parse [field] "glob * pattern" as names | parse [field] /regex with (?<named>) groups/."""
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
