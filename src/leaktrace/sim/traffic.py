"""Background traffic of all hosts in one time slice, fully vectorised: browsing (Zipf popularity plus each
host's favourites), DNS look-ups before connections, periodic machine traffic (telemetry, antivirus, NTP,
mail client polling) and directory-server chatter."""

from __future__ import annotations

import numpy as np

from leaktrace.sim.flows import JA3_IDX, ST, SVC, TCP, UDP, Flows
from leaktrace.sim.world import HOUR, US, Day, World


def _ephemeral(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(49152, 65535, n)


def _states(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(
        np.array([ST["SF"], ST["S0"], ST["RSTO"], ST["RSTR"], ST["SH"], ST["S1"]]),
        n,
        p=[0.9, 0.02, 0.04, 0.02, 0.01, 0.01],
    )


def dns_for(
    world: World,
    host_ip: np.ndarray,
    ts: np.ndarray,
    dom: np.ndarray,
    ans: np.ndarray,
    rng: np.random.Generator,
) -> Flows:
    """Look-ups from hosts to the resolver, just before ``ts``."""
    n = len(ts)
    ob = 28 + rng.integers(12, 40, n)
    return Flows.make(
        n,
        ts=ts - rng.integers(3_000, 80_000, n),
        dur=rng.integers(400, 30_000, n),
        src=host_ip,
        dst=world.server_ip["dns"],
        sport=_ephemeral(rng, n),
        dport=53,
        proto=UDP,
        service=SVC["dns"],
        ob=ob,
        rb=ob + rng.integers(16, 220, n),
        state=ST["SF"],
        dnsq=dom,
        dnsans=ans,
    )


def web(world: World, day: Day, t0: int, t1: int, rng: np.random.Generator) -> list[Flows]:
    cfg = world.cfg
    net = world.net
    lo = np.maximum(day.arrive, t0)
    hi = np.minimum(day.leave, t1)
    span = np.clip(hi - lo, 0, None) * day.present
    l0, l1 = day.local_hour(12), day.local_hour(13)
    lunch = np.clip(np.minimum(hi, l1) - np.maximum(lo, l0), 0, None) * day.present
    hours = (span - 0.65 * lunch) / HOUR
    counts = rng.poisson(net.host_rate * hours)
    host = np.repeat(np.arange(net.n_hosts), counts)
    n = len(host)
    if n == 0:
        return []
    ts = lo[host] + (rng.random(n) * span[host]).astype(np.int64)
    fav = rng.random(n) < cfg.favourite_share
    glob = np.minimum(np.searchsorted(world.site_cdf, rng.random(n)), len(world.site_cdf) - 1)
    site = np.where(fav, net.favourites[host, rng.integers(0, net.favourites.shape[1], n)], glob)
    plain = rng.random(n) < cfg.plain_http_share
    state = _states(rng, n)
    dead = state == ST["S0"]
    ob = np.where(dead, 0, (rng.lognormal(np.log(900), 0.9, n) + 250).astype(np.int64))
    rb = np.where(dead, 0, np.minimum(rng.lognormal(np.log(16_000), 1.7, n), 60e6).astype(np.int64))
    dom = world.site_dom[site]
    ok = ~dead
    browser = net.host_browser[host]
    method = rng.choice(4, n, p=[0.93, 0.05, 0.015, 0.005])
    flows = Flows.make(
        n,
        ts=ts,
        dur=np.where(dead, 3 * US, rng.lognormal(np.log(1.5 * US), 1.4, n).astype(np.int64)),
        src=host,
        dst=world.site_ip[site],
        sport=_ephemeral(rng, n),
        dport=np.where(plain, 80, 443),
        proto=TCP,
        service=np.where(dead, 0, np.where(plain, SVC["http"], SVC["ssl"])),
        ob=ob,
        rb=rb,
        state=state,
        sni=np.where(~plain & ok, dom, -1),
        ja3=np.where(browser == 1, JA3_IDX["chrome"], JA3_IDX["edge"]),
        hhost=np.where(plain & ok, dom, -1),
        huri=world.web_uris[rng.integers(0, len(world.web_uris), n)],
        hmethod=method,
        hstatus=rng.choice(5, n, p=[0.82, 0.1, 0.04, 0.01, 0.03]),
        hmime=rng.choice(5, n),
        hua=browser,
    )
    miss = np.flatnonzero(rng.random(n) < cfg.dns_miss_share)
    nx = rng.random(len(miss)) < 0.01
    dns = dns_for(world, host[miss], ts[miss], dom[miss], np.where(nx, -1, world.site_ip[site[miss]]), rng)
    return [flows, dns]


def _periodic_times(
    on_start: np.ndarray,
    on_end: np.ndarray,
    phase: np.ndarray,
    period: float,
    t0: int,
    t1: int,
    jitter: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    p = int(period * US)
    off = (phase * p).astype(np.int64)
    lo = np.maximum(on_start, t0)
    hi = np.minimum(on_end, t1)
    k0 = -((off - lo) // p)  # ceil((lo - off) / p)
    k1 = (hi - 1 - off) // p
    counts = np.where(hi > lo, np.maximum(k1 - k0 + 1, 0), 0)
    host = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    k = k0[host] + (np.arange(len(host)) - starts)
    ts = off[host] + k * p + (rng.uniform(-jitter, jitter, len(host)) * p).astype(np.int64)
    ts = np.clip(ts, t0, t1 - 1)
    return host, ts


def periodic(world: World, day: Day, t0: int, t1: int, rng: np.random.Generator) -> list[Flows]:
    cfg = world.cfg
    out: list[Flows] = []
    specs = [  # (phase column, period, jitter, dst ips, domain, ja3, ob median, rb median)
        (
            0,
            cfg.telemetry_period_s,
            0.03,
            world.telemetry_ip,
            world.svc_dom["telemetry"],
            "schannel",
            3500,
            600,
        ),
        (1, cfg.av_period_s, 0.02, world.av_ip, world.svc_dom["av"], "av", 700, 900),
        (
            2,
            cfg.mail_poll_period_s,
            0.05,
            None,
            world.domains.add("mail01.ministry.local"),
            "outlook",
            1800,
            6000,
        ),
    ]
    for col, period, jitter, dst_ips, dom, ja3, obm, rbm in specs:
        host, ts = _periodic_times(day.on_start, day.on_end, world.phase[:, col], period, t0, t1, jitter, rng)
        if col == 2:  # Outlook runs only while the user is at the desk
            keep = day.present[host] & (ts >= day.arrive[host]) & (ts < day.leave[host])
            host, ts = host[keep], ts[keep]
        n = len(host)
        if n == 0:
            continue
        dst = world.server_ip["mail"] if dst_ips is None else dst_ips[host]
        out.append(
            Flows.make(
                n,
                ts=ts,
                dur=rng.lognormal(np.log(0.4 * US if col < 2 else 45 * US), 0.5, n).astype(np.int64),
                src=host,
                dst=dst,
                sport=_ephemeral(rng, n),
                dport=443,
                proto=TCP,
                service=SVC["ssl"],
                ob=rng.lognormal(np.log(obm), 0.25, n).astype(np.int64),
                rb=rng.lognormal(np.log(rbm), 0.4, n).astype(np.int64),
                state=ST["SF"],
                sni=dom,
                ja3=JA3_IDX[ja3],
            )
        )
    # hourly NTP from every PC to the public NTP servers
    host, ts = _periodic_times(day.on_start, day.on_end, world.phase[:, 3], 3600.0, t0, t1, 0.01, rng)
    if len(host):
        n = len(host)
        out.append(
            Flows.make(
                n,
                ts=ts,
                dur=rng.integers(5_000, 40_000, n),
                src=host,
                dst=world.svc_ips["ntp"][host % 2],
                sport=123,
                dport=123,
                proto=UDP,
                service=SVC["ntp"],
                ob=48,
                rb=48,
                state=ST["SF"],
            )
        )
    return out


def directory(world: World, day: Day, t0: int, t1: int, rng: np.random.Generator) -> list[Flows]:
    lo = np.maximum(day.on_start, t0)
    hi = np.minimum(day.on_end, t1)
    span = np.clip(hi - lo, 0, None)
    counts = rng.poisson(3.0 * span / HOUR)
    host = np.repeat(np.arange(len(counts)), counts)
    n = len(host)
    if n == 0:
        return []
    ldap = rng.random(n) < 0.5
    return [
        Flows.make(
            n,
            ts=lo[host] + (rng.random(n) * span[host]).astype(np.int64),
            dur=rng.lognormal(np.log(0.05 * US), 1.0, n).astype(np.int64),
            src=host,
            dst=world.server_ip["dc"],
            sport=_ephemeral(rng, n),
            dport=np.where(ldap, 389, 88),
            proto=TCP,
            service=np.where(ldap, SVC["ldap_tcp"], SVC["krb_tcp"]),
            ob=rng.integers(300, 3000, n),
            rb=rng.integers(200, 6000, n),
            state=ST["SF"],
        )
    ]


def background(world: World, day: Day, t0: int, t1: int, rng: np.random.Generator) -> Flows:
    return Flows.concat(
        web(world, day, t0, t1, rng) + periodic(world, day, t0, t1, rng) + directory(world, day, t0, t1, rng)
    )
