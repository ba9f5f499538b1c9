"""Bidirectional flow tracking with Zeek-like semantics, and the per-flow application analyzers.

* Originator = sender of the first packet, or of the SYN (a first SYN-ACK flips the flow, history ``^``);
  midstream flows from a port < 1024 to a port >= 1024 are flipped too.
* ``bytes_out``/``bytes_in`` are payload bytes, counted from TCP sequence numbers as Zeek does (retransmissions
  count once, gaps count and are reported in ``missed_bytes``); ``ip_bytes_*`` are IP lengths.
* ``state`` approximates Zeek's ``conn_state`` (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH)
  and ``history`` uses Zeek's letters (each recorded once per direction).
* A flow ends after an idle timeout (TCP 300 s, UDP/ICMP 60 s), 5 s after it was closed (FIN both ways or
  RST), on a new SYN after it closed, or after ``active_timeout`` seconds if set (long flows are then split).
* Application: payload first (TLS record, HTTP request line, SSH banner, DNS), else the port (``extra.app_by``).

Analyzers: DNS (UDP and TCP, query/response matched by id and name), HTTP/1.x (metadata and bodies → files),
TLS (ClientHello SNI, JA3, JA4; ServerHello version, cipher, JA3S), and upload bursts (originator payload
split at idle gaps of ``burst_gap`` seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leaktrace.ingest.net import dnswire, tlshello
from leaktrace.ingest.net.common import Row, stable_id, to_json
from leaktrace.ingest.net.httpstream import HttpConnection, looks_like_request, multipart_parts
from leaktrace.ingest.net.magic import sniff_mime
from leaktrace.ingest.net.packets import ACK, FIN, ICMP, ICMP6, PROTO_NAMES, RST, SYN, TCP, UDP, Packet

PORT_APPS = {80: "http", 8080: "http", 3128: "http", 443: "ssl", 8443: "ssl", 993: "ssl", 995: "ssl",
             465: "ssl", 22: "ssh", 25: "smtp", 587: "smtp", 53: "dns", 5353: "dns", 5355: "dns", 123: "ntp",
             67: "dhcp", 68: "dhcp", 137: "netbios-ns", 138: "netbios-dgm", 139: "smb", 445: "smb",
             3389: "rdp", 88: "krb", 389: "ldap", 636: "ldap", 135: "dce_rpc", 1900: "ssdp", 21: "ftp",
             110: "pop3", 143: "imap", 161: "snmp", 514: "syslog", 5985: "winrm"}
DNS_PORTS = {53, 5353, 5355}
TLS_BUF_MAX = 32 * 1024
_MASK = 0xFFFFFFFF
_HALF = 0x80000000


@dataclass
class FlowOptions:
    tcp_timeout: float = 300.0
    udp_timeout: float = 60.0
    close_delay: float = 5.0
    active_timeout: float | None = None
    burst_gap: float = 1.0
    burst_min_bytes: int = 1024
    http_files: bool = True


Emit = Callable[[str, Row], None]


class Flow:
    __slots__ = (
        "uid", "key", "first_pkt", "ts_first", "ts_last", "proto", "orig", "resp", "pkts", "bytes", "ip_bytes",
        "missed", "next_seq", "hist", "app", "app_by", "tls_buf", "tls", "http", "n_bursts", "burst", "closed_at",
        "first_rst", "flipped", "detect_left",
    )

    def __init__(self, uid: str, key: tuple[Any, ...], idx: int, ts: float, p: Packet, flip: bool) -> None:
        self.uid = uid
        self.key = key
        self.first_pkt = idx
        self.ts_first = self.ts_last = ts
        self.proto = p.proto
        a, b = (p.src, p.sport), (p.dst, p.dport)
        self.orig, self.resp = (b, a) if flip else (a, b)
        self.flipped = flip
        self.pkts = [0, 0]
        self.bytes = [0, 0]
        self.ip_bytes = [0, 0]
        self.missed = [0, 0]
        self.next_seq: list[int | None] = [None, None]
        self.hist = "^" if flip else ""
        self.app: str | None = None
        self.app_by: str | None = None
        self.tls_buf: list[bytearray] | None = None
        self.tls: dict[str, Any] | None = None
        self.http: HttpConnection | None = None
        self.n_bursts = 0  # bursts emitted so far
        self.burst: list[float] | None = None  # the open burst: [start, end, bytes, packets]
        self.closed_at: float | None = None
        self.first_rst: int | None = None
        self.detect_left = 3  # payload packets on which to try application detection

    def mark(self, letter: str, d: int) -> None:
        ch = letter if d == 0 else letter.lower()
        if ch not in self.hist:
            self.hist += ch

    def state(self) -> str:
        h = self.hist
        if self.proto == UDP:
            if self.pkts[0] and self.pkts[1]:
                return "SF"
            return "S0" if self.pkts[0] else "SHR"
        if self.proto != TCP:
            return "OTH"
        syn, synack = "S" in h, "h" in h
        ofin, rfin, orst, rrst = "F" in h, "f" in h, "R" in h, "r" in h
        if orst and (not rrst or self.first_rst == 0):
            if syn and not synack:
                return "RSTOS0"
            return "RSTO"
        if rrst:
            if syn and not synack:
                return "REJ"
            if synack and not syn:
                return "RSTRH"
            return "RSTR"
        if syn and not synack:
            return "SH" if ofin else "S0"
        if synack and not syn:
            return "SHR" if rfin else "OTH"
        if not syn:
            return "OTH"
        if ofin and rfin:
            return "SF"
        if ofin:
            return "S2"
        if rfin:
            return "S3"
        return "S1"


# ICMP reply type -> its request type (v4 echo, timestamp, info, mask; v6 echo)
_ICMP_REPLY = {(1, 0): 8, (1, 14): 13, (1, 16): 15, (1, 18): 17, (58, 129): 128}


def _icmp_as_flow(p: Packet) -> Packet:
    """ICMP as Zeek sees it: "ports" are (request type, 0), so a request and its reply share one flow; a reply
    seen first is flipped (its receiver originated the exchange)."""
    req = _ICMP_REPLY.get((p.proto, p.sport))
    if req is None:
        return p._replace(sport=p.sport, dport=0)
    return p._replace(sport=0, dport=req)


def _flip(p: Packet) -> bool:
    if p.proto == TCP:
        if p.flags & SYN:
            return bool(p.flags & ACK)
        return p.sport < 1024 <= p.dport
    if p.proto in (ICMP, ICMP6):
        return p.sport == 0 and p.dport != 0  # a reply seen first (see _icmp_as_flow)
    if p.proto == UDP:
        if p.sport in DNS_PORTS and p.dport not in DNS_PORTS and len(p.payload) > 2 and p.payload[2] & 0x80:
            return True
        return p.sport < 1024 <= p.dport
    return False


class FlowTracker:
    """Feeds packets into flows and analyzers; finished records go to ``emit(table, row)``."""

    def __init__(self, emit: Emit, salt: str, options: FlowOptions | None = None) -> None:
        self.emit = emit
        self.salt = salt
        self.opt = options or FlowOptions()
        self.flows: dict[tuple[Any, ...], Flow] = {}
        self.dns_pending: dict[tuple[Any, ...], tuple[float, Row]] = {}
        self.now = 0.0
        self.idx = 0
        self._since_sweep = 0
        self._last_sweep: float | None = None
        self.bad_dns = 0
        self.bad_tls = 0

    # -- packets ---------------------------------------------------------------------------------------------
    def packet(self, idx: int, ts: float, p: Packet) -> None:
        self.now = ts
        self.idx = idx
        if p.proto in (ICMP, ICMP6):
            p = _icmp_as_flow(p)
        a, b = (p.src, p.sport), (p.dst, p.dport)
        key = (p.proto, a, b) if a <= b else (p.proto, b, a)
        f = self.flows.get(key)
        if f is not None and self._expired(f, ts, p):
            self._finish(f)
            f = None
        if f is None:
            f = Flow(stable_id("C", self.salt, idx, key), key, idx, ts, p, _flip(p))
            self.flows[key] = f
        d = 0 if a == f.orig else 1
        f.ts_last = ts
        f.pkts[d] += 1
        f.ip_bytes[d] += p.ip_len
        data = self._transport(f, d, p)
        if data:
            self._analyze(f, d, data, ts, p)
        self._since_sweep += 1
        if self._since_sweep >= 2000:
            self._since_sweep = 0
            if self._last_sweep is None:
                self._last_sweep = ts
            elif ts - self._last_sweep >= 10.0 or len(self.flows) > 200_000:
                self.sweep(ts)

    def _expired(self, f: Flow, ts: float, p: Packet) -> bool:
        idle = ts - f.ts_last
        timeout = self.opt.tcp_timeout if f.proto == TCP else self.opt.udp_timeout
        if idle > timeout:
            return True
        if self.opt.active_timeout is not None and ts - f.ts_first > self.opt.active_timeout:
            return True
        return f.closed_at is not None and bool(p.flags & SYN) and not p.flags & ACK

    def _transport(self, f: Flow, d: int, p: Packet) -> bytes:
        """Update counters; return the new in-order payload of this packet."""
        payload = p.payload
        if p.proto != TCP:
            f.bytes[d] += len(payload)
            return payload
        flags = p.flags
        if flags & SYN:
            f.mark("H" if flags & ACK else "S", d)
            f.next_seq[d] = (p.seq + 1) & _MASK
        if flags & FIN:
            f.mark("F", d)
        if flags & RST:
            f.mark("R", d)
            if f.first_rst is None:
                f.first_rst = d
        if (flags & FIN and "F" in f.hist and "f" in f.hist) or flags & RST:
            f.closed_at = self.now
        n = len(payload)
        if not n:
            if flags & ACK and not flags & (SYN | FIN | RST):
                f.mark("A", d)
            return b""
        f.mark("D", d)
        nxt = f.next_seq[d]
        if nxt is None:
            nxt = p.seq
        end = (p.seq + n) & _MASK
        advance = (end - nxt) & _MASK
        if advance == 0 or advance >= _HALF:
            f.mark("T", d)
            return b""
        gap = (p.seq - nxt) & _MASK
        f.next_seq[d] = end
        f.bytes[d] += advance
        if 0 < gap < _HALF:
            f.missed[d] += gap
            f.mark("G", d)
            if f.http is not None:
                f.http.requests.dead = f.http.responses.dead = True
            return payload
        return payload[n - advance:]

    # -- analyzers -------------------------------------------------------------------------------------------
    def _analyze(self, f: Flow, d: int, data: bytes, ts: float, p: Packet) -> None:
        if d == 0:
            self._burst(f, ts, len(data))
        if f.app is None and f.detect_left:
            f.detect_left -= 1
            self._detect(f, d, data, p)
        app = f.app
        if app == "dns":
            self._dns(f, d, data, ts, p)
        elif app == "ssl" and f.tls_buf is not None:
            self._tls(f, d, data)
        elif app == "http" and f.http is not None and self.opt.http_files:
            f.http.feed(d == 0, data, ts)

    def _detect(self, f: Flow, d: int, data: bytes, p: Packet) -> None:
        if tlshello.looks_like_tls(data) and data[0] == 0x16:
            f.app, f.app_by = "ssl", "payload"
            f.tls_buf = [bytearray(), bytearray()]
            f.tls = {}
        elif d == 0 and p.proto == TCP and looks_like_request(data):
            f.app, f.app_by = "http", "payload"
            f.http = HttpConnection()
        elif data.startswith(b"SSH-"):
            f.app, f.app_by = "ssh", "payload"
        elif (f.orig[1] in DNS_PORTS or f.resp[1] in DNS_PORTS) and len(data) >= 12:
            f.app, f.app_by = "dns", "payload"

    def _burst(self, f: Flow, ts: float, n: int) -> None:
        b = f.burst
        if b is not None and ts - b[1] <= self.opt.burst_gap:
            b[1] = ts
            b[2] += n
            b[3] += 1
            return
        if b is not None:
            self._emit_burst(f)
        f.burst = [ts, ts, float(n), 1.0]

    def _emit_burst(self, f: Flow) -> None:
        """Emit the flow's open burst (if big enough) as soon as it is over: uploads show while in progress."""
        b = f.burst
        f.burst = None
        if b is None or b[2] < self.opt.burst_min_bytes:
            return
        start, end, nbytes, npkts = b
        self.emit("upload_bursts", {
            "uid": f.uid, "src_ip": f.orig[0], "src_port": f.orig[1], "dst_ip": f.resp[0], "dst_port": f.resp[1],
            "source_line": f.first_pkt, "ts": start, "burst_index": f.n_bursts, "start": start, "end": end,
            "bytes": int(nbytes), "packets": int(npkts),
        })
        f.n_bursts += 1

    def snapshot(self) -> list[Row]:
        """``conn`` rows of the flows still open, as of now (``extra.in_progress``): not written to the lake,
        for live monitoring of uploads before their connection closes."""
        rows = []
        for f in self.flows.values():
            rows.append({
                "ts": f.ts_first, "uid": f.uid, "src_ip": f.orig[0], "src_port": f.orig[1], "dst_ip": f.resp[0],
                "dst_port": f.resp[1], "proto": PROTO_NAMES.get(f.proto, str(f.proto)), "app": f.app,
                "duration": f.ts_last - f.ts_first, "bytes_out": f.bytes[0], "bytes_in": f.bytes[1],
                "pkts_out": f.pkts[0], "pkts_in": f.pkts[1], "ip_bytes_out": f.ip_bytes[0],
                "ip_bytes_in": f.ip_bytes[1], "state": f.state(), "history": f.hist,
                "missed_bytes": f.missed[0] + f.missed[1], "extra": to_json({"in_progress": True}),
            })
        return rows

    def _dns(self, f: Flow, d: int, data: bytes, ts: float, p: Packet) -> None:
        messages = []
        if p.proto == TCP:
            pos = 0
            while pos + 2 <= len(data):
                ln = int.from_bytes(data[pos:pos + 2], "big")
                messages.append(data[pos + 2:pos + 2 + ln])
                pos += 2 + ln
        else:
            messages.append(data)
        for raw in messages:
            try:
                msg = dnswire.parse(raw)
            except dnswire.DnsError:
                self.bad_dns += 1
                continue
            if not msg.is_response:
                client, server = (p.src, p.sport), (p.dst, p.dport)
                row: Row = {
                    "ts": ts, "uid": f.uid, "src_ip": p.src, "src_port": p.sport, "dst_ip": p.dst,
                    "dst_port": p.dport, "proto": PROTO_NAMES.get(p.proto), "trans_id": msg.id,
                    "query": msg.qname, "qclass": msg.qclass, "qtype": msg.qtype, "source_line": self.idx,
                }
                self.dns_pending[(client, server, msg.id, msg.qname)] = (ts, row)
                continue
            client, server = (p.dst, p.dport), (p.src, p.sport)
            pending = self.dns_pending.pop((client, server, msg.id, msg.qname), None)
            if pending is None:
                row = {
                    "ts": ts, "uid": f.uid, "src_ip": p.dst, "src_port": p.dport, "dst_ip": p.src,
                    "dst_port": p.sport, "proto": PROTO_NAMES.get(p.proto), "trans_id": msg.id,
                    "query": msg.qname, "qclass": msg.qclass, "qtype": msg.qtype,
                }
            else:
                qts, row = pending
                row["rtt"] = ts - qts
            row["rcode"] = msg.rcode
            row["answers"] = ",".join(a.data for a in msg.answers) or None
            row["ttls"] = ",".join(str(a.ttl) for a in msg.answers) or None
            row["rejected"] = msg.rcode == "REFUSED"
            row["extra"] = to_json({"AA": msg.aa or None, "TC": msg.tc or None, "RD": msg.rd, "RA": msg.ra,
                                    "answer_types": ",".join(a.rtype for a in msg.answers) or None})
            self.emit("dns", row)

    def _tls(self, f: Flow, d: int, data: bytes) -> None:
        assert f.tls_buf is not None and f.tls is not None
        buf = f.tls_buf[d]
        info = f.tls
        done_key = "client" if d == 0 else "server"
        if done_key in info:
            if d == 1 and (data[:1] == b"\x17" or b"\x14\x03\x03\x00\x01\x01" in data):
                info["established"] = True
            if "client" in info and "server" in info and info.get("established"):
                f.tls_buf = None  # nothing left to learn from this flow
            return
        buf += data[:TLS_BUF_MAX - len(buf)]
        msg = tlshello.handshake_message(bytes(buf))
        if msg is None:
            if len(buf) >= TLS_BUF_MAX or buf[:1] != b"\x16":
                info[done_key] = None
            return
        htype, body = msg
        try:
            if d == 0 and htype == 1:
                info["client"] = tlshello.parse_client_hello(body)
            elif d == 1 and htype == 2:
                info["server"] = tlshello.parse_server_hello(body)
                if b"\x14\x03\x03\x00\x01\x01" in buf:
                    info["established"] = True
            else:
                info[done_key] = None
        except ValueError:
            self.bad_tls += 1
            info[done_key] = None
        buf.clear()

    # -- finishing -------------------------------------------------------------------------------------------
    def sweep(self, now: float) -> None:
        """Finish the flows that are idle or closed, and DNS queries that got no answer, as of ``now``."""
        self._since_sweep = 0
        self._last_sweep = now
        for _key, f in list(self.flows.items()):
            timeout = self.opt.tcp_timeout if f.proto == TCP else self.opt.udp_timeout
            closed = f.closed_at is not None and now - f.closed_at > self.opt.close_delay
            if closed or now - f.ts_last > timeout:
                self._finish(f)
            elif f.burst is not None and now - f.burst[1] > self.opt.burst_gap:
                self._emit_burst(f)
        stale = [k for k, (qts, _) in self.dns_pending.items() if now - qts > self.opt.udp_timeout]
        for k in stale:
            self.emit("dns", self.dns_pending.pop(k)[1])

    def close(self) -> None:
        for f in list(self.flows.values()):
            self._finish(f)
        for _, row in self.dns_pending.values():
            self.emit("dns", row)
        self.dns_pending.clear()

    def _finish(self, f: Flow) -> None:
        if self.flows.get(f.key) is f:
            del self.flows[f.key]
        app, app_by = f.app, f.app_by
        if app is None and (f.bytes[0] or f.bytes[1]):
            port_app = PORT_APPS.get(f.resp[1])
            if port_app:
                app, app_by = port_app, "port"
        base = {"uid": f.uid, "src_ip": f.orig[0], "src_port": f.orig[1], "dst_ip": f.resp[0],
                "dst_port": f.resp[1], "source_line": f.first_pkt}
        self.emit("conn", {
            **base, "ts": f.ts_first, "proto": PROTO_NAMES.get(f.proto, str(f.proto)), "app": app,
            "duration": f.ts_last - f.ts_first, "bytes_out": f.bytes[0], "bytes_in": f.bytes[1],
            "pkts_out": f.pkts[0], "pkts_in": f.pkts[1], "ip_bytes_out": f.ip_bytes[0],
            "ip_bytes_in": f.ip_bytes[1], "state": f.state(), "history": f.hist,
            "missed_bytes": f.missed[0] + f.missed[1],
            "extra": to_json({"app_by": app_by, "missed_bytes_out": f.missed[0] or None,
                              "missed_bytes_in": f.missed[1] or None}),
        })
        self._emit_burst(f)
        if f.tls is not None:
            self._emit_tls(f, base)
        if f.http is not None:
            self._emit_http(f, base)

    def _emit_tls(self, f: Flow, base: Row) -> None:
        assert f.tls is not None
        client = f.tls.get("client")
        server = f.tls.get("server")
        if client is None and server is None:
            return
        row: Row = {**base, "ts": f.ts_first, "established": bool(f.tls.get("established"))}
        extra: dict[str, Any] = {}
        if client is not None:
            row["sni"] = client.sni
            row["ja3"] = client.ja3()
            row["ja4"] = client.ja4("t")
            extra["ja3_string"] = client.ja3_string()
            extra["alpn"] = ",".join(client.alpn) or None
        if server is not None:
            row["version"] = server.version_name
            row["cipher"] = server.cipher_name
            row["ja3s"] = server.ja3s()
            extra["ja3s_string"] = server.ja3s_string()
        row["extra"] = to_json(extra)
        self.emit("tls", row)

    def _emit_http(self, f: Flow, base: Row) -> None:
        assert f.http is not None
        for i, (req, resp) in enumerate(f.http.pairs()):
            row: Row = {**base, "ts": (req or resp).ts if (req or resp) else f.ts_first}  # type: ignore[union-attr]
            orig_fuids: list[str] = []
            resp_fuids: list[str] = []
            orig_mimes: list[str] = []
            resp_mimes: list[str] = []
            if req is not None:
                parts = req.start_line.split(" ")
                row["method"] = parts[0]
                row["uri"] = parts[1] if len(parts) > 1 else None
                row["host"] = req.headers.get("host")
                row["referrer"] = req.headers.get("referer")
                row["user_agent"] = req.headers.get("user-agent")
                row["request_body_len"] = req.body_len
                self._files(f, req, True, i, row, orig_fuids, orig_mimes)
            if resp is not None:
                parts = resp.start_line.split(" ")
                code = parts[1] if len(parts) > 1 else ""
                row["status_code"] = int(code) if code.isdigit() else None
                row["response_body_len"] = resp.body_len
                self._files(f, resp, False, i, row, resp_fuids, resp_mimes)
            row["orig_fuids"] = ",".join(orig_fuids) or None
            row["resp_fuids"] = ",".join(resp_fuids) or None
            row["orig_mime_types"] = ",".join(orig_mimes) or None
            row["resp_mime_types"] = ",".join(resp_mimes) or None
            row["extra"] = to_json({"trans_depth": i + 1,
                                    "status_msg": " ".join(resp.start_line.split(" ")[2:]) if resp else None,
                                    "content_type": (resp.headers.get("content-type") if resp else None)})
            self.emit("http", row)

    def _files(self, f: Flow, msg: Any, is_orig: bool, depth: int, http_row: Row, fuids: list[str],
               mimes: list[str]) -> None:
        body = msg.body
        if body is None or body.size == 0:
            return
        ctype = msg.headers.get("content-type", "")
        uri = str(http_row.get("uri") or "")
        if is_orig and body.whole is not None and "multipart/form-data" in ctype:
            parts = multipart_parts(bytes(body.whole), ctype)
            if parts:
                import hashlib

                for n, (name, part_type, data) in enumerate(parts):
                    fuid = stable_id("F", f.uid, depth, is_orig, n)
                    mime = sniff_mime(data[:4096]) or part_type
                    fuids.append(fuid)
                    if mime:
                        mimes.append(mime)
                    self.emit("net_files", {
                        "ts": msg.ts, "fuid": fuid, "uid": f.uid, "src_ip": f.orig[0], "dst_ip": f.resp[0],
                        "app": "http", "is_orig": True, "filename": name, "mime_type": mime, "size": len(data),
                        "seen_bytes": len(data), "md5": hashlib.md5(data).hexdigest(),  # noqa: S324
                        "sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "extra": to_json({"declared_type": part_type, "uri": uri, "multipart": True}),
                        "source_line": f.first_pkt,
                    })
                return
        fuid = stable_id("F", f.uid, depth, is_orig)
        mime = sniff_mime(body.head)
        declared = ctype.split(";")[0].strip() or None
        if mime in (None, "text/plain", "application/octet-stream") and declared:
            mime = declared
        filename = _filename(msg.headers.get("content-disposition", ""), uri)
        fuids.append(fuid)
        if mime:
            mimes.append(mime)
        length = msg.headers.get("content-length", "")
        self.emit("net_files", {
            "ts": msg.ts, "fuid": fuid, "uid": f.uid,
            "src_ip": f.orig[0] if is_orig else f.resp[0], "dst_ip": f.resp[0] if is_orig else f.orig[0],
            "app": "http", "is_orig": is_orig, "filename": filename, "mime_type": mime,
            "size": int(length) if length.strip().isdigit() else body.size, "seen_bytes": body.size,
            "md5": body.md5.hexdigest(), "sha1": body.sha1.hexdigest(), "sha256": body.sha256.hexdigest(),
            "extra": to_json({"declared_type": declared, "uri": uri, "complete": msg.complete}),
            "source_line": f.first_pkt,
        })


def _filename(disposition: str, uri: str) -> str | None:
    import re

    m = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', disposition)
    if m:
        return m.group(1)
    path = uri.split("?", 1)[0].rstrip("/")
    last = path.rsplit("/", 1)[-1]
    return last if "." in last else None
