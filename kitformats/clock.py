"""The kit's one timestamp format: UTC instants at millisecond precision, as the records and AWS's logs write them."""

from __future__ import annotations

import datetime as dt


def iso_ms(moment: dt.datetime) -> str:
    """A timezone-aware instant as 2026-11-27T12:00:00.123Z (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso_ms() -> str:
    """This instant in the kit's timestamp format."""
    return iso_ms(dt.datetime.now(dt.UTC))
