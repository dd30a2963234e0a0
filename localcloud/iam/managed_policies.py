"""AWS managed policies, read one at a time from moto's catalogue of them.

An AWS account comes with about 1,600 AWS managed policies; the workshop attaches one
(AWSLambdaBasicExecutionRole). moto builds them all when the account's IAM is first used, which
cost the first signed request of a fresh local cloud seconds. The catalogue is one JSON text,
indented one space per level; an entry is decoded only when its policy is asked for.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ENTRY = re.compile(r'^ "([^"]+)":\{', re.MULTILINE)  # a policy's name at the catalogue's top level
AWS_POLICY_ARN = re.compile(r"^arn:[\w-]+:iam::aws:policy/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$")


def policy_name(arn: str) -> str | None:
    """The policy name in an AWS managed policy's ARN (arn:aws:iam::aws:policy/service-role/X -> X), else None."""
    found = AWS_POLICY_ARN.match(arn)
    return found.group(1) if found else None


def entry(catalogue: str, name: str) -> dict[str, Any] | None:
    """The catalogue's data for one policy (Document, Path, DefaultVersionId, dates), decoding that entry alone."""
    start = catalogue.find(f'\n "{name}":{{')
    if start < 0:
        return None
    found, _ = json.JSONDecoder().raw_decode(catalogue, start + len(name) + 5)
    return found if isinstance(found, dict) else None


def names(catalogue: str) -> list[str]:
    """Every policy name in the catalogue, in its order."""
    return _ENTRY.findall(catalogue)
