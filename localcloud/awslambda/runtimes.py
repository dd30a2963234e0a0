"""Lambda's runtime lifecycle: a deprecated runtime is refused at create, then at update, as AWS does.

AWS deprecates a managed runtime when its language reaches end of life, then blocks creating
functions on it, then blocks updating them (code or configuration), answering
``InvalidParameterValueException``. A kit that still deploys such a runtime fails on AWS on
the workshop day while passing offline, so the local cloud checks the same dates, against
today's date. Dates: AWS Lambda's "Runtimes" page (supported and deprecated runtimes tables).
"""

from __future__ import annotations

import datetime as dt

# runtime: (deprecation, block function create, block function update); UTC dates. For python3.12-3.14
# the block dates follow AWS's usual one and two months after deprecation where not yet announced.
LIFECYCLE: dict[str, tuple[dt.date, dt.date, dt.date]] = {
    "python3.8": (dt.date(2024, 10, 14), dt.date(2025, 2, 28), dt.date(2025, 3, 31)),
    "python3.9": (dt.date(2025, 12, 15), dt.date(2026, 6, 1), dt.date(2026, 7, 1)),
    "python3.10": (dt.date(2026, 6, 30), dt.date(2026, 7, 31), dt.date(2026, 8, 31)),
    "python3.11": (dt.date(2026, 6, 30), dt.date(2026, 7, 31), dt.date(2026, 8, 31)),
    "python3.12": (dt.date(2028, 10, 31), dt.date(2028, 11, 30), dt.date(2029, 1, 10)),
    "python3.13": (dt.date(2029, 6, 30), dt.date(2029, 7, 31), dt.date(2029, 8, 31)),
    "python3.14": (dt.date(2029, 6, 30), dt.date(2029, 7, 31), dt.date(2029, 8, 31)),
}
RECOMMENDED = "python3.14"  # the newest Python runtime, which AWS's refusal recommends


def blocked(runtime: str | None, action: str, today: dt.date | None = None) -> bool:
    """True when AWS refuses action ('create' or 'update') for functions on runtime today."""
    dates = LIFECYCLE.get(runtime or "")
    if dates is None:
        return runtime is not None and runtime.startswith("python") and runtime < "python3.8"
    today = today or dt.datetime.now(dt.UTC).date()
    return today >= (dates[1] if action == "create" else dates[2])


def refusal(runtime: str) -> str:
    """AWS's message for a blocked runtime."""
    return (
        f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
        f"functions. We recommend you use the new runtime ({RECOMMENDED}) while creating or updating functions."
    )
