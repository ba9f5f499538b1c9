"""The simulated organisation: PCs and their users, internal servers, and the outside world it talks to."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from leaktrace.sim.config import SimulationConfig
from leaktrace.sim.names import GIVEN_NAMES, SITE_WORDS, SURNAMES, TLDS

DOMAIN = "ministry.local"
NETBIOS = "MINISTRY"


@dataclass(frozen=True)
class Server:
    role: str
    name: str
    ip: str


SERVERS: dict[str, Server] = {
    "dhcp": Server("dhcp", "core-sw01", "10.0.0.1"),
    "dc": Server("dc", "dc01", "10.0.0.10"),
    "dns": Server("dns", "dns01", "10.0.0.53"),
    "fileserver": Server("fileserver", "fileserver", "10.0.1.20"),
    "mail": Server("mail", "mail01", "10.0.1.25"),
}


@dataclass(frozen=True)
class Service:
    """A named external service: one domain served from one or more IPs."""

    key: str
    domain: str
    ips: tuple[str, ...]


# Named services (key, domain, number of IPs). Popular sites head the browsing Zipf in this order.
# fmt: off
_SERVICES: list[tuple[str, str, int]] = [
    ("sharepoint", "ministry.sharepoint.com", 4),
    ("o365", "outlook.office365.com", 4),
    ("teams", "teams.microsoft.com", 3),
    ("teams_media", "relay.teams.microsoft.com", 3),
    ("box", "upload.app.box.com", 3),
    ("zoom", "zoom.us", 3),
    ("winupdate", "download.windowsupdate.com", 4),
    ("delivery", "tlu.dl.delivery.mp.microsoft.com", 4),
    ("telemetry", "v10.events.data.microsoft.com", 2),
    ("av", "iaus.activeupdate.trendmicro.com", 2),
    ("ntp", "ntp.nict.jp", 2),
    ("partner", "exchange.partner-forum.or.jp", 1),
]
POPULAR_SITES: list[str] = [
    "www.google.com", "www.yahoo.co.jp", "www.bing.com", "news.yahoo.co.jp", "www.nhk.or.jp", "www.e-gov.go.jp",
    "www.mofa.go.jp", "www.kantei.go.jp", "www.nikkei.com", "www.asahi.com", "www.yomiuri.co.jp",
    "ja.wikipedia.org", "www.youtube.com", "www.jma.go.jp", "www.digital.go.jp", "www.mainichi.jp",
    "www.jiji.com", "www.reuters.com", "www.bbc.com", "www.cao.go.jp", "www.soumu.go.jp", "www.mof.go.jp",
    "www.meti.go.jp", "www.mhlw.go.jp", "www.nisc.go.jp", "www.ipa.go.jp", "www.jpcert.or.jp", "www.amazon.co.jp",
    "www.rakuten.co.jp", "www.microsoft.com", "login.microsoftonline.com", "www.apple.com", "www.jal.co.jp",
    "www.ana.co.jp", "www.jreast.co.jp", "www.navitime.co.jp", "www.weblio.jp", "translate.google.com",
    "www.deepl.com", "github.com",
]

_PUBLIC_FIRST_OCTETS = np.array(
    [13, 18, 20, 23, 31, 34, 35, 40, 43, 45, 49, 52, 54, 59, 60, 61, 64, 66, 72, 85, 91, 101, 103, 104, 106,
     110, 111, 114, 118, 119, 120, 121, 125, 126, 133, 137, 140, 142, 150, 151, 153, 157, 160, 163, 175, 180,
     182, 183, 185, 188, 193, 195, 202, 203, 210, 211, 218, 219, 220, 221, 222],
    dtype=np.int64,
)
# fmt: on


class IpPool:
    """Unique public-looking IPv4 addresses (no RFC 1918, loopback, multicast or documentation ranges)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def take(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            k = (n - len(out)) * 2
            a = _PUBLIC_FIRST_OCTETS[self._rng.integers(0, len(_PUBLIC_FIRST_OCTETS), k)]
            b = self._rng.integers(0, 256, k)
            c = self._rng.integers(0, 256, k)
            d = self._rng.integers(1, 255, k)
            for ip in (f"{w}.{x}.{y}.{z}" for w, x, y, z in zip(a, b, c, d, strict=True)):
                if ip not in self._used and len(out) < n:
                    self._used.add(ip)
                    out.append(ip)
        return out


@dataclass
class Network:
    """Hosts (index i is ``pc-{i+1:04d}``), servers, and the external endpoints as parallel arrays."""

    host_names: list[str]
    host_ips: list[str]
    host_macs: list[str]
    users: list[str]  # account names, e.g. ``tanaka.hiroshi``
    user_display: list[str]  # 田中 浩
    host_rate: np.ndarray  # browsing flows per active hour
    host_browser: np.ndarray  # 0 = Edge, 1 = Chrome
    always_on: np.ndarray  # bool
    favourites: np.ndarray  # (hosts, k) indices into the site arrays
    site_domain: list[str]  # browsing endpoints (domain, ip), Zipf-ranked
    site_ip: list[str]
    site_weight: np.ndarray  # normalised popularity
    services: dict[str, Service]
    ip_pool: IpPool = field(repr=False)

    @property
    def n_hosts(self) -> int:
        return len(self.host_ips)

    def fqdn(self, i: int) -> str:
        return f"{self.host_names[i]}.{DOMAIN}"


MAX_HOSTS = 256 * 200 * 4


def host_ip(i: int) -> str:
    """PCs live in 10.1.0.0/16 … 10.4.0.0/16, 200 per /24 (addresses .20–.219)."""
    block, rest = divmod(i, 256 * 200)
    return f"10.{1 + block}.{rest // 200}.{rest % 200 + 20}"


def _long_tail_domains(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    words = np.array(SITE_WORDS)
    tlds = np.array(TLDS)
    tld_p = np.array([0.25, 0.2, 0.08, 0.05, 0.22, 0.07, 0.05, 0.02, 0.03, 0.03])
    while len(out) < n:
        k = n - len(out) + 16
        w1 = words[rng.integers(0, len(words), k)]
        w2 = words[rng.integers(0, len(words), k)]
        num = rng.integers(0, 100, k)
        tld = tlds[rng.choice(len(tlds), size=k, p=tld_p / tld_p.sum())]
        pre = rng.choice(np.array(["www.", "", "", "cdn.", "api."]), size=k)
        for a, b, c, t, p in zip(w1, w2, num, tld, pre, strict=True):
            name = f"{p}{a}-{b}.{t}" if c < 70 else f"{p}{a}{b}{c}.{t}"
            if a != b and name not in taken:
                taken.add(name)
                out.append(name)
                if len(out) == n:
                    break
    return out


def build_network(cfg: SimulationConfig, rng: np.random.Generator) -> Network:
    n = cfg.hosts
    pool = IpPool(rng)
    services = {key: Service(key, dom, tuple(pool.take(k))) for key, dom, k in _SERVICES}

    names = [f"pc-{i + 1:04d}" for i in range(n)]
    ips = [host_ip(i) for i in range(n)]
    mac_tail = rng.integers(0, 2**24, n)
    macs = [f"00:1b:21:{(m >> 16) & 255:02x}:{(m >> 8) & 255:02x}:{m & 255:02x}" for m in mac_tail]
    sur = rng.integers(0, len(SURNAMES), n)
    giv = rng.integers(0, len(GIVEN_NAMES), n)
    seen: dict[str, int] = {}
    users, display = [], []
    for s, g in zip(sur, giv, strict=True):
        base = f"{SURNAMES[s][1]}.{GIVEN_NAMES[g][1]}"
        seen[base] = seen.get(base, 0) + 1
        users.append(base if seen[base] == 1 else f"{base}{seen[base]}")
        display.append(f"{SURNAMES[s][0]} {GIVEN_NAMES[g][0]}")

    # browsing endpoints: popular named sites first (some on 2 IPs), then a generated long tail
    domains: list[str] = []
    site_ips: list[str] = []
    for dom in POPULAR_SITES:
        for ip in pool.take(2):
            domains.append(dom)
            site_ips.append(ip)
    # cloud services are also browsed (the same IPs carry the big uploads)
    for key in ("sharepoint", "o365", "teams", "box", "zoom"):
        for ip in services[key].ips:
            domains.insert(2, services[key].domain)
            site_ips.insert(2, ip)
    tail = _long_tail_domains(rng, max(cfg.n_external_sites - len(domains), 100), set(domains))
    domains.extend(tail)
    site_ips.extend(pool.take(len(tail)))
    ranks = np.arange(1, len(domains) + 1, dtype=np.float64)
    weight = ranks ** (-cfg.zipf_exponent)
    weight /= weight.sum()
    favourites = rng.choice(len(domains), size=(n, cfg.favourites_per_host), p=weight)
    # favourites are biased towards the host's own niche: re-draw half from the tail
    niche = rng.integers(len(POPULAR_SITES), len(domains), size=(n, cfg.favourites_per_host // 2))
    favourites[:, : niche.shape[1]] = niche

    rate = cfg.web_flows_per_host_hour * rng.lognormal(-(cfg.host_rate_sigma**2) / 2, cfg.host_rate_sigma, n)
    return Network(
        host_names=names,
        host_ips=ips,
        host_macs=macs,
        users=users,
        user_display=display,
        host_rate=rate,
        host_browser=(rng.random(n) < 0.3).astype(np.int64),
        always_on=rng.random(n) < cfg.always_on_fraction,
        favourites=favourites,
        site_domain=domains,
        site_ip=site_ips,
        site_weight=weight,
        services=services,
        ip_pool=pool,
    )
