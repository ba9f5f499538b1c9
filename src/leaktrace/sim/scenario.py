"""The attack: a targeted mail, execution of its attachment, C2 beaconing with jitter, reading ~20 documents
from the share, one archive, and its upload to an external server nobody else has ever contacted."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from leaktrace.sim import episodes as ep
from leaktrace.sim.documents import Document
from leaktrace.sim.endpoint import EXPLORER, OUTLOOK, Proc, share_path
from leaktrace.sim.flows import ST, SVC, TCP
from leaktrace.sim.names import SITE_WORDS
from leaktrace.sim.network import SERVERS
from leaktrace.sim.records import DayRecords
from leaktrace.sim.world import HOUR, US, Day, World

MALWARE_NAMES = ["開催案内.exe", "セミナー資料.exe", "講演会のご案内.exe", "議題一覧.exe"]
SUBJECTS = [
    "【ご案内】国際情勢セミナーの開催について",
    "【至急】会合資料のご確認のお願い",
    "講演会のご案内（アジア太平洋地域の安全保障）",
    "意見交換会 議題案の送付",
]


@dataclass
class Attack:
    """Choices made once per seed, and the ground truth as it is filled in."""

    host: int
    user: str
    c2_domain: str
    c2_ip: str
    exfil_domain: str
    exfil_ip: str
    exfil_via_c2: bool
    sender: str
    sender_mta: str
    mail_ts: int
    exfil_day: int
    taken: list[int]
    decoys: list[ep.Read]
    malware_name: str
    archive_name: str
    archive: bytes = b""
    archive_path: str = ""
    attachment: dict[str, str] = field(default_factory=dict)
    times: dict[str, int] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    reads: list[tuple[int, int]] = field(default_factory=list)  # (ts, doc)
    malware: Proc | None = None


def _domain(rng: np.random.Generator, tld: str) -> str:
    a, b = (SITE_WORDS[int(i)] for i in rng.choice(len(SITE_WORDS), 2, replace=False))
    return f"{a}-{b}{int(rng.integers(10, 99))}.{tld}"


def plan(world: World, docs: list[Document], rng: np.random.Generator) -> Attack:
    cfg = world.cfg
    net = world.net
    h = int(rng.integers(net.n_hosts))
    net.always_on[h] = True  # the victim's PC stays on; the implant beacons through the night
    pool = net.ip_pool
    c2_domain = _domain(rng, str(rng.choice(["com", "net", "info"])))
    c2_ip = pool.take(1)[0]
    via_c2 = bool(rng.random() < cfg.exfil_via_c2_prob)
    exfil_domain, exfil_ip = (c2_domain, c2_ip) if via_c2 else (_domain(rng, "net"), pool.take(1)[0])
    eligible = [i for i, d in enumerate(docs) if (d.level or 0) <= 2]
    k = int(rng.integers(cfg.docs_taken[0], cfg.docs_taken[1] + 1))
    taken = sorted(int(i) for i in rng.choice(eligible, size=min(k, len(eligible)), replace=False))
    start_local = world.day_start(0)
    mail_ts = start_local + int(rng.uniform(9.5, 11.5) * HOUR)
    exfil_day = int(rng.integers(cfg.days)) if cfg.days > 1 else 0
    # decoys: the victim reads some documents normally before the mail; others read taken documents too
    decoys = [
        ep.Read(h, mail_ts - int(rng.uniform(0.2, 0.9) * HOUR), int(d))
        for d in rng.choice(taken, size=2, replace=False)
    ]
    decoys += [
        ep.Read(h, mail_ts - int(rng.uniform(0.1, 0.9) * HOUR), int(rng.integers(len(docs))))
        for _ in range(int(rng.integers(1, 4)))
    ]
    others = [i for i in range(net.n_hosts) if i != h]
    for d in rng.choice(taken, size=min(5, len(taken)), replace=False):
        other = int(others[int(rng.integers(len(others)))])
        decoys.append(ep.Read(other, start_local + int(rng.uniform(10, 17) * HOUR), int(d)))
    return Attack(
        host=h,
        user=net.users[h],
        c2_domain=c2_domain,
        c2_ip=c2_ip,
        exfil_domain=exfil_domain,
        exfil_ip=exfil_ip,
        exfil_via_c2=via_c2,
        sender=f"seminar@{_domain(rng, 'org')}",
        sender_mta=pool.take(1)[0],
        mail_ts=mail_ts,
        exfil_day=exfil_day,
        taken=taken,
        decoys=decoys,
        malware_name=MALWARE_NAMES[int(rng.integers(len(MALWARE_NAMES)))],
        archive_name=str(rng.choice(["x.zip", "upd.zip", "~DF3A1.tmp.zip", "cache01.zip"])),
    )


def make_archive(share: Path, docs: list[Document], taken: list[int]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in taken:
            info = zipfile.ZipInfo(docs[i].path.split("/")[-1], (2026, 3, 2, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (share / docs[i].path).read_bytes())
    return buf.getvalue()


def play_day(
    world: World,
    day: Day,
    atk: Attack,
    docs: list[Document],
    rec: DayRecords,
    share: Path,
    rng: np.random.Generator,
) -> None:
    """Add the attack's rows and endpoint events that fall on ``day``."""
    if day.index == 0:
        _infect(world, day, atk, rec, rng)
    if day.index == atk.exfil_day:
        _operate(world, day, atk, docs, rec, share, rng)
    _beacons(world, day, atk, rec, rng)


def _infect(world: World, day: Day, atk: Attack, rec: DayRecords, rng: np.random.Generator) -> None:
    net = world.net
    h = atk.host
    log = ep.host_log(world, rec, h, rng)
    # the mail arrives from outside at the mail server
    tag = rec.tag()
    att_name = atk.malware_name.replace(".exe", ".zip")
    payload = hashlib.sha256(f"{atk.c2_domain}/{atk.malware_name}".encode()).hexdigest()
    att_hashes = {
        "md5": hashlib.md5(payload.encode(), usedforsecurity=False).hexdigest(),
        "sha1": hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(payload.encode()).hexdigest(),
    }
    size = int(rng.integers(180_000, 420_000))
    mta = world.ips.add(atk.sender_mta)
    sport = ep._eph(rng)
    rec.rows.add(
        ts=atk.mail_ts,
        dur=int(1.8 * US),
        src=mta,
        dst=world.server_ip["mail"],
        sport=sport,
        dport=25,
        proto=TCP,
        service=SVC["smtp"],
        ob=int(size * 1.37) + 6_000,
        rb=900,
        state=ST["SF"],
        tag=tag,
    )
    rcpt = f"{net.users[h]}@{ep.MAIL_DOMAIN}"
    subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
    key = "attack-mail"
    rec.smtp.append(
        {
            "_ts": atk.mail_ts + 300_000,
            "_tag": tag,
            "_sport": sport,
            "trans_depth": 1,
            "helo": atk.sender.split("@")[1],
            "mailfrom": f"<{atk.sender}>",
            "rcptto": f"<{rcpt}>",
            "date": "-",
            "from": atk.sender,
            "to": rcpt,
            "msg_id": f"<{payload[:16]}@{atk.sender.split('@')[1]}>",
            "subject": subject,
            "path": f"{SERVERS['mail'].ip},{atk.sender_mta}",
            "tls": "F",
            "is_webmail": "F",
            "_attach": key,
        }
    )
    rec.files.append(
        {
            "_ts": atk.mail_ts + 400_000,
            "_tag": tag,
            "fuid": None,
            "tx_hosts": atk.sender_mta,
            "rx_hosts": SERVERS["mail"].ip,
            "source": "SMTP",
            "depth": 3,
            "analyzers": "MD5,SHA1,SHA256",
            "mime_type": "application/zip",
            "filename": att_name,
            "duration": "0.000000",
            "local_orig": "F",
            "is_orig": "T",
            "seen_bytes": size,
            "total_bytes": size,
            "missing_bytes": 0,
            "overflow_bytes": 0,
            "timedout": "F",
            "_smtp_key": key,
            **att_hashes,
        }
    )
    # the user opens it: Outlook saves the zip, Explorer extracts the executable, the user runs it
    opened = atk.mail_ts + int(rng.uniform(3, 40) * 60 * US)
    u = atk.user
    folder = "".join(chr(c) for c in rng.integers(65, 91, 8))
    outlook = log.procs.get("outlook") or log.new_proc(OUTLOOK)
    saved = rf"C:\Users\{u}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\{folder}\{att_name}"
    log.file_create(opened, outlook, saved)
    explorer = log.explorer or log.new_proc(EXPLORER)
    exe = rf"C:\Users\{u}\Downloads\{att_name[:-4]}\{atk.malware_name}"
    log.file_create(opened + int(rng.uniform(5, 30) * US), explorer, exe)
    executed = opened + int(rng.uniform(30, 120) * US)
    malware = log.process(executed, exe, f'"{exe}"', explorer, sha256=payload.upper())
    atk.malware = malware
    startup = rf"C:\Users\{u}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\OneDriveSync.lnk"
    log.file_create(executed + 4 * US, malware, startup)
    atk.times.update({"mail": atk.mail_ts, "opened": opened, "execution": executed})
    atk.attachment = {
        "name": att_name,
        "saved_path": saved,
        "executable": exe,
        "sha256": att_hashes["sha256"],
        "executable_sha256": payload,
        "subject": subject,
    }


def _beacons(world: World, day: Day, atk: Attack, rec: DayRecords, rng: np.random.Generator) -> None:
    cfg = world.cfg
    h = atk.host
    start = max(day.start, atk.times["execution"] + int(rng.uniform(3, 20) * US))
    end = day.end if day.index < cfg.days - 1 else day.end - 1
    log = ep.host_log(world, rec, h, rng)
    assert atk.malware is not None
    t = start
    last_dns = -(10**18)
    count = 0
    while t < end:
        if t - last_dns > 300 * US:
            ep.dns(world, rec, h, t, atk.c2_domain, atk.c2_ip, rng)
            last_dns = t
        task = rng.random() < 0.03
        sport = ep.tls_flow(
            world,
            rec,
            h,
            t,
            int(rng.uniform(0.15, 0.9) * US),
            atk.c2_ip,
            atk.c2_domain,
            int(rng.normal(380, 40)),
            int(rng.normal(900, 120)) + (int(rng.integers(2_000, 30_000)) if task else 0),
            "malware",
            rng,
        )
        log.connect(t, atk.malware, sport, atk.c2_ip, 443, atk.c2_domain)
        count += 1
        atk.times.setdefault("first_beacon", t)
        atk.times["last_beacon"] = t
        t += int(cfg.beacon_period_s * (1 + rng.uniform(-cfg.beacon_jitter, cfg.beacon_jitter)) * US)
    atk.times["beacons"] = atk.times.get("beacons", 0) + count


def _operate(
    world: World,
    day: Day,
    atk: Attack,
    docs: list[Document],
    rec: DayRecords,
    share: Path,
    rng: np.random.Generator,
) -> None:
    cfg = world.cfg
    h = atk.host
    log = ep.host_log(world, rec, h, rng)
    mal = atk.malware
    assert mal is not None
    if day.index == 0:
        t = atk.times["execution"] + int(rng.uniform(1.5, 4.0) * HOUR)
    else:
        t = day.local_hour(float(rng.uniform(10, 16)))
    for cmd in ("whoami", "ipconfig /all", r"net view \\fileserver", r"dir /s /b \\fileserver\share"):
        log.process(t, r"C:\Windows\System32\cmd.exe", f"cmd.exe /c {cmd}", mal)
        t += int(rng.uniform(5, 60) * US)
    ep.smb_connections(world, rec, h, [(t, 60_000)], rng)  # the directory listing
    t += int(rng.uniform(2, 10) * 60 * US)
    atk.times["reads_start"] = t
    order = [int(i) for i in rng.permutation(atk.taken)]
    for d in order:
        log.read(t, mal, share_path(docs[d].path))
        atk.reads.append((t, d))
        t += int(rng.uniform(8, 75) * US)
    atk.times["reads_end"] = atk.reads[-1][0]
    ep.smb_connections(world, rec, h, [(ts, docs[d].size) for ts, d in atk.reads], rng)
    t += int(rng.uniform(30, 180) * US)
    archive_path = rf"C:\Users\{atk.user}\AppData\Local\Temp\{atk.archive_name}"
    log.file_create(t, mal, archive_path)
    atk.archive = make_archive(share, docs, atk.taken)
    atk.times["archive"] = t
    atk.archive_path = archive_path
    t += int(rng.uniform(60, 600) * US)
    if not atk.exfil_via_c2:
        ep.dns(world, rec, h, t, atk.exfil_domain, atk.exfil_ip, rng)
    size = len(atk.archive)
    parts = int(rng.integers(cfg.exfil_connections[0], cfg.exfil_connections[1] + 1))
    cuts = (
        np.sort(rng.choice(np.arange(1, size), size=parts - 1, replace=False)) if parts > 1 else np.array([])
    )
    bounds = [0, *(int(c) for c in cuts), size]
    atk.times["upload_start"] = t
    for a, b in zip(bounds, bounds[1:], strict=False):
        part = b - a
        ob = part + part // 250 + int(rng.integers(2_500, 4_500))  # TLS records and HTTP framing
        dur = int(part * 8 / (rng.uniform(*cfg.exfil_rate_mbps) * 1e6) * US) + 300_000
        tag = rec.tag()
        sport = ep.tls_flow(
            world,
            rec,
            h,
            t,
            dur,
            atk.exfil_ip,
            atk.exfil_domain,
            ob,
            int(rng.integers(3_000, 9_000)),
            "malware",
            rng,
        )
        rec.rows.cols["tag"][-1] = tag
        log.connect(t, mal, sport, atk.exfil_ip, 443, atk.exfil_domain)
        atk.uploads.append(
            {"ts": t, "end": t + dur, "sport": sport, "orig_bytes": ob, "archive_bytes": part, "_tag": tag}
        )
        t += dur + int(rng.uniform(5, 90) * US)
    atk.times["upload_end"] = atk.uploads[-1]["end"]
