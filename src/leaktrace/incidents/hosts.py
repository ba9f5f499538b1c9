"""Host names for internal IPs: the ``assets`` table (latest name per IP) and ``[[assets.hosts]]`` in config."""

from __future__ import annotations

from typing import Any

from leaktrace.workspace import Workspace


def host_names(ws: Workspace | None, engine: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    try:
        assets = engine.table("assets")
        a = assets.filter(assets.ip.notnull() & assets.host_name.notnull() & (assets.host_name != ""))
        latest = a.group_by("ip").aggregate(host_name=a.host_name.argmax(a.ts))
        for r in latest.to_pyarrow().to_pylist():
            names[r["ip"]] = r["host_name"]
    except Exception:  # noqa: BLE001 - a missing/odd assets table must not stop an analysis
        pass
    if ws is not None:
        for h in ws.config.assets.hosts:
            names[h.ip] = h.name
    return names
