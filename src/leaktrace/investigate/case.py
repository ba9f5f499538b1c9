"""The records of one case: what happened on one host around its traffic to one or more servers.

Pure data (lists of row dicts from the normalised tables, already filtered to the host), so attribution can
be tested with a few records written by hand. :mod:`leaktrace.investigate.loader` fills it from the lake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Row = dict[str, Any]


@dataclass
class Case:
    host_ip: str
    servers: list[str]  # external server IPs of the incident
    server_names: list[str] = field(default_factory=list)  # their domains (SNI, HTTP host, DNS)
    start: datetime | None = None
    end: datetime | None = None
    host: str | None = None  # the endpoint's computer name, when known
    internal: list[str] = field(default_factory=list)  # the organisation's networks (CIDRs)
    user: str | None = None
    clock_offset_s: float | None = None  # seconds added to the host's event times (estimated), None: as logged
    clock_note: str | None = None
    process: list[Row] = field(default_factory=list)  # host's process events
    file_event: list[Row] = field(default_factory=list)
    endpoint_conn: list[Row] = field(default_factory=list)
    conn: list[Row] = field(default_factory=list)  # network flows from host_ip (any destination)
    net_files: list[Row] = field(default_factory=list)  # files seen on the wire from/to host_ip
    smtp: list[Row] = field(default_factory=list)


def is_internal(ip: str | None, networks: list[str]) -> bool:
    import ipaddress

    if not ip:
        return True
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if addr.is_loopback or addr.is_link_local or addr.is_multicast:
        return True
    return any(addr in ipaddress.ip_network(n, strict=False) for n in networks)


def record_ref(row: Row) -> str | None:
    src, line = row.get("source_file"), row.get("source_line")
    if not src:
        return None
    return f"{src}:{line}" if line is not None else str(src)
