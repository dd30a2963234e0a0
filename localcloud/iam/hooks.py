"""Where moto gets the account's AWS managed policies: one at a time, when first named.

Hooked in moto 5.2.5 (localcloud.patching):

- `IAMBackend._init_aws_policies` builds none when an account's IAM is made (moto built all ~1,600,
  seconds of work on the first signed request of a fresh local cloud);
- `IAMBackend._init_managed_policies` gives the backend an `AccountPolicies` mapping, which builds an
  AWS managed policy from moto's catalogue (localcloud.iam.managed_policies) when its ARN is first
  looked up (GetPolicy, GetPolicyVersion, ...);
- the attach and detach actions, which search the mapping's values, look the ARN up first;
- `IAMBackend.list_policies` and `get_account_authorization_details`, which enumerate them, build
  them all first, so a listing answers as AWS does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy

from localcloud import patching
from localcloud.iam import managed_policies

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
    """Build AWS managed policies when first named instead of all when an account's IAM is made."""
    patching.patch(IAMBackend, "_init_aws_policies", ["self"], _none)
    patching.patch(IAMBackend, "_init_managed_policies", ["self"], _lazy)
    for name, parameters in ATTACHING.items():
        patching.patch(IAMBackend, name, parameters, _looked_up_first)
    for name, parameters in LISTING.items():
        patching.patch(IAMBackend, name, parameters, _all_built_first)
