"""Where moto's IAM gets patched (moto 5.2.5's ``IAMBackend``, through localcloud.patching).

Policy documents (documents.py): every call that stores a policy document first checks it as IAM does
and answers ``MalformedPolicyDocument`` with IAM's message: ``create_role`` and
``update_assume_role_policy`` a trust policy; ``put_role_policy``, ``put_user_policy``,
``put_group_policy``, ``create_policy`` and ``create_policy_version`` an identity policy (moto's own
checks of those still follow).

AWS managed policies (managed_policies.py), built one at a time when first named:

- ``_init_aws_policies`` builds none when an account's IAM is made (moto built all ~1,600, seconds of
  work on the first signed request of a fresh local cloud);
- ``_init_managed_policies`` gives the backend an ``AccountPolicies`` mapping, which builds an AWS
  managed policy from moto's catalogue when its ARN is first looked up (GetPolicy, GetPolicyVersion, ...);
- the attach and detach actions, which search the mapping's values, look the ARN up first;
- ``list_policies`` and ``get_account_authorization_details``, which enumerate them, build them all
  first, so a listing answers as AWS does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy

from localcloud import patching
from localcloud.iam import documents, managed_policies

ATTACHING = {  # action -> its parameters: policy_arn, then the role, user or group
    "attach_role_policy": ["self", "policy_arn", "role_name"],
    "detach_role_policy": ["self", "policy_arn", "role_name"],
    "attach_user_policy": ["self", "policy_arn", "user_name"],
    "detach_user_policy": ["self", "policy_arn", "user_name"],
    "attach_group_policy": ["self", "policy_arn", "group_name"],
    "detach_group_policy": ["self", "policy_arn", "group_name"],
}
LISTING = {
    "list_policies": ["self", "marker", "max_items", "only_attached", "path_prefix", "scope"],
    "get_account_authorization_details": ["self", "policy_filter"],
}


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


class AccountPolicies(dict[str, ManagedPolicy]):
    """An account's managed policies by ARN: its own, and AWS's as they are first looked up."""

    def __init__(self, backend: IAMBackend) -> None:
        super().__init__()
        self.backend = backend
        self.complete = False

    def __missing__(self, arn: str) -> ManagedPolicy:
        found = self.aws_policy(arn)
        if found is None:
            raise KeyError(arn)
        return found

    def __contains__(self, arn: object) -> bool:
        return super().__contains__(arn) or (isinstance(arn, str) and self.aws_policy(arn) is not None)

    def get(self, arn: str, default: Any = None) -> Any:
        """The policy with this ARN (an AWS managed one built now if needed), else default."""
        return self[arn] if arn in self else default

    def aws_policy(self, arn: str) -> ManagedPolicy | None:
        """The AWS managed policy with this ARN, built from moto's catalogue and kept; None if there is none."""
        name = managed_policies.policy_name(arn)
        data = managed_policies.entry(aws_managed_policies_data, name) if name else None
        if name is None or data is None:
            return None
        return self._keep(
            AWSManagedPolicy.from_data(name, self.backend.account_id, self.backend.region_name, data), arn
        )

    def build_all(self) -> None:
        """Build every AWS managed policy not built yet (for a listing)."""
        if self.complete:
            return
        for name in managed_policies.names(aws_managed_policies_data):
            data = managed_policies.entry(aws_managed_policies_data, name) or {}
            policy = AWSManagedPolicy.from_data(name, self.backend.account_id, self.backend.region_name, data)
            if not super().__contains__(policy.arn):
                self._keep(policy, policy.arn)
        self.complete = True

    def _keep(self, policy: ManagedPolicy, arn: str) -> ManagedPolicy | None:
        """Keep a policy built for arn (None when its ARN is another partition's)."""
        if policy.arn != arn:
            return None
        self[arn] = policy
        self.backend.aws_managed_policies.append(policy)
        return policy


def _none(original: Callable[..., Any]) -> Callable[..., list[ManagedPolicy]]:
    """_init_aws_policies: none built when the account's IAM is made."""

    def init_aws_policies(self: IAMBackend) -> list[ManagedPolicy]:
        return []

    return init_aws_policies


def _lazy(original: Callable[..., Any]) -> Callable[..., AccountPolicies]:
    """_init_managed_policies: a mapping that builds AWS managed policies when first looked up."""

    def init_managed_policies(self: IAMBackend) -> AccountPolicies:
        return AccountPolicies(self)

    return init_managed_policies


def _looked_up_first(original: Callable[..., Any]) -> Callable[..., Any]:
    """An attach or detach action that looks its policy ARN up before moto searches the values."""

    def attaching(self: IAMBackend, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        self.managed_policies.get(policy_arn)
        return original(self, policy_arn, *args, **kwargs)

    return attaching


def _all_built_first(original: Callable[..., Any]) -> Callable[..., Any]:
    """A listing that builds every AWS managed policy before moto enumerates them."""

    def listing(self: IAMBackend, *args: Any, **kwargs: Any) -> Any:
        if isinstance(self.managed_policies, AccountPolicies):
            self.managed_policies.build_all()
        return original(self, *args, **kwargs)

    return listing


def install() -> None:
    """Check every policy document IAM is given, and build AWS managed policies when first named (idempotent)."""
    for name, (params, kind) in CHECKED.items():
        patching.patch(IAMBackend, name, params, _checking(params, kind), prefix=True)
    patching.patch(IAMBackend, "_init_aws_policies", ["self"], _none)
    patching.patch(IAMBackend, "_init_managed_policies", ["self"], _lazy)
    for name, parameters in ATTACHING.items():
        patching.patch(IAMBackend, name, parameters, _looked_up_first)
    for name, parameters in LISTING.items():
        patching.patch(IAMBackend, name, parameters, _all_built_first)
