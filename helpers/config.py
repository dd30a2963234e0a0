"""Workshop settings: mode, attendee prefix, region, resource names and tags, as plain data.

No boto3 here and no process state: building settings is cheap, and this module imports nothing of the
kit's that builds clients. The one thing settings may need from AWS, the caller's identity (an aws-mode
prefix derived from it, the creator tag), comes through `identity`, a function the caller passes in:
helpers.session, which holds this process's settings, passes its STS lookup.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import getpass
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from helpers import regions
from localcloud import client

KIT_NAME = "ml-pipeline-ch8"
TAG_KIT = "workshop-kit"
TAG_PREFIX = "workshop-prefix"
TAG_CREATED = "workshop-created-at"
TAG_CREATOR = "workshop-creator"  # the identity ARN (STS GetCallerIdentity) that created the resource
MODES = ("local", "aws")
DEFAULT_REGION = "us-east-1"
DEFAULT_LOCAL_PORT = client.DEFAULT_PORT
LOCAL_ACCOUNT_ID = "123456789012"
METADATA_INDEX = "endpointName-timestamp-index"  # 8.1's index on the records: endpoint, then time
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
# Names that many people share: hosted notebooks' login names (SageMaker Studio, JupyterHub, Codespaces,
# devcontainers, cloud images), generic session names and the kit's own fallback. In aws mode a prefix
# equal to one of them (slugified) is refused: attendees would share, and clean up, each other's resources.
SHARED_NAMES = frozenset(
    {
        "sagemaker-user",
        "jovyan",
        "ec2-user",
        "ubuntu",
        "centos",
        "debian",
        "fedora",
        "root",
        "admin",
        "administrator",
        "user",
        "users",
        "sagemaker",
        "studio",
        "default",
        "attendee",
        "attendees",
        "student",
        "students",
        "participant",
        "workshop",
        "guest",
        "test",
        "demo",
        "vscode",
        "codespace",
        "codespaces",
        "node",
        "jupyter",
        "notebook",
        "ssm-user",
        "cloudshell-user",
        "developer",
        "dev",
        "ml",
        "team",
    }
)
# Role session names that software generates: shared by everyone on a machine, or new on each login.
_GENERATED_SESSION = re.compile(r"^(i-[0-9a-f]{8,17}|botocore-session-\d+|aws-go-sdk-\d+|[0-9a-f]{32}|\d+)$")
_HOW_TO_SET = (
    "Fix: choose a prefix that is yours, e.g. your name: in a notebook, run `%env WORKSHOP_PREFIX=jane-doe` "
    "in a cell, then run this cell again (settings are read when the kit starts); in a terminal, "
    "`export WORKSHOP_PREFIX=jane-doe` before starting Jupyter."
)


class SettingsError(ValueError):
    """A workshop setting has a value the kit cannot use."""


def validate_prefix(prefix: str) -> str:
    """Return the prefix if it is usable in every AWS resource name, else raise SettingsError."""
    if not _PREFIX_RE.match(prefix) or prefix.endswith("-") or "--" in prefix:
        raise SettingsError(
            f"WORKSHOP_PREFIX={prefix!r} cannot be used: it must start with a lowercase letter, "
            "contain only lowercase letters, digits and single hyphens, not end with a hyphen, "
            "and be at most 20 characters. Fix: export WORKSHOP_PREFIX=jane-doe (for example)."
        )
    return prefix


# 8.2's bad deploy (a model trained on three features): its own version label, so that a real next version
# (WORKSHOP_MODEL_VERSION=2) never finds its model, configuration or registry entry.
BAD_VERSION = "2-bad"


def second_prefix(prefix: str) -> str:
    """The prefix 8.5's stack names its resources with, beside the notebooks' own (at most 20 characters); they
    carry the attendee's own prefix tag, so the inventory and cleanup of the prefix include them."""
    return f"{prefix[:16].rstrip('-')}-iac"


def slugify(name: str) -> str:
    """A name as a prefix: lowercase, runs of other characters as one hyphen, starting with a letter, ≤ 20."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return re.sub(r"^[^a-z]+", "", slug)[:20].strip("-")


def default_prefix() -> str:
    """Derive a valid prefix from the user name (e.g. 'Jane.Doe' -> 'jane-doe')."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = ""
    return slugify(user) or "attendee"


def refuse_shared(prefix: str) -> str:
    """Return the prefix unless many people share it (aws mode), else raise SettingsError saying what to set."""
    if prefix in SHARED_NAMES:
        raise SettingsError(
            f"WORKSHOP_PREFIX={prefix!r} cannot be used in aws mode: it is a name many people share (a hosted "
            "notebook's login name such as SageMaker Studio's sagemaker-user or JupyterHub's jovyan, or a generic "
            "one), so attendees would use, and clean up, each other's resources. " + _HOW_TO_SET
        )
    return prefix


def require_workshop_region(region: str) -> str:
    """Return the region if the workshop can run there, else SettingsError naming it and what to choose instead.

    00_setup's endpoint is a serverless one (SageMaker Serverless Inference, offered in the `aws` partition's
    regions only) serving SageMaker's built-in XGBoost image (published where the SageMaker SDK's registry
    says). helpers.session.prepare() asks before anything is created, in both modes: the local cloud
    refuses what AWS would.
    """
    missing = []
    if not regions.serverless_offered(region):
        missing.append(
            f"SageMaker Serverless Inference (offered in the AWS commercial Regions only, partition "
            f"'aws'; {region} is in partition {regions.partition(region)!r})"
        )
    images = regions.xgboost_image_regions()
    if images is not None and region not in images:
        missing.append(
            f"SageMaker's built-in XGBoost image sagemaker-xgboost:{regions.XGBOOST_VERSION} (the "
            f"SageMaker SDK's image registry does not list {region})"
        )
    if missing:
        choose = regions.alternatives(region)
        raise SettingsError(
            f"WORKSHOP_REGION={region!r} cannot run this workshop: 00_setup's endpoint needs "
            + " and ".join(missing)
            + f". Fix: choose {' or '.join(choose)}: in a notebook, run "
            f"`%env WORKSHOP_REGION={choose[0]}` in a cell, then run this cell again; in a terminal, "
            f"`export WORKSHOP_REGION={choose[0]}` before starting Jupyter."
        )
    return region


def identity_name(arn: str) -> str:
    """The personal part of an identity ARN: an IAM user's or federated user's name, a role session's name
    (an e-mail address, as IAM Identity Center sets it, without its domain); '' for anything else."""
    resource = arn.split(":", 5)[-1] if arn.startswith("arn:") else ""
    kind, _, rest = resource.partition("/")
    if kind in ("user", "federated-user"):
        name = rest.rsplit("/", 1)[-1]
    elif kind == "assumed-role":
        name = rest.split("/", 1)[1] if "/" in rest else ""
    else:  # root, or not an identity ARN
        name = resource
    return name.split("@", 1)[0]


# A SageMaker Studio app's own description of itself: its domain, user profile and space.
STUDIO_METADATA = Path("/opt/ml/metadata/resource-metadata.json")


def studio_user_profile() -> str:
    """The Studio user profile this kernel runs for ('' outside Studio, or in a space of no one user): the name the
    domain's ExecutionRoleIdentityConfig=USER_PROFILE_NAME sets as the session's aws:SourceIdentity."""
    try:
        found = json.loads(STUDIO_METADATA.read_text()).get("UserProfileName") or ""
    except (OSError, ValueError, AttributeError):
        return ""
    return str(found)


def prefix_from_identity(arn: str) -> str:
    """The default aws-mode prefix for an identity ARN (e.g. '.../AWSReservedSSO_X/jane.doe@example.com' ->
    'jane-doe'); in SageMaker Studio's shared execution-role session, the user profile's name (the class
    policy's aws:SourceIdentity, docs/identity.md); SettingsError when the identity is not one person's."""
    name = identity_name(arn)
    profile = studio_user_profile() if name == "SageMaker" else ""
    if profile and slugify(profile) not in SHARED_NAMES:
        return validate_prefix(slugify(profile))
    slug = slugify(name)
    if not slug or slug in SHARED_NAMES or _GENERATED_SESSION.match(name.lower()):
        raise SettingsError(
            f"WORKSHOP_PREFIX is not set, and your AWS identity {arn} does not name one person "
            f"({'its session name ' + repr(name) if name else 'no user or session name'}: in SageMaker Studio the "
            "execution role's session is called 'SageMaker' for everyone, on a shared machine the instance role's "
            "is the instance's), so the kit cannot derive a prefix of your own from it. " + _HOW_TO_SET
        )
    return slug


def creator_tag_value(arn: str) -> str:
    """An identity ARN as a tag value: characters every service's tags accept (a role session name may hold
    a comma, which they refuse), at most 256 of them. Compare creators in this form."""
    return re.sub(r"[^\w.:/=+\-@ ]", "_", arn)[:256]


def unknown_identity(settings: Settings) -> str:
    """The identity of settings built without one: SettingsError saying where settings with one come from."""
    raise SettingsError(
        "These settings were built without a way to ask who is calling (the creator tag, an aws-mode prefix). "
        "Fix: use helpers.session.settings(), or pass identity= to Settings.from_env."
    )


@dataclass(frozen=True)
class Settings:
    """Everything that differs between attendees, machines and clouds."""

    mode: str
    prefix: str
    region: str
    local_port: int
    model_version: str = "1"
    record_ttl_days: int = 30
    endpoint_name: str = ""
    function_name: str = ""
    api_name: str = ""
    # Who is calling: settings -> identity ARN. Asked only when needed (an aws-mode prefix to derive, a tag to write).
    identity: Callable[[Settings], str] = field(default=unknown_identity, compare=False, repr=False)

    @classmethod
    def from_env(
        cls, env: dict[str, str] | None = None, identity: Callable[[Settings], str] | None = None
    ) -> Settings:
        """Read the settings from WORKSHOP_* environment variables, validating each.

        Without WORKSHOP_PREFIX the prefix is the login name in local mode and, in aws mode, derived from
        the caller's identity (`identity`: helpers.session passes STS's answer); in aws mode a name many
        people share is refused, set or derived.
        """
        env = dict(os.environ if env is None else env)
        mode = env.get("WORKSHOP_MODE", "local").strip().lower() or "local"
        if mode not in MODES:
            raise SettingsError(
                f"WORKSHOP_MODE={mode!r} is not a mode of this kit. "
                "Fix: export WORKSHOP_MODE=local (offline, the default) or WORKSHOP_MODE=aws."
            )
        prefix = env.get("WORKSHOP_PREFIX", "").strip()
        if prefix:
            validate_prefix(prefix)
            if mode == "aws":
                refuse_shared(prefix)
        elif mode == "local":
            prefix = default_prefix()  # the local cloud is this machine's alone
        region = (
            env.get("WORKSHOP_REGION")
            or (env.get("AWS_REGION") if mode == "aws" else None)
            or (env.get("AWS_DEFAULT_REGION") if mode == "aws" else None)
            or DEFAULT_REGION
        )
        if regions.find_partition(region) is None:
            raise SettingsError(
                f"Region {region!r} is not an AWS region name (no partition botocore knows claims it). "
                "Fix: export WORKSHOP_REGION=us-east-1."
            )
        port_text = env.get("WORKSHOP_LOCAL_PORT", str(DEFAULT_LOCAL_PORT))
        if not port_text.isdigit() or not 1024 <= int(port_text) <= 65535:
            raise SettingsError(
                f"WORKSHOP_LOCAL_PORT={port_text!r} is not a usable port. "
                "Fix: export WORKSHOP_LOCAL_PORT=4566 (any free port from 1024 to 65535)."
            )
        ttl_text = env.get("WORKSHOP_RECORD_TTL_DAYS", "30")
        if not ttl_text.isdigit() or not 1 <= int(ttl_text) <= 3650:
            raise SettingsError(
                f"WORKSHOP_RECORD_TTL_DAYS={ttl_text!r} must be a whole number of days from 1 to 3650."
            )
        made = cls(
            mode=mode,
            prefix=prefix,
            region=region,
            local_port=int(port_text),
            model_version=env.get("WORKSHOP_MODEL_VERSION", "1"),
            record_ttl_days=int(ttl_text),
            endpoint_name=env.get("WORKSHOP_ENDPOINT_NAME", "").strip(),
            function_name=env.get("WORKSHOP_FUNCTION_NAME", "").strip(),
            api_name=env.get("WORKSHOP_API_NAME", "").strip(),
            identity=identity or unknown_identity,
        )
        if not prefix:  # aws mode, nothing set: the caller's identity names the attendee
            made = dataclasses.replace(made, prefix=prefix_from_identity(made.identity(made)))
        return made

    @property
    def is_local(self) -> bool:
        """True when the kit talks to the local cloud."""
        return self.mode == "local"

    @property
    def local_url(self) -> str:
        """The local cloud's endpoint URL."""
        return f"http://127.0.0.1:{self.local_port}"

    @cached_property
    def names(self) -> Names:
        """Resource names for this prefix."""
        return Names(self.prefix, self.model_version, self.endpoint_name, self.function_name, self.api_name)

    @property
    def creator(self) -> str:
        """The caller's identity ARN, as STS answers it (helpers.session asks once per credentials)."""
        return self.identity(self)

    def tags(self, **extra: str) -> dict[str, str]:
        """The kit's tags for a new resource, as a dict: kit, prefix, creation time and creator."""
        created = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            TAG_KIT: KIT_NAME,
            TAG_PREFIX: self.prefix,
            TAG_CREATED: created,
            TAG_CREATOR: creator_tag_value(self.creator),
            **extra,
        }

    def tag_list(self, key: str = "Key", value: str = "Value", **extra: str) -> list[dict[str, str]]:
        """The kit's tags in the [{'Key':..,'Value':..}] shape most services use."""
        return [{key: k, value: v} for k, v in self.tags(**extra).items()]


@dataclass(frozen=True)
class Names:
    """Every resource name the kit uses, derived from the attendee prefix."""

    prefix: str
    model_version: str = "1"
    endpoint_name: str = ""  # an existing endpoint to reuse (aws mode), else the kit's own
    function_name: str = ""  # an existing function to reuse (aws mode), else the kit's own
    api_name: str = ""  # an existing REST API to reuse (chapter 7's InferenceAPI), else the kit's own

    @property
    def bucket_stem(self) -> str:
        """Bucket name without the account suffix (bucket names are global)."""
        return f"{self.prefix}-ml-workshop"

    def bucket(self, account_id: str, region: str) -> str:
        """The S3 bucket for model artifacts; account and region make it globally unique."""
        return f"{self.bucket_stem}-{account_id}-{region}"[:63]

    @property
    def model_key(self) -> str:
        """S3 key of the model artifact."""
        return f"models/classifier/v{self.model_version}/model.tar.gz"

    @property
    def model(self) -> str:
        return f"{self.prefix}-classifier-v{self.model_version}"

    @property
    def endpoint_config(self) -> str:
        return f"{self.prefix}-classifier-v{self.model_version}-config"

    @property
    def endpoint(self) -> str:
        return self.endpoint_name or f"{self.prefix}-classifier-endpoint"

    @property
    def function(self) -> str:
        return self.function_name or f"{self.prefix}-inference"

    @property
    def api(self) -> str:
        """The REST API in front of the function (chapter 7's), by name."""
        return self.api_name or f"{self.prefix}-inference-api"

    @property
    def role(self) -> str:
        return f"{self.prefix}-inference-lambda-role"

    @property
    def sagemaker_role(self) -> str:
        return f"{self.prefix}-sagemaker-execution"

    @property
    def metadata_table(self) -> str:
        return f"{self.prefix}-inference-metadata"

    @property
    def registry_table(self) -> str:
        return f"{self.prefix}-model-registry"

    @property
    def metric_namespace(self) -> str:
        return f"MLWorkshop/{self.prefix}"

    @property
    def topic(self) -> str:
        return f"{self.prefix}-pipeline-alarms"

    @property
    def queue(self) -> str:
        return f"{self.prefix}-alarm-inbox"

    @property
    def dashboard(self) -> str:
        return f"{self.prefix}-inference-pipeline"

    @property
    def function_log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def endpoint_log_group(self) -> str:
        return f"/aws/sagemaker/Endpoints/{self.endpoint}"

    def version(self, model_version: str) -> Names:
        """The names of another model version (its artifact key, model and endpoint configuration)."""
        return replace(self, model_version=model_version)

    def alarm(self, what: str) -> str:
        """Alarm name for one monitored condition, e.g. alarm('inference-errors')."""
        return f"{self.prefix}-{what}"
