"""The ``[respond]`` section of ``leaktrace.toml``: policy, backends, expiry, protected addresses, isolation."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from leaktrace.errors import LeaktraceError


class Strict(BaseModel):
    """Same as :class:`leaktrace.config.Strict` (unknown keys rejected); defined here so that ``config.py`` can
    import :class:`RespondConfig` at its top without an import cycle."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

Mode = Literal["suggest", "approve", "auto"]
Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
Hook = Literal["input", "forward", "output"]


def _check_networks_or_domains(values: list[str]) -> list[str]:
    from leaktrace.respond.model import normalize_domain

    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            try:
                normalize_domain(value)
            except LeaktraceError:
                raise ValueError(f"'{value}' is neither a network (CIDR) nor a domain") from None
    return values


def _check_networks(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a network (CIDR): {exc}") from None
    return values


class NftablesSettings(Strict):
    """How the enforcing nftables backend runs ``nft`` and what it installs."""

    prefix: list[str] = Field(default_factory=list, description='run nft under e.g. ["ip","netns","exec","gw"]')
    nft: str = "nft"
    table: str = Field(default="leaktrace", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
    hooks: list[Hook] = Field(default_factory=lambda: list[Hook](["forward", "output"]))
    priority: int = -10
    verdict: Literal["drop", "reject"] = "drop"
    timeout_s: float = Field(default=10.0, gt=0, description="seconds to wait for one nft command")


class IsolationSettings(Strict):
    """Host isolation: what an isolated PC may still reach (management, EDR, DNS of the organisation)."""

    management: list[str] = Field(default_factory=list, description="IPs/CIDRs an isolated host may still reach")
    _check = field_validator("management")(classmethod(lambda cls, v: _check_networks(v)))


class RespondConfig(Strict):
    """``[respond]``: what happens on a new incident and where blocks go."""

    mode: Mode = "suggest"
    auto_min_severity: Severity = "high"
    backends: list[str] = Field(default_factory=lambda: ["nftables", "csv"])
    default_expire: str = "7d"
    never_block: list[str] = Field(default_factory=list, description="CIDRs/domains never blocked (plus allowlist)")
    protect_internal: bool = True
    approver_must_differ: bool = Field(default=False, description="four eyes: the requester cannot approve")
    export_dir: str = Field(default="exports", description="export files, relative to the state folder")
    suricata_sid_base: int = Field(default=1_000_000, ge=1, le=3_000_000_000)
    nftables: NftablesSettings = Field(default_factory=NftablesSettings)
    isolation: IsolationSettings = Field(default_factory=IsolationSettings)

    _check_never = field_validator("never_block")(classmethod(lambda cls, v: _check_networks_or_domains(v)))

    @field_validator("default_expire")
    @classmethod
    def _check_expire(cls, value: str) -> str:
        from leaktrace.respond.model import parse_duration

        try:
            parse_duration(value)
        except LeaktraceError as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("backends")
    @classmethod
    def _check_backends(cls, values: list[str]) -> list[str]:
        import leaktrace.respond.backends  # noqa: F401  (registers the built-ins)
        from leaktrace.respond.registry import blockers

        unknown = [v for v in values if v not in blockers]
        if unknown:
            raise ValueError(f"unknown backend(s) {', '.join(unknown)} (known: {', '.join(blockers.names())})")
        return values


def respond_config(config: Any) -> RespondConfig:
    """The ``[respond]`` section of a workspace config, read defensively (defaults when absent)."""
    raw = getattr(config, "respond", None)
    if isinstance(raw, RespondConfig):
        return raw
    if raw is None:
        return RespondConfig()
    from leaktrace.config import _config_error

    try:
        return RespondConfig.model_validate(raw if isinstance(raw, dict) else raw.model_dump())
    except ValidationError as exc:
        raise _config_error(exc, getattr(config, "source_path", None), prefix="respond") from None
