"""The error a Logs Insights query that does not parse raises, with AWS's message and location."""

from __future__ import annotations


class QuerySyntaxError(ValueError):
    """A query that does not parse: AWS's StartQuery answers it with MalformedQueryException (HTTP 400)."""

    def __init__(self, problem: str, query: str = "", start: int = 0, end: int = 0) -> None:
        line = query.count("\n", 0, start) + 1
        column = start - (query.rfind("\n", 0, start) + 1)
        self.problem = problem
        self.message = f"{problem} at line {line} and position {column}"
        self.start = start
        self.end = max(start, end)
        super().__init__(self.message)
