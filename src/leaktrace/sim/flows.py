"""Flows as parallel numpy columns, and their rendering into Zeek conn/ssl/http/dns columns.

Strings (IPs, domains, URIs) are indices into a :class:`Vocab`; a value of ``-1`` in an optional column means
"no such record" (e.g. ``sni == -1``: no ssl.log line for that flow).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pyarrow as pa

from leaktrace.sim import zeek_writer as zw


class Vocab:
    """A growing list of distinct strings with their indices."""

    def __init__(self, items: list[str] | None = None) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}
        self._arrow: pa.Array | None = None
        for item in items or []:
            self.add(item)

    def add(self, item: str) -> int:
        idx = self._index.get(item)
        if idx is None:
            idx = len(self.items)
            self.items.append(item)
            self._index[item] = idx
            self._arrow = None
        return idx

    def __getitem__(self, item: str) -> int:
        return self._index[item]

    def __len__(self) -> int:
        return len(self.items)

    def arrow(self) -> pa.Array:
        if self._arrow is None:
            self._arrow = pa.array(self.items, pa.string())
        return self._arrow


PROTOS = ["tcp", "udp", "icmp"]
TCP, UDP = 0, 1

# Neutral values of the optional flow columns (``ts``, ``src``, ``dst`` and ``dport`` have none).
FLOW_DEFAULTS: dict[str, int] = {
    "dur": 0,
    "sport": 0,
    "proto": TCP,
    "service": 0,
    "ob": 0,
    "rb": 0,
    "state": 0,
    "sni": -1,
    "ja3": 0,
    "hhost": -1,
    "huri": 0,
    "hmethod": 0,
    "hstatus": 0,
    "hmime": 0,
    "hua": 0,
    "dnsq": -1,
    "dnsans": -1,
    "tag": -1,
}
REQUIRED_COLUMNS = ("ts", "src", "dst", "dport")
SERVICES = ["-", "ssl", "http", "dns", "gssapi,smb,krb", "smtp", "ntp", "dhcp", "krb_tcp", "ldap_tcp"]
SVC = {name: i for i, name in enumerate(SERVICES)}
STATES = ["SF", "S0", "REJ", "RSTO", "RSTR", "S1", "SH", "OTH"]
ST = {name: i for i, name in enumerate(STATES)}
_HIST_TCP = ["ShADadFf", "S", "Sr", "ShADadR", "ShADadr", "ShADad", "ShAF", "CcA"]
_HIST_UDP = ["Dd", "D", "-", "Dd", "Dd", "Dd", "D", "Dd"]

JA3 = {
    "edge": "b32309a26951912be7dba376398abc3b",
    "chrome": "cd08e31494f9531f560d64c695473da9",
    "schannel": "3b5074b1b5d032e5620f69f9f700ff0e",
    "teams": "773906b0efdefa24a7f2b8eb6985bf37",
    "onedrive": "28a2c9bd18a11de089ef85a160da29e4",
    "av": "a0e9f5d64349fb13191bc781f81f42e1",
    "outlook": "9e10692f1b7f78228b2d4e424db3a98c",
    "malware": "51c64c77e60f3980eea90869b68c58a8",
}
JA3_NAMES = list(JA3)
JA3_IDX = {name: i for i, name in enumerate(JA3_NAMES)}
JA3S = [
    "f4febc55ea12b31ae17cfb7e614afda8",
    "15af977ce25de452b96affa2addb1036",
    "ae4edc6faf64d08308082ad26be60767",
]

HTTP_METHODS = ["GET", "POST", "HEAD", "PUT"]
HTTP_STATUS = [
    (200, "OK"),
    (304, "Not Modified"),
    (404, "Not Found"),
    (206, "Partial Content"),
    (302, "Found"),
]
MIME = [
    "text/html",
    "image/jpeg",
    "application/javascript",
    "image/png",
    "text/css",
    "application/vnd.ms-cab-compressed",
    "application/octet-stream",
    "application/json",
    "-",
]
MIME_IDX = {m: i for i, m in enumerate(MIME)}
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 "
    "Safari/537.36 Edg/133.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 "
    "Safari/537.36",
    "Microsoft-Delivery-Optimization/10.0",
    "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.71",
]


@dataclass
class Flows:
    """A batch of connections with the optional ssl/http/dns facts that go with each."""

    ts: np.ndarray  # start, epoch microseconds
    dur: np.ndarray  # microseconds
    src: np.ndarray  # ip vocab index
    dst: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    proto: np.ndarray
    service: np.ndarray
    ob: np.ndarray  # orig (payload) bytes
    rb: np.ndarray
    state: np.ndarray
    sni: np.ndarray  # domain vocab index or -1
    ja3: np.ndarray
    hhost: np.ndarray  # http host (domain index) or -1
    huri: np.ndarray  # uri vocab index
    hmethod: np.ndarray
    hstatus: np.ndarray
    hmime: np.ndarray
    hua: np.ndarray
    dnsq: np.ndarray  # dns query (domain index) or -1
    dnsans: np.ndarray  # answer ip index or -1 (NXDOMAIN)
    tag: np.ndarray  # episode tag (index into a side table) or -1

    def __len__(self) -> int:
        return len(self.ts)

    @staticmethod
    def make(n: int, **cols: Any) -> Flows:
        """A batch of ``n`` flows; unspecified columns get neutral defaults, scalars are broadcast."""
        out: dict[str, np.ndarray] = {}
        for f in fields(Flows):
            value = cols.get(f.name, FLOW_DEFAULTS.get(f.name))
            if value is None:
                raise ValueError(f"Flows.make needs column {f.name}")
            arr = np.asarray(value, dtype=np.int64)
            out[f.name] = np.full(n, int(arr), dtype=np.int64) if arr.ndim == 0 else arr
        return Flows(**out)

    @staticmethod
    def concat(parts: list[Flows]) -> Flows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Flows.make(0, ts=np.zeros(0), src=np.zeros(0), dst=np.zeros(0), dport=np.zeros(0))
        return Flows(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Flows)})

    def select(self, idx: np.ndarray) -> Flows:
        return Flows(**{f.name: getattr(self, f.name)[idx] for f in fields(Flows)})


def packets(nbytes: np.ndarray, rng: np.random.Generator, mss: int = 1380) -> np.ndarray:
    return nbytes // mss + 2 + rng.integers(0, 3, len(nbytes))


class Renderer:
    """Turns sorted :class:`Flows` into Zeek column blocks, sharing the vocabularies of one simulation."""

    def __init__(self, ips: Vocab, domains: Vocab, uris: Vocab, internal_ips: int) -> None:
        self.ips = ips
        self.domains = domains
        self.uris = uris
        self.internal_ips = internal_ips  # ip indices below this are local (10/8)
        self._ja3 = pa.array([JA3[n] for n in JA3_NAMES])
        self._hist = pa.array(_HIST_TCP + _HIST_UDP)

    def conn(self, f: Flows, uid: pa.Array, rng: np.random.Generator) -> dict[str, Any]:
        n = len(f)
        zero = (f.ob == 0) & (f.rb == 0)
        opk = np.where(f.state == ST["S0"], rng.integers(1, 4, n), packets(f.ob, rng))
        rpk = np.where(np.isin(f.state, [ST["S0"]]), 0, np.where(f.state == ST["REJ"], 1, packets(f.rb, rng)))
        hdr = np.where(f.proto == TCP, 52, 28)
        dur = zw.fmt_micros(f.dur)
        dur = zw.take(
            pa.concat_arrays([dur, pa.array(["-"])]), np.where(zero & (f.dur == 0), n, np.arange(n))
        )
        return {
            "ts": zw.fmt_micros(f.ts),
            "uid": uid,
            "id.orig_h": zw.take(self.ips.arrow(), f.src),
            "id.orig_p": f.sport,
            "id.resp_h": zw.take(self.ips.arrow(), f.dst),
            "id.resp_p": f.dport,
            "proto": zw.take(PROTOS, f.proto),
            "service": zw.take(SERVICES, f.service),
            "duration": dur,
            "orig_bytes": f.ob,
            "resp_bytes": f.rb,
            "conn_state": zw.take(STATES, f.state),
            "local_orig": f.src < self.internal_ips,
            "local_resp": f.dst < self.internal_ips,
            "missed_bytes": np.zeros(n, dtype=np.int64),
            "history": zw.take(self._hist, f.state + np.where(f.proto == TCP, 0, len(_HIST_TCP))),
            "orig_pkts": opk,
            "orig_ip_bytes": f.ob + opk * hdr,
            "resp_pkts": rpk,
            "resp_ip_bytes": f.rb + rpk * hdr,
        }

    def ssl(self, f: Flows, uid: pa.Array, rng: np.random.Generator) -> tuple[dict[str, Any], np.ndarray]:
        rows = np.flatnonzero(f.sni >= 0)
        n = len(rows)
        g = f.select(rows)
        tls13 = rng.random(n) < 0.8
        ok = g.state == ST["SF"]
        cols = {
            "ts": zw.fmt_micros(g.ts + rng.integers(2000, 40000, n)),
            "uid": uid.take(pa.array(rows)),
            "id.orig_h": zw.take(self.ips.arrow(), g.src),
            "id.orig_p": g.sport,
            "id.resp_h": zw.take(self.ips.arrow(), g.dst),
            "id.resp_p": g.dport,
            "version": zw.take(["TLSv12", "TLSv13"], tls13),
            "cipher": zw.take(["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"], tls13),
            "curve": zw.take(["secp256r1", "x25519"], tls13 | (rng.random(n) < 0.5)),
            "server_name": zw.take(self.domains.arrow(), g.sni),
            "resumed": rng.random(n) < 0.25,
            "next_protocol": zw.take(["-", "h2", "http/1.1"], rng.choice(3, n, p=[0.3, 0.6, 0.1])),
            "established": ok,
            "ssl_history": zw.take(["Cs", "CsiI"], tls13),
            "ja3": zw.take(self._ja3, g.ja3),
            "ja3s": zw.take(JA3S, rng.integers(0, len(JA3S), n)),
        }
        return cols, g.ts

    def http(self, f: Flows, uid: pa.Array, rng: np.random.Generator) -> tuple[dict[str, Any], np.ndarray]:
        rows = np.flatnonzero(f.hhost >= 0)
        n = len(rows)
        g = f.select(rows)
        status = np.array([s for s, _ in HTTP_STATUS])[g.hstatus]
        msg = [m for _, m in HTTP_STATUS]
        get = g.hmethod == 0
        req_len = np.where(get, 0, np.maximum(g.ob - 400, 0))
        resp_len = np.where(status == 304, 0, np.maximum(g.rb - 350, 0))
        cols = {
            "ts": zw.fmt_micros(g.ts + rng.integers(1000, 20000, n)),
            "uid": uid.take(pa.array(rows)),
            "id.orig_h": zw.take(self.ips.arrow(), g.src),
            "id.orig_p": g.sport,
            "id.resp_h": zw.take(self.ips.arrow(), g.dst),
            "id.resp_p": g.dport,
            "trans_depth": np.ones(n, dtype=np.int64),
            "method": zw.take(HTTP_METHODS, g.hmethod),
            "host": zw.take(self.domains.arrow(), g.hhost),
            "uri": zw.take(self.uris.arrow(), g.huri),
            "version": "1.1",
            "user_agent": zw.take(USER_AGENTS, g.hua),
            "request_body_len": req_len,
            "response_body_len": resp_len,
            "status_code": status,
            "status_msg": zw.take(msg, g.hstatus),
            "tags": "(empty)",
            "resp_mime_types": zw.take(MIME, np.where(resp_len > 0, g.hmime, MIME_IDX["-"])),
        }
        return cols, g.ts

    def dns(self, f: Flows, uid: pa.Array, rng: np.random.Generator) -> tuple[dict[str, Any], np.ndarray]:
        rows = np.flatnonzero(f.dnsq >= 0)
        n = len(rows)
        g = f.select(rows)
        nx = g.dnsans < 0
        ttl = rng.choice(np.array([20, 60, 300, 3600]), n)
        answers = zw.take(self.ips.arrow(), np.where(nx, 0, g.dnsans))
        ttls = zw.fmt_micros(ttl * 1_000_000)
        unset = pa.array(["-"] * 1)
        cols = {
            "ts": zw.fmt_micros(g.ts),
            "uid": uid.take(pa.array(rows)),
            "id.orig_h": zw.take(self.ips.arrow(), g.src),
            "id.orig_p": g.sport,
            "id.resp_h": zw.take(self.ips.arrow(), g.dst),
            "id.resp_p": g.dport,
            "proto": "udp",
            "trans_id": rng.integers(1, 65535, n),
            "rtt": zw.fmt_micros(np.maximum(g.dur, 200)),
            "query": zw.take(self.domains.arrow(), g.dnsq),
            "qclass": "1",
            "qclass_name": "C_INTERNET",
            "qtype": "1",
            "qtype_name": "A",
            "rcode": zw.take(["0", "3"], nx),
            "rcode_name": zw.take(["NOERROR", "NXDOMAIN"], nx),
            "AA": "F",
            "TC": "F",
            "RD": "T",
            "RA": "T",
            "Z": "0",
            "answers": zw.take(pa.concat_arrays([answers, unset]), np.where(nx, n, np.arange(n))),
            "TTLs": zw.take(pa.concat_arrays([ttls, unset]), np.where(nx, n, np.arange(n))),
            "rejected": "F",
        }
        return cols, g.ts
