"""Typed configuration (``leaktrace.toml``). Unknown keys are rejected with the key and the file named."""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from leaktrace.errors import ConfigError, Location, UnknownTenantError
from leaktrace.notify.settings import NotifySettings
from leaktrace.report.settings import ReportSettings
from leaktrace.respond.settings import RespondConfig
from leaktrace.server.settings import ServerSettings

CONFIG_NAME = "leaktrace.toml"
DEFAULT_INTERNAL = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _check_cidrs(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a network (CIDR): {exc}") from None
    return values


class TenantConfig(Strict):
    name: str
    display_name: str | None = None
    internal: list[str] = Field(default_factory=list)
    _check = field_validator("internal")(classmethod(lambda cls, v: _check_cidrs(v)))


class NetworkConfig(Strict):
    internal: list[str] = Field(default_factory=lambda: list(DEFAULT_INTERNAL))
    _check = field_validator("internal")(classmethod(lambda cls, v: _check_cidrs(v)))


class HostEntry(Strict):
    ip: str
    name: str
    user: str | None = None


class AssetsConfig(Strict):
    hosts: list[HostEntry] = Field(default_factory=list)


class AllowlistConfig(Strict):
    servers: list[str] = Field(default_factory=list, description="IPs, CIDRs or domains never flagged/blocked")
    hosts: list[str] = Field(default_factory=list, description="internal IPs or CIDRs never flagged")


class ClassificationConfig(Strict):
    scheme: str = "jp-gov"
    msip_labels: dict[str, str] = Field(default_factory=dict, description="MSIP label id -> level name")


class IngestConfig(Strict):
    default_tenant: str = "default"
    sensor: str = "sensor-1"
    batch_rows: int = Field(default=1_000_000, ge=1000)
    memory_limit: str = "1GB"


class StateConfig(Strict):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the operational state (incidents, actions, audit, users); "
        "default: SQLite state/leaktrace.db in the workspace. PostgreSQL: postgresql+psycopg://user@host/db",
    )


class Config(Strict):
    """The whole of ``leaktrace.toml``."""

    network: NetworkConfig = Field(default_factory=NetworkConfig)
    tenants: list[TenantConfig] = Field(default_factory=list)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    assets: AssetsConfig = Field(default_factory=AssetsConfig)
    allowlist: AllowlistConfig = Field(default_factory=AllowlistConfig)
    classification: ClassificationConfig = Field(default_factory=ClassificationConfig)
    respond: RespondConfig = Field(default_factory=RespondConfig)
    report: ReportSettings = Field(default_factory=ReportSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    state: StateConfig = Field(default_factory=StateConfig)
    detect: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-detector thresholds: [detect.<name>] key = value"
    )
    source_path: str | None = Field(default=None, exclude=True)

    def internal_networks(self, tenant: str | None = None) -> list[str]:
        for t in self.tenants:
            if t.name == tenant and t.internal:
                return t.internal
        return self.network.internal

    def tenant_names(self) -> list[str]:
        """The configured tenants: every ``[[tenants]]`` name, and ``[ingest] default_tenant`` (always counts)."""
        names = [t.name for t in self.tenants]
        return names if self.ingest.default_tenant in names else [*names, self.ingest.default_tenant]

    def check_tenant(self, name: str) -> str:
        """``name`` if it is a configured tenant (:meth:`tenant_names`); otherwise :class:`UnknownTenantError`
        naming it and the configured ones, so that a typo never creates or reads a tenant nobody configured."""
        known = self.tenant_names()
        if name not in known:
            raise UnknownTenantError(
                f"unknown tenant '{name}' (configured: {', '.join(known)}; "
                "a new tenant needs a [[tenants]] entry in the configuration)",
                Location(path=self.source_path, key="tenants"),
            )
        return name

    def detector_params(self, name: str, model: type[M]) -> M:
        """Validate ``[detect.<name>]`` against a detector's parameter model (unknown keys rejected)."""
        raw = self.detect.get(name, {})
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise _config_error(exc, self.source_path, prefix=f"detect.{name}") from None


def _config_error(exc: ValidationError, path: str | None, prefix: str = "") -> ConfigError:
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    if prefix:
        key = f"{prefix}.{key}" if key else prefix
    kind = first["type"]
    if kind == "extra_forbidden":
        message = f"unknown key '{key}'"
    else:
        message = f"invalid value for '{key}': {first['msg']}"
    return ConfigError(message, Location(path=path, key=key))


def load_config(path: Path) -> Config:
    """Read and validate a ``leaktrace.toml``."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("configuration file not found", Location(path=str(path))) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", Location(path=str(path))) from None
    return config_from_dict(raw, str(path))


def config_from_dict(raw: dict[str, Any], source: str | None = None) -> Config:
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(exc, source) from None
    cfg.source_path = source
    _validate_detectors(cfg)
    return cfg


def _validate_detectors(cfg: Config) -> None:
    """Check every ``[detect.X]`` section against the registered detector's parameters, if detectors exist."""
    try:
        from leaktrace.detect.registry import detectors
    except ImportError:  # detectors not built yet
        return
    for name in cfg.detect:
        if name == "incidents":  # [detect.incidents]: grouping and scoring of findings into incidents
            from leaktrace.incidents.scoring import IncidentParams

            cfg.detector_params(name, IncidentParams)
            continue
        if name == "buckets":  # [detect.buckets]: full runs of large lakes per host bucket
            from leaktrace.incidents.buckets import BucketParams

            cfg.detector_params(name, BucketParams)
            continue
        if name not in detectors:
            raise ConfigError(
                f"unknown detector '{name}' (known: {', '.join(detectors.names())}; 'incidents', 'buckets')",
                Location(path=cfg.source_path, key=f"detect.{name}"),
            )
        params_model = getattr(detectors.get(name), "Params", None)
        if params_model is not None:
            cfg.detector_params(name, params_model)


def render_default_config(internal: list[str] | None, tenant: str) -> str:
    nets = internal or DEFAULT_INTERNAL
    nets_toml = ", ".join(f'"{n}"' for n in nets)
    return f"""# leaktrace workspace configuration. Unknown keys are rejected.

[network]
# Networks whose hosts are "ours"; everything else is external.
internal = [{nets_toml}]

[ingest]
default_tenant = "{tenant}"
sensor = "sensor-1"

[[tenants]]
name = "{tenant}"

[allowlist]
# Servers (IP, CIDR or domain) that are never flagged or blocked.
servers = []
hosts = []

[classification]
# Sensitivity scheme: "jp-gov" (機密性3/2/1, 取扱制限, 極秘/秘), "tlp", "us", "uk".
scheme = "jp-gov"

[classification.msip_labels]
# "label-guid" = "機密性2"

[assets]
# Known hosts: [[assets.hosts]] ip = "10.1.2.3"  name = "pc-042"  user = "tanaka"
hosts = []

[respond]
# "suggest" (record only), "approve" (wait for `leaktrace block --approve`), "auto" (block at/above
# auto_min_severity). Allowlisted and internal servers are never blocked.
mode = "suggest"
auto_min_severity = "high"
backends = ["nftables", "csv"]
default_expire = "7d"
never_block = []

[respond.nftables]
# Run nft under a prefix, e.g. ["ip", "netns", "exec", "gw"]; hooks: input, forward, output.
prefix = []
hooks = ["forward", "output"]

[respond.isolation]
# Addresses an isolated PC may still reach (management, EDR).
management = []

# Detector thresholds: [detect.<name>] key = value (see `leaktrace detectors`).
# Incident grouping and scoring: [detect.incidents] (gap_hours, min_score, synergy, ambiguous_cap, combos, ...).
"""
