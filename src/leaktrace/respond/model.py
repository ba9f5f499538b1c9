"""Values the respond package passes around: what to block (target), one rule, and what a backend did."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from leaktrace.respond.errors import BlockError

RuleKind = Literal["ip", "domain"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_COMMENT_SAFE = re.compile(r"[^A-Za-z0-9 _.:/@+-]")
NEVER = ("", "never", "none", "0")


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(dt: datetime) -> datetime:
    """SQLite drops the time zone: every stored time is UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_duration(text: str) -> timedelta | None:
    """``"7d"``, ``"12h"``, ``"1h30m"``, ``"2w"`` or a number of seconds; ``"never"``/``""`` mean no expiry."""
    raw = text.strip().lower()
    if raw in NEVER:
        return None
    if raw.isdigit():
        return timedelta(seconds=int(raw))
    pos, total = 0, 0
    for match in _DURATION.finditer(raw):
        if raw[pos : match.start()].strip():
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos == 0 or raw[pos:].strip():
        raise BlockError(f"'{text}' is not a duration (use e.g. 30s, 15m, 12h, 7d, 2w or 'never')")
    if total <= 0:
        raise BlockError(f"duration '{text}' must be positive")
    return timedelta(seconds=total)


def format_duration(seconds: int) -> str:
    """Seconds as nft writes them: ``604800`` -> ``7d``, ``5400`` -> ``1h30m``."""
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def normalize_ip(value: str) -> str | None:
    """The canonical text of an IP address, or None when ``value`` is not one."""
    try:
        return ipaddress.ip_address(value.strip().strip("[]")).compressed
    except ValueError:
        return None


def normalize_domain(value: str) -> str:
    """Lower case, no trailing dot, IDNA (punycode); raises :class:`BlockError` when not a domain name."""
    raw = value.strip().rstrip(".").lower()
    if raw.startswith("*."):
        raw = raw[2:]
    raw = raw.lstrip(".")
    try:
        raw = raw.encode("idna").decode("ascii")
    except UnicodeError:
        raise BlockError(f"'{value}' is not a domain name") from None
    labels = raw.split(".")
    if len(raw) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise BlockError(f"'{value}' is neither an IP address nor a domain name")
    return raw


def classify(value: str) -> tuple[RuleKind, str]:
    """``("ip", "203.0.113.7")`` or ``("domain", "evil.example")``."""
    ip = normalize_ip(value)
    if ip is not None:
        return "ip", ip
    return "domain", normalize_domain(value)


def safe_comment(text: str, limit: int = 100) -> str:
    """A comment that is safe inside double quotes in nft, Suricata, iptables and PowerShell."""
    return _COMMENT_SAFE.sub("_", text)[:limit]


@dataclass(frozen=True)
class BlockTarget:
    """What an incident (or an operator) asks to block; the host is the internal PC, for isolation."""

    server_ip: str | None = None
    server_domain: str | None = None
    host_ip: str | None = None
    incident_id: str | None = None
    severity: str | None = None

    def values(self) -> list[str]:
        return [v for v in (self.server_ip, self.server_domain) if v]


@dataclass(frozen=True)
class BlockRule:
    """One blocked value (an IP address or a domain) as every backend sees it."""

    value: str
    kind: RuleKind
    comment: str = ""
    expires: datetime | None = None
    action_id: str | None = None
    incident_id: str | None = None
    reason: str = ""

    @classmethod
    def make(cls, value: str, **kwargs: object) -> BlockRule:
        kind, canonical = classify(value)
        return cls(value=canonical, kind=kind, **kwargs)  # type: ignore[arg-type]

    @property
    def version(self) -> int | None:
        """4 or 6 for an IP rule, None for a domain."""
        return ipaddress.ip_address(self.value).version if self.kind == "ip" else None

    @property
    def label(self) -> str:
        """The name in rule comments: the incident, else the action, else the value."""
        return safe_comment(self.comment or self.incident_id or self.action_id or self.value)

    def timeout_seconds(self, now: datetime) -> int | None:
        """Seconds until expiry (at least 1), or None for a permanent rule."""
        if self.expires is None:
            return None
        return max(1, int((aware(self.expires) - now).total_seconds()))


@dataclass(frozen=True)
class AppliedRule:
    """What a backend did with (or reports for) one rule."""

    backend: str
    value: str
    kind: RuleKind
    text: str
    enforced: bool
    expires_in: int | None = None
    comment: str = ""
    extra: dict[str, object] = field(default_factory=dict)
