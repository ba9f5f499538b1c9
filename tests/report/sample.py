"""A hand-built ReportData (golden-ish): a ministry PC, its C2 / exfiltration server, documents at three levels."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from leaktrace.investigate.model import (
    Attribution,
    Evidence,
    RemoteControl,
    Rollup,
    TakenDocument,
    TimelineEvent,
)
from leaktrace.report.chartdata import chart_data
from leaktrace.report.model import (
    ActionSummary,
    EvidenceItem,
    FindingSummary,
    IncidentSummary,
    Records,
    ReportData,
    StatusChange,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
HOST_IP, HOST_NAME, USER = "10.1.0.36", "pc-0017", "ishikawa.ryo"
SERVER_IP, SERVER_DOMAIN = "120.83.232.179", "trade-tech91.net"
ANALYST = "sato.kenji"
MAIL = "ishikawa.ryo@ministry.go.jp"
DOC2 = r"\\fs01\share\総務課\令和8年度_予算要求資料.docx"
DOC3 = r"\\fs01\share\人事課\職員名簿_2026.xlsx"
DOC1 = r"\\fs01\share\広報\記者発表_お知らせ案.docx"
DOC0 = r"\\fs01\share\総務課\メモ_打合せ.txt"


def doc(path: str, level: str | None, rank: int, conf: float, pii: dict[str, int] | None = None,
        people: int = 0) -> TakenDocument:
    return TakenDocument(
        path=path, inventory_path=path, sha256=hashlib.sha256(path.encode()).hexdigest(), size=120_000 + rank * 1000,
        level=level, level_rank=rank, confidence=conf, pii_counts=pii or {}, people=people,
        first_read=T0 + timedelta(hours=4, minutes=rank // 10), process=r"C:\Users\Public\svchost.exe",
        evidence=[Evidence(kind="read-by-actor", detail="read by the implant process", ts=T0 + timedelta(hours=4))],
    )


def flows() -> list[dict[str, Any]]:
    rows = []
    for i in range(0, 600):
        t = T0 + timedelta(seconds=60 * i + (i * 7) % 5)
        up = 3_000_000 if i in (270, 271) else 250
        rows.append({"ts": t, "uid": f"C{i}", "src_ip": HOST_IP, "src_port": 50000 + i, "dst_ip": SERVER_IP,
                     "dst_port": 443, "proto": "tcp", "duration": 1.0, "bytes_out": up, "bytes_in": 900,
                     "source_file": "/data/zeek/conn.log", "source_line": 100 + i})
    return rows


def sample_data(status: str = "investigated", tlp: str = "amber") -> ReportData:
    docs = [
        doc(DOC3, "機密性3", 30, 0.9, {"my_number": 120, "email": 130, "phone": 128}, people=130),
        doc(DOC2, "機密性2", 20, 0.85),
        doc(DOC1, "機密性1", 10, 0.8),
        doc(DOC0, None, 0, 0.7),
        doc(r"\\fs01\share\総務課\関係ない.docx", "機密性2", 20, 0.2),  # not taken (confidence < 0.5)
    ]
    taken = [d for d in docs if d.taken]
    attribution = Attribution(
        host_ip=HOST_IP, host=HOST_NAME, servers=[SERVER_IP],
        actor_processes=[{"image": r"C:\Users\Public\svchost.exe", "user": rf"MINISTRY\{USER}"}],
        documents=docs,
        rollup=Rollup(documents=len(taken), highest_level="機密性3", highest_rank=30,
                      by_level={"機密性3": 1, "機密性2": 1, "機密性1": 1, "unknown": 1}, with_personal_data=1,
                      people=130, bytes_read=500_000, bytes_uploaded=6_000_000, archive_bytes=5_900_000,
                      size_ratio=1.2, sentence="4 documents, highest level 機密性3"),
        timeline=[
            TimelineEvent(ts=T0 - timedelta(hours=1), phase="initial-access", technique="T1566.001",
                          description=f"mail with attachment from <x@pacific-asahi.or.jp> to <{MAIL}>: 出張報告",
                          record="/data/zeek/smtp.log:458"),
            TimelineEvent(ts=T0, phase="command-and-control", technique="T1071.001",
                          description=f"first connection to {SERVER_IP}:443", record="/data/zeek/conn.log:100"),
            TimelineEvent(ts=T0 + timedelta(hours=4), phase="collection", technique="T1560.001",
                          description="archive written after reading 4 documents", actor="svchost.exe"),
            TimelineEvent(ts=T0 + timedelta(hours=4, minutes=30), phase="exfiltration", technique="T1041",
                          description=f"upload of 6,000,000 bytes to {SERVER_IP}:443",
                          record="/data/zeek/conn.log:370"),
        ],
        remote_control=RemoteControl(verdict="remote-controlled", c2_servers=[SERVER_IP], actions=3,
                                     actions_by_implant=3, reasons=["3 of 3 actions were done by the implant"]),
    )
    rows = flows()
    return ReportData(
        generated_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        tenant="ministry",
        organisation="Example Ministry CSIRT",
        contact="Example Ministry, public relations: 03-0000-0000",
        tlp=tlp,  # type: ignore[arg-type]
        incident=IncidentSummary(
            id="INC-0007", tenant="ministry", host_ip=HOST_IP, host_name=HOST_NAME, host_user=USER,
            server_ip=SERVER_IP, server_domain=SERVER_DOMAIN, start=T0, end=T0 + timedelta(hours=10),
            score=0.97, severity="critical", kinds=["beaconing", "exfiltration"], bytes_out=6_150_000,
            bytes_in=540_000, status=status, origin="tip",
            history=[StatusChange(at=T0 + timedelta(hours=12), old="new", new="contained", actor=ANALYST,
                                  note="blocked at the gateway")],
        ),
        findings=[
            FindingSummary(detector="beacon", kind="beaconing", dst_ip=SERVER_IP, first_ts=T0,
                           last_ts=T0 + timedelta(hours=10), score=0.94, severity="critical", conn_count=600,
                           summary=f"beacon to {SERVER_IP} every ~60 s"),
            FindingSummary(detector="exfil_volume", kind="exfiltration", dst_ip=SERVER_IP,
                           dst_domain=SERVER_DOMAIN, first_ts=T0 + timedelta(hours=4),
                           last_ts=T0 + timedelta(hours=5), score=0.9, severity="critical", bytes_out=6_000_000,
                           conn_count=60, summary="6.0 MB sent", evidence={"client_ja3": "51c64c77e60f3980eea90869b68c58a8"}),
        ],
        attribution=attribution,
        actions=[ActionSummary(id="ACT-0001", kind="block", target=SERVER_IP, target_kind="ip", status="active",
                               backends=["nftables"], rule_text=f"add element inet leaktrace block4 {{ {SERVER_IP} }}",
                               reason="exfiltration", requested_by=ANALYST, approved_by="suzuki.h",
                               created=T0 + timedelta(hours=12))],
        charts=chart_data(rows, T0, T0 + timedelta(hours=10)),
        ja3=["51c64c77e60f3980eea90869b68c58a8"],
        evidence=[EvidenceItem(kind="source-file", name="/data/zeek/conn.log", sha256="ab" * 32, size=1234)],
        records=Records(findings=[{"detector": "beacon", "src_ip": HOST_IP, "dst_ip": SERVER_IP}], flows=rows),
    )
