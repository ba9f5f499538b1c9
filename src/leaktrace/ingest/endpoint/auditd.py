"""Linux auditd logs (``/var/log/audit/audit.log``, raw or enriched format, optional ``node=`` prefix).

Records are grouped into events by their serial (``msg=audit(<epoch>:<serial>)``); an event ends at its
``EOE`` record (or when it has been waiting behind 64 newer events, or at the end of the source):

* ``execve`` / ``execveat`` (SYSCALL + EXECVE) -> ``process`` (event ``start``, command line from a0..aN),
  plus the files its command line names (``tar -czf``, ``cp``, ``zip``...; see :mod:`.cmdline_files`);
* ``open``/``openat``/``creat`` -> ``file_event`` ``read`` (O_RDONLY) / ``write`` (O_WRONLY, O_RDWR) /
  ``create`` (a PATH item of nametype CREATE); ``rename*`` -> ``rename`` (path = old, target_path = new);
  ``unlink*``/``rmdir`` -> ``delete``; ``truncate`` -> ``write``; ``link*``/``symlink*``/``mkdir*`` -> ``create``.
  Failed calls (``success=no``) are not file events (they are counted in the notes);
* ``connect`` / ``sendto`` / ``sendmsg`` with an inet SOCKADDR -> ``endpoint_conn`` (failed connects too:
  they are attempts; ``success`` in extra).

Times are epoch seconds (UTC). ``host`` is the ``node=`` name when the log has one, else null. A line
without ``type=... msg=audit(...)`` is quarantined with its number.
"""

from __future__ import annotations

import posixpath
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from leaktrace.ingest.base import IngestContext, SourceResult, ingesters
from leaktrace.ingest.endpoint.cmdline_files import write_inferred
from leaktrace.ingest.endpoint.sink import FLUSH_ROWS, RowSink
from leaktrace.ingest.endpoint.values import dumps
from leaktrace.ingest.sources import Source
from leaktrace.lake import StagedBatch

_HEADER = re.compile(r"^(?:node=(\S+) )?type=(\S+) msg=audit\((\d+(?:\.\d+)?):(\d+)\):\s?(.*)$")
_KV = re.compile(r"([\w\-\[\]]+)=(\"[^\"]*\"|'[^']*'|\{[^}]*\}|\S+)")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_ARGN = re.compile(r"^a\d+$")
_ENCODED = {"name", "exe", "comm", "cwd", "proctitle", "key", "path", "data"}
UNSET_ID = "4294967295"
MAX_WAITING = 64

_X86_64 = {2: "open", 257: "openat", 437: "openat2", 85: "creat", 304: "open_by_handle_at", 82: "rename",
           264: "renameat", 316: "renameat2", 87: "unlink", 263: "unlinkat", 84: "rmdir", 83: "mkdir",
           258: "mkdirat", 86: "link", 265: "linkat", 88: "symlink", 266: "symlinkat", 76: "truncate",
           59: "execve", 322: "execveat", 42: "connect", 44: "sendto", 46: "sendmsg"}
_AARCH64 = {56: "openat", 437: "openat2", 38: "renameat", 276: "renameat2", 35: "unlinkat", 34: "mkdirat",
            37: "linkat", 36: "symlinkat", 45: "truncate", 221: "execve", 281: "execveat", 203: "connect",
            206: "sendto", 211: "sendmsg"}
_I386 = {5: "open", 295: "openat", 8: "creat", 38: "rename", 302: "renameat", 10: "unlink", 301: "unlinkat",
         40: "rmdir", 39: "mkdir", 9: "link", 83: "symlink", 92: "truncate", 11: "execve", 358: "execveat",
         362: "connect", 369: "sendto", 370: "sendmsg"}
SYSCALLS = {"c000003e": _X86_64, "c00000b7": _AARCH64, "40000003": _I386}

_OPEN = {"open", "openat", "openat2", "creat", "open_by_handle_at"}
_RENAME = {"rename", "renameat", "renameat2"}
_DELETE = {"unlink", "unlinkat", "rmdir"}
_CREATE = {"mkdir", "mkdirat", "link", "linkat", "symlink", "symlinkat"}
_NET = {"connect", "sendto", "sendmsg"}
O_ACCMODE, O_CREAT, O_TRUNC = 0x3, 0x40, 0x200


def decode_value(key: str, value: str) -> str | None:
    """Unquote, and decode auditd's hex encoding of values with spaces or odd bytes."""
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return value[1:-1]
    if value.startswith("'") and value.endswith("'") and len(value) >= 2:
        return value[1:-1]
    if value == "(null)":
        return None
    if (key in _ENCODED or _ARGN.match(key)) and len(value) % 2 == 0 and _HEX.match(value) and len(value) >= 2:
        try:
            return bytes.fromhex(value).decode("utf-8", "replace").replace("\x00", " ").strip()
        except ValueError:
            return value
    return value


def parse_fields(body: str) -> dict[str, str]:
    main, _, enriched = body.partition("\x1d")
    out: dict[str, str] = {k: v for k, v in _KV.findall(main)}
    for k, v in _KV.findall(enriched):
        out[k] = v  # enriched names are upper case (UID="alice"); they never clash with raw ones
    return out


@dataclass
class Record:
    type: str
    fields: dict[str, str]


@dataclass
class AuditEvent:
    node: str | None
    ts_us: int
    serial: int
    line: int
    records: list[Record] = field(default_factory=list)

    def first(self, rtype: str) -> dict[str, str] | None:
        return next((r.fields for r in self.records if r.type == rtype), None)

    def all(self, rtype: str) -> list[dict[str, str]]:
        return [r.fields for r in self.records if r.type == rtype]


def syscall_name(sc: dict[str, str]) -> str | None:
    value = sc.get("syscall")
    if value is None:
        return None
    if not value.isdigit():
        return value
    table = SYSCALLS.get(sc.get("arch", "c000003e").lower(), _X86_64)
    return table.get(int(value))


def _user(sc: dict[str, str]) -> str | None:
    for key in ("AUID", "UID"):
        if key in sc:
            v = decode_value(key, sc[key])
            if v and v != "unset":
                return v
    auid = sc.get("auid")
    if auid and auid != UNSET_ID:
        return auid
    return sc.get("uid")


def _int(value: str | None, base: int = 10) -> int | None:
    if value is None:
        return None
    try:
        return int(value, base)
    except ValueError:
        return None


def decode_sockaddr(saddr: str) -> tuple[str, str | None, int | None]:
    """``(family, ip, port)`` of a hex ``saddr`` (AF_INET / AF_INET6; others give ``(family, None, None)``)."""
    try:
        raw = bytes.fromhex(saddr)
    except ValueError:
        return "unknown", None, None
    if len(raw) < 2:
        return "unknown", None, None
    family = int.from_bytes(raw[:2], "little")
    if family == 2 and len(raw) >= 8:
        return "inet", ".".join(str(b) for b in raw[4:8]), int.from_bytes(raw[2:4], "big")
    if family == 10 and len(raw) >= 24:
        import ipaddress

        ip = ipaddress.IPv6Address(raw[8:24])
        text = str(ip.ipv4_mapped) if ip.ipv4_mapped else str(ip)
        return "inet6", text, int.from_bytes(raw[2:4], "big")
    return {1: "local"}.get(family, str(family)), None, None


def _execve_arg(ex: dict[str, str], i: int) -> str:
    """Argument ``i`` of an EXECVE record; long ones come in pieces ``a1_len=.. a1[0]=.. a1[1]=..``."""
    if f"a{i}" in ex:
        return decode_value(f"a{i}", ex[f"a{i}"]) or ""
    parts = []
    j = 0
    while f"a{i}[{j}]" in ex:
        raw = ex[f"a{i}[{j}]"]
        parts.append(raw.strip('"') if raw.startswith('"') else raw)
        j += 1
    if not parts:
        return ""
    joined = "".join(parts)
    return decode_value(f"a{i}", joined) or "" if all(not p.startswith('"') for p in parts) else joined


def _sockaddr(event: AuditEvent) -> tuple[str, str | None, int | None] | None:
    sa = event.first("SOCKADDR")
    if sa is None:
        return None
    if "SADDR" in sa and "laddr=" in sa["SADDR"]:  # enriched: { saddr_fam=inet laddr=1.2.3.4 lport=80 }
        kv = dict(_KV.findall(sa["SADDR"].strip("{} ")))
        return kv.get("saddr_fam", "inet"), kv.get("laddr"), _int(kv.get("lport"))
    return decode_sockaddr(sa.get("saddr", ""))


def _paths(event: AuditEvent) -> tuple[str | None, list[tuple[str | None, str]]]:
    cwd_rec = event.first("CWD")
    cwd = decode_value("cwd", cwd_rec["cwd"]) if cwd_rec and "cwd" in cwd_rec else None
    items = [(decode_value("name", p["name"]) if "name" in p else None, p.get("nametype", "UNKNOWN"))
             for p in event.all("PATH")]
    return cwd, items


def _absolute(name: str | None, cwd: str | None, parent: str | None) -> str | None:
    if name is None or name.startswith("/"):
        return name
    base = parent if parent and parent.startswith("/") else cwd
    return posixpath.normpath(posixpath.join(base, name)) if base else name


def _file_rows(event: AuditEvent, sc: dict[str, str], name: str) -> list[dict[str, Any]]:
    cwd, items = _paths(event)
    parent = next((n for n, t in items if t == "PARENT"), None)

    def pick(*types: str) -> str | None:
        return next((_absolute(n, cwd, parent) for n, t in items if t in types and n), None)

    target_path: str | None = None
    path: str | None
    if name in _OPEN:
        created = pick("CREATE")
        if created:
            action, path = "create", created
        else:
            flags = _int(sc.get("a1" if name == "open" else "a2"), 16) if name in ("open", "openat") else None
            if name == "creat":
                action = "write"
            elif flags is None:
                action = "read"
            else:
                action = "read" if flags & O_ACCMODE == 0 and not flags & O_TRUNC else "write"
            path = pick("NORMAL", "UNKNOWN", "CREATE")
    elif name in _RENAME:
        action, path, target_path = "rename", pick("DELETE"), pick("CREATE")
    elif name in _DELETE:
        action, path = "delete", pick("DELETE")
    elif name in _CREATE:
        action, path = "create", pick("CREATE")
    elif name == "truncate":
        action, path = "write", pick("NORMAL", "UNKNOWN")
    else:
        return []
    if path is None:
        return []
    return [{"action": action, "path": path, "target_path": target_path}]


def _extra(sc: dict[str, str], **more: Any) -> str:
    keep: dict[str, Any] = {k: decode_value(k, sc[k]) for k in ("syscall", "success", "exit", "comm", "uid", "euid", "auid",
                                                "tty", "ses", "key") if k in sc}
    keep.update(more)
    return dumps({k: v for k, v in keep.items() if v is not None})


class AuditMapper:
    def __init__(self, sink: RowSink) -> None:
        self.sink = sink
        self.unmapped: dict[str, int] = {}
        self.failed_file_ops = 0
        self.seen_inferred: set[tuple[object, ...]] = set()

    def map(self, event: AuditEvent) -> None:
        sc = event.first("SYSCALL")
        if sc is None:
            kind = event.records[0].type if event.records else "?"
            self.unmapped[kind] = self.unmapped.get(kind, 0) + 1
            return
        name = syscall_name(sc) or ""
        base = {"ts": event.ts_us, "host": event.node, "pid": _int(sc.get("pid")),
                "image": decode_value("exe", sc["exe"]) if "exe" in sc else None, "user": _user(sc),
                "source_line": event.line}
        proctitle = event.first("PROCTITLE")
        title = decode_value("proctitle", proctitle["proctitle"]) if proctitle and "proctitle" in proctitle else None
        if name in ("execve", "execveat"):
            self._process(event, sc, base, title)
        elif name in _NET:
            self._net(event, sc, base, name)
        elif name in _OPEN | _RENAME | _DELETE | _CREATE | {"truncate"}:
            if sc.get("success") == "no":
                self.failed_file_ops += 1
                return
            cwd = event.first("CWD")
            for row in _file_rows(event, sc, name):
                row.update(base)
                row["extra"] = _extra(sc, cwd=decode_value("cwd", cwd["cwd"]) if cwd and "cwd" in cwd else None,
                                      proctitle=title)
                self.sink.add("file_event", row)
        else:
            self.unmapped[f"SYSCALL {name or sc.get('syscall')}"] = \
                self.unmapped.get(f"SYSCALL {name or sc.get('syscall')}", 0) + 1

    def _process(self, event: AuditEvent, sc: dict[str, str], base: dict[str, Any], title: str | None) -> None:
        ex = event.first("EXECVE")
        args: list[str] = []
        if ex is not None:
            argc = _int(ex.get("argc")) or 0
            args = [_execve_arg(ex, i) for i in range(argc)]
        cwd_rec = event.first("CWD")
        cwd = decode_value("cwd", cwd_rec["cwd"]) if cwd_rec and "cwd" in cwd_rec else None
        row = dict(base)
        # arguments with blanks are quoted so that the command line splits back into the same argv
        line = " ".join(f'"{a}"' if (" " in a or "\t" in a or not a) else a for a in args)
        row.update(event="start", command_line=line if args else title, parent_pid=_int(sc.get("ppid")),
                   extra=_extra(sc, cwd=cwd))
        self.sink.add("process", row)
        write_inferred(row, cwd, {"syscall": "execve"}, self.sink, self.seen_inferred)

    def _net(self, event: AuditEvent, sc: dict[str, str], base: dict[str, Any], name: str) -> None:
        sa = _sockaddr(event)
        if sa is None or sa[1] is None:
            self.unmapped[f"SYSCALL {name} non-inet"] = self.unmapped.get(f"SYSCALL {name} non-inet", 0) + 1
            return
        family, ip, dport = sa
        row = {k: v for k, v in base.items()}
        row.update(dst_ip=ip, dst_port=dport, proto="udp" if name != "connect" else None,
                   extra=_extra(sc, family=family))
        self.sink.add("endpoint_conn", row)


def read_auditd(source: Source, sink: RowSink, ctx: IngestContext) -> list[str]:
    """Read one audit log into ``sink``; returns notes (unmapped event kinds, failed file operations)."""
    mapper = AuditMapper(sink)
    pending: OrderedDict[tuple[str | None, int], AuditEvent] = OrderedDict()
    consumed = 0
    with source.path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            consumed += len(raw)
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.strip():
                continue
            m = _HEADER.match(line)
            if m is None:
                sink.bad(line_no, "not an audit record (type=... msg=audit(time:serial): ...)", line)
                continue
            node, rtype, stamp, serial_text, body = m.groups()
            key = (node, int(serial_text))
            if rtype == "EOE":
                ev = pending.pop(key, None)
                if ev is not None:
                    mapper.map(ev)
                continue
            ev = pending.get(key)
            if ev is None:
                ev = pending[key] = AuditEvent(node, int(round(float(stamp) * 1_000_000)), key[1], line_no)
                while len(pending) > MAX_WAITING:
                    mapper.map(pending.popitem(last=False)[1])
            ev.records.append(Record(rtype, parse_fields(body)))
            if line_no % 100_000 == 0 and ctx.on_progress:
                ctx.on_progress(consumed)
    for ev in pending.values():
        mapper.map(ev)
    if ctx.on_progress:
        ctx.on_progress(consumed)
    notes = []
    if mapper.unmapped:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(mapper.unmapped.items(), key=lambda x: -x[1])[:20])
        notes.append(f"audit events not mapped to a table: {kinds}")
    if mapper.failed_file_ops:
        notes.append(f"{mapper.failed_file_ops} failed file operations (success=no) not written as file events")
    return notes


class AuditdIngester:
    name: ClassVar[str] = "auditd"

    def sniff(self, head: bytes, source_name: str) -> bool:
        first = head.lstrip().split(b"\n", 1)[0]
        return b"type=" in first and b"msg=audit(" in first

    def read(self, source: Source, batch: StagedBatch, ctx: IngestContext) -> SourceResult:
        result = SourceResult(format=self.name)
        prov = {"tenant": ctx.tenant, "sensor": ctx.sensor, "source_format": self.name, "source_file": source.name}
        sink = RowSink(batch, result, prov, flush_rows=min(ctx.batch_rows, FLUSH_ROWS))
        result.notes.extend(read_auditd(source, sink, ctx))
        sink.flush()
        return result


ingesters.add(AuditdIngester.name, AuditdIngester())
