"""pcap ingest benchmark: a generated capture of N packets (default 1 million), leaktrace vs nfstream.

The capture mixes what an exfiltration case looks like on the wire: HTTPS beacons (TLS handshakes), DNS
queries and answers, cleartext HTTP uploads (multipart bodies) and bulk TCP uploads in bursts, from many
internal hosts. Measured in one run on the same file:

* leaktrace: end-to-end ``ingest`` (decode, flows, DNS/HTTP/TLS/files/bursts, Parquet lake, commit) in a child
  process, in packets/s, with its peak memory;
* nfstream: its own flow extraction (``NFStreamer`` with its defaults: nDPI dissection, no statistics) over
  the same file, in packets/s, and the ratio;
* dpkt: reading the frames only (the floor of any pure-Python reader).

    .venv/bin/python bench/pcap.py [--packets 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dpkt

T0 = 1_714_557_600.0
SERVER_IPS = ["198.51.100.7", "203.0.113.9", "192.0.2.44"]


def _frame(src: str, dst: str, proto: int, l4: dpkt.Packet) -> bytes:
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, data=l4, ttl=64)
    ip.len = 20 + len(bytes(l4))
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=0x0800, data=ip))


class _Session:
    """Frames of one TCP session, built once, then stamped out with other addresses, ports and times."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, bytes]] = []
        self.seq = {0: 1000, 1: 5000}

    def tcp(self, dt: float, d: int, flags: int, payload: bytes = b"") -> None:
        c, s = "10.0.0.1", "198.51.100.7"
        src, dst, sp, dp = (c, s, 40000, 443) if d == 0 else (s, c, 443, 40000)
        seg = dpkt.tcp.TCP(sport=sp, dport=dp, seq=self.seq[d], ack=self.seq[1 - d], flags=flags, win=65535,
                           data=payload)
        self.frames.append((dt, _frame(src, dst, 6, seg)))
        self.seq[d] += len(payload) + (1 if flags & (dpkt.tcp.TH_SYN | dpkt.tcp.TH_FIN) else 0)

    def open(self) -> None:
        self.tcp(0.0, 0, dpkt.tcp.TH_SYN)
        self.tcp(0.001, 1, dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK)
        self.tcp(0.002, 0, dpkt.tcp.TH_ACK)

    def data(self, t: float, d: int, payload: bytes, mss: int = 1448) -> float:
        for i in range(0, len(payload), mss):
            self.tcp(t, d, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, payload[i:i + mss])
            t += 0.0002
        return t

    def close(self, t: float) -> None:
        self.tcp(t, 0, dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK)
        self.tcp(t + 0.001, 1, dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK)
        self.tcp(t + 0.002, 0, dpkt.tcp.TH_ACK)


def _tls_session() -> list[tuple[float, bytes]]:
    import hashlib

    s = _Session()
    s.open()
    hello_body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x04\x13\x01\x13\x02" + b"\x01\x00"
    name = b"cdn.example.org"
    sni = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    exts = struct.pack("!HH", 0, len(sni)) + sni + struct.pack("!HHH", 43, 3, 0x0203) + b"\x04"
    hello_body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + len(hello_body).to_bytes(3, "big") + hello_body
    t = s.data(0.01, 0, b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs)
    t = s.data(t + 0.02, 1, b"\x16\x03\x03\x00\x30" + b"\x02\x00\x00\x2c" + b"\x03\x03" + b"\x00" * 40)
    t = s.data(t + 0.01, 0, b"\x17\x03\x03" + hashlib.sha256(b"x").digest() * 20)
    t = s.data(t + 0.05, 1, b"\x17\x03\x03" + b"\x00" * 3000)
    s.close(t + 0.1)
    return s.frames


def _http_upload() -> list[tuple[float, bytes]]:
    s = _Session()
    s.open()
    body = b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"doc.pdf\"\r\n\r\n%PDF-1.7\n"
    body += bytes(random.Random(1).randrange(256) for _ in range(60_000)) + b"\r\n--B--\r\n"
    req = (b"POST /up HTTP/1.1\r\nHost: up.example.net\r\nContent-Type: multipart/form-data; boundary=B\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    t = s.data(0.01, 0, req)
    t = s.data(t + 0.05, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    s.close(t + 0.01)
    return s.frames


def _burst_upload() -> list[tuple[float, bytes]]:
    s = _Session()
    s.open()
    t = 0.01
    for size in (200_000, 350_000, 120_000):
        t = s.data(t, 0, b"z" * size) + 3.0
    s.close(t)
    return s.frames


def _dns_pair(ident: int) -> list[tuple[float, bytes]]:
    name = b"".join(bytes([len(x)]) + x for x in (b"a%05d" % ident, b"example", b"com")) + b"\x00"
    q = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"
    r = struct.pack("!HHHHHH", ident, 0x8180, 1, 1, 0, 0) + name + b"\x00\x01\x00\x01"
    r += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton("192.0.2.1")
    uq = dpkt.udp.UDP(sport=53000, dport=53, data=q)
    uq.ulen = 8 + len(q)
    ur = dpkt.udp.UDP(sport=53, dport=53000, data=r)
    ur.ulen = 8 + len(r)
    return [(0.0, _frame("10.0.0.1", "10.0.0.53", 17, uq)), (0.01, _frame("10.0.0.53", "10.0.0.1", 17, ur))]


def write_capture(path: Path, n_packets: int, seed: int = 1) -> int:
    """Write a pcap of about ``n_packets`` frames; returns the exact count."""
    rng = random.Random(seed)
    kinds = [(_tls_session(), 60), (_http_upload(), 5), (_burst_upload(), 1), (_dns_pair(1), 34)]
    weights = [w for _, w in kinds]
    events: list[tuple[float, bytes]] = []
    t = T0
    n = 0
    host = 0
    while n < n_packets:
        frames, _ = rng.choices(kinds, weights)[0]
        host += 1
        client = socket.inet_aton(f"10.{(host >> 16) & 255}.{(host >> 8) & 255}.{host & 255 or 1}")
        server = socket.inet_aton(rng.choice(SERVER_IPS))
        port = struct.pack("!H", 10000 + host % 50000)
        for dt, frame in frames:
            f = bytearray(frame)
            src_is_client = f[26:30] in (socket.inet_aton("10.0.0.1"),)
            if src_is_client:
                f[26:30], f[34:36] = client, port
                if f[30:34] != socket.inet_aton("10.0.0.53"):
                    f[30:34] = server
            else:
                f[30:34], f[36:38] = client, port
                if f[26:30] != socket.inet_aton("10.0.0.53"):
                    f[26:30] = server
            events.append((t + dt, bytes(f)))
        n += len(frames)
        t += rng.expovariate(200.0)
    events.sort(key=lambda e: e[0])
    with path.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, frame in events:
            sec = int(ts)
            fh.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(frame), len(frame)))
            fh.write(frame)
    return len(events)


LEAKTRACE_CHILD = """
import json, resource, sys, time
from pathlib import Path


def peak_mb():
    # VmHWM is this process's own high-water mark (ru_maxrss would include the forking parent's size)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


import leaktrace.ingest.net  # registers the pcap ingester
from leaktrace.ingest import ingest_paths
from leaktrace.workspace import Workspace
ws = Workspace.init(Path(sys.argv[1]))
t = time.perf_counter()
s = ingest_paths(ws, [Path(sys.argv[2])])
print(json.dumps({"seconds": time.perf_counter() - t, "rows": s.rows,
                  "peak_mb": peak_mb(),
                  "status": [o.status for o in s.sources], "notes": [o.notes for o in s.sources]}))
"""


def run_nfstream(path: Path) -> tuple[int, float] | None:
    try:
        from nfstream import NFStreamer
    except ImportError:
        return None
    t = time.perf_counter()
    flows = sum(1 for _ in NFStreamer(source=str(path), statistical_analysis=False))
    return flows, time.perf_counter() - t


def run_dpkt(path: Path) -> float:
    t = time.perf_counter()
    with path.open("rb") as fh:
        for _ in dpkt.pcap.Reader(fh):
            pass
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="lt-bench-pcap-"))
    work.mkdir(parents=True, exist_ok=True)
    cap = work / "bench.pcap"
    t0 = time.perf_counter()
    n = write_capture(cap, args.packets)
    gen_s = time.perf_counter() - t0
    size_mb = cap.stat().st_size / 1e6
    read_s = run_dpkt(cap)  # also warms the page cache for both tools

    ws = work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    out = subprocess.run([sys.executable, "-c", LEAKTRACE_CHILD, str(ws), str(cap)], check=True,
                         capture_output=True, text=True)
    res = json.loads(out.stdout)
    peak_mb = res["peak_mb"]  # measured in the child (VmHWM)
    lt_s = res["seconds"]
    assert res["status"] == ["ingested"], res
    nf = run_nfstream(cap)

    print("### bench/pcap")
    print(f"- command: `.venv/bin/python bench/pcap.py --packets {args.packets}`")
    print(f"- machine: {platform.machine()}, Python {platform.python_version()}, 2 cores / 24 GB")
    print(f"- data: generated pcap, {n:,} packets, {size_mb:,.0f} MB (TLS beacons, DNS, HTTP multipart "
          f"uploads, burst uploads; generated in {gen_s:.1f} s)")
    rows = res["rows"]
    print(f"- leaktrace ingest (child process, end to end): {lt_s:.2f} s = {n / lt_s:,.0f} packets/s, "
          f"peak RSS {peak_mb:,.0f} MB; rows: " + ", ".join(f"{k} {v:,}" for k, v in sorted(rows.items())))
    if nf is None:
        print("- nfstream: not installed, no comparison")
    else:
        flows, nf_s = nf
        print(f"- nfstream {_nf_version()} flow extraction (defaults, nDPI on, statistics off): {nf_s:.2f} s = "
              f"{n / nf_s:,.0f} packets/s, {flows:,} flows")
        print(f"- ratio leaktrace time / nfstream time: {lt_s / nf_s:.2f}x "
              f"(leaktrace runs at {nf_s / lt_s:.0%} of nfstream's packet rate)")
    print(f"- dpkt frame reading alone: {read_s:.2f} s = {n / read_s:,.0f} packets/s")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


def _nf_version() -> str:
    try:
        import nfstream

        return str(getattr(nfstream, "__version__", ""))
    except ImportError:
        return ""


if __name__ == "__main__":
    main()
