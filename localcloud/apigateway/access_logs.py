"""Access logging as "Set up CloudWatch logging for REST APIs in API Gateway" describes it.

https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html: a stage's
``accessLogSettings`` name a destination log group (``destinationArn``) and a one-line ``format`` of
``$context`` variables; API Gateway writes one line per request, each variable replaced by its value
(``-`` when it has none).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_VARIABLE = re.compile(r"\$context\.([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)")


def format_line(template: str, context: Mapping[str, object]) -> str:
    """The access log line for one request: template with each $context variable replaced."""

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        while name not in context and "." in name:  # '$context.status.' ends a sentence, not a name
            name = name.rsplit(".", 1)[0]
        got = context.get(name)
        rest = found.group(1)[len(name) :]
        return ("-" if got is None or got == "" else str(got)) + rest

    return _VARIABLE.sub(value, template)


def log_group_name(destination_arn: str) -> str:
    """The log group an access log destination ARN names (arn:aws:logs:R:A:log-group:NAME[:*])."""
    return destination_arn.split(":log-group:", 1)[-1].removesuffix(":*")
