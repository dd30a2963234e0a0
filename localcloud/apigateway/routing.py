"""Which API, stage, resource and method a request to the local invoke URL reaches.

The local cloud serves every REST API under one path prefix that no AWS API of moto's server uses
(``/_aws/execute-api/{api-id}/{stage}/{path}``, LocalStack's path-based form), and also accepts
LocalStack's older ``/restapis/{api-id}/{stage}/_user_request_/{path}``; in AWS the invoke URL is
``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}/{path}``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html).

Resource paths match as API Gateway matches them: literal parts first, then ``{name}`` (one path
segment), then a greedy ``{name+}``; a method falls back to the resource's ``ANY``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from localcloud.client import EXECUTE_API_PATH as PATH_PREFIX

_USER_REQUEST = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")
_PREFIXED = re.compile(r"^/_aws/execute-api/(?P<api>[^/]+)/(?P<stage>[^/]+)(?P<path>/.*)?$")
_API_ID_ONLY = re.compile(r"^/_aws/execute-api/(?P<api>[^/]+)/?$")


@dataclass(frozen=True)
class Target:
    """What the invoke URL names: the API, the stage ('' when none) and the path after the stage."""

    api_id: str
    stage: str
    path: str  # starts with '/'


def is_invoke_path(path: str) -> bool:
    """True when a request path is for an API's invoke URL, not for one of moto's AWS APIs."""
    return path.startswith(PATH_PREFIX) or _USER_REQUEST.match(path) is not None


def parse(path: str) -> Target | None:
    """The API, stage and resource path a local invoke URL path names (None if it is not one)."""
    for form in (_PREFIXED, _USER_REQUEST):
        found = form.match(path)
        if found:
            return Target(found["api"], found["stage"], found["path"] or "/")
    found = _API_ID_ONLY.match(path)
    return Target(found["api"], "", "/") if found else None


def _segments(path: str) -> list[str]:
    """A path's segments ('/a/b/' -> ['a', 'b']; '/' -> [])."""
    return [s for s in path.split("/") if s]


def _match(template: str, path: str) -> dict[str, str] | None:
    """The path parameters when the resource template matches the path, else None."""
    parts, wanted = _segments(template), _segments(path)
    params: dict[str, str] = {}
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = wanted[i:]
            if not rest:
                return None
            params[part[1:-2]] = "/".join(rest)
            return params
        if i >= len(wanted):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = wanted[i]
        elif part != wanted[i]:
            return None
    return params if len(parts) == len(wanted) else None


def _specificity(template: str) -> tuple[int, ...]:
    """Sort key: literal segments before {param} before {greedy+}, longer before shorter."""
    ranks = []
    for part in _segments(template):
        ranks.append(2 if part.endswith("+}") else 1 if part.startswith("{") else 0)
    return (*ranks, -len(ranks))


def match_resource(templates: Iterable[str], path: str) -> tuple[str, dict[str, str]] | None:
    """The resource template a request path reaches and its path parameters (None: no resource)."""
    for template in sorted(templates, key=_specificity):
        params = _match(template, path)
        if params is not None:
            return template, params
    return None


def choose_method(methods: Iterable[str], http_method: str) -> str | None:
    """The resource's method serving http_method: itself, else ANY (None: no such method)."""
    known = set(methods)
    if http_method in known:
        return http_method
    return "ANY" if "ANY" in known else None
