"""Cleanup: delete what the kit created for a prefix, in dependency order, and prove nothing is left.

An attendee's cleanup deletes the kit's resources of their prefix that they created (the creator tag
names their identity) or that carry no creator tag (older kits); a resource of the same prefix created
by another identity is left alone and reported. Only the instructor's sweep (all_prefixes) deletes
everyone's, and says whose it deletes.

This module scopes (prefix, creator, age, sweep), orders (DELETE_ORDER), waits and reports; how each kind
is found, checked and deleted is in helpers.resources, the listing in helpers.inventory.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from helpers import inventory, resources, session
from helpers.errors import friendly, is_not_found
from helpers.resources import Resource
from helpers.waiters import wait_for_state

# The order cleanup deletes in: whatever uses a resource goes before it; a stack first, with what it made.
DELETE_ORDER: tuple[type[resources.Kind], ...] = (
    resources.Stack,
    resources.RestApi,
    resources.Alarm,
    resources.Dashboard,
    resources.MetricFilter,
    resources.LogGroup,
    resources.EventSourceMapping,
    resources.FunctionUrl,
    resources.Function,
    resources.Subscription,
    resources.Topic,
    resources.Queue,
    resources.Table,
    resources.Endpoint,
    resources.EndpointConfig,
    resources.Model,
    resources.ObjectVersion,
    resources.Bucket,
    resources.AttachedPolicy,
    resources.InlinePolicy,
    resources.Role,
)
assert set(DELETE_ORDER) == {type(k) for k in resources.KINDS}, "every kind has its place in DELETE_ORDER"
_RANK = {(k.service, k.kind): i for i, k in enumerate(DELETE_ORDER)}


def _deletion_order(r: Resource) -> tuple[int, str, str, str]:
    """Sort key: the kind's place in DELETE_ORDER, then prefix, parent and name."""
    return _RANK[(r.service, r.kind)], r.prefix, r.parent, r.name


def _state(r: Resource) -> str:
    """'present' or 'gone', for wait_for_state."""
    return "present" if resources.exists(r) else "gone"


def delete_one(r: Resource, *, timeout_s: float | None = None, sweep: bool = False) -> bool:
    """Delete one resource of the kit and wait until it is gone; False when it was gone already.

    Another identity's resource is deleted only in the instructor's sweep (sweep=True).
    """
    if not r.owned:
        raise ValueError(f"refusing to delete {r.kind} {r.name}: it is not the kit's")
    if r.foreign and not sweep:
        raise ValueError(f"refusing to delete {r.kind} {r.name}: {resources.not_yours(r.creator)}")
    doing = f"deleting {r.kind} {r.name}" + (f" in {r.parent}" if r.parent else "")
    try:
        # some deletes succeed on missing resources (DeleteAlarms, DeleteTopic): look first, to report truthfully
        if not resources.exists(r):
            return False
        resources.delete(r)
    except ClientError as exc:
        if is_not_found(exc):
            return False
        raise friendly(exc, doing) from exc
    try:
        wait_for_state(
            lambda: _state(r),
            what=f"{r.kind} {r.name} to be deleted",
            done={"gone"},
            timeout_s=timeout_s or resources.kind_of(r).wait_s,
            interval_s=0.05 if session.settings().is_local else 5,
            hint=f"Check in the console whether {r.service} still shows it, then run the cleanup again.",
        )
    except ClientError as exc:
        raise friendly(exc, f"checking that {r.kind} {r.name} is gone") from exc
    return True


@dataclass
class Report:
    """What a cleanup found, deleted, left alone, and what is left of the kit afterwards."""

    scope: str
    delete: bool
    sweep: bool = False  # every prefix and every creator (the instructor's --all-prefixes)
    found: list[Resource] = field(default_factory=list)  # the kit's, in scope (age), in deletion order
    left_alone: list[Resource] = field(default_factory=list)  # lookalikes and younger than older_than
    deleted: list[Resource] = field(default_factory=list)
    already_gone: list[Resource] = field(default_factory=list)
    left: list[Resource] = field(default_factory=list)  # the kit's, in scope, still there afterwards

    @property
    def ok(self) -> bool:
        """True when a deleting run left nothing of the kit in scope (always True for a listing)."""
        return not self.delete or not self.left

    @property
    def not_yours(self) -> list[Resource]:
        """The kit's resources of the prefix that another identity created: left alone."""
        return [r for r in self.left_alone if r.foreign]

    def whose(self) -> str:
        """The creators of what the sweep deletes (or would delete), grouped, with their prefixes."""
        groups: dict[str, list[Resource]] = {}
        for r in self.found:
            groups.setdefault(r.creator or "no creator tag (an older kit's)", []).append(r)
        return "; ".join(
            f"{who}: {len(rs)} (prefix {', '.join(sorted({r.prefix for r in rs}))})"
            for who, rs in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
        )

    def __str__(self) -> str:
        cost = inventory.hourly_total(self.found)
        whose = f" By creator: {self.whose()}." if self.sweep and self.found else ""
        theirs = self.not_yours
        others = (
            ""
            if not theirs
            else (
                f" Not yours, left alone: {len(theirs)} created by "
                + ", ".join(sorted({r.creator for r in theirs}))
                + " (the instructor's --all-prefixes sweep removes them)."
            )
        )
        if not self.delete:
            return (
                f"{self.scope}: {len(self.found)} resource(s) of the kit (~${cost:.4f}/hour), nothing deleted."
                f"{whose}{others} "
                "To delete them: `python -m helpers cleanup --yes` (or DELETE = True in the notebook)."
            )
        text = (
            f"{self.scope}: deleted {len(self.deleted)}, already gone {len(self.already_gone)}, "
            f"left alone {len(self.left_alone)}, left of the kit {len(self.left)}.{whose}{others}"
        )
        return text + ("" if self.ok else " Left: " + ", ".join(f"{r.kind} {r.name}" for r in self.left))


def _in_scope(r: Resource, cutoff: _dt.datetime | None, sweep: bool = False) -> bool:
    """The kit's, yours unless sweeping (another identity's creator tag: not yours), and (in a sweep with an
    age) created before the cutoff according to its tags."""
    if not r.owned or (r.foreign and not sweep):
        return False
    return cutoff is None or (r.created_at is not None and r.created_at < cutoff)


def cleanup(
    prefix: str | None = None,
    *,
    delete: bool | None = None,
    older_than: _dt.timedelta | None = None,
    all_prefixes: bool = False,
    show: bool = False,
) -> Report:
    """List the kit's resources for prefix (or every prefix), delete them when asked, and check none is left.

    delete=None means: delete in local mode, only list in aws mode. For one prefix, only the caller's
    resources (and those without a creator tag) are in scope; all_prefixes sweeps every creator's.
    """
    settings = session.settings()
    delete = settings.is_local if delete is None else delete
    prefix = None if all_prefixes else (prefix or settings.prefix)
    cutoff = _dt.datetime.now(_dt.UTC) - older_than if older_than else None
    scope = ("every prefix" if all_prefixes else f"prefix {prefix}") + (
        f", older than {older_than}" if older_than else ""
    )
    found = sorted(inventory.collect(prefix, settings, all_prefixes=all_prefixes), key=_deletion_order)
    report = Report(scope, delete, sweep=all_prefixes)
    report.found = [r for r in found if _in_scope(r, cutoff, all_prefixes)]
    report.left_alone = [r for r in found if not _in_scope(r, cutoff, all_prefixes)]
    if show:
        inventory.show(found)
    if not delete:
        return report
    for r in report.found:
        (report.deleted if delete_one(r, sweep=all_prefixes) else report.already_gone).append(r)
        if show:
            print(f"deleted {r.kind:<20} {r.name}" + (f"  (in {r.parent})" if r.parent else ""))
    after = inventory.collect(prefix, settings, all_prefixes=all_prefixes)
    report.left = [r for r in after if _in_scope(r, cutoff, all_prefixes)]
    if show:
        print(report)
    return report
