"""The ``[notify]`` section of ``leaktrace.toml``: targets (channel + options + filters) and the retry policy.

Example::

    [notify]
    base_url = "https://leaktrace.centre.example"   # optional: links in messages

    [notify.retry]
    attempts = 3
    initial_backoff_s = 1.0
    factor = 2.0
    max_backoff_s = 30.0

    [[notify.targets]]
    name = "ministry-soc"
    channel = "webhook"
    tenants = ["ministry"]          # absent or empty: every tenant
    min_severity = "high"
    events = ["opened", "escalated"]
    lang = "ja"
    options = { url = "https://soc.ministry.example/hooks/leaktrace", secret_env = "MINISTRY_HOOK_SECRET" }

This module imports nothing from :mod:`leaktrace.config` (which imports it). Channel options are checked
against the registered channel's ``Options`` model when the configuration is loaded.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Severity = Literal["low", "medium", "high", "critical"]
EventKind = Literal["opened", "escalated"]
Lang = Literal["ja", "en", "ja+en"]
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")


def severity_rank(value: str | None) -> int:
    """0 (low) .. 3 (critical); -1 for none or an unknown value."""
    return SEVERITIES.index(value) if value in SEVERITIES else -1


class Strict(BaseModel):
    """Unknown keys rejected (same rule as :class:`leaktrace.config.Strict`; defined here to avoid a cycle)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RetrySettings(Strict):
    """Attempts per delivery and the wait between them: ``initial * factor**(n-1)``, at most ``max``."""

    attempts: int = Field(default=3, ge=1, le=10, description="attempts per delivery, the first included")
    initial_backoff_s: float = Field(default=1.0, ge=0, le=60, description="wait before the 2nd attempt")
    factor: float = Field(default=2.0, ge=1, le=10, description="each further wait is this many times longer")
    max_backoff_s: float = Field(default=30.0, ge=0, le=600, description="no wait is longer than this")

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after ``failed_attempts`` (1, 2, ...) failed attempts."""
        raw = self.initial_backoff_s * self.factor ** max(0, failed_attempts - 1)
        return float(min(raw, self.max_backoff_s))


def _options_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"unknown option '{key}'"
    return f"option '{key}': {first['msg']}" if key else str(first["msg"])


class TargetSettings(Strict):
    """One place notifications go: a channel, its options, and which incidents it wants."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    channel: str = Field(description="webhook, smtp or syslog (or a registered plugin)")
    options: dict[str, Any] = Field(
        default_factory=dict, repr=False, description="channel options (see the channel); may hold secrets"
    )
    tenants: list[str] = Field(default_factory=list, description="tenants served; empty: all")
    min_severity: Severity = "medium"
    events: list[EventKind] = Field(default_factory=lambda: list[EventKind](["opened", "escalated"]))
    lang: Lang = "ja"
    enabled: bool = True

    @model_validator(mode="after")
    def _check_options(self) -> TargetSettings:
        self.channel_options()
        return self

    def channel_options(self) -> BaseModel:
        """The options validated against the channel's ``Options`` model (a ValueError names the bad key)."""
        from leaktrace.errors import RegistryError
        from leaktrace.notify.registry import channel_class

        try:
            cls = channel_class(self.channel)
        except RegistryError as exc:
            raise ValueError(str(exc)) from None
        try:
            return cls.Options.model_validate(self.options)
        except ValidationError as exc:
            raise ValueError(_options_error(exc)) from None

    def serves(self, tenant: str) -> bool:
        return not self.tenants or tenant in self.tenants


class NotifySettings(Strict):
    """The whole ``[notify]`` section."""

    base_url: str | None = Field(
        default=None, description="web UI address for links: <base_url>/incidents/<id>"
    )
    retry: RetrySettings = Field(default_factory=RetrySettings)
    targets: list[TargetSettings] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> NotifySettings:
        seen: set[str] = set()
        for t in self.targets:
            if t.name in seen:
                raise ValueError(f"target name '{t.name}' is used twice")
            seen.add(t.name)
        return self

    def target(self, name: str) -> TargetSettings:
        from leaktrace.errors import NotifyError

        for t in self.targets:
            if t.name == name:
                return t
        known = ", ".join(t.name for t in self.targets) or "none"
        raise NotifyError(f"no notification target '{name}' (known: {known})")

    def link(self, incident_id: str) -> str | None:
        return f"{self.base_url.rstrip('/')}/incidents/{incident_id}" if self.base_url else None
