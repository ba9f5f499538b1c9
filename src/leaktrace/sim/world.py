"""Shared state of one simulation: the network, string vocabularies, and each day's schedule of hosts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np

from leaktrace.sim.config import SimulationConfig
from leaktrace.sim.flows import Renderer, Vocab
from leaktrace.sim.names import SITE_WORDS
from leaktrace.sim.network import SERVERS, Network, build_network

US = 1_000_000
HOUR = 3600 * US


@dataclass
class Day:
    """One local day: who is in, when each PC is on, and the phases of periodic machine traffic."""

    index: int
    label: str  # local date YYYY-MM-DD
    start: int  # epoch µs of local midnight
    weekend: bool
    present: np.ndarray  # bool per host
    arrive: np.ndarray  # epoch µs
    leave: np.ndarray
    on_start: np.ndarray  # PC powered on
    on_end: np.ndarray

    @property
    def end(self) -> int:
        return self.start + 24 * HOUR

    def local_hour(self, hour: float) -> int:
        return self.start + int(hour * HOUR)


class World:
    """Network + vocabularies + per-host fixed choices; built once per simulation."""

    def __init__(self, cfg: SimulationConfig, rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.tz = timezone(timedelta(hours=cfg.tz_offset_hours))
        self.net: Network = build_network(cfg, rng)
        n = self.net.n_hosts
        self.ips = Vocab(self.net.host_ips)
        self.server_ip = {role: self.ips.add(s.ip) for role, s in SERVERS.items()}
        self.internal_count = len(self.ips)
        self.domains = Vocab()
        self.site_ip = np.array([self.ips.add(ip) for ip in self.net.site_ip], dtype=np.int64)
        self.site_dom = np.array([self.domains.add(d) for d in self.net.site_domain], dtype=np.int64)
        self.svc_ips = {
            k: np.array([self.ips.add(ip) for ip in s.ips], dtype=np.int64)
            for k, s in self.net.services.items()
        }
        self.svc_dom = {k: self.domains.add(s.domain) for k, s in self.net.services.items()}
        self.uris = Vocab()
        self.web_uris = np.array([self.uris.add(u) for u in _uris(rng, 600)], dtype=np.int64)
        self.site_cdf = np.cumsum(self.net.site_weight)
        # per-host fixed choices
        self.phase = rng.random((n, 4))  # telemetry, av, mail poll, dc
        self.telemetry_ip = self.svc_ips["telemetry"][rng.integers(0, 2, n)]
        self.av_ip = self.svc_ips["av"][rng.integers(0, 2, n)]
        self.benign_uploads: list[dict[str, object]] = []  # large or rare legitimate uploads, for scoring
        self.partner_group = np.sort(rng.choice(n, size=min(cfg.partner_group, n), replace=False))
        # mail partners: external organisations whose MTAs exchange mail with ours
        partner_names = [
            f"{SITE_WORDS[i % len(SITE_WORDS)]}-{SITE_WORDS[(i * 7 + 3) % len(SITE_WORDS)]}.or.jp"
            for i in range(40)
        ] + ["mofa.go.jp", "cas.go.jp", "soumu.go.jp", "gmail.com", "outlook.jp"]
        self.partner_domains = partner_names
        self.partner_mta = [self.ips.add(ip) for ip in self.net.ip_pool.take(len(partner_names))]
        self.renderer = Renderer(self.ips, self.domains, self.uris, self.internal_count)

    def day_start(self, index: int) -> int:
        """Epoch µs of local midnight of day ``index``."""
        local = date.fromisoformat(self.cfg.start) + timedelta(days=index)
        return int(datetime(local.year, local.month, local.day, tzinfo=self.tz).timestamp()) * US

    def day(self, index: int, rng: np.random.Generator) -> Day:
        cfg = self.cfg
        n = self.net.n_hosts
        local = date.fromisoformat(cfg.start) + timedelta(days=index)
        start = self.day_start(index)
        weekend = local.weekday() >= 5
        present = rng.random(n) >= cfg.absent_fraction
        if weekend:
            present = rng.random(n) < cfg.weekend_presence
        arrive_h = np.clip(rng.normal(cfg.arrive_hour, 0.4, n), 7.0, 11.0)
        leave_h = np.clip(rng.normal(cfg.leave_hour, 1.3, n), arrive_h + 4.0, 23.5)
        if weekend:
            leave_h = np.minimum(leave_h, arrive_h + rng.uniform(2, 6, n))
        arrive = start + (arrive_h * HOUR).astype(np.int64)
        leave = start + (leave_h * HOUR).astype(np.int64)
        on_start = np.where(self.net.always_on, start, arrive - 8 * 60 * US)
        on_end = np.where(self.net.always_on, start + 24 * HOUR, leave + 5 * 60 * US)
        off = ~present & ~self.net.always_on
        on_end = np.where(off, on_start, on_end)
        return Day(index, local.isoformat(), start, weekend, present, arrive, leave, on_start, on_end)

    def iso(self, us: int) -> str:
        return datetime.fromtimestamp(us / US, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _uris(rng: np.random.Generator, n: int) -> list[str]:
    heads = [
        "/",
        "/news/",
        "/img/",
        "/static/js/",
        "/css/",
        "/api/v1/",
        "/assets/",
        "/press/",
        "/ja/",
        "/topics/",
    ]
    tails = [".html", ".jpg", ".js", ".png", ".css", "", ".json", ".php"]
    out = []
    for i in range(n):
        h = heads[int(rng.integers(len(heads)))]
        t = tails[int(rng.integers(len(tails)))]
        out.append(f"{h}{int(rng.integers(1000, 99999))}{t}" if i else "/")
    return out
