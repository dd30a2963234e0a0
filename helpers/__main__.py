"""python -m helpers: the kit's command line (run, status, traffic, cleanup, template, local, policy, class-setup,
preflight, kernel, lab)."""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import importlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.config import SettingsError
from helpers.errors import WorkshopError, friendly

if TYPE_CHECKING:
    from helpers.resources import Resource

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> _dt.timedelta:
    """'8h', '30m', '2d', '90s' as a timedelta."""
    match = DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 8h, 30m, 2d or 90s")
    return _dt.timedelta(**{UNITS[match.group(2)]: float(match.group(1))})


def parse_value(text: str) -> object:
    """A parameter's value: a Python literal (True, 3, None, 'x') when it is one, else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _run(args: argparse.Namespace) -> int:
    from helpers import runner

    notebooks = [Path(n).resolve() for n in args.notebooks] or runner.workshop_notebooks(args.with_cleanup)
    params = {name: parse_value(value) for name, value in (p.split("=", 1) for p in args.param)}
    results = runner.run_all(notebooks, Path(args.out).resolve() if args.out else None, params)
    return 0 if all(r.ok for r in results) else 1


def _local(args: argparse.Namespace) -> int:
    from localcloud import client

    return client.cli([args.action] + (["--port", str(args.port)] if args.port else []))


def _cleanup(args: argparse.Namespace) -> int:
    from helpers import cleanup, inventory

    delete = True if args.yes else None  # None: delete in local mode, only list in aws mode
    report = cleanup.cleanup(
        args.prefix, delete=delete, older_than=args.older_than, all_prefixes=args.all_prefixes
    )
    inventory.show(report.found + report.left_alone)
    print(report)
    if report.delete and report.left:
        inventory.show(report.left)
    return 0 if report.ok else 1


def alarm_states(resources: Iterable[Resource]) -> list[tuple[str, str, str]]:
    """(alarm, state, reason) for the kit's alarms among resources."""
    from helpers import session

    names = [r.name for r in resources if r.kind == "alarm" and r.owned]
    rows = []
    cw = session.client("cloudwatch")
    for start in range(0, len(names), 100):
        answer = cw.describe_alarms(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for alarm in answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", []):
            rows.append((alarm["AlarmName"], alarm["StateValue"], alarm.get("StateReason", "")[:80]))
    return rows


def recent_errors(prefix: str | None, minutes: int = 60) -> list[tuple[str, float, float]]:
    """(metric, errors, requests) summed over the last minutes, for the prefix's function, endpoint and kit metrics."""
    from helpers import session
    from helpers.config import Names

    s = session.settings()
    n = s.names if prefix in (None, s.prefix) else Names(prefix)
    queries = {
        "lambda_errors": ("AWS/Lambda", "Errors", [("FunctionName", n.function)]),
        "lambda_calls": ("AWS/Lambda", "Invocations", [("FunctionName", n.function)]),
        "endpoint_5xx": (
            "AWS/SageMaker",
            "Invocation5XXErrors",
            [("EndpointName", n.endpoint), ("VariantName", "AllTraffic")],
        ),
        "endpoint_calls": (
            "AWS/SageMaker",
            "Invocations",
            [("EndpointName", n.endpoint), ("VariantName", "AllTraffic")],
        ),
        "kit_errors": (n.metric_namespace, "InferenceErrors", []),
        "kit_calls": (n.metric_namespace, "InferenceCount", []),
    }
    end = _dt.datetime.now(_dt.UTC)
    answer = session.client("cloudwatch").get_metric_data(
        StartTime=end - _dt.timedelta(minutes=minutes),
        EndTime=end,
        MetricDataQueries=[
            {
                "Id": key,
                "MetricStat": {
                    "Metric": {
                        "Namespace": ns,
                        "MetricName": metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
            for key, (ns, metric, dims) in queries.items()
        ],
    )
    sums = {r["Id"]: sum(r.get("Values", [])) for r in answer.get("MetricDataResults", [])}
    return [
        (
            f"Lambda {n.function} Errors / Invocations",
            sums.get("lambda_errors", 0),
            sums.get("lambda_calls", 0),
        ),
        (
            f"Endpoint {n.endpoint} 5XX / Invocations",
            sums.get("endpoint_5xx", 0),
            sums.get("endpoint_calls", 0),
        ),
        (
            f"{n.metric_namespace} InferenceErrors / InferenceCount",
            sums.get("kit_errors", 0),
            sums.get("kit_calls", 0),
        ),
    ]


def _status(args: argparse.Namespace) -> int:
    from helpers import inventory, session

    info = session.prepare()
    prefix = None if args.all_prefixes else (args.prefix or session.settings().prefix)
    print(
        f"mode {info['mode']} · region {info['region']} · account {info['account']} · "
        f"{'every prefix' if prefix is None else 'prefix ' + prefix}"
    )
    resources = inventory.collect(prefix, all_prefixes=args.all_prefixes)
    inventory.show(resources)
    states = alarm_states(resources)
    print("\nAlarms:" if states else "\nAlarms: none")
    for name, state, reason in states:
        print(f"  {name:<40} {state:<18} {reason}")
    if prefix is not None:
        print(f"\nLast {args.minutes} minutes (sums; CloudWatch publishes the latest minute or two late):")
        for label, errors, calls in recent_errors(prefix, args.minutes):
            print(f"  {label:<60} {errors:>8g} / {calls:g}")
    return 0


def _traffic(args: argparse.Namespace) -> int:
    try:
        traffic = importlib.import_module("helpers.traffic")
    except ImportError as exc:
        if exc.name not in ("helpers.traffic", None):
            raise
        print(
            "`traffic` needs chapter 8.2's traffic generator (helpers/traffic.py), which this kit does not have yet.",
            file=sys.stderr,
        )
        return 2
    print(traffic.run(n=args.n, concurrency=args.concurrency, bad_share=args.bad_share))
    return 0


def _policy(args: argparse.Namespace) -> int:
    import json
    import tempfile

    from helpers import policy

    if args.record:
        with tempfile.TemporaryDirectory(prefix="workshop-policy-") as folder:
            found, roles = policy.record(args.port or _free_port(), Path(folder))
        policy.write(found, roles)
        print(f"recorded {len(found)} operations into {policy.RECORDING}", file=sys.stderr)
    from helpers import session

    s = session.settings()
    account = args.account or _account()
    region = args.region or s.region
    if args.boundary:
        document = policy.boundary_policy(account, region)
    else:
        document = policy.attendee_policy(account, region, policy.VARIABLES[args.identity])
    print(json.dumps(document, indent=2))
    size = policy.compact_size(document)
    what = "the roles' permissions boundary" if args.boundary else "one policy for every attendee"
    print(
        f"{size} of IAM's {policy.MANAGED_POLICY_MAX_CHARS} characters for a managed policy "
        f"({what}; python -m helpers class-setup creates it)",
        file=sys.stderr,
    )
    return 0


def _class_setup(args: argparse.Namespace) -> int:
    import json

    from helpers import classroom, policy, preflight

    attendees = [a.strip() for a in (args.attendees or "").split(",") if a.strip()]
    found = classroom.plan(
        args.account or _account(),
        args.region or _region(),
        attendees,
        args.identity,
        args.studio_domain or "",
        args.execution_role or "",
    )
    if not args.apply:
        for name, document in found.policies.items():
            print(f"# {name}.json ({policy.compact_size(document)} characters)")
            print(json.dumps(document, indent=2))
        print("# what --apply does (and the Studio steps it leaves to you):")
        print("\n".join(found.commands()))
    else:
        print("\n".join(classroom.apply(found)))
        if found.identity == "source-identity":
            print("Studio, still to do:")
            print("\n".join(line for line in found.commands() if "sagemaker" in line or line.startswith("#")))
    checks = preflight.run(max(len(attendees), 1))
    print(preflight.report(checks))
    return 0 if all(c.ok for c in checks) else 1


def _region() -> str:
    from helpers import session

    return session.settings().region


def _account() -> str:
    """The account of the current identity (the local cloud's in local mode)."""
    from helpers import session

    account: str = session.prepare()["account"]
    return account


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _preflight(args: argparse.Namespace) -> int:
    from helpers import preflight

    checks = preflight.run(args.attendees)
    print(preflight.report(checks))
    return 0 if all(c.ok for c in checks) else 1


def _kernel(args: argparse.Namespace) -> int:
    from helpers import lab

    where = lab.register_kernel(user=args.user)
    print(f"kernel {lab.KERNEL_NAME!r} ({lab.KERNEL_DISPLAY_NAME}) registered in {where}")
    if not args.user:
        print(f"lab settings written to {lab.write_settings()}")
    return 0


def _lab(args: argparse.Namespace) -> int:
    import subprocess

    from helpers import lab

    lab.register_kernel()
    lab.write_settings()
    try:
        return subprocess.call(lab.command(port=args.port, open_browser=not args.no_browser))
    except KeyboardInterrupt:
        return 0


def _template(args: argparse.Namespace) -> int:
    from helpers import template

    text = template.render(template.build(api=not args.no_api))
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out} ({len(text.splitlines())} lines); lint it: cfn-lint {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="execute notebooks headless; executed copies + HTML under build/notebooks"
    )
    run.add_argument("notebooks", nargs="*", help="default: every workshop notebook in order")
    run.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="set a 'parameters' cell value"
    )
    run.add_argument("--out", help="output folder (default build/notebooks)")
    run.add_argument("--with-cleanup", action="store_true", help="also run 99_cleanup at the end")
    run.set_defaults(func=_run)

    status = sub.add_parser("status", help="the kit's resources, alarm states and recent error counts")
    status.add_argument("--prefix", help="default: WORKSHOP_PREFIX")
    status.add_argument("--all-prefixes", action="store_true", help="every attendee's resources")
    status.add_argument("--minutes", type=int, default=60, help="window for error counts (default 60)")
    status.set_defaults(func=_status)

    traffic = sub.add_parser("traffic", help="send inference requests to the API's invoke URL (chapter 8.3)")
    traffic.add_argument("-n", type=int, default=200, help="number of requests (default 200)")
    traffic.add_argument("--concurrency", type=int, default=4)
    traffic.add_argument("--bad-share", type=float, default=0.0, help="share of invalid requests, 0..1")
    traffic.set_defaults(func=_traffic)

    clean = sub.add_parser(
        "cleanup", help="list, then delete, what the kit created (aws mode deletes only with --yes)"
    )
    clean.add_argument("--yes", action="store_true", help="delete (in aws mode; local mode always deletes)")
    clean.add_argument("--prefix", help="default: WORKSHOP_PREFIX")
    clean.add_argument(
        "--all-prefixes", action="store_true", help="every attendee's resources (instructor sweep)"
    )
    clean.add_argument(
        "--older-than", type=parse_duration, metavar="AGE", help="only resources older than AGE, e.g. 8h"
    )
    clean.set_defaults(func=_cleanup)

    pol = sub.add_parser(
        "policy", help="the class policy every attendee's identity holds, or the roles' boundary (JSON)"
    )
    pol.add_argument("--account", help="AWS account id (default: the current identity's)")
    pol.add_argument("--region", help="default: WORKSHOP_REGION")
    pol.add_argument(
        "--identity",
        choices=["user-name", "source-identity"],
        default="user-name",
        help="what names an attendee's prefix: their IAM user's name (default; class-setup names each user "
        "after their prefix) or their SageMaker Studio user profile (aws:SourceIdentity)",
    )
    pol.add_argument("--boundary", action="store_true", help="print the roles' permissions boundary instead")
    pol.add_argument(
        "--record",
        action="store_true",
        help="first re-record the operations: every notebook twice, the update path and cleanup, under both "
        "profiles, on a fresh local cloud (~15 minutes)",
    )
    pol.add_argument("--port", type=int, help="with --record: the local cloud's port (default: a free one)")
    pol.set_defaults(func=_policy)

    setup = sub.add_parser(
        "class-setup",
        help="what the instructor creates once: the class policy, the boundary, the attendees' identities; "
        "then preflight",
    )
    setup.add_argument("--attendees", help="the attendees' prefixes, comma-separated (an IAM user each)")
    setup.add_argument("--identity", choices=["user-name", "source-identity"], default="user-name")
    setup.add_argument("--studio-domain", help="with --identity source-identity: the Studio domain id")
    setup.add_argument(
        "--execution-role", help="with --identity source-identity: the domain's execution role"
    )
    setup.add_argument("--account", help="AWS account id (default: the current identity's)")
    setup.add_argument("--region", help="default: WORKSHOP_REGION")
    setup.add_argument(
        "--apply", action="store_true", help="create them (default: print what would be created)"
    )
    setup.set_defaults(func=_class_setup)

    pre = sub.add_parser(
        "preflight", help="check identity, region and account quotas for a workshop of N attendees"
    )
    pre.add_argument(
        "--attendees", type=int, required=True, help="how many attendees share this account and region"
    )
    pre.set_defaults(func=_preflight)

    kernel = sub.add_parser(
        "kernel", help="register the kit's Jupyter kernel (and, in the kit's venv, the lab's settings)"
    )
    kernel.add_argument(
        "--user",
        action="store_true",
        help="for a Jupyter outside this environment (SageMaker Studio, JupyterHub): the user's kernels",
    )
    kernel.set_defaults(func=_kernel)

    lab = sub.add_parser(
        "lab", help="JupyterLab on the notebooks folder with the kit's kernel (what `make lab` runs)"
    )
    lab.add_argument("--port", type=int, help="default: 8888, or the next free one")
    lab.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")
    lab.set_defaults(func=_lab)

    tpl = sub.add_parser(
        "template", help="the chapter as one CloudFormation template (YAML), from the notebooks' specs"
    )
    tpl.add_argument("--out", help="write it to this file (default: print it)")
    tpl.add_argument(
        "--no-api",
        action="store_true",
        help="without chapter 7's REST API (yours stays in front of the function)",
    )
    tpl.set_defaults(func=_template)

    local = sub.add_parser("local", help="manage the local cloud")
    local.add_argument("action", choices=["up", "down", "status"])
    local.add_argument("--port", type=int)
    local.set_defaults(func=_local)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; 2 with a message for the usual failures."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except (WorkshopError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        explained = friendly(exc, f"running `{args.command}`")
        if explained is exc:
            raise
        print(f"error: {explained}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
