"""Inventory: everything the kit created for a prefix (or for every prefix), shown with an hourly cost estimate.

Which resources are the kit's, and what each costs, is decided kind by kind in helpers.resources; this
module gathers them for the caller's identity and displays them: as a table, narrowed to a notebook's
width, with the total per hour and who created what.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from helpers import session
from helpers.config import Settings, creator_tag_value
from helpers.resources import PRICES_AS_OF, Resource, find

if TYPE_CHECKING:
    import pandas as pd


def collect(
    prefix: str | None = None, settings: Settings | None = None, *, all_prefixes: bool = False
) -> list[Resource]:
    """Everything of the kit for prefix (default: this attendee's), or for every prefix, and the lookalikes;
    kind by kind (a parent's kind before its children's). Another identity's resources are marked foreign."""
    settings = settings or session.settings()
    session.prepare()
    me = creator_tag_value(session.identity_arn(settings))
    return find(None if all_prefixes else (prefix or settings.prefix), settings, me)


def named_under(prefix: str, found: Iterable[Resource]) -> list[Resource]:
    """The kit's resources among found whose name (or parent's) has a part starting with prefix (8.5's second
    prefix: its stack's resources carry the attendee's tag, and the second prefix only in their names)."""

    def under(name: str) -> bool:
        return any(part.startswith(f"{prefix}-") for part in re.split(r"[/:]", name))

    return [r for r in found if r.owned and (under(r.name) or under(r.parent))]


def alarm_prices(specs: Iterable[dict[str, Any]]) -> str:
    """What the alarms of specs (PutMetricAlarm requests) cost per month in AWS, by the inventory's prices.

    A standard-resolution alarm is priced per metric whatever its statistic (p90 included); a period under
    60 s makes it high-resolution (helpers.resources.cloudwatch.Alarm, the one place prices live).
    """
    from helpers.resources._kind import HOURS_PER_MONTH
    from helpers.resources.cloudwatch import Alarm

    lines = [
        f"{spec['AlarmName']}: ${Alarm().cost(spec, False) * HOURS_PER_MONTH:.2f} per month" for spec in specs
    ]
    return "\n".join(lines + [f"(list prices of {PRICES_AS_OF}, us-east-1)"])


def hourly_total(resources: Iterable[Resource]) -> float:
    """Estimated cost per hour of the kit's resources (unknown prices count as 0)."""
    return sum(r.est_hourly_usd or 0.0 for r in resources if r.owned)


def table(resources: Iterable[Resource]) -> pd.DataFrame:
    """The resources as a pandas DataFrame, one row each."""
    import pandas as pd

    rows = [
        {
            "service": r.service,
            "kind": r.kind,
            "name": r.name,
            "prefix": r.prefix,
            "kit's": ("not yours" if r.foreign else "yes") if r.owned else "NO",
            "tagged": r.tagged,
            "created": r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else "",
            "USD/hour": None if r.est_hourly_usd is None else round(r.est_hourly_usd, 5),
            "in": r.parent,
            "note": r.note,
        }
        for r in resources
    ]
    return pd.DataFrame(
        rows,
        columns=["service", "kind", "name", "prefix", "kit's", "tagged", "created", "USD/hour", "in", "note"],
    )


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The inventory narrowed to a notebook's width: one 'what' column, the parent beside the name, the prefix
    only when it varies."""
    what = frame["service"] + " " + frame["kind"]
    name = frame["name"].where(
        frame["in"].isna() | (frame["in"] == ""), frame["name"] + " (in " + frame["in"].astype(str) + ")"
    )
    narrow = frame.assign(what=what, name=name)
    columns = (
        ["what", "name"]
        + (["prefix"] if frame["prefix"].nunique() > 1 else [])
        + ["kit's", "created", "USD/hour", "note"]
    )
    narrow = narrow[columns]
    narrow["note"] = narrow["note"].fillna("").astype(str).str.slice(0, 48)
    return narrow


def show(resources: list[Resource]) -> None:
    """Display the inventory as a table with its estimated hourly cost."""
    if not resources:
        print("Nothing of the kit found.")
        return
    frame = table(resources)
    try:
        get_ipython  # type: ignore[name-defined]  # noqa: B018, F821  (defined inside IPython only)
        from IPython.display import display

        display(compact(frame))
    except NameError:
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.max_colwidth", 60, "display.width", 200):
            print(frame.to_string(index=False))
    owned = [r for r in resources if r.owned]
    unknown = sum(1 for r in owned if r.est_hourly_usd is None)
    print(
        f"{len(owned)} resource(s) of the kit, estimated ${hourly_total(owned):.4f}/hour"
        f"{f' plus {unknown} of unknown price' if unknown else ''} (prices of {PRICES_AS_OF}, us-east-1)."
        + (
            f" {len(resources) - len(owned)} lookalike(s) without the kit's tags are left alone."
            if len(owned) < len(resources)
            else ""
        )
    )
    by_creator = creators(resources)
    if len(by_creator) > 1 or any(r.foreign for r in owned):
        print("Created by: " + "; ".join(f"{who}: {n}" for who, n in by_creator.items()) + ".")


def creators(resources: Iterable[Resource]) -> dict[str, int]:
    """How many of the kit's resources each creator made (the creator tag), most first; older kits' as 'untagged'."""
    counts: dict[str, int] = {}
    for r in resources:
        if r.owned:
            who = r.creator or "no creator tag (an older kit's)"
            counts[who] = counts.get(who, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
