"""The process's workshop state: its settings (read once), who is calling, and the one place that builds
boto3 sessions and clients, for the local cloud or for AWS."""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from helpers import config, regions, trail
from helpers.errors import WorkshopError, explain, friendly

RETRIES = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=70)
POOL = 10  # HTTP connections per client: botocore's default max_pool_connections
DUMMY_KEY = "testing"  # the local cloud accepts any credentials
_current: config.Settings | None = None  # this process's settings, read from the environment once
_prepared: dict[str, Any] | None = None
# (region, endpoint, access key) -> STS's answer
_identities: dict[tuple[str, str | None, str], dict[str, str]] = {}


def settings() -> config.Settings:
    """The workshop settings of this process, read from the environment once (STS names the caller)."""
    global _current
    if _current is None:
        _current = config.Settings.from_env(identity=identity_arn)
    return _current


def reload() -> config.Settings:
    """Re-read the settings (after changing WORKSHOP_* variables in a running kernel)."""
    forget(clients=False)
    return settings()


def forget(clients: bool = True) -> None:
    """Forget the settings, identity and preparation of this process, as a new kernel would after the
    environment changed; with clients, also the boto3 sessions and clients (new credentials)."""
    global _current, _prepared
    _current = None
    _identities.clear()
    _prepared = None
    if clients:
        _clients.cache_clear()
        _session.cache_clear()


def prepare(show: bool = False) -> dict[str, Any]:
    """Make this process ready for the chosen cloud (once); return mode, region, account and identity.

    Local mode starts the local cloud if needed and points AWS_ENDPOINT_URL (and dummy
    credentials when none are set) at it, so a plain boto3.client(...) in a cell reaches it too.
    AWS mode checks credentials and region with STS and explains the usual failures.
    """
    global _current, _prepared
    _install_notebook_errors()  # first: a refused setting (a shared prefix) is shown as its message and fix
    s = settings()
    try:  # before anything is created: a region without serverless inference or the XGBoost image is refused
        config.require_workshop_region(s.region)
    except config.SettingsError:
        _current = None  # the fix is an %env in the notebook: running the cell again re-reads the settings
        raise
    if _prepared is None or _prepared["mode"] != s.mode:
        if s.is_local:
            from localcloud import client as process

            try:
                process.up(s.local_port, quiet=not show)
            except process.LocalCloudError as exc:
                raise WorkshopError(str(exc)) from None
            os.environ["AWS_ENDPOINT_URL"] = s.local_url
            if not os.environ.get("AWS_ACCESS_KEY_ID"):
                os.environ["AWS_ACCESS_KEY_ID"] = DUMMY_KEY
                os.environ["AWS_SECRET_ACCESS_KEY"] = DUMMY_KEY
            os.environ.pop("AWS_PROFILE", None)
        os.environ["AWS_DEFAULT_REGION"] = s.region
        _clients.cache_clear()
        _session.cache_clear()  # credentials may have just been set
        if boto3.DEFAULT_SESSION is None:  # the session a plain boto3.client(...) in a cell uses
            boto3.setup_default_session()
        trail.attach(boto3.DEFAULT_SESSION._session)
        ident = caller_identity(s)
        _prepared = {
            "mode": s.mode,
            "region": s.region,
            "prefix": s.prefix,
            "account": ident["Account"],
            "identity": ident["Arn"],
            "endpoint": s.local_url if s.is_local else "AWS",
        }
    trail.show_in_notebook()  # every cell prints the AWS operations it made
    if show:
        for key, value in _prepared.items():
            print(f"{key:>9}: {value}")
    return _prepared


def caller_identity(s: config.Settings | None = None) -> dict[str, str]:
    """Who is calling (STS GetCallerIdentity: Account, Arn, UserId) with the current credentials.

    Asked once per process and credentials: settings need it for an aws-mode prefix and the creator
    tag, prepare() to check the credentials, inventory to tell your resources from others'. While
    settings() is still building s (deriving the prefix), the client is built without settings().
    """
    s = s or settings()
    building = _current is not s
    boto = _session(s.region) if building else session()
    endpoint = (os.environ.get("AWS_ENDPOINT_URL") or s.local_url) if s.is_local else None
    try:
        credentials = boto.get_credentials()
        key = (s.region, endpoint, credentials.access_key if credentials is not None else "")
        if key not in _identities:
            sts = (
                boto.client("sts", region_name=s.region, endpoint_url=endpoint, config=RETRIES)
                if building
                else client("sts")
            )
            answer = sts.get_caller_identity()
            _identities[key] = {k: answer[k] for k in ("Account", "Arn", "UserId")}
        return _identities[key]
    except WorkshopError:
        raise
    except Exception as exc:
        raise friendly(exc, "checking who you are with STS") from exc


def identity_arn(s: config.Settings | None = None) -> str:
    """The caller's identity ARN (for an assumed role: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)."""
    return caller_identity(s)["Arn"]


def session() -> boto3.Session:
    """The boto3 session for the workshop's region (one per process: creating one costs ~0.2 s)."""
    return _session(settings().region)


@cache
def _session(region: str) -> boto3.Session:
    made = boto3.Session(region_name=region)
    trail.attach(made._session)  # its clients report their calls to the trail
    return made


def client(service: str, pool: int = POOL) -> Any:
    """A cached boto3 client for a service, with standard retries, in the chosen cloud.

    pool: keep at least this many HTTP connections, one per thread sharing the client (more
    threads wait for a connection). One client is cached per service and pool size.
    """
    s = settings()
    # AWS_ENDPOINT_URL wins so that tests can point everything at their own local cloud.
    endpoint = (os.environ.get("AWS_ENDPOINT_URL") or s.local_url) if s.mode == "local" else None
    return _clients(service, s.region, endpoint, max(pool, POOL))


def use_client(given: Any, service: str, pool: int = POOL) -> Any:
    """The client to use: the one a caller passed (given), else the workshop's for the service."""
    return given if given is not None else client(service, pool)


@cache
def _clients(service: str, region: str, endpoint: str | None, pool: int) -> Any:
    config = RETRIES.merge(Config(max_pool_connections=pool))
    return session().client(service, region_name=region, endpoint_url=endpoint, config=config)


def sdk_session() -> boto3.Session:
    """The session to hand a library that builds its own clients (the SageMaker Python SDK's session=).

    It shares session()'s credentials; in local mode every client built from it (sagemaker,
    sagemaker-runtime, ...) reaches the local cloud, as client() does.
    """
    s = settings()
    return _sdk_session(
        session(), (os.environ.get("AWS_ENDPOINT_URL") or s.local_url) if s.is_local else None
    )


@cache
def _sdk_session(base: boto3.Session, endpoint: str | None) -> boto3.Session:
    if endpoint is None:
        return base

    class LocalCloudSession(boto3.Session):  # type: ignore[misc]  # boto3 ships no types: Session is Any
        def client(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["endpoint_url"] = kwargs.get("endpoint_url") or endpoint
            return super().client(*args, **kwargs)

    # Its own botocore session: a second boto3.Session over base's would register boto3's S3 methods on it
    # twice, and every S3 client made after it would fail ("Cannot inject class attribute upload_file").
    made = LocalCloudSession(region_name=base.region_name)
    trail.attach(made._session)
    return made


def account_id() -> str:
    """The account the kit works in (the local cloud's is 123456789012)."""
    account: str = prepare()["account"]
    return account


def partition() -> str:
    """The partition of the workshop's region ('aws', 'aws-cn', 'aws-us-gov', ...: helpers.regions.partition)."""
    return regions.partition(settings().region)


def arn(service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
    """An ARN in the partition of the workshop's region, e.g. arn('dynamodb', 'table/x').

    region: the ARN's region field (default the workshop's; '' for IAM, S3 buckets, CloudWatch dashboards,
    whose partition still follows the workshop's region). account: default this account; '' for S3 buckets,
    'aws' for AWS managed policies (arn('iam', 'policy/...', region='', account='aws')).
    """
    where = settings().region
    return regions.arn(
        where if region is None else region or where,
        service,
        resource,
        account_id() if account is None else account,
        regional=region != "",
    )


def console_url(path: str) -> str | None:
    """The AWS console link for a page in the workshop's region, on its partition's console host; aws mode only."""
    if settings().is_local:
        return None
    return regions.console_url(settings().region, path)


def _install_notebook_errors() -> None:
    """In Jupyter, show a WorkshopError as its message, and an AWS error attendees commonly hit with what to do."""
    try:
        ip = get_ipython()  # type: ignore[name-defined]  # noqa: F821  (defined inside IPython only)
    except NameError:
        return
    ip.set_custom_exc((WorkshopError, config.SettingsError, ClientError, BotoCoreError), show_error)


def show_error(
    shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: int | None = None
) -> None:
    """IPython's handler: the error in one line plus the fix when the kit knows one, else the full traceback."""
    own = isinstance(value, (WorkshopError, config.SettingsError))  # the kit's messages say the fix already
    advice = None if own else explain(value)
    if own or advice:
        # The error in one red line (IPython's exception_only adds "An exception has occurred, use %tb…").
        shell._showtraceback(etype, value, [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"])
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    if advice:
        print(advice, file=sys.stderr)
