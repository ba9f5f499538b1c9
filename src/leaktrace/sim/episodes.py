"""Routine episodes of a working day, each tying network rows to endpoint events: DHCP leases, log-ons,
document reads over SMB, cloud-drive uploads, video calls, OS updates, inbound/outbound mail, and a few
rare-but-benign external servers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leaktrace.sim.documents import Document
from leaktrace.sim.endpoint import AV_AGENT, CHROME, EDGE, SVCHOST, HostLog
from leaktrace.sim.flows import JA3_IDX, MIME_IDX, ST, SVC, TCP, UDP, Flows
from leaktrace.sim.names import SITE_WORDS
from leaktrace.sim.network import DOMAIN, SERVERS
from leaktrace.sim.records import DayRecords, fake_hashes
from leaktrace.sim.world import HOUR, US, Day, World

MAIL_DOMAIN = "ministry.go.jp"
SMB_IDLE_US = 600 * US  # Windows drops an idle SMB connection after ten minutes
SUBJECTS = [
    "会議開催のお知らせ",
    "資料送付の件",
    "【再送】日程調整のお願い",
    "出張報告",
    "打合せ議事メモ",
    "Re: ご確認のお願い",
    "次回会合について",
    "Fw: 案内状",
    "Meeting follow-up",
    "調査票のご提出について",
]
ATTACH = [
    ("資料.pdf", "application/pdf"),
    ("議事録.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("集計表.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
]


@dataclass(frozen=True)
class Read:
    host: int
    ts: int
    doc: int


def host_log(world: World, rec: DayRecords, h: int, rng: np.random.Generator) -> HostLog:
    log = rec.hosts.get(h)
    if log is None:
        net = world.net
        log = HostLog(net.fqdn(h), net.users[h], net.host_ips[h], rng)
        rec.hosts[h] = log
    return log


def _eph(rng: np.random.Generator) -> int:
    return int(rng.integers(49152, 65535))


def dns(
    world: World, rec: DayRecords, h: int, ts: int, domain: str, ip: str, rng: np.random.Generator
) -> None:
    ob = 28 + len(domain) + 4
    rec.rows.add(
        ts=ts - int(rng.integers(3_000, 60_000)),
        dur=int(rng.integers(500, 25_000)),
        src=h,
        dst=world.server_ip["dns"],
        sport=_eph(rng),
        dport=53,
        proto=UDP,
        service=SVC["dns"],
        ob=ob,
        rb=ob + 16 * 2,
        state=ST["SF"],
        dnsq=world.domains.add(domain),
        dnsans=world.ips.add(ip),
    )


def tls_flow(
    world: World,
    rec: DayRecords,
    h: int,
    ts: int,
    dur: int,
    ip: str,
    domain: str,
    ob: int,
    rb: int,
    ja3: str,
    rng: np.random.Generator,
    dport: int = 443,
) -> int:
    sport = _eph(rng)
    rec.rows.add(
        ts=ts,
        dur=dur,
        src=h,
        dst=world.ips.add(ip),
        sport=sport,
        dport=dport,
        proto=TCP,
        service=SVC["ssl"],
        ob=ob,
        rb=rb,
        state=ST["SF"],
        sni=world.domains.add(domain),
        ja3=JA3_IDX[ja3],
    )
    return sport


def logons(world: World, day: Day, rec: DayRecords, rng: np.random.Generator) -> None:
    net = world.net
    for h in np.flatnonzero(day.present | net.always_on).tolist():
        ts = int(day.on_start[h]) + int(rng.uniform(1, 20) * US)
        tag = rec.tag()
        rec.rows.add(
            ts=ts,
            dur=int(rng.integers(2_000, 9_000)),
            src=h,
            dst=world.server_ip["dhcp"],
            sport=68,
            dport=67,
            proto=UDP,
            service=SVC["dhcp"],
            ob=300,
            rb=300,
            state=ST["SF"],
            tag=tag,
        )
        rec.dhcp.append(
            {
                "_ts": ts,
                "_tag": tag,
                "client_addr": net.host_ips[h],
                "server_addr": SERVERS["dhcp"].ip,
                "mac": net.host_macs[h],
                "host_name": net.host_names[h],
                "client_fqdn": net.fqdn(h),
                "domain": DOMAIN,
                "requested_addr": net.host_ips[h],
                "assigned_addr": net.host_ips[h],
                "lease_time": "86400.000000",
                "msg_types": "REQUEST,ACK",
                "duration": "0.004213",
            }
        )
        if day.present[h]:
            log = host_log(world, rec, h, rng)
            log.logon(int(day.arrive[h]), CHROME if net.host_browser[h] else EDGE)


def sample_connects(world: World, rec: DayRecords, f: Flows, rng: np.random.Generator) -> None:
    """Log a share of the PCs' background TCP connections as Sysmon network-connect events of the process
    that made them (browser, Outlook, the OS, the antivirus agent)."""
    pcs = world.net.n_hosts
    pick = np.flatnonzero(
        (f.src < pcs)
        & (f.tag < 0)
        & (f.proto == TCP)
        & (f.state != ST["S0"])
        & (f.dport != 53)
        & (rng.random(len(f)) < world.cfg.endpoint_connect_share)
    )
    ja3 = {i: name for name, i in JA3_IDX.items()}
    for i in pick.tolist():
        h = int(f.src[i])
        log = host_log(world, rec, h, rng)
        app = ja3[int(f.ja3[i])] if f.sni[i] >= 0 else ("edge" if f.hhost[i] >= 0 else "schannel")
        if app in ("edge", "chrome", "outlook"):
            proc = log.procs.get("browser" if app != "outlook" else "outlook")
            if proc is None:
                continue
        else:
            proc = log.service(AV_AGENT if app == "av" else SVCHOST)
        dom = int(f.sni[i]) if f.sni[i] >= 0 else int(f.hhost[i])
        log.connect(
            int(f.ts[i]),
            proc,
            int(f.sport[i]),
            world.ips.items[int(f.dst[i])],
            int(f.dport[i]),
            world.domains.items[dom] if dom >= 0 else None,
        )


def routine_reads(world: World, day: Day, docs: list[Document], rng: np.random.Generator) -> list[Read]:
    cfg = world.cfg
    ndirs = len(cfg.share_dirs)
    pop = np.arange(1, len(docs) + 1, dtype=np.float64) ** -0.8
    rng.shuffle(pop)
    dept = np.array([d.dept for d in docs])
    reads: list[Read] = []
    for h in np.flatnonzero(day.present).tolist():
        k = int(rng.poisson(cfg.doc_reads_per_day))
        if k == 0:
            continue
        own = dept == (h % ndirs)
        w = pop * np.where(own, 6.0, 1.0)
        picks = rng.choice(len(docs), size=k, p=w / w.sum())
        lo, hi = int(day.arrive[h]) + 15 * 60 * US, int(day.leave[h]) - 10 * 60 * US
        for doc, ts in zip(picks, rng.integers(lo, max(hi, lo + 1), k), strict=True):
            reads.append(Read(h, int(ts), int(doc)))
    return reads


def smb_bursts(
    world: World, rec: DayRecords, reads: list[Read], docs: list[Document], rng: np.random.Generator
) -> None:
    """Benign reads: Office opens the file from the share; SMB connections group reads 10 minutes apart."""
    by_host: dict[int, list[Read]] = {}
    for r in reads:
        by_host.setdefault(r.host, []).append(r)
    for h, rs in sorted(by_host.items()):
        rs.sort(key=lambda r: r.ts)
        log = host_log(world, rec, h, rng)
        for r in rs:
            log.open_document(r.ts, docs[r.doc].path, docs[r.doc].kind)
        smb_connections(world, rec, h, [(r.ts, docs[r.doc].size) for r in rs], rng)


def smb_connections(
    world: World, rec: DayRecords, h: int, reads: list[tuple[int, int]], rng: np.random.Generator
) -> list[int]:
    """One SMB connection per burst of reads; returns the tags of the connections."""
    tags: list[int] = []
    burst: list[tuple[int, int]] = []

    def close() -> None:
        first, last = burst[0][0], burst[-1][0]
        size = sum(s for _, s in burst)
        tag = rec.tag()
        tags.append(tag)
        rb = int(size * 1.03) + 12_000 * len(burst) + int(rng.integers(2_000, 20_000))
        rec.rows.add(
            ts=first - int(rng.integers(200_000, 2_000_000)),
            dur=last - first + SMB_IDLE_US,
            src=h,
            dst=world.server_ip["fileserver"],
            sport=_eph(rng),
            dport=445,
            proto=TCP,
            service=SVC["gssapi,smb,krb"],
            ob=4_000 * len(burst) + rb // 60,
            rb=rb,
            state=ST["SF"],
            tag=tag,
        )

    for ts, size in sorted(reads):
        if burst and ts - burst[-1][0] > SMB_IDLE_US:
            close()
            burst = []
        burst.append((ts, size))
    if burst:
        close()
    return tags


def big_transfers(world: World, day: Day, rec: DayRecords, rng: np.random.Generator) -> None:
    """Cloud-drive uploads, video calls and OS updates: large, legitimate, to servers many hosts use."""
    cfg = world.cfg
    net = world.net
    for h in np.flatnonzero(day.present).tolist():
        lo, hi = (
            int(day.arrive[h]) + 20 * 60 * US,
            max(int(day.leave[h]) - 30 * 60 * US, int(day.arrive[h]) + HOUR),
        )
        if rng.random() < cfg.cloud_upload_prob:
            key = "box" if rng.random() < 0.5 else "sharepoint"
            svc = net.services[key]
            ip = svc.ips[int(rng.integers(len(svc.ips)))]
            ts = int(rng.integers(lo, hi))
            ob = int(rng.uniform(*cfg.cloud_upload_mb) * 1e6)
            dur = int(ob * 8 / rng.uniform(15e6, 60e6) * US)
            dns(world, rec, h, ts, svc.domain, ip, rng)
            sport = tls_flow(
                world, rec, h, ts, dur, ip, svc.domain, ob, int(ob * 0.008) + 20_000, "onedrive", rng
            )
            world.benign_uploads.append(
                {
                    "kind": "cloud_drive",
                    "host": net.host_names[h],
                    "ip": ip,
                    "domain": svc.domain,
                    "bytes": ob,
                    "ts": world.iso(ts),
                }
            )
            log = host_log(world, rec, h, rng)
            from leaktrace.sim.endpoint import ONEDRIVE

            log.connect(ts, log.new_proc(ONEDRIVE), sport, ip, 443, svc.domain)
        if rng.random() < cfg.video_call_prob:
            key = "teams_media" if rng.random() < 0.7 else "zoom"
            svc = net.services[key]
            ip = svc.ips[int(rng.integers(len(svc.ips)))]
            ts = int(rng.integers(lo, hi))
            secs = rng.uniform(*cfg.video_call_minutes) * 60
            ob = int(secs * rng.uniform(*cfg.video_call_mbps) * 1e6 / 8)
            rec.rows.add(
                ts=ts,
                dur=int(secs * US),
                src=h,
                dst=world.ips.add(ip),
                sport=_eph(rng),
                dport=3478 if key == "teams_media" else 8801,
                proto=UDP,
                service=0,
                ob=ob,
                rb=int(ob * rng.uniform(0.8, 1.6)),
                state=ST["SF"],
            )
    partner = net.services["partner"]
    for h in world.partner_group.tolist():  # a small team sends files to a partner's server most days
        if not day.present[h] or rng.random() < 0.4:
            continue
        ts = int(
            rng.integers(
                int(day.arrive[h]) + HOUR, max(int(day.leave[h]) - HOUR, int(day.arrive[h]) + 2 * HOUR)
            )
        )
        dns(world, rec, h, ts, partner.domain, partner.ips[0], rng)
        for _ in range(int(rng.integers(1, 4))):
            ob = int(rng.uniform(*cfg.partner_upload_mb) * 1e6)
            world.benign_uploads.append(
                {
                    "kind": "partner_exchange",
                    "host": net.host_names[h],
                    "ip": partner.ips[0],
                    "domain": partner.domain,
                    "bytes": ob,
                    "ts": world.iso(ts),
                }
            )
            tls_flow(
                world,
                rec,
                h,
                ts,
                int(ob * 8 / rng.uniform(5e6, 30e6) * US),
                partner.ips[0],
                partner.domain,
                ob,
                int(rng.integers(4_000, 40_000)),
                "chrome" if net.host_browser[h] else "edge",
                rng,
            )
            ts += int(rng.uniform(0.5, 3) * HOUR)
    for h in np.flatnonzero(day.present | net.always_on).tolist():
        if rng.random() >= cfg.os_update_prob:
            continue
        svc = net.services["winupdate"]
        ip = svc.ips[int(rng.integers(len(svc.ips)))]
        ts = int(rng.integers(int(day.on_start[h]), max(int(day.on_end[h]) - HOUR, int(day.on_start[h]) + 1)))
        total = int(rng.uniform(*cfg.os_update_mb) * 1e6)
        parts = int(rng.integers(1, 4))
        kb = int(rng.integers(5_030_000, 5_059_999))
        dns(world, rec, h, ts, svc.domain, ip, rng)
        for i in range(parts):
            rb = total // parts
            uri = f"/c/msdownload/update/software/secu/2026/02/windows10.0-kb{kb}-x64_{i:02d}{kb % 9973:04x}.cab"
            tag = rec.tag()
            dur = int(rb * 8 / rng.uniform(40e6, 200e6) * US)
            rec.rows.add(
                ts=ts,
                dur=dur,
                src=h,
                dst=world.ips.add(ip),
                sport=_eph(rng),
                dport=80,
                proto=TCP,
                service=SVC["http"],
                ob=int(rb * 0.004) + 600,
                rb=rb,
                state=ST["SF"],
                hhost=world.domains.add(svc.domain),
                huri=world.uris.add(uri),
                hmethod=0,
                hstatus=0,
                hmime=MIME_IDX["application/vnd.ms-cab-compressed"],
                hua=2,
                tag=tag,
            )
            rec.files.append(
                {
                    "_ts": ts + 30_000,
                    "_tag": tag,
                    "fuid": None,
                    "tx_hosts": ip,
                    "rx_hosts": net.host_ips[h],
                    "source": "HTTP",
                    "depth": 0,
                    "analyzers": "MD5,SHA1,SHA256",
                    "mime_type": "application/vnd.ms-cab-compressed",
                    "filename": "-",
                    "duration": f"{dur / US:.6f}",
                    "local_orig": "F",
                    "is_orig": "F",
                    "seen_bytes": rb,
                    "total_bytes": rb,
                    "missing_bytes": 0,
                    "overflow_bytes": 0,
                    "timedout": "F",
                    **fake_hashes(uri),
                }
            )
            ts += dur + int(rng.integers(1, 20) * US)


def mail(world: World, day: Day, rec: DayRecords, rng: np.random.Generator) -> None:
    cfg = world.cfg
    net = world.net
    present = np.flatnonzero(day.present)
    if len(present) == 0:
        return
    n_in = int(rng.poisson(cfg.inbound_mails_per_day * len(present)))
    n_out = int(rng.poisson(cfg.inbound_mails_per_day * 0.4 * len(present)))
    mail_ip = SERVERS["mail"].ip
    for i in range(n_in + n_out):
        inbound = i < n_in
        p = int(rng.integers(len(world.partner_domains)))
        partner, mta = world.partner_domains[p], world.partner_mta[p]
        h = int(present[int(rng.integers(len(present)))])
        ts = day.local_hour(float(rng.uniform(7.0, 21.0)))
        attach = rng.random() < cfg.attachment_share
        size = int(rng.lognormal(np.log(12_000), 0.6))
        a_name, a_mime = ATTACH[int(rng.integers(len(ATTACH)))]
        a_size = int(rng.lognormal(np.log(250_000), 1.0)) if attach else 0
        tag = rec.tag()
        src, dst = (mta, world.server_ip["mail"]) if inbound else (world.server_ip["mail"], mta)
        sport = _eph(rng)
        rec.rows.add(
            ts=ts,
            dur=int(rng.uniform(0.3, 4) * US),
            src=src,
            dst=dst,
            sport=sport,
            dport=25,
            proto=TCP,
            service=SVC["smtp"],
            ob=size + int(a_size * 1.37),
            rb=int(rng.integers(400, 1500)),
            state=ST["SF"],
            tag=tag,
        )
        sender = f"{SITE_WORDS[p % len(SITE_WORDS)]}.{p}@{partner}"
        user = f"{net.users[h]}@{MAIL_DOMAIN}"
        mfrom, rcpt = (sender, user) if inbound else (user, sender)
        fuid_key = f"{day.label}-{i}"
        rec.smtp.append(
            {
                "_ts": ts + 200_000,
                "_tag": tag,
                "_sport": sport,
                "trans_depth": 1,
                "helo": f"mx.{partner}" if inbound else "mail01.ministry.go.jp",
                "mailfrom": f"<{mfrom}>",
                "rcptto": f"<{rcpt}>",
                "date": "-",
                "from": mfrom,
                "to": rcpt,
                "msg_id": f"<{fuid_key}.{int(rng.integers(10**9))}@{partner if inbound else MAIL_DOMAIN}>",
                "subject": SUBJECTS[int(rng.integers(len(SUBJECTS)))],
                "path": f"{mail_ip},{world.ips.items[mta]}"
                if inbound
                else f"{world.ips.items[mta]},{mail_ip}",
                "tls": "F",
                "is_webmail": "F",
                "_attach": fuid_key if attach else None,
            }
        )
        if attach:
            rec.files.append(
                {
                    "_ts": ts + 300_000,
                    "_tag": tag,
                    "fuid": None,
                    "tx_hosts": world.ips.items[src],
                    "rx_hosts": world.ips.items[dst],
                    "source": "SMTP",
                    "depth": 3,
                    "analyzers": "MD5,SHA1,SHA256",
                    "mime_type": a_mime,
                    "filename": a_name,
                    "duration": "0.000000",
                    "local_orig": "F" if inbound else "T",
                    "is_orig": "T",
                    "seen_bytes": a_size,
                    "total_bytes": a_size,
                    "missing_bytes": 0,
                    "overflow_bytes": 0,
                    "timedout": "F",
                    "_smtp_key": fuid_key,
                    **fake_hashes(fuid_key),
                }
            )


def rare_sites(world: World, day: Day, rec: DayRecords, rng: np.random.Generator) -> list[dict[str, object]]:
    """A few hosts visit a server nobody else uses (a conference site, a small NGO) with small traffic."""
    present = np.flatnonzero(day.present)
    out: list[dict[str, object]] = []
    if len(present) == 0:
        return out
    hosts = rng.choice(present, size=min(world.cfg.rare_site_hosts, len(present)), replace=False)
    for j, h in enumerate(sorted(int(x) for x in hosts)):
        w1, w2 = (SITE_WORDS[int(i)] for i in rng.choice(len(SITE_WORDS), 2, replace=False))
        domain = f"{w1}-{w2}-{day.index}{j}.org"
        ip = world.net.ip_pool.take(1)[0]
        ts = int(
            rng.integers(
                int(day.arrive[h]) + HOUR, max(int(day.leave[h]) - HOUR, int(day.arrive[h]) + 2 * HOUR)
            )
        )
        dns(world, rec, h, ts, domain, ip, rng)
        upload = int(rng.uniform(*world.cfg.rare_upload_kb) * 1000)
        first = ts
        for k in range(int(rng.integers(2, 7))):
            ob = upload if k == 1 else int(rng.integers(600, 2500))
            tls_flow(
                world,
                rec,
                h,
                ts,
                int(rng.uniform(0.2, 6) * US),
                ip,
                domain,
                ob,
                int(rng.integers(3_000, 90_000)),
                "chrome" if world.net.host_browser[h] else "edge",
                rng,
            )
            ts += int(rng.uniform(2, 40) * US)
        out.append({"host": world.net.host_names[h], "domain": domain, "ip": ip, "bytes_out_max": upload})
        world.benign_uploads.append(
            {
                "kind": "rare_site",
                "host": world.net.host_names[h],
                "ip": ip,
                "domain": domain,
                "bytes": upload,
                "ts": world.iso(first),
            }
        )
    return out
