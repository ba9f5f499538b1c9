"""Host isolation as scripts: cut one PC off from everything except the management / EDR addresses.

* ``nftables``: for the gateway; a table ``inet leaktrace_isolate`` with a set of isolated hosts and a set of
  management networks; traffic forwarded to or from an isolated host is dropped unless it is management.
* ``windows``: for the PC itself (elevated PowerShell); block rules for every remote address *outside* the
  management ranges (block rules win over allow rules in Windows Firewall, so the ranges are the complement).
Each has a matching release script that undoes it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from leaktrace.respond.errors import BlockError
from leaktrace.respond.exports.windows import ps_quote
from leaktrace.respond.model import normalize_ip, safe_comment

FORMATS = ("nftables", "windows")
TABLE = "inet leaktrace_isolate"
GROUP = "leaktrace-isolation"
_MATCH = {4: "ip", 6: "ip6"}
_TYPE = {4: "ipv4_addr", 6: "ipv6_addr"}
IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(management: Sequence[str], version: int) -> list[IPNet]:
    nets: list[Any] = [ipaddress.ip_network(m, strict=False) for m in management]
    return list(ipaddress.collapse_addresses([n for n in nets if n.version == version]))


def complement_ranges(management: Sequence[str], version: int) -> list[str]:
    """Address ranges (``a-b``) covering everything of one IP version except the management networks."""
    addr: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address] = (
        ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    )
    last = 2 ** (32 if version == 4 else 128) - 1
    out: list[str] = []
    start = 0
    for net in _networks(management, version):
        if int(net.network_address) > start:
            out.append(f"{addr(start)}-{addr(int(net.network_address) - 1)}")
        start = int(net.broadcast_address) + 1
    if start <= last:
        out.append(f"{addr(start)}-{addr(last)}")
    return out


def _host(host_ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = normalize_ip(host_ip)
    if ip is None:
        raise BlockError(f"'{host_ip}' is not an IP address: isolation needs the PC's address")
    return ipaddress.ip_address(ip)


def isolation_script(fmt: str, host_ip: str, label: str, management: Sequence[str]) -> str:
    """The script that isolates ``host_ip`` (``fmt``: nftables or windows)."""
    host = _host(host_ip)
    if fmt == "nftables":
        return _nft_isolate(host, label, management)
    if fmt == "windows":
        return _windows_isolate(host, label, management)
    raise BlockError(f"unknown isolation format '{fmt}' (known: {', '.join(FORMATS)})")


def release_script(fmt: str, host_ip: str) -> str:
    """The script that undoes :func:`isolation_script`."""
    host = _host(host_ip)
    if fmt == "nftables":
        bare = f"hosts_v{host.version} {{ {host} }}"
        return (
            f"# leaktrace: release {host} from isolation\n"
            f"add element {TABLE} {bare}\ndelete element {TABLE} {bare}\n"
        )
    if fmt == "windows":
        return (
            f"# leaktrace: release this PC ({host}) from isolation; run in an elevated PowerShell\n"
            f"Get-NetFirewallRule -Group {ps_quote(GROUP)} -ErrorAction SilentlyContinue | Remove-NetFirewallRule\n"
        )
    raise BlockError(f"unknown isolation format '{fmt}' (known: {', '.join(FORMATS)})")


def _nft_isolate(host: ipaddress.IPv4Address | ipaddress.IPv6Address, label: str, management: Sequence[str]) -> str:
    lines = [
        f"# leaktrace: isolate {host} ({label}) at the gateway, except management {', '.join(management) or '(none)'}",
        f"add table {TABLE}",
    ]
    for v in (4, 6):
        lines.append(f"add set {TABLE} hosts_v{v} {{ type {_TYPE[v]}; }}")
        lines.append(f"add set {TABLE} mgmt_v{v} {{ type {_TYPE[v]}; flags interval; }}")
    lines.append(f"add chain {TABLE} forward {{ type filter hook forward priority -20; policy accept; }}")
    lines.append(f"flush chain {TABLE} forward")
    for v in (4, 6):
        m = _MATCH[v]
        lines += [
            f"add rule {TABLE} forward {m} saddr @hosts_v{v} {m} daddr @mgmt_v{v} accept",
            f"add rule {TABLE} forward {m} daddr @hosts_v{v} {m} saddr @mgmt_v{v} accept",
            f"add rule {TABLE} forward {m} saddr @hosts_v{v} counter drop",
            f"add rule {TABLE} forward {m} daddr @hosts_v{v} counter drop",
        ]
    for v in (4, 6):
        lines.append(f"flush set {TABLE} mgmt_v{v}")
        nets = _networks(management, v)
        if nets:
            lines.append(f"add element {TABLE} mgmt_v{v} {{ {', '.join(str(n) for n in nets)} }}")
    lines.append(f'add element {TABLE} hosts_v{host.version} {{ {host} comment "{safe_comment(label, 120)}" }}')
    return "\n".join(lines) + "\n"


def _windows_isolate(host: ipaddress.IPv4Address | ipaddress.IPv6Address, label: str,
                     management: Sequence[str]) -> str:
    lines = [
        f"# leaktrace: isolate this PC ({host}, {label}); run in an elevated PowerShell on the PC",
        f"# still reachable: {', '.join(management) or '(nothing: no [respond.isolation] management set)'}",
        "#Requires -RunAsAdministrator",
        f"Get-NetFirewallRule -Group {ps_quote(GROUP)} -ErrorAction SilentlyContinue | Remove-NetFirewallRule",
        "Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True",
    ]
    for v in (4, 6):
        ranges = complement_ranges(management, v)
        if not ranges:
            continue
        remote = ",".join(ps_quote(r) for r in ranges)
        for direction in ("Outbound", "Inbound"):
            name = ps_quote(f"leaktrace isolation {label} IPv{v} {direction.lower()}")
            lines.append(
                f"New-NetFirewallRule -DisplayName {name} -Group {ps_quote(GROUP)} -Direction {direction} "
                f"-RemoteAddress {remote} -Action Block -Profile Any | Out-Null"
            )
    return "\n".join(lines) + "\n"
