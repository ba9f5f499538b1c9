"""Sysmon-style endpoint events (process create 1, network connect 3, file create 11) and Windows Security
4663 object access (reads, AccessMask 0x1), as flat Winlogbeat-like JSON objects, one JSON line per event."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from leaktrace.sim.network import NETBIOS

SYSMON = "Microsoft-Windows-Sysmon/Operational"
EXPLORER = r"C:\Windows\explorer.exe"
OFFICE = r"C:\Program Files\Microsoft Office\root\Office16"
APPS = {
    "docx": rf"{OFFICE}\WINWORD.EXE",
    "xlsx": rf"{OFFICE}\EXCEL.EXE",
    "csv": rf"{OFFICE}\EXCEL.EXE",
    "pptx": rf"{OFFICE}\POWERPNT.EXE",
    "pdf": r"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe",
    "txt": r"C:\Windows\System32\notepad.exe",
}
OUTLOOK = rf"{OFFICE}\OUTLOOK.EXE"
EDGE = r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"
CHROME = r"C:\Program Files\Google\Chrome\Application\chrome.exe"
TEAMS = r"C:\Program Files\WindowsApps\MSTeams_25044.2208.3471.2155_x64__8wekyb3d8bbwe\ms-teams.exe"
ONEDRIVE = r"C:\Program Files\Microsoft OneDrive\OneDrive.exe"
SVCHOST = r"C:\Windows\System32\svchost.exe"
AV_AGENT = r"C:\Program Files (x86)\Trend Micro\Security Agent\PccNTMon.exe"


def utc(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def share_path(rel: str) -> str:
    return "\\\\fileserver\\share\\" + rel.replace("/", "\\")


class Proc:
    """A running process on a host (what later events refer to)."""

    def __init__(self, image: str, guid: str, pid: int) -> None:
        self.image = image
        self.guid = guid
        self.pid = pid


class HostLog:
    """Collects the events of one host; :meth:`lines` renders them in time order."""

    def __init__(self, fqdn: str, user: str, ip: str, rng: np.random.Generator) -> None:
        self.fqdn = fqdn
        self.user = f"{NETBIOS}\\{user}"
        self.account = user
        self.ip = ip
        self.rng = rng
        self.events: list[tuple[int, int, str]] = []
        self._seq = 0
        self.explorer: Proc | None = None
        self.procs: dict[str, Proc] = {}

    def _base(self, us: int, event_id: int, channel: str) -> dict[str, Any]:
        t = utc(us)
        return {
            "@timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "EventID": event_id,
            "Channel": channel,
            "Computer": self.fqdn,
            "UtcTime": t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        }

    def _add(self, us: int, event: dict[str, Any]) -> None:
        self.events.append((us, self._seq, json.dumps(event, ensure_ascii=False, separators=(",", ":"))))
        self._seq += 1

    def service(self, image: str) -> Proc:
        """A long-running process started at boot (no process-create event today), one per image."""
        proc = self.procs.get(image)
        if proc is None:
            proc = self.procs[image] = self.new_proc(image)
        return proc

    def new_proc(self, image: str) -> Proc:
        guid = "{" + str(uuid.UUID(bytes=self.rng.bytes(16))) + "}"
        return Proc(image, guid, int(self.rng.integers(1000, 30000)) * 4)

    def process(
        self, us: int, image: str, cmdline: str, parent: Proc | None, sha256: str | None = None
    ) -> Proc:
        proc = self.new_proc(image)
        ev = self._base(us, 1, SYSMON)
        ev.update(
            {
                "ProcessGuid": proc.guid,
                "ProcessId": proc.pid,
                "Image": image,
                "CommandLine": cmdline,
                "CurrentDirectory": f"C:\\Users\\{self.account}\\",
                "User": self.user,
                "IntegrityLevel": "Medium",
                "Hashes": f"SHA256={sha256 or _fake_hash(image)}",
                "ParentProcessGuid": parent.guid if parent else "{00000000-0000-0000-0000-000000000000}",
                "ParentProcessId": parent.pid if parent else 0,
                "ParentImage": parent.image if parent else r"C:\Windows\System32\userinit.exe",
            }
        )
        self._add(us, ev)
        return proc

    def file_create(self, us: int, proc: Proc, target: str) -> None:
        ev = self._base(us, 11, SYSMON)
        ev.update(
            {
                "ProcessGuid": proc.guid,
                "ProcessId": proc.pid,
                "Image": proc.image,
                "TargetFilename": target,
                "CreationUtcTime": ev["UtcTime"],
                "User": self.user,
            }
        )
        self._add(us, ev)

    def connect(
        self,
        us: int,
        proc: Proc,
        sport: int,
        dst_ip: str,
        dport: int,
        dst_host: str | None,
        protocol: str = "tcp",
    ) -> None:
        ev = self._base(us, 3, SYSMON)
        ev.update(
            {
                "ProcessGuid": proc.guid,
                "ProcessId": proc.pid,
                "Image": proc.image,
                "User": self.user,
                "Protocol": protocol,
                "Initiated": True,
                "SourceIp": self.ip,
                "SourceHostname": self.fqdn,
                "SourcePort": sport,
                "DestinationIp": dst_ip,
                "DestinationHostname": dst_host or "",
                "DestinationPort": dport,
            }
        )
        self._add(us, ev)

    def read(self, us: int, proc: Proc, object_name: str) -> None:
        ev = self._base(us, 4663, "Security")
        ev.update(
            {
                "SubjectUserName": self.account,
                "SubjectDomainName": NETBIOS,
                "ObjectServer": "Security",
                "ObjectType": "File",
                "ObjectName": object_name,
                "HandleId": hex(int(self.rng.integers(256, 8192))),
                "AccessList": "%%4416",
                "AccessMask": "0x1",
                "ProcessId": hex(proc.pid),
                "ProcessName": proc.image,
            }
        )
        self._add(us, ev)

    def logon(self, us: int, browser: str) -> dict[str, Proc]:
        explorer = self.process(us, EXPLORER, EXPLORER, None)
        self.explorer = explorer
        procs = {"explorer": explorer}
        procs["outlook"] = self.process(us + 40_000_000, OUTLOOK, f'"{OUTLOOK}" /recycle', explorer)
        procs["browser"] = self.process(
            us + 95_000_000, browser, f'"{browser}" --no-startup-window', explorer
        )
        procs["teams"] = self.process(us + 30_000_000, TEAMS, f'"{TEAMS}" msteams:system-initiated', explorer)
        procs["onedrive"] = self.process(us + 20_000_000, ONEDRIVE, f'"{ONEDRIVE}" /background', explorer)
        self.procs = procs
        return procs

    def open_document(self, us: int, rel_path: str, kind: str) -> Proc:
        app = APPS[kind]
        path = share_path(rel_path)
        proc = self.process(
            us, app, f'"{app}" /n "{path}"' if "Office16" in app else f'"{app}" "{path}"', self.explorer
        )
        self.read(us + int(self.rng.integers(200_000, 900_000)), proc, path)
        return proc

    def lines(self) -> list[str]:
        self.events.sort(key=lambda e: (e[0], e[1]))
        return [ev for _, _, ev in self.events]

    def flush(self, path: Path) -> None:
        if not self.events:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(self.lines()) + "\n")
        self.events.clear()


def _fake_hash(image: str) -> str:
    import hashlib

    return hashlib.sha256(image.lower().encode()).hexdigest().upper()
