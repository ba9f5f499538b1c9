"""Archives and bulk bodies sent in HTTP requests (Splunk's "archive in POST", WebDAV PUT).

Sources: ``http`` (request method, ``orig_mime_types`` of the request body, ``request_body_len``) and
``net_files`` (files the originator sent: ``is_orig``, mime type, file name, size). A request counts when
it goes from an internal host to an external server and either carries an archive (zip/7z/rar/gzip/tar/cab
mime or file extension), is a WebDAV write (PUT, MKCOL, MOVE, COPY, PROPPATCH), or has a body of at least
``large_body_bytes``. Score per (host, server): archive 0.5, WebDAV write of ≥ ``min_write_bytes`` 0.35, large body 0.3, the maximum
of the kinds present, + 0.1 if ``bulk_bytes`` or more left in such requests, + 0.1 for ≥ ``many_requests``.
"""

from __future__ import annotations

from typing import ClassVar

import ibis
from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, aggregated_finding, clamp
from leaktrace.detect.common import epoch, recent_records
from leaktrace.detect.net import outbound_conn
from leaktrace.detect.registry import detectors

ARCHIVE_MIME = [
    "zip",
    "7z",
    "x-7z",
    "rar",
    "x-rar",
    "gzip",
    "x-gzip",
    "x-tar",
    "x-bzip2",
    "x-xz",
    "cab",
    "x-compress",
    "vnd.ms-cab",
]
ARCHIVE_EXT = [".zip", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".cab"]
WEBDAV_WRITES = ["PUT", "MKCOL", "MOVE", "COPY", "PROPPATCH"]
KIND_SCORE = {"archive": 0.5, "webdav": 0.35, "large_body": 0.3}


class ArchiveParams(Strict):
    large_body_bytes: int = Field(default=5_000_000, ge=0, description="request body counted as bulk upload")
    min_write_bytes: int = Field(
        default=100_000, ge=0, description="PUT/WebDAV body size that counts (REST PUTs are tiny)"
    )
    bulk_bytes: int = Field(default=10_000_000, ge=0, description="total uploaded for the +0.1 bonus")
    many_requests: int = Field(default=20, ge=1, description="requests for the +0.1 bonus (Splunk: > 20)")


def _archive_mime(col: ibis.Value) -> ibis.Value:
    low = col.lower().fill_null("")
    pred = ibis.literal(False)
    for m in ARCHIVE_MIME:
        pred = pred | low.contains("/" + m)
    return pred


@detectors.register("archive_upload")
class ArchiveUpload:
    """Archive mime/extension in uploads, WebDAV writes and large request bodies."""

    name: ClassVar[str] = "archive_upload"
    kind: ClassVar[str] = "archive-upload"
    Params: ClassVar[type[Strict]] = ArchiveParams

    def run(self, ctx: Context) -> list[Finding]:
        p: ArchiveParams = ctx.params_for(self.name, ArchiveParams)
        http = outbound_conn(ctx, recent_records(ctx, ctx.engine.table("http")))
        method = http.method.upper().fill_null("")
        body = http.request_body_len.fill_null(0)
        h = http.mutate(
            epoch=epoch(http.ts),
            body=body,
            server=ibis.coalesce(http.host.lower(), http.dst_ip),
            is_archive=_archive_mime(http.orig_mime_types).cast("int64"),
            is_webdav=(method.isin(WEBDAV_WRITES) & (body >= p.min_write_bytes)).cast("int64"),
            is_large=(body >= p.large_body_bytes).cast("int64"),
        )
        h = h.select(
            "src_ip", "dst_ip", "server", "epoch", "uid", "body", "is_archive", "is_webdav", "is_large"
        )
        files = outbound_conn(ctx, recent_records(ctx, ctx.engine.table("net_files")))
        files = files.filter(files.is_orig.fill_null(False))
        fname = files.filename.lower().fill_null("")
        ext = ibis.literal(False)
        for e in ARCHIVE_EXT:
            ext = ext | fname.endswith(e)
        f = files.filter(_archive_mime(files.mime_type) | ext).select(
            src_ip=files.src_ip,
            dst_ip=files.dst_ip,
            server=files.dst_ip,
            epoch=epoch(files.ts),
            uid=files.uid,
            body=files.size.fill_null(files.seen_bytes.fill_null(0)),
            is_archive=ibis.literal(1, type="int64"),
            is_webdav=ibis.literal(0, type="int64"),
            is_large=ibis.literal(0, type="int64"),
        )
        rows = h.union(f)
        rows = rows.filter((rows.is_archive + rows.is_webdav + rows.is_large) > 0)
        agg = rows.group_by(["src_ip", "dst_ip"]).aggregate(
            server=rows.server.max(),
            n=rows.count(),
            bytes_out=rows.body.sum(),
            first=rows.epoch.min(),
            last=rows.epoch.max(),
            archives=rows.is_archive.sum(),
            webdav=rows.is_webdav.sum(),
            large=rows.is_large.sum(),
            uids=rows.uid.collect(),
        )
        out = []
        for r in agg.to_pyarrow().to_pylist():
            kinds = {
                k: int(r[c])
                for k, c in (("archive", "archives"), ("webdav", "webdav"), ("large_body", "large"))
                if int(r[c] or 0) > 0
            }
            base = max(KIND_SCORE[k] for k in kinds)
            bonus = {}
            if int(r["bytes_out"] or 0) >= p.bulk_bytes:
                bonus["bulk"] = 0.1
            if int(r["n"]) >= p.many_requests:
                bonus["many"] = 0.1
            score = clamp(base + sum(bonus.values()))
            server = r["server"]
            out.append(
                aggregated_finding(
                    self, ctx, r,
                    src_ip=r["src_ip"],
                    dst_ip=r["dst_ip"],
                    dst_domain=server if server != r["dst_ip"] else None,
                    score=score,
                    bytes_out=int(r["bytes_out"] or 0),
                    summary=f"{r['n']} upload requests ({', '.join(kinds)}) to {server}, "
                    f"{int(r['bytes_out'] or 0) / 1e6:.1f} MB",
                    evidence={"kinds": kinds, "base": base, "bonus": bonus, "requests": int(r["n"])},
                    uids=sorted({u for u in (r["uids"] or []) if u})[:20],
                )
            )
        return out
