"""Address classification as portable Ibis predicates (string prefixes, no engine-specific inet functions).

A CIDR becomes the set of string prefixes that cover it on octet boundaries (IPv4: ``10.`` for 10/8,
``172.16.`` .. ``172.31.`` for 172.16/12, full addresses for /25../32) or on hex-digit boundaries of the
first group for IPv6 (``fc``/``fd`` for fc00::/7). This is exact for IPv4 and for IPv6 prefixes inside the
first 16 bits; longer IPv6 prefixes are compared on the exploded text and are rare in our configs.
"""

from __future__ import annotations

import ipaddress
from functools import reduce
from typing import Any

import ibis

# never "external servers": multicast, broadcast, link-local, unspecified, loopback
NON_ROUTABLE = [
    "224.0.0.0/4",
    "255.255.255.255/32",
    "169.254.0.0/16",
    "0.0.0.0/8",
    "127.0.0.0/8",
    "ff00::/8",
    "fe80::/10",
    "::1/128",
]

MAX_PREFIXES = 512


def cidr_prefixes(cidr: str) -> tuple[list[str], list[str]]:
    """(string prefixes, exact addresses) covering ``cidr``."""
    net = ipaddress.ip_network(cidr.strip(), strict=False)
    if net.version == 4:
        plen = net.prefixlen
        if plen == 0:
            return [""], []
        boundary = min(32, ((plen + 7) // 8) * 8)
        subnets = [net] if plen == boundary else list(net.subnets(new_prefix=boundary))
        if len(subnets) > MAX_PREFIXES:
            raise ValueError(f"network {cidr} is too fragmented to match by prefix")
        if boundary == 32:
            return [], [str(s.network_address) for s in subnets]
        octets = boundary // 8
        return [".".join(str(s.network_address).split(".")[:octets]) + "." for s in subnets], []
    plen = net.prefixlen
    if plen >= 128:
        return [], [str(net.network_address)]
    nibbles = max(1, min(4, (plen + 3) // 4))
    boundary = nibbles * 4
    subnets6: list[Any] = [net] if plen >= boundary else list(net.subnets(new_prefix=boundary))
    prefixes = []
    for s in subnets6:
        first_group = s.network_address.exploded.split(":")[0]
        prefixes.append(first_group[:nibbles])
    return prefixes, []


def in_networks(col: Any, cidrs: list[str]) -> Any:
    """Ibis boolean: ``col`` (an IP string) lies in one of ``cidrs``.

    The covering prefixes (:func:`cidr_prefixes`) are grouped by length and tested as one ``substr(0, n) IN
    (...)`` per length (``starts_with`` when a length has one prefix): no per-row search for the first dot, no
    lower-casing. An IPv4 prefix ends with ``.``, which IPv6 text never has before its first ``:``, so IPv4
    prefixes need no family guard; IPv6 prefixes are matched in both letter cases and then guarded by the
    presence of ``:`` (evaluated only on the rows the prefix matched). This is what the conn scan of every full
    run pays per row: the earlier form (first octet cut at the first dot, a family guard per test,
    ``lower()``) cost about four times reading the addresses."""
    v4: dict[int, set[str]] = {}
    v6: dict[int, set[str]] = {}
    exact: list[str] = []
    every_v4 = False
    for cidr in cidrs:
        if "/" not in cidr and is_ip(cidr):
            exact.append(cidr)
            continue
        prefixes, addrs = cidr_prefixes(cidr)
        exact.extend(addrs)
        family6 = ":" in str(ipaddress.ip_network(cidr, strict=False).network_address)
        for p in prefixes:
            if p == "":
                every_v4 = True
            elif family6:
                v6.setdefault(len(p), set()).update(_letter_cases(p))
            else:
                v4.setdefault(len(p), set()).add(p)
    preds = [_prefix_test(col, n, ps) for n, ps in sorted(v4.items())]
    if every_v4:
        preds.append(~col.contains(":"))
    preds.extend(_prefix_test(col, n, ps) & col.contains(":") for n, ps in sorted(v6.items()))
    if exact:
        preds.append(col.isin(sorted(set(exact))))
    if not preds:
        return ibis.literal(False)
    return reduce(lambda a, b: a | b, preds)


def _prefix_test(col: Any, n: int, prefixes: set[str]) -> Any:
    if len(prefixes) == 1:
        return col.startswith(next(iter(prefixes)))
    return col.substr(0, n).isin(sorted(prefixes))


def _letter_cases(prefix: str) -> set[str]:
    """``prefix`` in every combination of lower and upper case letters (hex digits: at most 16 spellings)."""
    out = {""}
    for ch in prefix:
        out = {o + c for o in out for c in {ch.lower(), ch.upper()}}
    return out


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``value`` spells, None when it is empty or not an address."""
    if not value:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_ip(value: str) -> bool:
    return _address(value) is not None


def is_internal(col: Any, internal: list[str]) -> Any:
    return col.notnull() & in_networks(col, internal)


def is_external(col: Any, internal: list[str]) -> Any:
    """Routable, not internal."""
    return col.notnull() & ~in_networks(col, internal) & ~in_networks(col, NON_ROUTABLE)


def split_allowlist(entries: list[str]) -> tuple[list[str], list[str]]:
    """(CIDRs/IPs, domains) of an allow-list."""
    nets, domains = [], []
    for e in entries:
        e = e.strip()
        try:
            ipaddress.ip_network(e, strict=False)
            nets.append(e)
        except ValueError:
            domains.append(e.lower().strip("."))
    return nets, domains


def domain_allowed(name: str | None, domains: list[str]) -> bool:
    if not name:
        return False
    name = name.lower().strip(".")
    return any(name == d or name.endswith("." + d) for d in domains)


def ip_in(ip: str | None, cidrs: list[str]) -> bool:
    addr = _address(ip)
    if addr is None:
        return False
    for c in cidrs:
        try:
            if addr in ipaddress.ip_network(c, strict=False):
                return True
        except ValueError:
            continue
    return False


def host_address(ip: str | None) -> bool:
    """A parseable address that can be a host's own: not loopback, link-local, multicast or unspecified."""
    addr = _address(ip)
    if addr is None:
        return False
    return not (addr.is_loopback or addr.is_link_local or addr.is_multicast or addr.is_unspecified)


def internal_host(ip: str | None, internal: list[str]) -> bool:
    return host_address(ip) and ip_in(ip, internal)


def external_host(ip: str | None, internal: list[str]) -> bool:
    return host_address(ip) and not ip_in(ip, internal)


def outbound_conn(ctx: Any, conn: Any) -> Any:
    """Flows from an internal host to an external, non-allow-listed server (Ibis filter)."""
    nets, _ = split_allowlist(ctx.allow_servers)
    pred = is_internal(conn.src_ip, ctx.internal) & is_external(conn.dst_ip, ctx.internal)
    if nets:
        pred = pred & ~in_networks(conn.dst_ip, nets)
    if ctx.allow_hosts:
        pred = pred & ~in_networks(conn.src_ip, ctx.allow_hosts)
    return conn.filter(pred)
