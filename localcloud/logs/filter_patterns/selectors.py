"""JSON selectors (`$.a.b[0]['c.d'][*]`) and the JSON events they select from."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from localcloud.logs.filter_patterns.errors import FilterPatternError

MISSING = object()  # what a selector resolves to when the event lacks the property
_NAME = re.compile(r"[A-Za-z0-9_\-]+")

Step = str | int | None  # a property name, a list index, or None for a `*` step
Getter = Callable[[Any], Any]


def parse_object(message: str) -> dict[str, Any] | None:
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


@lru_cache(maxsize=512)
def selector_getter(selector: str) -> Getter:
    """A cached getter for a metric value or dimension selector."""
    return compile_selector(selector, selector)[0]


def compile_selector(selector: str, pattern: str) -> tuple[Getter, bool]:
    """A getter for `$.a[0].b` (returns MISSING when absent) and whether it has a wildcard.

    A wildcard getter returns the list of candidate values instead.
    """
    steps = _parse_selector(selector, pattern)
    if None in steps:
        k = steps.index(None)
        head = [s for s in steps[:k] if s is not None]
        tail = [s for s in steps[k + 1 :] if s is not None]

        def get_all(doc: Any) -> list[Any]:
            parent = _walk(doc, head)
            if type(parent) is dict:
                children = list(parent.values())
            elif type(parent) is list:
                children = parent
            else:
                return []
            found = (_walk(child, tail) for child in children)
            return [v for v in found if v is not MISSING]

        return get_all, True
    path = [s for s in steps if s is not None]
    if len(path) == 1 and type(path[0]) is str:
        key = path[0]
        return (lambda doc: doc.get(key, MISSING) if type(doc) is dict else MISSING), False
    if len(path) == 2 and type(path[0]) is str and type(path[1]) is str:
        k1, k2 = path[0], path[1]

        def get2(doc: Any) -> Any:
            inner = doc.get(k1, MISSING) if type(doc) is dict else MISSING
            return inner.get(k2, MISSING) if type(inner) is dict else MISSING

        return get2, False
    return (lambda doc: _walk(doc, path)), False


def _walk(node: Any, steps: Sequence[str | int]) -> Any:
    """Follow keys and indexes from node; MISSING when a step does not resolve."""
    for step in steps:
        if isinstance(step, str):
            if type(node) is not dict:
                return MISSING
            node = node.get(step, MISSING)
            if node is MISSING:
                return MISSING
        else:
            if type(node) is not list or step >= len(node):
                return MISSING
            node = node[step]
    return node


def _parse_selector(selector: str, pattern: str) -> list[Step]:
    """`$.a.b[0]['c.d'][*]` -> ["a", "b", 0, "c.d", None]."""
    if not selector.startswith("$"):
        raise FilterPatternError(f"selector {selector!r} must start with $", pattern)
    steps: list[Step] = []
    i, n = 1, len(selector)
    while i < n:
        c = selector[i]
        if c == "." and i + 1 < n and selector[i + 1] == "[":
            i += 1
            continue
        if c == ".":
            if i + 1 < n and selector[i + 1] == "*":
                steps.append(None)
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
                steps.append(None)
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
    if steps.count(None) > 1:
        raise FilterPatternError(f"selector {selector!r} has more than one wildcard", pattern)
    return steps


def read_selector(text: str, i: int, pattern: str) -> tuple[str, int]:
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
