"""``simulate``: one ministry network over some days, with one leak, written as Zeek logs, endpoint JSON lines,
a document share and the ground truth. Generation is chunked by time slice, so memory stays flat."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from leaktrace.sim import episodes as ep
from leaktrace.sim import scenario, traffic
from leaktrace.sim import zeek_writer as zw
from leaktrace.sim.config import SimulationConfig
from leaktrace.sim.documents import LEVEL_TEXT, MSIP_LABELS, MSIP_SITE_ID, Document, build_share
from leaktrace.sim.flows import Flows
from leaktrace.sim.network import DOMAIN, SERVERS
from leaktrace.sim.records import DayRecords
from leaktrace.sim.world import HOUR, US, Day, World

Progress = Callable[[str, int, int], None]
SIDE_LOGS = ("smtp", "files", "dhcp")
ROWS_PER_HOST_HOUR = 140  # rough peak conn rows per host-hour, used to size the time slices


@dataclass
class SimulationResult:
    """Where the output went and what it holds."""

    out: Path
    config: SimulationConfig
    ground_truth: dict[str, Any]
    rows: dict[str, int] = field(default_factory=dict)  # Zeek log → data rows written
    endpoint_events: int = 0
    documents: int = 0
    seconds: float = 0.0


def simulate(
    out: Path,
    hosts: int = 50,
    days: int = 1,
    seed: int = 1,
    start: str = "2026-03-02",
    progress: Progress | None = None,
    config: SimulationConfig | None = None,
) -> SimulationResult:
    """Write a simulated network with one leak under ``out`` (replacing earlier simulator output there)."""
    cfg = config or SimulationConfig(hosts=hosts, days=days, seed=seed, start=start)
    began = time.perf_counter()
    out = Path(out)
    for sub in ("zeek", "endpoint", "share", "artifacts"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda stage, done, total: None)
    seeds = np.random.SeedSequence([cfg.seed, 20260302]).spawn(3)
    world = World(cfg, np.random.default_rng(seeds[0]))
    report("documents", 0, cfg.n_documents)
    docs = build_share(
        out / "share",
        cfg,
        np.random.default_rng(seeds[1]),
        lambda done, total: report("documents", done, total),
    )
    atk = scenario.plan(world, docs, np.random.default_rng(seeds[2]))

    result = SimulationResult(out=out, config=cfg, ground_truth={}, documents=len(docs))
    tag_uid: dict[tuple[int, int], str] = {}
    rare: list[dict[str, object]] = []
    slices_per_hour = max(1, math.ceil(cfg.hosts * ROWS_PER_HOST_HOUR / cfg.rows_per_chunk))
    total_slices = cfg.days * 24 * slices_per_hour
    done = 0
    for d in range(cfg.days):
        drng = np.random.default_rng([cfg.seed, 1, d])
        day = world.day(d, drng)
        if d == 0:
            _prepare_day0(day, atk)
        rec = DayRecords()
        ep.logons(world, day, rec, drng)
        reads = ep.routine_reads(world, day, docs, drng)
        reads += [r for r in atk.decoys if day.start <= r.ts < day.end]
        ep.smb_bursts(world, rec, reads, docs, drng)
        ep.big_transfers(world, day, rec, drng)
        ep.mail(world, day, rec, drng)
        rare += ep.rare_sites(world, day, rec, drng)
        scenario.play_day(world, day, atk, docs, rec, out / "share", drng)
        day_dir = out / "zeek" / day.label
        logs = {
            name: zw.ZeekLog(day_dir / f"{name}.log", name, day.start / US)
            for name in ("conn", "dns", "http", "ssl")
        }
        episodes = rec.rows.flows()
        n_slices = 24 * slices_per_hour
        slice_len = HOUR // slices_per_hour
        slot = np.clip((episodes.ts - day.start) // slice_len, 0, n_slices - 1)
        for s in range(n_slices):
            t0 = day.start + s * slice_len
            crng = np.random.default_rng([cfg.seed, 2, d, s])
            flows = Flows.concat(
                [
                    traffic.background(world, day, t0, t0 + slice_len, crng),
                    episodes.select(np.flatnonzero(slot == s)),
                ]
            )
            _write_slice(world, flows, logs, crng, tag_uid, d)
            ep.sample_connects(world, rec, flows, crng)
            done += 1
            report("traffic", done, total_slices)
        for log in logs.values():
            log.close(day.end / US)
        _write_side_logs(world, day, rec, day_dir, tag_uid, np.random.default_rng([cfg.seed, 3, d]), result)
        for upload in atk.uploads if d == atk.exfil_day else []:
            upload["uid"] = tag_uid.get((d, upload["_tag"]))
        tag_uid.clear()  # tags are per day; keep memory flat over many days
        for name, log in logs.items():
            result.rows[name] = result.rows.get(name, 0) + log.rows
        for h, hlog in sorted(rec.hosts.items()):
            result.endpoint_events += len(hlog.events)
            hlog.flush(out / "endpoint" / f"{world.net.host_names[h]}.jsonl")
    _write_inventory(world, out / "assets.csv")
    art = out / "artifacts" / atk.archive_name
    art.parent.mkdir(parents=True, exist_ok=True)
    art.write_bytes(atk.archive)
    result.ground_truth = _ground_truth(world, cfg, atk, docs, rare)
    (out / "ground_truth.json").write_text(
        json.dumps(result.ground_truth, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / "documents.json").write_text(
        json.dumps([d.truth() for d in docs], ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    result.seconds = time.perf_counter() - began
    return result


def _write_inventory(world: World, path: Path) -> None:
    """The organisation's asset inventory (CMDB export): PC name, IP, MAC and its assigned user."""
    net = world.net
    lines = ["host_name,ip,mac,user,display_name"]
    lines += [
        f"{net.host_names[i]},{net.host_ips[i]},{net.host_macs[i]},{net.users[i]},{net.user_display[i]}"
        for i in range(net.n_hosts)
    ]
    lines += [f"{s.name},{s.ip},,,{role}" for role, s in SERVERS.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _prepare_day0(day: Day, atk: scenario.Attack) -> None:
    h = atk.host
    day.present[h] = True
    day.arrive[h] = min(int(day.arrive[h]), atk.mail_ts - int(1.0 * HOUR))
    day.on_start[h] = day.start
    day.on_end[h] = day.end
    for r in atk.decoys:
        if not day.present[r.host]:
            day.present[r.host] = True
            day.on_start[r.host] = day.arrive[r.host] - 8 * 60 * US
            day.on_end[r.host] = max(int(day.on_end[r.host]), int(day.leave[r.host]))
        day.arrive[r.host] = min(int(day.arrive[r.host]), r.ts - 20 * 60 * US)
        day.leave[r.host] = max(int(day.leave[r.host]), r.ts + 20 * 60 * US)


def _write_slice(
    world: World,
    flows: Flows,
    logs: dict[str, zw.ZeekLog],
    rng: np.random.Generator,
    tag_uid: dict[tuple[int, int], str],
    day: int,
) -> None:
    if len(flows) == 0:
        return
    f = flows.select(np.argsort(flows.ts, kind="stable"))
    uid = zw.make_ids(rng, len(f), "C")
    tagged = np.flatnonzero(f.tag >= 0)
    if len(tagged):
        for i, u in zip(tagged, uid.take(pa.array(tagged)).to_pylist(), strict=True):
            tag_uid[(day, int(f.tag[i]))] = u
    r = world.renderer
    logs["conn"].write(r.conn(f, uid, rng))
    for name, render in (("ssl", r.ssl), ("http", r.http), ("dns", r.dns)):
        cols, ts = render(f, uid, rng)
        if len(ts):
            logs[name].write(cols, order=np.argsort(ts, kind="stable"))


def _write_side_logs(
    world: World,
    day: Day,
    rec: DayRecords,
    day_dir: Path,
    tag_uid: dict[tuple[int, int], str],
    rng: np.random.Generator,
    result: SimulationResult,
) -> None:
    fuids = zw.make_ids(rng, len(rec.files), "F").to_pylist() if rec.files else []
    by_key: dict[str, str] = {}
    for row, fuid in zip(rec.files, fuids, strict=True):
        row["fuid"] = fuid
        row["conn_uids"] = tag_uid.get((day.index, row["_tag"]), "-")
        if row.get("_smtp_key"):
            by_key[row["_smtp_key"]] = fuid
    for row in rec.smtp:
        row["uid"] = tag_uid.get((day.index, row["_tag"]), "-")
        row["fuids"] = by_key.get(row["_attach"] or "", "(empty)")
    for row in rec.dhcp:
        row["uids"] = tag_uid.get((day.index, row["_tag"]), "-")
    for name, rows in (("smtp", rec.smtp), ("files", rec.files), ("dhcp", rec.dhcp)):
        rows.sort(key=lambda r: r["_ts"])
        with zw.ZeekLog(day_dir / f"{name}.log", name, day.start / US) as log:
            if rows:
                cols: dict[str, Any] = {
                    "ts": zw.fmt_micros(np.array([r["_ts"] for r in rows], dtype=np.int64))
                }
                names = [n for n in log.names if n != "ts" and not n.startswith("id.")]
                for n in names:
                    if any(n in r for r in rows):
                        cols[n] = [r.get(n) for r in rows]
                if name == "smtp":
                    _smtp_endpoints(world, rows, cols)
                log.write(cols)
            log.close(day.end / US)
            result.rows[name] = result.rows.get(name, 0) + log.rows


def _smtp_endpoints(world: World, rows: list[dict[str, Any]], cols: dict[str, Any]) -> None:
    """smtp.log repeats the connection's 4-tuple; recover it from the path (client MTA, server)."""
    mail_ip = SERVERS["mail"].ip
    orig, resp = [], []
    for r in rows:
        hops = r["path"].split(",")
        client = hops[1]
        server = hops[0]
        orig.append(client)
        resp.append(server if server != client else mail_ip)
    cols["id.orig_h"] = orig
    cols["id.orig_p"] = [r["_sport"] for r in rows]
    cols["id.resp_h"] = resp
    cols["id.resp_p"] = ["25"] * len(rows)


def _ground_truth(
    world: World,
    cfg: SimulationConfig,
    atk: scenario.Attack,
    docs: list[Document],
    rare: list[dict[str, object]],
) -> dict[str, Any]:
    import hashlib

    net = world.net
    h = atk.host
    read_at = {d: ts for ts, d in atk.reads}
    taken: list[dict[str, Any]] = []
    for i in atk.taken:
        doc = docs[i]
        taken.append(
            {
                "path": doc.path,
                "sha256": doc.sha256,
                "size": doc.size,
                "kind": doc.kind,
                "level": doc.level,
                "level_text": doc.level_text,
                "restriction": doc.restriction,
                "marking_channels": doc.channels,
                "msip_label": doc.msip_label,
                "pii_people": doc.pii_people,
                "has_my_number": doc.has_my_number,
                "read_at": world.iso(read_at[i]) if i in read_at else None,
            }
        )
    levels = [d["level"] for d in taken if d["level"]]
    highest = max(levels) if levels else None
    exfil_day = atk.exfil_day
    uploads = [
        {
            "ts": world.iso(u["ts"]),
            "end": world.iso(u["end"]),
            "uid": u.get("uid"),
            "src_port": u["sport"],
            "orig_bytes": u["orig_bytes"],
            "archive_bytes": u["archive_bytes"],
        }
        for u in atk.uploads
    ]
    times = {k: world.iso(v) for k, v in atk.times.items() if isinstance(v, int) and k != "beacons"}
    pii_docs = [d for d in taken if d["pii_people"]]
    attachment = atk.attachment
    return {
        "seed": cfg.seed,
        "hosts": cfg.hosts,
        "days": cfg.days,
        "start": cfg.start,
        "timezone": f"+{cfg.tz_offset_hours:02d}:00",
        "network": {
            "internal": "10.0.0.0/8",
            "pcs": [f"10.{1 + b}.0.0/16" for b in range((cfg.hosts - 1) // 51_200 + 1)],
            "domain": DOMAIN,
            "servers": {role: {"name": s.name, "ip": s.ip} for role, s in SERVERS.items()},
            "file_share": r"\\fileserver\share",
        },
        "compromised_host": {
            "ip": net.host_ips[h],
            "name": net.host_names[h],
            "fqdn": net.fqdn(h),
            "user": net.users[h],
            "mac": net.host_macs[h],
        },
        "c2": {
            "ip": atk.c2_ip,
            "domain": atk.c2_domain,
            "port": 443,
            "beacon_period_s": cfg.beacon_period_s,
            "beacon_jitter": cfg.beacon_jitter,
            "beacons": atk.times.get("beacons", 0),
            "ja3": "51c64c77e60f3980eea90869b68c58a8",
        },
        "exfil": {
            "ip": atk.exfil_ip,
            "domain": atk.exfil_domain,
            "port": 443,
            "same_as_c2": atk.exfil_via_c2,
            "connections": uploads,
            "bytes_uploaded": sum(u["orig_bytes"] for u in atk.uploads),
            "day": exfil_day,
        },
        # short aliases of the two servers (what a tip from a monitoring centre would name)
        "c2_server": {"ip": atk.c2_ip, "domain": atk.c2_domain},
        "exfil_server": {"ip": atk.exfil_ip, "domain": atk.exfil_domain},
        "mail": {
            "sender": atk.sender,
            "sender_mta": atk.sender_mta,
            "recipient": f"{atk.user}@{ep.MAIL_DOMAIN}",
            "subject": attachment.get("subject"),
            "attachment": {k: v for k, v in attachment.items() if k != "subject"},
        },
        "malware": {
            "image": attachment.get("executable"),
            "process_guid": atk.malware.guid if atk.malware else None,
        },
        "times": times,
        "archive": {
            "path": atk.archive_path,
            "size": len(atk.archive),
            "sha256": hashlib.sha256(atk.archive).hexdigest(),
            "artifact": f"artifacts/{atk.archive_name}",
        },
        "documents_taken": taken,
        "documents_taken_count": len(taken),
        "highest_level": highest,
        "highest_level_text": LEVEL_TEXT[highest] if highest else None,
        "personal_data": {
            "documents": [d["path"] for d in pii_docs],
            "people": sum(int(d["pii_people"]) for d in pii_docs),
            "my_number": any(d["has_my_number"] for d in pii_docs),
        },
        "benign_hard_cases": {
            "rare_sites": rare,
            "partner_exchange": {
                "domain": net.services["partner"].domain,
                "ip": net.services["partner"].ips[0],
                "hosts": [net.host_names[i] for i in world.partner_group.tolist()],
            },
            "cloud_drives": {
                k: {"domain": net.services[k].domain, "ips": list(net.services[k].ips)}
                for k in ("box", "sharepoint")
            },
            "uploads": world.benign_uploads,
            "periodic_benign": {k: net.services[k].domain for k in ("telemetry", "av", "ntp")},
        },
        "share": {
            "root": "share",
            "documents": len(docs),
            "manifest": "documents.json",
            "msip_site_id": MSIP_SITE_ID,
            "msip_labels": {LEVEL_TEXT[k]: {"id": v[0], "name": v[1]} for k, v in MSIP_LABELS.items()},
        },
    }
