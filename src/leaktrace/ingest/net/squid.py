"""Squid ``access.log`` in the native format →  ``http`` and a logical ``conn`` row per request.

``time elapsed_ms client code/status bytes method url user hierarchy/peer type``

* ``http``: ts = start (Squid logs the completion time; the elapsed time is subtracted), src_ip = client, dst_ip = the peer Squid contacted (when it is an address), host/uri from the URL
  (for ``CONNECT host:port`` the host and port), status, ``response_body_len`` = bytes delivered to the client
  (Squid counts the reply headers too), ``resp_mime_types`` = type; result code, elapsed, user and hierarchy
  in ``extra``.
* ``conn``: client → origin server as one logical flow (``extra.via = "squid"``), because detectors of beaconing
  and of who-talks-to-whom read ``conn``: duration = elapsed, ``bytes_in`` = bytes to the client,
  ``bytes_out`` unknown (the native format does not log request sizes; a trailing numeric field, as in the
  common ``%>st`` extension, is used when present). No row when Squid did not contact a server (cache hits,
  denials: hierarchy ``NONE``).
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from leaktrace.ingest.base import IngestContext, SourceResult, ingesters
from leaktrace.ingest.net.common import RowSink, stable_id, to_json
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class SquidAccessIngester:
    name: ClassVar[str] = "squid"

    def sniff(self, head: bytes, source_name: str) -> bool:
        lines = [ln for ln in head.decode("utf-8", "replace").splitlines()[:20] if ln.strip()]
        if not lines:
            return False
        ok = 0
        for ln in lines[:-1] or lines:
            f = ln.split()
            if len(f) >= 10 and f[0].replace(".", "", 1).isdigit() and "/" in f[3] and f[1].isdigit():
                ok += 1
        return ok > 0 and ok >= len(lines[:-1] or lines) // 2

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        sink = RowSink(batch.write, result, ctx.tenant, ctx.sensor, self.name, source.name)
        with source.path.open("rb") as f:
            for line_no, raw in enumerate(f, start=1):
                text = raw.decode("utf-8", "replace").strip()
                if not text:
                    continue
                try:
                    self._line(sink, line_no, text, source.sha256)
                except (ValueError, IndexError) as exc:
                    sink.bad(line_no, f"not a Squid native access.log line: {exc}", text)
        sink.flush()
        return result

    @staticmethod
    def _line(sink: RowSink, line_no: int, text: str, salt: str) -> None:
        f = text.split()
        if len(f) < 10:
            raise ValueError(f"{len(f)} fields, at least 10 expected")
        ts = float(f[0])
        elapsed = int(f[1]) / 1000.0
        client = f[2]
        code, _, status = f[3].partition("/")
        size = int(f[4])
        method, url, user = f[5], f[6], f[7]
        hier, _, peer = f[8].partition("/")
        mime = f[9] if f[9] != "-" else None
        req_size = int(f[10]) if len(f) > 10 and f[10].isdigit() else None
        if method == "CONNECT":
            host, _, port_s = url.rpartition(":")
            port = int(port_s) if port_s.isdigit() else 443
            uri = None
            scheme = "https"
        else:
            parts = urlsplit(url)
            host = parts.hostname or ""
            scheme = parts.scheme or "http"
            port = parts.port or (443 if scheme == "https" else 21 if scheme == "ftp" else 80)
            uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        dst = peer if _is_ip(peer) else (host if _is_ip(host) else None)
        uid = stable_id("C", salt, line_no)
        sink.add("http", {
            "ts": ts - elapsed, "uid": uid, "src_ip": client, "dst_ip": dst, "dst_port": port, "method": method,
            "host": host or None, "uri": uri, "status_code": int(status) if status.isdigit() else None,
            "response_body_len": size, "request_body_len": req_size, "resp_mime_types": mime,
            "source_line": line_no,
            "extra": to_json({"squid_code": code, "elapsed": elapsed, "user": user if user != "-" else None,
                              "hierarchy": hier, "peer": peer if peer != "-" else None, "url": url}),
        })
        if hier == "NONE" or dst is None:
            return
        sink.add("conn", {
            "ts": ts - elapsed, "uid": uid, "src_ip": client, "dst_ip": dst, "dst_port": port, "proto": "tcp",
            "app": "ssl" if method == "CONNECT" or scheme == "https" else "http", "duration": elapsed,
            "bytes_in": size, "bytes_out": req_size, "source_line": line_no,
            "extra": to_json({"via": "squid", "squid_code": code, "host": host or None}),
        })


ingesters.add("squid", SquidAccessIngester())
