"""Suricata EVE JSON (one event a line), dispatched on ``event_type``.

==========  ============  =====================================================================================
event_type  table         notes
==========  ============  =====================================================================================
flow        conn          bytes are Suricata's packet bytes (headers included): in ``bytes_*`` and ``ip_bytes_*``
dns         dns           a query and its answer event(s) (v1: one event per RR; v2: ``answers``/``grouped``;
                          v3: ``queries``) become one row, matched by flow and DNS id; ``extra.eve_query`` /
                          ``extra.eve_answer`` count the events merged into the row
http        http          ``length`` is the response body length
tls         tls           sni, version, ja3/ja3s hashes, ja4, subject, issuer
fileinfo    net_files     names, sizes and hashes when Suricata computed them
alert       notice        note = signature, msg = signature, sub = category; the rest in ``extra``
anomaly     weird         name = the anomaly event
stats       (none)        skipped, counted in the notes
other       other_log     log_type ``suricata-<event_type>``, the event as JSON
==========  ============  =====================================================================================

``uid`` is derived from ``flow_id``, so all rows of one Suricata flow share it. Lines that are not JSON
objects, or lack a valid ``timestamp``/``event_type``, are quarantined with their line numbers.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any, ClassVar

from leaktrace.ingest.base import IngestContext, SourceResult, ingesters
from leaktrace.ingest.net.common import Row, RowSink, stable_id, to_json
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch

PENDING_MAX = 200_000
_TLS_VERSIONS = {"TLS 1.3": "TLSv13", "TLS 1.2": "TLSv12", "TLS 1.1": "TLSv11", "TLS 1.0": "TLSv10",
                 "SSLv3": "SSLv3", "SSLv2": "SSLv2"}


def parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _int(v: Any) -> int | None:
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None


def _flow_state(ev: dict[str, Any], flow: dict[str, Any]) -> str:
    proto = str(ev.get("proto", "")).upper()
    to_client = _int(flow.get("pkts_toclient")) or 0
    if proto != "TCP":
        return "SF" if to_client else "S0"
    tcp = ev.get("tcp") or {}
    state = str(flow.get("state", ""))
    if not to_client:
        return "S0"
    if tcp.get("rst"):
        return "REJ" if state == "new" and not tcp.get("ack") else "RSTO"
    if state == "closed" or (tcp.get("fin") and tcp.get("state") in ("closed", "time_wait", "last_ack")):
        return "SF"
    if state == "established":
        return "S1"
    return "OTH"


class SuricataEveIngester:
    name: ClassVar[str] = "suricata-eve"

    def sniff(self, head: bytes, source_name: str) -> bool:
        line = head.lstrip().split(b"\n", 1)[0]
        return line.startswith(b"{") and b'"event_type"' in line and b'"timestamp"' in line

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        sink = RowSink(batch.write, result, ctx.tenant, ctx.sensor, self.name, source.name)
        reader = _EveReader(sink)
        consumed = 0
        with source.path.open("rb") as f:
            for line_no, raw in enumerate(f, start=1):
                consumed += len(raw)
                reader.line(line_no, raw)
                if ctx.on_progress and line_no % 100_000 == 0:
                    ctx.on_progress(consumed)
        reader.close()
        sink.flush()
        counts = ", ".join(f"{k}={v}" for k, v in sorted(reader.counts.items()))
        sink.note(f"event types: {counts}")
        if ctx.on_progress:
            ctx.on_progress(consumed)
        return result


class _EveReader:
    def __init__(self, sink: RowSink) -> None:
        self.sink = sink
        self.counts: Counter[str] = Counter()
        self.dns_open: dict[tuple[Any, ...], list[Row]] = {}
        self.n_open = 0

    def line(self, line_no: int, raw: bytes) -> None:
        text = raw.strip()
        if not text:
            return
        try:
            ev = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            self.sink.bad(line_no, f"not JSON: {exc}", raw)
            return
        if not isinstance(ev, dict):
            self.sink.bad(line_no, "not a JSON object", raw)
            return
        etype = ev.get("event_type")
        ts = parse_time(ev.get("timestamp"))
        if not isinstance(etype, str) or ts is None:
            self.sink.bad(line_no, "missing or invalid event_type/timestamp", raw)
            return
        self.counts[etype] += 1
        base: Row = {
            "ts": ts, "uid": stable_id("C", "suricata", ev["flow_id"]) if "flow_id" in ev else None,
            "src_ip": ev.get("src_ip"), "src_port": _int(ev.get("src_port")), "dst_ip": ev.get("dest_ip"),
            "dst_port": _int(ev.get("dest_port")), "source_line": line_no,
        }
        handler = getattr(self, f"_{etype}", None)
        try:
            if handler is not None:
                handler(ev, base)
            elif etype != "stats":
                self.sink.add("other_log", {**base, "log_type": f"suricata-{etype}",
                                            "fields": json.dumps(ev, ensure_ascii=False)})
        except (TypeError, ValueError, AttributeError) as exc:
            self.counts[etype] -= 1
            self.sink.bad(line_no, f"{etype} event: {exc}", raw)

    @staticmethod
    def _rest(ev: dict[str, Any], *drop: str) -> dict[str, Any]:
        skip = {"timestamp", "event_type", "src_ip", "src_port", "dest_ip", "dest_port", *drop}
        return {k: v for k, v in ev.items() if k not in skip}

    def _flow(self, ev: dict[str, Any], base: Row) -> None:
        flow = ev.get("flow") or {}
        start = parse_time(flow.get("start")) or base["ts"]
        end = parse_time(flow.get("end"))
        app = ev.get("app_proto")
        app = {"tls": "ssl", "failed": None, "unknown": None}.get(app, app) if isinstance(app, str) else None
        bo, bi = _int(flow.get("bytes_toserver")), _int(flow.get("bytes_toclient"))
        self.sink.add("conn", {
            **base, "ts": start, "proto": str(ev.get("proto", "")).lower() or None, "app": app,
            "duration": (end - start) if end is not None else None, "bytes_out": bo, "bytes_in": bi,
            "pkts_out": _int(flow.get("pkts_toserver")), "pkts_in": _int(flow.get("pkts_toclient")),
            "ip_bytes_out": bo, "ip_bytes_in": bi, "state": _flow_state(ev, flow),
            "extra": to_json({"flow_id": ev.get("flow_id"), "suricata_state": flow.get("state"),
                              "reason": flow.get("reason"), "alerted": flow.get("alerted"), "tcp": ev.get("tcp"),
                              "bytes_include_headers": True}),
        })

    def _dns(self, ev: dict[str, Any], base: Row) -> None:
        dns = ev.get("dns") or {}
        kind = dns.get("type")
        queries = dns.get("queries")
        rrname = dns.get("rrname")
        rrtype = dns.get("rrtype")
        if isinstance(queries, list) and queries:
            rrname, rrtype = queries[0].get("rrname"), queries[0].get("rrtype")
        key = (ev.get("flow_id"), dns.get("id"))
        is_query = kind in ("query", "request")
        rows = self.dns_open.setdefault(key, [])
        row = None
        if not is_query:
            v1 = dns.get("version") is None and "rdata" in dns
            row = next((r for r in rows if not r["_a"] and r["query"] in (rrname, None)), None)
            if row is None and v1 and rows:
                row = rows[-1]  # v1: the next RR of the same response
        if row is None:
            sp, dp = base["src_port"], base["dst_port"]
            if not is_query and sp == 53 and dp != 53:  # answer logged in packet direction: flip to the client
                base = {**base, "src_ip": base["dst_ip"], "src_port": dp, "dst_ip": base["src_ip"], "dst_port": sp}
            row = {**base, "proto": str(ev.get("proto", "")).lower() or None, "trans_id": _int(dns.get("id")),
                   "query": rrname, "qtype": rrtype, "_q": 0, "_a": 0, "_answers": [], "_ttls": [], "_t": [],
                   "_extra": {}}
            rows.append(row)
            self.n_open += 1
            if self.n_open > PENDING_MAX:
                self._emit_key(next(iter(self.dns_open)))
        if is_query:
            row["_q"] += 1
            return
        row["_a"] += 1
        if "rcode" in dns:
            row["rcode"] = dns["rcode"]
        answers = dns.get("answers")
        if isinstance(answers, list):
            for a in answers:
                row["_answers"].append(str(a.get("rdata", "")))
                row["_ttls"].append(str(a.get("ttl", "")))
                row["_t"].append(str(a.get("rrtype", "")))
        elif isinstance(dns.get("grouped"), dict):
            for t, vals in dns["grouped"].items():
                for v in vals if isinstance(vals, list) else [vals]:
                    row["_answers"].append(str(v.get("rdata", v) if isinstance(v, dict) else v))
                    row["_t"].append(t)
        elif "rdata" in dns:  # v1: one answer RR per event
            row["_answers"].append(str(dns.get("rdata")))
            row["_ttls"].append(str(dns.get("ttl", "")))
            row["_t"].append(str(rrtype))
        for flag in ("aa", "tc", "rd", "ra", "flags"):
            if flag in dns:
                row["_extra"][flag] = dns[flag]
        if dns.get("version") is not None or kind == "response":
            rows.remove(row)
            self.n_open -= 1
            self._emit_dns(row, key)
            if not rows:
                del self.dns_open[key]

    def _emit_key(self, key: tuple[Any, ...]) -> None:
        for row in self.dns_open.pop(key, []):
            self.n_open -= 1
            self._emit_dns(row, key)

    def _emit_dns(self, row: Row, key: tuple[Any, ...]) -> None:
        row["answers"] = ",".join(row.pop("_answers")) or None
        row["ttls"] = ",".join(t for t in row.pop("_ttls") if t) or None
        row["rejected"] = row.get("rcode") == "REFUSED"
        extra = row.pop("_extra")
        extra.update({"eve_query": row.pop("_q"), "eve_answer": row.pop("_a"), "flow_id": key[0],
                      "answer_types": ",".join(row.pop("_t")) or None})
        row["extra"] = to_json(extra)
        self.sink.add("dns", row)

    def _http(self, ev: dict[str, Any], base: Row) -> None:
        h = ev.get("http") or {}
        self.sink.add("http", {
            **base, "method": h.get("http_method"), "host": h.get("hostname"), "uri": h.get("url"),
            "referrer": h.get("http_refer"), "user_agent": h.get("http_user_agent"),
            "request_body_len": _int(h.get("request_body_len")), "response_body_len": _int(h.get("length")),
            "status_code": _int(h.get("status")), "resp_mime_types": h.get("http_content_type"),
            "extra": to_json({"protocol": h.get("protocol"), "http_port": h.get("http_port"),
                              "xff": h.get("xff"), "flow_id": ev.get("flow_id"), "tx_id": ev.get("tx_id")}),
        })

    def _tls(self, ev: dict[str, Any], base: Row) -> None:
        t = ev.get("tls") or {}
        ja3 = t.get("ja3") or {}
        ja3s = t.get("ja3s") or {}
        ja4 = t.get("ja4")
        self.sink.add("tls", {
            **base, "version": _TLS_VERSIONS.get(str(t.get("version")), t.get("version")), "sni": t.get("sni"),
            "ja3": ja3.get("hash") if isinstance(ja3, dict) else None,
            "ja3s": ja3s.get("hash") if isinstance(ja3s, dict) else None,
            "ja4": ja4.get("hash") if isinstance(ja4, dict) else ja4,
            "subject": t.get("subject"), "issuer": t.get("issuerdn"),
            "extra": to_json({"serial": t.get("serial"), "fingerprint": t.get("fingerprint"),
                              "notbefore": t.get("notbefore"), "notafter": t.get("notafter"),
                              "ja3_string": ja3.get("string") if isinstance(ja3, dict) else None,
                              "flow_id": ev.get("flow_id")}),
        })

    def _fileinfo(self, ev: dict[str, Any], base: Row) -> None:
        fi = ev.get("fileinfo") or {}
        http = ev.get("http") or {}
        self.sink.add("net_files", {
            "ts": base["ts"], "uid": base["uid"], "src_ip": base["src_ip"], "dst_ip": base["dst_ip"],
            "source_line": base["source_line"],
            "fuid": stable_id("F", "suricata", ev.get("flow_id"), fi.get("file_id", fi.get("tx_id")),
                              fi.get("filename")),
            "app": ev.get("app_proto"), "filename": fi.get("filename"), "mime_type": http.get("http_content_type"),
            "size": _int(fi.get("size")), "seen_bytes": _int(fi.get("size")), "md5": fi.get("md5"),
            "sha1": fi.get("sha1"), "sha256": fi.get("sha256"),
            "extra": to_json({"magic": fi.get("magic"), "state": fi.get("state"), "gaps": fi.get("gaps"),
                              "stored": fi.get("stored"), "flow_id": ev.get("flow_id"), "url": http.get("url"),
                              "hostname": http.get("hostname")}),
        })

    def _alert(self, ev: dict[str, Any], base: Row) -> None:
        a = ev.get("alert") or {}
        sig = a.get("signature")
        self.sink.add("notice", {
            "ts": base["ts"], "uid": base["uid"], "src_ip": base["src_ip"], "dst_ip": base["dst_ip"],
            "dst_port": base["dst_port"], "source_line": base["source_line"], "note": sig, "msg": sig,
            "sub": a.get("category"),
            "extra": to_json({"src_port": base["src_port"], "proto": ev.get("proto"),
                              **self._rest(ev, "proto", "flow_id"), "flow_id": ev.get("flow_id")}),
        })

    def _anomaly(self, ev: dict[str, Any], base: Row) -> None:
        an = ev.get("anomaly") or {}
        self.sink.add("weird", {
            "ts": base["ts"], "uid": base["uid"], "src_ip": base["src_ip"], "dst_ip": base["dst_ip"],
            "source_line": base["source_line"], "name": an.get("event") or an.get("type"),
            "addl": an.get("layer"), "extra": to_json(self._rest(ev)),
        })

    def close(self) -> None:
        for key in list(self.dns_open):
            self._emit_key(key)


ingesters.add("suricata-eve", SuricataEveIngester())
