"""Attribution golden test: a few endpoint and network records in, the documents taken out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leaktrace.investigate import Case, DocRef, attribute

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
HOST = "pc-0022.ministry.local"
MAL = r"C:\Users\saito\Downloads\invite\invite.exe"
WORD = r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE"


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def proc(ts: datetime, guid: str, image: str, parent_guid: str, parent_image: str, pid: int) -> dict:
    return {"ts": ts, "host": HOST, "event": "start", "pid": pid, "process_guid": guid, "image": image,
            "parent_guid": parent_guid, "parent_image": parent_image, "command_line": image, "user": "saito"}


def read(ts: datetime, path: str, image: str, pid: int) -> dict:
    return {"ts": ts, "host": HOST, "pid": pid, "process_guid": None, "image": image, "action": "read",
            "path": path, "source_file": "pc.jsonl", "source_line": 1}


def flow(ts: datetime, bytes_out: int, dst: str = "203.0.113.9") -> dict:
    return {"ts": ts, "src_ip": "10.1.0.41", "dst_ip": dst, "dst_port": 443, "bytes_out": bytes_out,
            "bytes_in": 400, "duration": 1.0}


SHARE = "\\\\fileserver\\share\\"
INVENTORY = [
    DocRef(path="/scan/share/会計課/【機密性２】予算案.docx", sha256="a" * 64, size=400_000, level="機密性2",
           level_rank=2, people=0),
    DocRef(path="/scan/share/広報室/名簿.xlsx", sha256="b" * 64, size=100_000, level="機密性2", level_rank=2,
           people=41, pii_counts={"my_number": 41}),
    DocRef(path="/scan/share/総務課/お知らせ.pdf", sha256="c" * 64, size=500_000, level="機密性1", level_rank=1),
    DocRef(path="/scan/share/総務課/秘密計画.docx", sha256="d" * 64, size=300_000, level="機密性3", level_rank=3),
]


def case() -> Case:
    c = Case(host_ip="10.1.0.41", servers=["203.0.113.9"], host=HOST, user="saito")
    c.process = [
        proc(t(0), "{m}", MAL, "{o}", r"C:\Program Files\Microsoft Office\OUTLOOK.EXE", 4242),
        proc(t(1), "{w}", WORD, "{e}", r"C:\Windows\explorer.exe", 777),
    ]
    c.endpoint_conn = [{"ts": t(0.5), "host": HOST, "pid": 4242, "process_guid": "{m}", "image": MAL,
                        "dst_ip": "203.0.113.9", "dst_port": 443}]
    c.file_event = [
        # the user reads a level-3 document in Word: not taken
        read(t(5), SHARE + "総務課\\秘密計画.docx", WORD, 777),
        # the implant reads three documents, writes an archive, then uploads
        read(t(60), SHARE + "会計課\\【機密性２】予算案.docx", MAL, 4242),
        read(t(61), SHARE + "広報室\\名簿.xlsx", MAL, 4242),
        read(t(62), SHARE + "総務課\\お知らせ.pdf", MAL, 4242),
        {"ts": t(70), "host": HOST, "pid": 4242, "image": MAL, "action": "create",
         "path": "C:\\Users\\saito\\AppData\\Local\\Temp\\x.zip", "size": 980_000},
        # a read after the upload cannot be in it
        read(t(200), SHARE + "総務課\\秘密計画.docx", MAL, 4242),
    ]
    c.conn = [flow(t(i), 900) for i in range(0, 300, 1)] + [flow(t(75), 990_000)]
    return c


def test_documents_taken_by_the_implant() -> None:
    result = attribute(case(), INVENTORY)
    taken = {d.inventory_path: d for d in result.taken()}
    assert set(taken) == {
        "/scan/share/会計課/【機密性２】予算案.docx", "/scan/share/広報室/名簿.xlsx", "/scan/share/総務課/お知らせ.pdf",
    }
    budget = taken["/scan/share/会計課/【機密性２】予算案.docx"]
    assert budget.level == "機密性2" and budget.confidence >= 0.85
    assert {e.kind for e in budget.evidence} >= {"read-by-actor", "archived-after-read", "size-consistent"}
    late = next(d for d in result.documents if d.inventory_path == "/scan/share/総務課/秘密計画.docx")
    assert late.confidence < 0.5  # read after the upload, and the user's own read does not count
    r = result.rollup
    assert r.documents == 3 and r.highest_level == "機密性2"
    assert r.people == 41 and r.with_personal_data == 1
    assert r.bytes_uploaded == 990_000
    assert r.sentence == "3 documents, highest level 機密性2, 1 contain personal data of 41 people; also 1 archive (x.zip)"
    # the archive the implant wrote is an object taken too (not counted among the documents)
    (archive,) = result.objects
    assert archive.kind == "archive" and archive.path.endswith("x.zip") and archive.confidence >= 0.8
    assert {e.kind for e in archive.evidence} >= {"written-by-actor", "upload-after-write"}


def test_timeline_and_remote_control() -> None:
    result = attribute(case(), INVENTORY)
    techniques = [e.technique for e in result.timeline]
    assert "T1204.002" in techniques and "T1071.001" in techniques
    assert "T1039" in techniques and "T1560" in techniques and "T1041" in techniques
    assert [e.ts for e in result.timeline] == sorted(e.ts for e in result.timeline)
    rc = result.remote_control
    assert rc.verdict == "remote-controlled"
    assert rc.interactive_events_during == 0 or rc.actions_by_implant == rc.actions


def test_user_reading_is_not_attributed() -> None:
    c = case()
    c.endpoint_conn = []  # no implant known: nothing can be attributed to it
    result = attribute(c, INVENTORY)
    assert result.taken() == []
    assert any("actor processes unknown" in n for n in result.notes)
