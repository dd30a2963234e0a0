"""IAM: the kit's roles (tagged), the managed policies attached to them (detached, never deleted: they
may be AWS's or shared) and their inline policies (deleted with the role). IAM costs nothing.
"""

from __future__ import annotations

from helpers import session
from helpers.resources._kind import Kind, Resource, Search, pages, tag_dict


class AttachedPolicy(Kind):
    """A managed policy attached to the kit's role: detached, never deleted (it may be AWS's or shared)."""

    service, kind = "iam", "attached policy"

    def find_in(self, search: Search, role: Resource) -> None:
        """The managed policies attached to a role."""
        iam = session.client("iam")
        for p in pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role.name):
            search.child(role, self, p["PolicyName"], arn=p["PolicyArn"], note="detached, not deleted")

    def exists(self, r: Resource) -> bool:
        attached = session.client("iam").list_attached_role_policies(RoleName=r.parent)
        return any(p["PolicyArn"] == r.arn for p in attached.get("AttachedPolicies", []))

    def delete(self, r: Resource) -> None:
        session.client("iam").detach_role_policy(RoleName=r.parent, PolicyArn=r.arn)


class InlinePolicy(Kind):
    service, kind = "iam", "inline policy"

    def find_in(self, search: Search, role: Resource) -> None:
        """The policies embedded in a role."""
        for policy in pages(session.client("iam"), "list_role_policies", "PolicyNames", RoleName=role.name):
            search.child(role, self, policy)

    def exists(self, r: Resource) -> bool:
        return bool(session.client("iam").get_role_policy(RoleName=r.parent, PolicyName=r.name))

    def delete(self, r: Resource) -> None:
        session.client("iam").delete_role_policy(RoleName=r.parent, PolicyName=r.name)


class Role(Kind):
    service, kind = "iam", "role"
    children = (AttachedPolicy(), InlinePolicy())

    def find(self, search: Search) -> None:
        """The kit's roles and lookalikes."""
        iam = session.client("iam")
        for role, name in search.candidates(pages(iam, "list_roles", "Roles"), lambda r: r["RoleName"]):
            tags = iam.list_role_tags(RoleName=name).get("Tags", [])
            search.tagged(self, name, tag_dict(tags), arn=role["Arn"])

    def exists(self, r: Resource) -> bool:
        return bool(session.client("iam").get_role(RoleName=r.name))

    def delete(self, r: Resource) -> None:
        """Detach and delete policies added since the inventory, take the role out of instance profiles
        (someone else's: they stay), then delete the role."""
        iam = session.client("iam")
        for profile in iam.list_instance_profiles_for_role(RoleName=r.name).get("InstanceProfiles", []):
            iam.remove_role_from_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=r.name
            )
        for p in iam.list_attached_role_policies(RoleName=r.name).get("AttachedPolicies", []):
            iam.detach_role_policy(RoleName=r.name, PolicyArn=p["PolicyArn"])
        for name in iam.list_role_policies(RoleName=r.name).get("PolicyNames", []):
            iam.delete_role_policy(RoleName=r.name, PolicyName=name)
        iam.delete_role(RoleName=r.name)
