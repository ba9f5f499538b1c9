"""The ground truth agrees with the logs, the endpoint events and the share."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from leaktrace.sim import SimulationResult
from tests.sim.test_zeek_logs import day_dir, read_log


def test_ground_truth_shape(small_sim: SimulationResult) -> None:
    gt = json.loads((small_sim.out / "ground_truth.json").read_text(encoding="utf-8"))
    assert gt == small_sim.ground_truth
    assert 15 <= gt["documents_taken_count"] <= 25
    assert gt["highest_level"] in (1, 2, None)
    assert all((d["level"] or 0) <= 2 for d in gt["documents_taken"])
    for key in (
        "mail",
        "execution",
        "first_beacon",
        "reads_start",
        "reads_end",
        "archive",
        "upload_start",
        "upload_end",
    ):
        assert key in gt["times"], key
    t = gt["times"]
    assert t["mail"] < t["execution"] < t["first_beacon"] < t["reads_start"] <= t["reads_end"] < t["archive"]
    assert t["archive"] < t["upload_start"] < t["upload_end"]


def test_taken_documents_exist_with_their_hashes(small_sim: SimulationResult) -> None:
    gt = small_sim.ground_truth
    for d in gt["documents_taken"]:
        data = (small_sim.out / "share" / d["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == d["sha256"]
        assert len(data) == d["size"]
    archive = small_sim.out / gt["archive"]["artifact"]
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == gt["archive"]["sha256"]
    with zipfile.ZipFile(archive) as zf:
        assert len(zf.namelist()) == gt["documents_taken_count"]


def test_exfil_connections_are_in_conn_log(small_sim: SimulationResult) -> None:
    gt = small_sim.ground_truth
    src, dst = gt["compromised_host"]["ip"], gt["exfil"]["ip"]
    _, fields, rows = read_log(day_dir(small_sim) / "conn.log")
    col = {name: fields.index(name) for name in ("uid", "id.orig_h", "id.resp_h", "orig_bytes", "resp_bytes")}
    to_exfil = [r for r in rows if r[col["id.resp_h"]] == dst]
    assert {r[col["id.orig_h"]] for r in to_exfil} == {src}, "exfil server must be contacted by one host only"
    uids = {c["uid"] for c in gt["exfil"]["connections"]}
    uploads = [r for r in to_exfil if r[col["uid"]] in uids]
    assert len(uploads) == len(gt["exfil"]["connections"])
    sent = sum(int(r[col["orig_bytes"]]) for r in uploads)
    assert sent == gt["exfil"]["bytes_uploaded"]
    assert gt["archive"]["size"] <= sent <= gt["archive"]["size"] * 1.02 + 20_000
    # beacons: many small connections to the C2 server with jittered gaps
    c2 = [r for r in rows if r[col["id.resp_h"]] == gt["c2"]["ip"] and r[col["uid"]] not in uids]
    assert len(c2) > 100
    gaps = [float(b[0]) - float(a[0]) for a, b in zip(c2, c2[1:], strict=False)]
    assert 45 < sum(gaps) / len(gaps) < 75
    assert max(gaps) - min(gaps) > 5


def test_ssl_and_dns_name_the_servers(small_sim: SimulationResult) -> None:
    gt = small_sim.ground_truth
    _, fields, rows = read_log(day_dir(small_sim) / "ssl.log")
    sni = fields.index("server_name")
    names = {r[sni] for r in rows if r[fields.index("id.resp_h")] == gt["exfil"]["ip"]}
    assert names == {gt["exfil"]["domain"]}
    _, fields, rows = read_log(day_dir(small_sim) / "dns.log")
    queried = {
        r[fields.index("query")] for r in rows if r[fields.index("id.orig_h")] == gt["compromised_host"]["ip"]
    }
    assert gt["c2"]["domain"] in queried and gt["exfil"]["domain"] in queried


def test_attack_mail_in_smtp_and_files(small_sim: SimulationResult) -> None:
    gt = small_sim.ground_truth
    _, fields, rows = read_log(day_dir(small_sim) / "smtp.log")
    mail = [r for r in rows if r[fields.index("mailfrom")] == f"<{gt['mail']['sender']}>"]
    assert len(mail) == 1
    fuid = mail[0][fields.index("fuids")]
    _, ffields, frows = read_log(day_dir(small_sim) / "files.log")
    att = [r for r in frows if r[ffields.index("fuid")] == fuid]
    assert att and att[0][ffields.index("filename")] == gt["mail"]["attachment"]["name"]
    assert att[0][ffields.index("sha256")] == gt["mail"]["attachment"]["sha256"]


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_endpoint_story_of_the_victim(small_sim: SimulationResult) -> None:
    gt = small_sim.ground_truth
    ev = _events(small_sim.out / "endpoint" / f"{gt['compromised_host']['name']}.jsonl")
    image = gt["malware"]["image"]
    created = [e for e in ev if e["EventID"] == 1 and e["Image"] == image]
    assert len(created) == 1 and created[0]["ParentImage"].endswith("explorer.exe")
    reads = [e for e in ev if e["EventID"] == 4663 and e["ProcessName"] == image]
    taken = {"\\\\fileserver\\share\\" + d["path"].replace("/", "\\") for d in gt["documents_taken"]}
    assert {e["ObjectName"] for e in reads} == taken
    assert all(e["AccessMask"] == "0x1" for e in reads)
    archive = [e for e in ev if e["EventID"] == 11 and e["TargetFilename"] == gt["archive"]["path"]]
    assert archive
    connects = [e for e in ev if e["EventID"] == 3 and e["DestinationIp"] == gt["exfil"]["ip"]]
    assert len(connects) >= len(gt["exfil"]["connections"])
    # decoy: the victim also read documents normally (with Office) before the mail
    normal = [e for e in ev if e["EventID"] == 4663 and e["ProcessName"] != image]
    assert normal and min(e["@timestamp"] for e in normal) < gt["times"]["mail"]


def test_other_users_read_documents_too(small_sim: SimulationResult) -> None:
    gt = small_sim.ground_truth
    taken = {"\\\\fileserver\\share\\" + d["path"].replace("/", "\\") for d in gt["documents_taken"]}
    others = 0
    for path in (small_sim.out / "endpoint").glob("*.jsonl"):
        if path.stem == gt["compromised_host"]["name"]:
            continue
        others += sum(1 for e in _events(path) if e["EventID"] == 4663 and e["ObjectName"] in taken)
    assert others >= 3
