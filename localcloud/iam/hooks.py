"""Puts IAM's policy-document checks (documents.py) into moto 5.2.5's ``IAMBackend``.

Every call that stores a policy document first checks it as IAM does and answers
``MalformedPolicyDocument`` with IAM's message: ``create_role`` and ``update_assume_role_policy``
a trust policy; ``put_role_policy``, ``put_user_policy``, ``put_group_policy``, ``create_policy``
and ``create_policy_version`` an identity policy (moto's own checks of those still follow).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud import patching
from localcloud.iam import documents

# moto's method -> (its parameters, up to the document; the document's kind)
CHECKED: dict[str, tuple[list[str], str]] = {
    "create_role": (["self", "role_name", "assume_role_policy_document"], documents.TRUST),
    "update_assume_role_policy": (["self", "role_name", "policy_document"], documents.TRUST),
    "put_role_policy": (["self", "role_name", "policy_name", "policy_json"], documents.IDENTITY),
    "put_user_policy": (["self", "user_name", "policy_name", "policy_json"], documents.IDENTITY),
    "put_group_policy": (["self", "group_name", "policy_name", "policy_json"], documents.IDENTITY),
    "create_policy": (["self", "description", "path", "policy_document"], documents.IDENTITY),
    "create_policy_version": (["self", "policy_arn", "policy_document"], documents.IDENTITY),
}


def _checking(params: list[str], kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A hook maker: check the document (the last of params) before moto stores it."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
            from moto.iam.exceptions import MalformedPolicyDocument

            bound = dict(zip(params[1:], args, strict=False), **kwargs)
            found = documents.problem(bound.get(params[-1]), kind)
            if found:
                raise MalformedPolicyDocument(found)
            return original(self, *args, **kwargs)

        return checked

    return make


def install() -> None:
    """Check every policy document IAM is given, as IAM does (idempotent)."""
    from moto.iam.models import IAMBackend

    for name, (params, kind) in CHECKED.items():
        patching.patch(IAMBackend, name, params, _checking(params, kind), prefix=True)
