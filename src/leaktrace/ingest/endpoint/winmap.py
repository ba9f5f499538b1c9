"""Map Windows events (Sysmon, Security) onto the normalised endpoint tables.

=========================  ============================================================================
Event                      Row
=========================  ============================================================================
Sysmon 1, Security 4688    ``process`` (event ``start``)
Sysmon 5, Security 4689    ``process`` (event ``end``)
Sysmon 11, 15, 29          ``file_event`` action ``create`` (15: alternate data stream, e.g. Zone.Identifier)
Sysmon 23, 26              ``file_event`` action ``delete``
Sysmon 2                   ``file_event`` action ``time-change`` (creation time changed: timestomping)
Security 4663, 4656        ``file_event`` (ObjectType File only) action from AccessMask/AccessList:
                           DELETE -> ``delete``, WriteData/AppendData -> ``write``, ReadData -> ``read``
Security 5140, 5145        ``file_event`` action ``share-access``, path ``\\\\server\\share[\\relative]``
Sysmon 3, Security 5156    ``endpoint_conn``, src = the originator (Sysmon 3 as logged, ``Initiated`` in
                           extra; WFP 5156 logs the local side as source, so inbound ones are swapped)
Sysmon 22                  ``dns`` (querying host in extra.host; src_ip = the host's address when its
                           Sysmon 3 events so far showed exactly one IPv4 address, else null)
Security 4624              ``assets`` (remote logons with an address) and ``win_event``
process command lines      ``file_event`` rows *inferred* from well-known tools' arguments (dump, archive,
                           copy, download): ``extra.inferred_from = "command_line"``
everything else            ``win_event`` (all EventData fields as JSON in ``data``)
=========================  ============================================================================

Every normalised row keeps the event's other fields in ``extra`` (JSON; '-' and empty values dropped) plus
``event_id``, ``channel``, ``record_id`` and ``ts_raw`` (the record time as written).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leaktrace.ingest.endpoint.cmdline_files import write_inferred
from leaktrace.ingest.endpoint.sink import RowSink
from leaktrace.ingest.endpoint.values import dumps, guid, integer, port, sha256_of, text
from leaktrace.ingest.endpoint.winevent import WinEvent

# AccessMask bits of file objects
READ_DATA, WRITE_DATA, APPEND_DATA, DELETE = 0x1, 0x2, 0x4, 0x10000
# AccessList message ids for the same rights
_ACCESS_IDS = {"%%4416": READ_DATA, "%%4417": WRITE_DATA, "%%4418": APPEND_DATA, "%%1537": DELETE}
_ACCESS_NAMES = {"ReadData": READ_DATA, "WriteData": WRITE_DATA, "AppendData": APPEND_DATA, "DELETE": DELETE}
_PROTO = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp"}
_DNS_STATUS = {"0": "NOERROR", "9501": "NOERROR", "9003": "NXDOMAIN", "9002": "SERVFAIL", "9005": "REFUSED",
               "1460": "TIMEOUT", "123": "INVALID_NAME"}
_LOCAL_IPS = {"-", "::1", "127.0.0.1", "0.0.0.0", "::", ""}


class MapState:
    """What a mapper remembers across the events of one source (dedup of host <-> ip evidence)."""

    def __init__(self) -> None:
        self.seen_local_ip: set[tuple[str | None, str]] = set()
        self.seen_inferred: set[tuple[str | None, int | None, str, str]] = set()


def inferred_files(proc: dict[str, Any], cwd: str | None, event_id: int | None, sink: RowSink,
                   state: MapState) -> None:
    write_inferred(proc, cwd, {"event_id": event_id}, sink, state.seen_inferred)


def _extra(ev: WinEvent, used: frozenset[str] | set[str]) -> str:
    out: dict[str, Any] = {"event_id": ev.event_id, "channel": ev.channel}
    if ev.record_id is not None:
        out["record_id"] = ev.record_id
    if ev.ts_raw is not None:
        out["ts_raw"] = ev.ts_raw
    for k, v in ev.data.items():
        if k in used or v is None:
            continue
        if isinstance(v, str) and v.strip() in ("", "-"):
            continue
        out[k] = v
    return dumps(out)


def _user(domain: Any, name: Any) -> str | None:
    n = text(name)
    if n is None:
        return None
    d = text(domain)
    return f"{d}\\{n}" if d else n


def _subject(d: dict[str, Any]) -> str | None:
    return _user(d.get("SubjectDomainName"), d.get("SubjectUserName"))


def _base(ev: WinEvent, ts: int, line: int) -> dict[str, Any]:
    return {"ts": ts, "host": ev.host, "source_line": line}


# -- process ----------------------------------------------------------------------------------------------
_USED_S1 = frozenset({"ProcessId", "ProcessGuid", "Image", "CommandLine", "ParentProcessId", "ParentProcessGuid",
                      "ParentImage", "User"})


def sysmon_process_create(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    row = _base(ev, ts, line)
    row.update(event="start", pid=integer(d.get("ProcessId")), process_guid=guid(d.get("ProcessGuid")),
               image=text(d.get("Image")), command_line=text(d.get("CommandLine")),
               parent_pid=integer(d.get("ParentProcessId")), parent_guid=guid(d.get("ParentProcessGuid")),
               parent_image=text(d.get("ParentImage")), user=text(d.get("User")),
               sha256=sha256_of(d.get("Hashes")), extra=_extra(ev, _USED_S1))
    sink.add("process", row)
    inferred_files(row, text(d.get("CurrentDirectory")), ev.event_id, sink, state)


_USED_S5 = frozenset({"ProcessId", "ProcessGuid", "Image", "User"})


def sysmon_process_end(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    row = _base(ev, ts, line)
    row.update(event="end", pid=integer(d.get("ProcessId")), process_guid=guid(d.get("ProcessGuid")),
               image=text(d.get("Image")), user=text(d.get("User")), extra=_extra(ev, _USED_S5))
    sink.add("process", row)


_USED_4688 = frozenset({"NewProcessId", "NewProcessName", "CommandLine", "ProcessId", "ParentProcessName",
                        "SubjectUserName", "SubjectDomainName", "TargetUserName", "TargetDomainName"})


def security_process_create(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    row = _base(ev, ts, line)
    user = _user(d.get("TargetDomainName"), d.get("TargetUserName")) or _subject(d)
    row.update(event="start", pid=integer(d.get("NewProcessId")), image=text(d.get("NewProcessName")),
               command_line=text(d.get("CommandLine")), parent_pid=integer(d.get("ProcessId")),
               parent_image=text(d.get("ParentProcessName")), user=user, extra=_extra(ev, _USED_4688))
    sink.add("process", row)
    inferred_files(row, None, ev.event_id, sink, state)


_USED_4689 = frozenset({"ProcessId", "ProcessName", "SubjectUserName", "SubjectDomainName"})


def security_process_end(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    row = _base(ev, ts, line)
    row.update(event="end", pid=integer(d.get("ProcessId")), image=text(d.get("ProcessName")), user=_subject(d),
               extra=_extra(ev, _USED_4689))
    sink.add("process", row)


# -- files ------------------------------------------------------------------------------------------------
_USED_SFILE = frozenset({"ProcessId", "ProcessGuid", "Image", "TargetFilename", "User", "Hashes", "Hash"})


def _sysmon_file(action: str) -> Callable[[WinEvent, int, int, RowSink, MapState], None]:
    def mapper(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
        d = ev.data
        row = _base(ev, ts, line)
        row.update(pid=integer(d.get("ProcessId")), process_guid=guid(d.get("ProcessGuid")),
                   image=text(d.get("Image")), action=action, path=text(d.get("TargetFilename")),
                   sha256=sha256_of(d.get("Hashes") or d.get("Hash")), user=text(d.get("User")),
                   extra=_extra(ev, _USED_SFILE))
        sink.add("file_event", row)

    return mapper


def access_action(mask: Any, access_list: Any) -> str | None:
    """read / write / delete from a file AccessMask, else from the AccessList / Accesses text (message ids
    like ``%%4416`` or rendered names like ``ReadData (or ListDirectory)``); None for attribute-only access."""
    m = integer(mask)
    if m is None:
        m = 0
        listed = str(access_list or "")
        for token in listed.split():
            m |= _ACCESS_IDS.get(token.strip(), 0)
        for name, bit in _ACCESS_NAMES.items():
            if name in listed:
                m |= bit
    if m & DELETE:
        return "delete"
    if m & (WRITE_DATA | APPEND_DATA):
        return "write"
    if m & READ_DATA:
        return "read"
    return None


_USED_4663 = frozenset({"ProcessId", "ProcessName", "ObjectName", "SubjectUserName", "SubjectDomainName"})


def security_object_access(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    action = access_action(d.get("AccessMask"), d.get("AccessList") or d.get("Accesses"))
    if text(d.get("ObjectType")) != "File" or action is None or ev.failed:
        generic(ev, ts, line, sink, state)
        return
    row = _base(ev, ts, line)
    row.update(pid=integer(d.get("ProcessId")), image=text(d.get("ProcessName")), action=action,
               path=text(d.get("ObjectName")), user=_subject(d), extra=_extra(ev, _USED_4663))
    sink.add("file_event", row)


_USED_SHARE = frozenset({"ShareName", "RelativeTargetName", "SubjectUserName", "SubjectDomainName"})


def unc_path(server: str | None, share: Any, relative: Any) -> str | None:
    """``\\\\*\\Docs`` + ``a\\b.docx`` on server FS01 -> ``\\\\FS01\\Docs\\a\\b.docx``."""
    s = text(share)
    if s is None:
        return None
    name = (server or "*").split(".")[0]
    if s.startswith("\\\\*\\"):
        s = f"\\\\{name}\\" + s[4:]
    elif not s.startswith("\\\\"):
        s = f"\\\\{name}\\" + s.lstrip("\\")
    rel = text(relative)
    if rel and rel != "\\":
        s = s.rstrip("\\") + "\\" + rel.lstrip("\\")
    return s


def security_share_access(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    row = _base(ev, ts, line)
    row.update(action="share-access", path=unc_path(ev.host, d.get("ShareName"), d.get("RelativeTargetName")),
               user=_subject(d), extra=_extra(ev, _USED_SHARE))
    sink.add("file_event", row)


# -- network ----------------------------------------------------------------------------------------------
_USED_S3 = frozenset({"ProcessId", "ProcessGuid", "Image", "User", "Protocol", "SourceIp", "SourcePort",
                      "DestinationIp", "DestinationPort", "DestinationHostname"})


def _local_ip_evidence(ev: WinEvent, ts: int, line: int, ip: str | None, how: str, sink: RowSink,
                       state: MapState) -> None:
    if ip is None or ip in _LOCAL_IPS or ip.startswith(("127.", "fe80:", "169.254.")) or ev.host is None:
        return
    key = (ev.host, ip)
    if key in state.seen_local_ip:
        return
    state.seen_local_ip.add(key)
    sink.add("assets", {"ts": ts, "ip": ip, "host_name": ev.host, "evidence": how, "source_line": line})


def sysmon_network(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    row = _base(ev, ts, line)
    src_ip = text(d.get("SourceIp"))
    row.update(pid=integer(d.get("ProcessId")), process_guid=guid(d.get("ProcessGuid")), image=text(d.get("Image")),
               user=text(d.get("User")), proto=(text(d.get("Protocol")) or "").lower() or None, src_ip=src_ip,
               src_port=port(d.get("SourcePort")), dst_ip=text(d.get("DestinationIp")),
               dst_port=port(d.get("DestinationPort")), dst_host=text(d.get("DestinationHostname")),
               extra=_extra(ev, _USED_S3))
    sink.add("endpoint_conn", row)
    _local_ip_evidence(ev, ts, line, src_ip, "sysmon-3 local address", sink, state)


_USED_5156 = frozenset({"ProcessID", "ProcessId", "Application", "Protocol", "SourceAddress", "SourcePort",
                        "DestAddress", "DestPort"})


def security_wfp_connection(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    row = _base(ev, ts, line)
    proto = text(d.get("Protocol"))
    local = (text(d.get("SourceAddress")), port(d.get("SourcePort")))
    remote = (text(d.get("DestAddress")), port(d.get("DestPort")))
    # WFP logs the local side as "source" in both directions; src is the originator here
    inbound = text(d.get("Direction")) in ("%%14592", "Inbound")
    (src_ip, src_port), (dst_ip, dst_port) = (remote, local) if inbound else (local, remote)
    row.update(pid=integer(d.get("ProcessID") if d.get("ProcessID") is not None else d.get("ProcessId")),
               image=text(d.get("Application")), proto=_PROTO.get(proto or "", proto), src_ip=src_ip,
               src_port=src_port, dst_ip=dst_ip, dst_port=dst_port, extra=_extra(ev, _USED_5156))
    sink.add("endpoint_conn", row)


_USED_S22 = frozenset({"QueryName", "QueryResults"})


def sysmon_dns(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    status = text(d.get("QueryStatus"))
    extra = _extra(ev, _USED_S22)
    # the querying host has no column in dns: keep it (and the process) in extra
    extra = '{"host":' + dumps(ev.host) + "," + extra[1:]
    # the host's address, when its connections so far showed exactly one IPv4 address
    ips = [ip for h, ip in state.seen_local_ip if h == ev.host and "." in ip]
    sink.add("dns", {"ts": ts, "source_line": line, "src_ip": ips[0] if len(ips) == 1 else None,
                     "query": text(d.get("QueryName")),
                     "rcode": _DNS_STATUS.get(status or "", status), "answers": text(d.get("QueryResults")),
                     "extra": extra})


# -- logons -----------------------------------------------------------------------------------------------
def security_logon(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    ip = text(d.get("IpAddress"))
    if ip is not None and ip not in _LOCAL_IPS and not ip.startswith("127."):
        ip = ip.removeprefix("::ffff:")
        workstation = text(d.get("WorkstationName"))
        sink.add("assets", {
            "ts": ts, "ip": ip, "host_name": workstation, "user": text(d.get("TargetUserName")),
            "evidence": f"win-4624 logon type {text(d.get('LogonType'))} to {ev.host}", "source_line": line,
        })
    generic(ev, ts, line, sink, state)


def generic(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    d = ev.data
    user = text(d.get("User")) or _subject(d) or _user(d.get("TargetDomainName"), d.get("TargetUserName"))
    data = d if d or not ev.message else {"Message": ev.message}
    sink.add("win_event", {
        "ts": ts, "host": ev.host, "channel": ev.channel, "provider": ev.provider, "event_id": ev.event_id,
        "record_id": ev.record_id, "user": user, "data": dumps(data), "source_line": line,
    })


Mapper = Callable[[WinEvent, int, int, RowSink, MapState], None]

SYSMON: dict[int, Mapper] = {
    1: sysmon_process_create,
    2: _sysmon_file("time-change"),
    3: sysmon_network,
    5: sysmon_process_end,
    11: _sysmon_file("create"),
    15: _sysmon_file("create"),
    22: sysmon_dns,
    23: _sysmon_file("delete"),
    26: _sysmon_file("delete"),
    29: _sysmon_file("create"),
}
SECURITY: dict[int, Mapper] = {
    4624: security_logon,
    4656: security_object_access,
    4663: security_object_access,
    4688: security_process_create,
    4689: security_process_end,
    5140: security_share_access,
    5145: security_share_access,
    5156: security_wfp_connection,
}


def map_event(ev: WinEvent, ts: int, line: int, sink: RowSink, state: MapState) -> None:
    """Write the rows of one event (its normalised row, or a ``win_event`` row)."""
    mapper: Mapper | None = None
    if ev.event_id is not None:
        if ev.is_sysmon:
            mapper = SYSMON.get(ev.event_id)
        elif ev.is_security:
            mapper = SECURITY.get(ev.event_id)
    (mapper or generic)(ev, ts, line, sink, state)
