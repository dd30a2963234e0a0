"""What every kind of resource shares: the Resource found, the Search that finds them, the Kind each
kind's class is, the kit's tags read from either shape AWS answers with, the date of the list prices,
and the small readers of AWS's answers (every page of a listing, a time in epoch ms).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

from helpers.config import (
    KIT_NAME,
    TAG_CREATED,
    TAG_CREATOR,
    TAG_KIT,
    TAG_PREFIX,
    Names,
    Settings,
)

T = TypeVar("T")

PRICES_AS_OF = "2025-06-01"  # us-east-1 on-demand list prices; check https://aws.amazon.com/pricing/
HOURS_PER_MONTH = 730


@dataclass
class Resource:
    """One resource found in the cloud, and whether it is the kit's to delete."""

    service: str
    kind: str
    name: str
    arn: str = ""
    prefix: str = ""
    created_at: _dt.datetime | None = None
    tagged: bool = False  # carries workshop-kit and workshop-prefix itself
    owned: bool = False  # the kit's: tagged, or derived from a tagged parent / exact kit name
    creator: str = ""  # the identity ARN in its workshop-creator tag ('' when made by an older kit)
    # the kit's, but created by another identity: only the --all-prefixes sweep deletes it
    foreign: bool = False
    est_hourly_usd: float | None = 0.0
    parent: str = ""  # the bucket, role, log group, topic or function it belongs to
    note: str = ""
    ref: dict[str, str] = field(default_factory=dict, compare=False, repr=False)  # ids the delete call needs


def tag_dict(tags: dict[str, str] | list[dict[str, str]] | None) -> dict[str, str]:
    """Tags as a dict, from either shape AWS answers with."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags}


def owner(tags: dict[str, str]) -> str | None:
    """The prefix the kit's tags name, or None when the resource does not carry the kit's tags."""
    return tags.get(TAG_PREFIX) if tags.get(TAG_KIT) == KIT_NAME else None


def not_yours(creator: str) -> str:
    """Why a resource of another identity is left alone."""
    return f"created by {creator} — not yours; the instructor's --all-prefixes sweep removes it"


def parse_created(tags: dict[str, str]) -> _dt.datetime | None:
    """The creation time recorded in the kit's tag (aware UTC), or None."""
    text = tags.get(TAG_CREATED, "")
    try:
        return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)
    except ValueError:
        return None


def epoch_ms(value: float | None) -> _dt.datetime | None:
    """A time AWS gives in milliseconds since the epoch, as aware UTC."""
    return _dt.datetime.fromtimestamp(value / 1000, _dt.UTC) if value else None


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """The items under key of every page (dicts for most operations; names or URLs for list_tables, list_queues...)."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


class Search:
    """One search of the cloud for the kit's resources of a prefix (of every prefix when prefix is None).

    me is the caller's identity ARN: a resource whose creator tag names another identity is foreign.
    """

    def __init__(self, prefix: str | None, settings: Settings, me: str = "") -> None:
        self.prefix = prefix
        self.settings = settings
        self.me = me
        self.found: list[Resource] = []

    def is_foreign(self, creator: str) -> bool:
        """True when creator names an identity other than the caller's (no creator: an older kit's, by prefix)."""
        return bool(creator) and creator != self.me

    def whose(self, creator: str, note: str = "") -> str:
        """The note, with the reason a foreign resource is left alone when listing one prefix."""
        if self.prefix is None or not self.is_foreign(creator):
            return note
        return "; ".join(filter(None, [not_yours(creator), note]))

    def names(self, prefix: str) -> Names:
        """The kit's names for a prefix (this attendee's settings carry overrides and the model version)."""
        return self.settings.names if prefix == self.settings.prefix else Names(prefix)

    def classify(self, name: str, tags: dict[str, str]) -> tuple[bool, str] | None:
        """(owned, prefix) for a resource named name with tags, or None when it is not of interest."""
        who = owner(tags)
        if who is not None:
            return (True, who) if self.prefix in (None, who) else None
        if self.prefix is not None and name.rsplit("/", 1)[-1].startswith(f"{self.prefix}-"):
            return (False, self.prefix)
        return None

    def name_filter(self, name: str) -> bool:
        """Cheap pre-filter before asking for tags: in prefix mode only names that start with the prefix."""
        if self.prefix is None:
            return True
        n = self.names(self.prefix)
        return name.startswith(f"{self.prefix}-") or name in (n.endpoint, n.function)

    def candidates(self, items: Iterable[T], name_of: Callable[[T], str]) -> Iterator[tuple[T, str]]:
        """(item, name) of the listed items whose names pass the name filter."""
        for item in items:
            name = name_of(item)
            if self.name_filter(name):
                yield item, name

    def add(self, resource: Resource) -> Resource:
        """Record a resource found."""
        self.found.append(resource)
        return resource

    def owned(self, kind: type[Kind]) -> list[Resource]:
        """The kit's resources of one kind found so far."""
        return [r for r in self.found if r.owned and (r.service, r.kind) == (kind.service, kind.kind)]

    def tagged(
        self,
        kind: Kind,
        name: str,
        tags: dict[str, str],
        *,
        arn: str = "",
        est_hourly_usd: float | None = 0.0,
        note: str = "",
        ref: dict[str, str] | None = None,
    ) -> Resource | None:
        """Add a taggable resource when it is the kit's for this prefix or a lookalike."""
        verdict = self.classify(name, tags)
        if verdict is None:
            return None
        owned, prefix = verdict
        creator = tags.get(TAG_CREATOR, "") if owned else ""
        if not owned:
            note = "; ".join(filter(None, ["without the kit's tags: left alone", note]))
        found = self.add(
            Resource(
                kind.service,
                kind.kind,
                name,
                arn=arn,
                prefix=prefix,
                created_at=parse_created(tags),
                tagged=owned,
                owned=owned,
                creator=creator,
                foreign=self.is_foreign(creator),
                est_hourly_usd=est_hourly_usd,
                note=self.whose(creator, note),
                ref=ref or {},
            )
        )
        if owned:
            for child in kind.children:
                child.find_in(self, found)
        return found

    def child(
        self,
        parent: Resource,
        kind: Kind,
        name: str,
        *,
        arn: str = "",
        est_hourly_usd: float | None = 0.0,
        note: str = "",
        ref: dict[str, str] | None = None,
    ) -> Resource:
        """Add a resource that belongs to parent (deleted before it, never on its own): its prefix, age,
        ownership and creator are the parent's."""
        child = replace(parent, service=kind.service, kind=kind.kind, name=name, arn=arn, tagged=False)
        note = self.whose(parent.creator, note)
        return self.add(
            replace(child, est_hourly_usd=est_hourly_usd, parent=parent.name, note=note, ref=ref or {})
        )


class Kind:
    """One kind of resource the kit creates: how to find it, whether it is still there, how to delete it."""

    service: ClassVar[str]
    kind: ClassVar[str]
    wait_s: ClassVar[float] = 120  # how long its deletion may take to be visible
    children: ClassVar[tuple[Kind, ...]] = ()  # the kinds that belong to one of this kind, found with it

    def find(self, search: Search) -> None:
        """Add this kind's resources to the search (a kind that belongs to a parent is found by the parent's)."""

    def find_in(self, search: Search, parent: Resource) -> None:
        """Add the resources of this kind that belong to parent, one of the kit's."""
        raise NotImplementedError

    def exists(self, r: Resource) -> bool:
        """True while r is there (may raise AWS's 'not found' error instead of answering False)."""
        raise NotImplementedError

    def delete(self, r: Resource) -> None:
        """Ask AWS to delete r."""
        raise NotImplementedError
