"""A compiled filter pattern, and the values a match extracts (TestMetricFilter's extractedValues)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud.logs.filter_patterns.selectors import MISSING, parse_object, selector_getter


class Extracted(dict[str, str]):
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
                document = parse_object(self.message)
                if document is None:
                    return None
                self.document = document
            value = selector_getter(selector)(document)
            return None if value is MISSING else value
        return self.get(selector)


class FilterPattern:
    """A compiled filter pattern: matches(message) and extract(message)."""

    def __init__(
        self,
        text: str,
        kind: str,
        test: Callable[[str], bool],
        extract: Callable[[str], Extracted | None],
    ) -> None:
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
