"""Workshop settings: mode, attendee prefix, region, resource names and tags."""

from __future__ import annotations

import datetime as _dt
import getpass
import os
import re
from dataclasses import dataclass
from functools import cached_property

KIT_NAME = "ml-pipeline-ch8"
TAG_KIT = "workshop-kit"
TAG_PREFIX = "workshop-prefix"
TAG_CREATED = "workshop-created-at"
MODES = ("local", "aws")
DEFAULT_REGION = "us-east-1"
DEFAULT_LOCAL_PORT = 4566
LOCAL_ACCOUNT_ID = "123456789012"
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


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


def default_prefix() -> str:
    """Derive a valid prefix from the user name (e.g. 'Jane.Doe' -> 'jane-doe')."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = ""
    slug = re.sub(r"[^a-z0-9]+", "-", user.lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)[:20].strip("-")
    return slug or "attendee"


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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read the settings from WORKSHOP_* environment variables, validating each."""
        env = dict(os.environ if env is None else env)
        mode = env.get("WORKSHOP_MODE", "local").strip().lower() or "local"
        if mode not in MODES:
            raise SettingsError(
                f"WORKSHOP_MODE={mode!r} is not a mode of this kit. "
                "Fix: export WORKSHOP_MODE=local (offline, the default) or WORKSHOP_MODE=aws."
            )
        prefix = env.get("WORKSHOP_PREFIX", "").strip()
        prefix = validate_prefix(prefix) if prefix else default_prefix()
        region = (
            env.get("WORKSHOP_REGION")
            or (env.get("AWS_REGION") if mode == "aws" else None)
            or (env.get("AWS_DEFAULT_REGION") if mode == "aws" else None)
            or DEFAULT_REGION
        )
        if not re.match(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", region):
            raise SettingsError(
                f"Region {region!r} is not an AWS region name. Fix: export WORKSHOP_REGION=us-east-1."
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
        return cls(
            mode=mode,
            prefix=prefix,
            region=region,
            local_port=int(port_text),
            model_version=env.get("WORKSHOP_MODEL_VERSION", "1"),
            record_ttl_days=int(ttl_text),
            endpoint_name=env.get("WORKSHOP_ENDPOINT_NAME", "").strip(),
            function_name=env.get("WORKSHOP_FUNCTION_NAME", "").strip(),
        )

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
        return Names(self.prefix, self.model_version, self.endpoint_name, self.function_name)

    def tags(self, **extra: str) -> dict[str, str]:
        """The kit's tags for a new resource, as a dict."""
        created = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {TAG_KIT: KIT_NAME, TAG_PREFIX: self.prefix, TAG_CREATED: created, **extra}

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

    def alarm(self, what: str) -> str:
        """Alarm name for one monitored condition, e.g. alarm('inference-errors')."""
        return f"{self.prefix}-{what}"


_current: Settings | None = None


def settings() -> Settings:
    """The settings of this process, read from the environment once."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def reload() -> Settings:
    """Re-read the settings (after changing WORKSHOP_* variables in a running kernel)."""
    global _current
    _current = None
    return settings()
