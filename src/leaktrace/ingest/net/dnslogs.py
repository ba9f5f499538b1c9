"""DNS server query logs → ``dns`` (client IP as ``src_ip``, the server as ``dst_ip`` when the log names it).

Line formats (one file may mix them; Filebeat JSON wrapping any of them is unwrapped):

* **dnsmasq** (``log-queries``): ``query[A] name from 10.0.0.5`` opens a row; ``forwarded name to IP`` adds
  ``extra.forwarded_to``; ``reply|cached|config|/etc/hosts name is X`` add answers (``NXDOMAIN`` etc. set the
  rcode).
* **CoreDNS** ``log`` plugin: ``[INFO] 10.0.0.5:35371 - 39321 "TXT IN name. udp 60 false 512" NOERROR
  qr,aa,rd 123 0.0001s``, optionally after an RFC 3339 time.
* **BIND** query log: ``client @0x… 10.0.0.5#53211 (name): query: name IN A +E(0)K (10.0.0.1)``, after
  ``01-Jan-2024 10:00:00.123`` or a syslog prefix.
* **DoH server** (m13253 ``doh-server``): ``10.0.0.5:0 - - [07/May/2022:15:04:48 +0000] "name. IN TXT"``;
  its HTTP lines and **web access logs** of a DoH endpoint (``GET /dns-query?dns=<base64url>``) give an ``http``
  row, and the DNS question decoded from the ``dns`` parameter gives a ``dns`` row (``app`` DoH in extra).

Time: lines with a full date use it. Syslog dates have no year: it comes from ``year`` (option or
``LEAKTRACE_LOG_YEAR``), else from a Filebeat ``@timestamp``, else from the file's modification time, one
year earlier if the date would fall more than a day after it. Times without a zone are taken in ``tz``
(option or ``LEAKTRACE_LOG_TZ``, default UTC). CoreDNS lines usually carry no time at all: when shipped by
Filebeat the ``@timestamp`` is used, otherwise ``ts`` is left empty (noted) and ``source_line`` keeps the order.

Lines that look like a query line of one of these formats but do not parse, and lines of no known shape, are
quarantined with their numbers; server chatter (start-up, upstream errors) is skipped and counted.
"""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from leaktrace.ingest.base import IngestContext, SourceResult, ingesters
from leaktrace.ingest.net import dnswire
from leaktrace.ingest.net.common import Row, RowSink, to_json
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch

_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
SYSLOG = re.compile(r"^(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d)(?:\.\d+)? "
                    r"(?:(?P<host>\S+) )??(?P<prog>[\w./-]+)(?:\[\d+\])?: (?P<msg>.*)$")
ISO_PREFIX = re.compile(r"^(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?P<rest>.*)$")
BIND_TIME = re.compile(r"^(?P<d>\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d(?:\.\d+)?) (?P<rest>.*)$")
DNSMASQ_QUERY = re.compile(r"^query\[(?P<type>[^\]]+)\] (?P<name>\S+) from (?P<client>[0-9a-fA-F.:]+)$")
DNSMASQ_FWD = re.compile(r"^forwarded (?P<name>\S+) to (?P<server>\S+)$")
DNSMASQ_ANS = re.compile(r"^(?P<kind>reply|cached|config|/\S+) (?P<name>\S+) is ?(?P<value>.*)$")
COREDNS = re.compile(
    r'^\[INFO\] \[?(?P<client>[0-9a-fA-F.:]+?)\]?:(?P<port>\d+) - (?P<id>\d+) "(?P<type>\S+) (?P<cls>\S+) '
    r'(?P<name>\S+) (?P<proto>\S+) (?P<size>\d+) (?P<do>\S+) (?P<buf>\d+)" (?P<rcode>\S+) (?P<flags>\S+) '
    r'(?P<rsize>\d+) (?P<dur>[\d.]+)(?:s|ms|µs|us)?'
)
BIND = re.compile(
    r"client (?:@0x[0-9a-fA-F]+ )?(?P<client>[0-9a-fA-F.:]+)#(?P<port>\d+)(?: \((?P<qn>[^)]*)\))?: "
    r"(?:view \S+: )?query: (?P<name>\S+) (?P<cls>\S+) (?P<type>\S+) (?P<flags>\S+) \((?P<server>[^)]*)\)"
)
DOH_QUERY = re.compile(r'^(?P<client>[0-9a-fA-F.:]+?):(?P<port>\d+) - - \[(?P<t>[^\]]+)\] "(?P<name>\S+) '
                       r'(?P<cls>[A-Z]+) (?P<type>[A-Z0-9]+)"$')
ACCESS = re.compile(r'^(?P<client>[0-9a-fA-F.:]+) \S+ \S+ \[(?P<t>[^\]]+)\] "(?P<method>[A-Z]+) (?P<uri>\S+)'
                    r'(?: (?P<proto>HTTP/[\d.]+))?" (?P<status>\d{3}) (?P<size>\d+|-)'
                    r'(?: "(?P<ref>[^"]*)" "(?P<ua>[^"]*)")?')
CHATTER = re.compile(r"^(\S+:\d+|CoreDNS-\S+|linux/\S+.*|\[(ERROR|WARNING|INFO)\] plugin/.*|\[(ERROR|WARNING|DEBUG)\] .*)$")
QUERY_HINT = re.compile(r'^\[INFO\] |query\[|: query: |" \d{3} ')


def _tz(name: str | None) -> tzinfo:
    if not name or name.upper() == "UTC":
        return UTC
    return ZoneInfo(name)


def _clf_time(text: str) -> float | None:
    try:
        return datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z").timestamp()
    except ValueError:
        return None


class _Clock:
    """Turns the partial times of log lines into epoch seconds."""

    def __init__(self, year: int | None, ref: datetime, tz: tzinfo) -> None:
        self.year = year
        self.ref = ref
        self.tz = tz

    def syslog(self, mon: str, day: str, hms: str, ref: datetime | None = None) -> float | None:
        month = _MONTHS.get(mon)
        if month is None:
            return None
        h, m, s = (int(x) for x in hms.split(":"))
        reference = ref or self.ref
        year = self.year or reference.year
        try:
            t = datetime(year, month, int(day), h, m, s, tzinfo=self.tz)
            if self.year is None and t > reference + timedelta(days=1):
                t = t.replace(year=year - 1)
        except ValueError:
            return None
        return t.timestamp()

    def iso(self, text: str) -> float | None:
        try:
            t = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=self.tz)
        return t.timestamp()

    def bind(self, text: str) -> float | None:
        fmt = "%d-%b-%Y %H:%M:%S.%f" if "." in text else "%d-%b-%Y %H:%M:%S"
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=self.tz).timestamp()
        except ValueError:
            return None


class DnsServerLogIngester:
    name: ClassVar[str] = "dns-server-log"

    def __init__(self, year: int | None = None, tz: str | None = None) -> None:
        self.year = year
        self.tz = tz

    def sniff(self, head: bytes, source_name: str) -> bool:
        text = head.decode("utf-8", "replace")
        lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
        if not lines:
            return False
        if lines[0].lstrip().startswith("{"):
            return '"@timestamp"' in lines[0] and '"message"' in lines[0] and any(
                k in text for k in ("dnsmasq[", "CoreDNS", "[INFO] ", ": query: ", "doh-server", "/dns-query"))
        hits = 0
        for ln in lines[:50]:
            if "dnsmasq" in ln and SYSLOG.match(ln) or COREDNS.match(ln) or BIND.search(ln) or "doh-server[" in ln or ln.startswith("CoreDNS-") or (ACCESS.match(ln) and "/dns-query" in ln):
                hits += 1
        return hits > 0

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        sink = RowSink(batch.write, result, ctx.tenant, ctx.sensor, self.name, source.name)
        env_year = os.environ.get("LEAKTRACE_LOG_YEAR")
        year = self.year or (int(env_year) if env_year and env_year.isdigit() else None)
        tz = _tz(self.tz or os.environ.get("LEAKTRACE_LOG_TZ"))
        mtime = datetime.fromtimestamp(source.path.stat().st_mtime, UTC)
        parser = DnsLogParser(sink, _Clock(year, mtime, tz))
        consumed = 0
        with source.path.open("rb") as f:
            for line_no, raw in enumerate(f, start=1):
                consumed += len(raw)
                parser.line(line_no, raw.decode("utf-8", "replace").rstrip("\r\n"))
        parser.close()
        sink.flush()
        if parser.skipped:
            sink.note(f"{parser.skipped} server lines that are not queries skipped")
        if parser.no_time:
            sink.note(f"{parser.no_time} query lines carry no time (CoreDNS without a timestamp): ts left empty")
        if year is None and parser.syslog_rows:
            sink.note(f"syslog dates have no year: {parser.guessed_year or mtime.year} assumed "
                      "(set LEAKTRACE_LOG_YEAR to override)")
        if ctx.on_progress:
            ctx.on_progress(consumed)
        return result


class DnsLogParser:
    """Parses DNS server log lines into ``dns``/``http`` rows (also used for Filebeat-wrapped lines)."""

    OPEN_MAX = 50_000

    def __init__(self, sink: RowSink, clock: _Clock) -> None:
        self.sink = sink
        self.clock = clock
        self.open: dict[str, Row] = {}  # dnsmasq: latest query row per name
        self.skipped = 0
        self.no_time = 0
        self.syslog_lines = 0
        self.syslog_rows = 0  # rows whose time came from a year-less syslog date
        self._from_syslog = False
        self.guessed_year: int | None = None

    def line(self, line_no: int, text: str, fallback_ts: float | None = None,
             ref: datetime | None = None) -> None:
        if not text.strip():
            return
        if text.lstrip().startswith("{") and fallback_ts is None:
            self._filebeat(line_no, text)
            return
        ts: float | None = None
        msg = text
        prog = ""
        m = SYSLOG.match(text)
        if m:
            self.syslog_lines += 1
            ts = self.clock.syslog(m["mon"], m["day"], m["time"], ref)
            if ts is not None and self.guessed_year is None:
                self.guessed_year = datetime.fromtimestamp(ts, UTC).year
            msg, prog = m["msg"], m["prog"]
        elif (mi := ISO_PREFIX.match(text)) is not None:
            ts, msg = self.clock.iso(mi["iso"]), mi["rest"]
        elif (mb := BIND_TIME.match(text)) is not None:
            ts, msg = self.clock.bind(mb["d"]), mb["rest"]
        if ts is None:
            ts = fallback_ts
        self._from_syslog = m is not None
        if self._parse(line_no, msg, ts, prog):
            return
        chatter = CHATTER.match(msg) is not None
        if QUERY_HINT.search(msg) and not chatter:
            self.sink.bad(line_no, "looks like a query line but does not parse", text)
        elif m or chatter:
            self.skipped += 1
        else:
            self.sink.bad(line_no, "not a line of a known DNS server log format", text)

    def _parse(self, line_no: int, msg: str, ts: float | None, prog: str) -> bool:
        if prog.startswith("dnsmasq") or msg.startswith(("query[", "forwarded ", "reply ", "cached ", "config ")):
            return self._dnsmasq(line_no, msg, ts)
        if (c := COREDNS.match(msg)) is not None:
            if ts is None:
                self.no_time += 1
            self.sink.add("dns", {
                "ts": ts, "src_ip": c["client"], "src_port": int(c["port"]), "proto": c["proto"],
                "trans_id": int(c["id"]), "query": c["name"].rstrip(".") or ".", "qclass": _qclass(c["cls"]),
                "qtype": c["type"], "rcode": c["rcode"], "rejected": c["rcode"] == "REFUSED",
                "rtt": float(c["dur"]), "source_line": line_no,
                "extra": to_json({"server_log": "coredns", "flags": c["flags"], "size": int(c["size"]),
                                  "rsize": int(c["rsize"]), "do": c["do"], "bufsize": int(c["buf"])}),
            })
            return True
        if (b := BIND.search(msg)) is not None:
            self.syslog_rows += self._from_syslog
            self.sink.add("dns", {
                "ts": ts, "src_ip": b["client"], "src_port": int(b["port"]), "dst_ip": b["server"] or None,
                "dst_port": 53, "proto": "tcp" if "T" in b["flags"] else "udp", "query": b["name"].rstrip("."),
                "qclass": _qclass(b["cls"]), "qtype": b["type"], "source_line": line_no,
                "extra": to_json({"server_log": "bind", "flags": b["flags"]}),
            })
            return True
        if (d := DOH_QUERY.match(msg)) is not None:
            self.sink.add("dns", {
                "ts": _clf_time(d["t"]) or ts, "src_ip": d["client"], "proto": "tcp", "dst_port": 443,
                "query": d["name"].rstrip("."), "qclass": _qclass(d["cls"]), "qtype": d["type"],
                "source_line": line_no, "extra": to_json({"server_log": "doh-server", "app": "doh"}),
            })
            return True
        if (a := ACCESS.match(msg)) is not None:
            self._access(line_no, a, ts, decode=not prog.startswith("doh-server"))
            return True
        return False

    def _dnsmasq(self, line_no: int, msg: str, ts: float | None) -> bool:
        if (q := DNSMASQ_QUERY.match(msg)) is not None:
            name = q["name"]
            if name in self.open:
                self._emit(name)
            self.syslog_rows += self._from_syslog
            self.open[name] = {"ts": ts, "src_ip": q["client"], "dst_port": 53, "proto": "udp", "query": name,
                               "qclass": "C_INTERNET", "qtype": q["type"], "source_line": line_no,
                               "_answers": [], "_extra": {"server_log": "dnsmasq"}}
            if len(self.open) > self.OPEN_MAX:
                self._emit(next(iter(self.open)))
            return True
        if (fw := DNSMASQ_FWD.match(msg)) is not None:
            row = self.open.get(fw["name"])
            if row is not None:
                row["_extra"]["forwarded_to"] = fw["server"]
            return True
        if (an := DNSMASQ_ANS.match(msg)) is not None:
            row = self.open.get(an["name"])
            if row is not None:
                value = an["value"].strip()
                if value in ("NXDOMAIN", "SERVFAIL", "REFUSED"):
                    row["rcode"] = value
                elif value.startswith("NODATA"):
                    row.setdefault("rcode", "NOERROR")
                else:
                    row.setdefault("rcode", "NOERROR")
                    if value:
                        row["_answers"].append(value)
                row["_extra"]["answered_by"] = an["kind"]
            return True
        if msg.startswith(("query[", "forwarded ", "reply ", "cached ", "config ")):
            return False
        self.skipped += 1
        return True

    def _emit(self, name: str) -> None:
        row = self.open.pop(name)
        row["answers"] = ",".join(row.pop("_answers")) or None
        row["rejected"] = row.get("rcode") == "REFUSED"
        row["extra"] = to_json(row.pop("_extra"))
        self.sink.add("dns", row)

    def _access(self, line_no: int, a: re.Match[str], ts: float | None, decode: bool = True) -> None:
        when = _clf_time(a["t"]) or ts
        uri = a["uri"]
        size = a["size"]
        self.sink.add("http", {
            "ts": when, "src_ip": a["client"], "method": a["method"], "uri": uri, "status_code": int(a["status"]),
            "response_body_len": int(size) if size and size.isdigit() else None,
            "referrer": (a["ref"] or None) if a["ref"] not in (None, "-") else None,
            "user_agent": a["ua"] if a["ua"] not in (None, "-", "") else None, "source_line": line_no,
            "extra": to_json({"server_log": "access", "protocol": a["proto"]}),
        })
        parts = urlsplit(uri)
        if not decode or not parts.path.endswith("/dns-query"):
            return
        params = parse_qs(parts.query)
        if "dns" in params:
            raw = params["dns"][0]
            try:
                msg = dnswire.parse(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            except (ValueError, dnswire.DnsError) as exc:
                self.sink.bad(line_no, f"DoH dns parameter does not decode: {exc}", uri)
                return
            self.sink.add("dns", {
                "ts": when, "src_ip": a["client"], "dst_port": 443, "proto": "tcp", "trans_id": msg.id,
                "query": msg.qname, "qclass": msg.qclass, "qtype": msg.qtype, "source_line": line_no,
                "extra": to_json({"server_log": "access", "app": "doh", "status": int(a["status"])}),
            })
        elif "name" in params:  # JSON API: /dns-query?name=x&type=TXT
            self.sink.add("dns", {
                "ts": when, "src_ip": a["client"], "dst_port": 443, "proto": "tcp",
                "query": params["name"][0].rstrip("."), "qtype": params.get("type", ["A"])[0].upper(),
                "source_line": line_no, "extra": to_json({"server_log": "access", "app": "doh"}),
            })

    def _filebeat(self, line_no: int, text: str) -> None:
        try:
            obj: Any = json.loads(text)
        except ValueError as exc:
            self.sink.bad(line_no, f"not JSON: {exc}", text)
            return
        msg = obj.get("message") if isinstance(obj, dict) else None
        ts = self.clock.iso(str(obj.get("@timestamp", ""))) if isinstance(obj, dict) else None
        if not isinstance(msg, str):
            self.sink.bad(line_no, "Filebeat event without a message", text)
            return
        ref = datetime.fromtimestamp(ts, UTC) if ts is not None else None
        self.line(line_no, msg, fallback_ts=ts, ref=ref)

    def close(self) -> None:
        for name in list(self.open):
            self._emit(name)


def _qclass(cls: str) -> str:
    return "C_INTERNET" if cls == "IN" else cls


ingesters.add("dns-server-log", DnsServerLogIngester())
