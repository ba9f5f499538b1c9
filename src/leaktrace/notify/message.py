"""What a notification says about an incident: one immutable value every channel renders in its own format.

Only incident metadata goes out (addresses, names, times, severity, score, kinds, byte counts): never document
text, finding summaries or evidence.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from leaktrace import __version__

Event = Literal["opened", "escalated", "test"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Notification:
    """One incident event for one target (``delivery_id`` is the same across the retries of a delivery)."""

    incident_id: str
    tenant: str
    event: Event
    severity: str
    score: float
    host_ip: str
    start: datetime
    end: datetime
    host_name: str | None = None
    server_ip: str | None = None
    server_domain: str | None = None
    kinds: tuple[str, ...] = ()
    bytes_out: int = 0
    previous_severity: str | None = None
    link: str | None = None
    generated_at: datetime = field(default_factory=utcnow)
    delivery_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    version: str = __version__

    @classmethod
    def from_incident(
        cls,
        inc: Any,
        event: Event,
        previous_severity: str | None = None,
        link: str | None = None,
        now: datetime | None = None,
    ) -> Notification:
        """From an :class:`~leaktrace.incidents.db.IncidentRow` (or anything with the same attributes)."""
        return cls(
            incident_id=inc.id,
            tenant=inc.tenant,
            event=event,
            severity=inc.severity,
            score=round(float(inc.score), 3),
            host_ip=inc.host_ip,
            host_name=inc.host_name,
            server_ip=inc.server_ip,
            server_domain=inc.server_domain,
            start=inc.start,
            end=inc.end,
            kinds=tuple(inc.kinds or ()),
            bytes_out=int(inc.bytes_out or 0),
            previous_severity=previous_severity,
            link=link,
            generated_at=now or utcnow(),
        )

    @classmethod
    def test(cls, tenant: str, link: str | None = None, now: datetime | None = None) -> Notification:
        """A harmless message to check a target works (documentation addresses, no real incident)."""
        moment = now or utcnow()
        return cls(
            incident_id="TEST-0000",
            tenant=tenant,
            event="test",
            severity="low",
            score=0.0,
            host_ip="192.0.2.10",
            host_name="leaktrace-test",
            server_ip="198.51.100.20",
            server_domain="test.invalid",
            start=moment,
            end=moment,
            kinds=("test",),
            link=link,
            generated_at=moment,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (webhook body): stable keys, ISO 8601 UTC times."""
        return {
            "delivery": self.delivery_id,
            "event": self.event,
            "generated_at": iso(self.generated_at),
            "source": {"product": "leaktrace", "version": self.version},
            "incident": {
                "id": self.incident_id,
                "tenant": self.tenant,
                "host": {"ip": self.host_ip, "name": self.host_name},
                "server": {"ip": self.server_ip, "domain": self.server_domain},
                "start": iso(self.start),
                "end": iso(self.end),
                "severity": self.severity,
                "previous_severity": self.previous_severity,
                "score": self.score,
                "kinds": list(self.kinds),
                "bytes_out": self.bytes_out,
                "link": self.link,
            },
        }

    @property
    def server(self) -> str:
        return " / ".join(x for x in (self.server_domain, self.server_ip) if x) or "-"

    @property
    def host(self) -> str:
        return self.host_ip + (f" ({self.host_name})" if self.host_name else "")


# -- human-readable text (e-mail) ------------------------------------------------------------------------------
_SEV_JA = {"low": "低", "medium": "中", "high": "高", "critical": "緊急"}
_EVENT_JA = {"opened": "新規インシデント", "escalated": "重大度上昇", "test": "テスト通知"}
_EVENT_EN = {"opened": "new incident", "escalated": "severity raised", "test": "test message"}


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def subject(n: Notification, lang: str) -> str:
    sev = n.severity.upper()
    if lang.startswith("ja"):
        return f"[leaktrace][{_SEV_JA.get(n.severity, n.severity)}/{sev}] {n.incident_id} {_EVENT_JA[n.event]}: {n.host_ip} → {n.server}"
    return f"[leaktrace][{sev}] {n.incident_id} {_EVENT_EN[n.event]}: {n.host_ip} -> {n.server}"


def _body_ja(n: Notification) -> str:
    lines = [
        f"{n.tenant} 様",
        "",
        f"leaktrace 監視センターより、{_EVENT_JA[n.event]}をお知らせします。",
        "",
        f"インシデント: {n.incident_id}",
        f"重大度:       {_SEV_JA.get(n.severity, n.severity)} ({n.severity}), スコア {n.score:.2f}",
    ]
    if n.previous_severity:
        lines.append(
            f"以前の重大度: {_SEV_JA.get(n.previous_severity, n.previous_severity)} ({n.previous_severity})"
        )
    lines += [
        f"端末:         {n.host}",
        f"通信先:       {n.server}",
        f"期間 (UTC):   {iso(n.start)} 〜 {iso(n.end)}",
        f"種別:         {', '.join(n.kinds) or '-'}",
        f"送信量:       {_mb(n.bytes_out)}",
    ]
    if n.link:
        lines.append(f"詳細:         {n.link}")
    lines += ["", "該当端末の確認と、必要に応じた通信遮断・隔離をご検討ください。"]
    return "\n".join(lines)


def _body_en(n: Notification) -> str:
    lines = [
        f"To {n.tenant},",
        "",
        f"The leaktrace monitoring centre reports a {_EVENT_EN[n.event]}.",
        "",
        f"Incident:          {n.incident_id}",
        f"Severity:          {n.severity}, score {n.score:.2f}",
    ]
    if n.previous_severity:
        lines.append(f"Previous severity: {n.previous_severity}")
    lines += [
        f"Host:              {n.host}",
        f"Server:            {n.server}",
        f"Period (UTC):      {iso(n.start)} - {iso(n.end)}",
        f"Kinds:             {', '.join(n.kinds) or '-'}",
        f"Bytes out:         {_mb(n.bytes_out)}",
    ]
    if n.link:
        lines.append(f"Details:           {n.link}")
    lines += ["", "Please check the host and consider blocking the server or isolating the host."]
    return "\n".join(lines)


def body(n: Notification, lang: str) -> str:
    """Plain text in Japanese, English, or both (``ja+en``: Japanese first)."""
    parts = []
    if lang in ("ja", "ja+en"):
        parts.append(_body_ja(n))
    if lang in ("en", "ja+en"):
        parts.append(_body_en(n))
    footer = f"-- \nleaktrace {n.version} / delivery {n.delivery_id}"
    return "\n\n----------------------------------------\n\n".join(parts) + "\n\n" + footer + "\n"
