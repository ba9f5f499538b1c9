"""Asset context: which host name and user an internal IP had at a given time.

Evidence comes from the ``assets`` table (DHCP leases, Kerberos and NTLM authentications seen on the wire,
endpoint events) and from ``[[assets.hosts]]`` in the config (a static hosts file, used when nothing in the
data names the IP). For each IP the most recent evidence at or before the asked time wins; evidence after it is
used only when there is none before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leaktrace.config import Config


@dataclass(frozen=True)
class AssetInfo:
    ip: str
    host_name: str | None
    user: str | None
    evidence: str


def resolve_assets(engine: Any, config: Config, ips: list[str], at: datetime | None = None) -> dict[str, AssetInfo]:
    """Host name and user for each IP in ``ips`` (only those known)."""
    found: dict[str, AssetInfo] = {}
    if ips:
        t = engine.table("assets")
        rows = t.filter(t.ip.isin(ips)).select("ts", "ip", "host_name", "user", "evidence").to_pyarrow().to_pylist()
        by_ip: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_ip.setdefault(r["ip"], []).append(r)
        for ip, evidence in by_ip.items():
            evidence.sort(key=lambda r: r["ts"] or datetime.min)
            before = [r for r in evidence if at is None or (r["ts"] is not None and r["ts"] <= at)]
            ordered = before or evidence
            name = next((r["host_name"] for r in reversed(ordered) if r["host_name"]), None)
            user = next((r["user"] for r in reversed(ordered) if r["user"]), None)
            if name or user:
                kinds = sorted({str(r["evidence"]) for r in ordered if r["evidence"]})
                found[ip] = AssetInfo(ip, name, user, "+".join(kinds) or "assets")
    for entry in config.assets.hosts:
        if entry.ip in ips:
            known = found.get(entry.ip)
            if known is None:
                found[entry.ip] = AssetInfo(entry.ip, entry.name, entry.user, "config")
            else:
                found[entry.ip] = AssetInfo(entry.ip, known.host_name or entry.name, known.user or entry.user,
                                            known.evidence)
    return found
