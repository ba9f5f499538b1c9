"""auditd golden test: audit.log records in, process / file_event / endpoint_conn rows out."""

from __future__ import annotations

from pathlib import Path

from leaktrace.ingest.endpoint.auditd import AuditdIngester, decode_sockaddr, read_auditd
from tests.ingest_endpoint.helpers import rows, run_lines

HEX_DOCS = b"/home/taro/my docs".hex().upper()
SADDR_V4 = "02001F900A00050D0000000000000000"  # 10.0.5.13:8080
SADDR_V6 = "0A0001BB0000000020010DB8000000000000000000000001" + "00000000"  # [2001:db8::1]:443
SADDR_UNIX = "01002F72756E2F7379736C6F67"  # /run/syslog

SYS = "arch=c000003e syscall={sc} success={ok} exit={exit} a0=ffffff9c a1=55d0 a2={a2} a3=0 items={items} ppid=900 " \
      "pid={pid} auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 " \
      "tty=pts0 ses=3 comm=\"{comm}\" exe=\"{exe}\" key=(null)"


def rec(rtype: str, serial: int, body: str, t: str = "1700000000.100", node: str | None = None) -> str:
    prefix = f"node={node} " if node else ""
    return f"{prefix}type={rtype} msg=audit({t}:{serial}): {body}".rstrip()


LOG = [
    # 1-6: tar -czf /tmp/out.tgz "/home/taro/my docs" (an argument with a space is hex-encoded)
    rec("SYSCALL", 100, SYS.format(sc=59, ok="yes", exit=0, a2="55d2", items=2, pid=1000, comm="tar",
                                   exe="/usr/bin/tar")),
    rec("EXECVE", 100, f'argc=4 a0="tar" a1="-czf" a2="/tmp/out.tgz" a3={HEX_DOCS}'),
    rec("CWD", 100, 'cwd="/home/taro"'),
    rec("PATH", 100, 'item=0 name="/usr/bin/tar" inode=1 dev=08:01 mode=0100755 nametype=NORMAL'),
    rec("PROCTITLE", 100, "proctitle=" + b"tar\x00-czf".hex().upper()),
    rec("EOE", 100, ""),
    # 7-10: openat(O_RDONLY|O_CLOEXEC) of a relative path
    rec("SYSCALL", 101, SYS.format(sc=257, ok="yes", exit=3, a2="80000", items=1, pid=1000, comm="tar",
                                   exe="/usr/bin/tar"), "1700000001.250"),
    rec("CWD", 101, 'cwd="/home/taro/docs"', "1700000001.250"),
    rec("PATH", 101, 'item=0 name="report.docx" inode=7 nametype=NORMAL', "1700000001.250"),
    rec("EOE", 101, "", "1700000001.250"),
    # 11-15: openat(O_WRONLY|O_CREAT|O_TRUNC) creating the archive
    rec("SYSCALL", 102, SYS.format(sc=257, ok="yes", exit=4, a2="241", items=2, pid=1000, comm="tar",
                                   exe="/usr/bin/tar"), "1700000002"),
    rec("CWD", 102, 'cwd="/home/taro"', "1700000002"),
    rec("PATH", 102, 'item=0 name="/tmp/" inode=2 nametype=PARENT', "1700000002"),
    rec("PATH", 102, 'item=1 name="/tmp/out.tgz" inode=9 nametype=CREATE', "1700000002"),
    rec("EOE", 102, "", "1700000002"),
    # 16: not an audit record
    "this line is not an audit record",
    # 17-22: rename(/tmp/out.tgz -> /tmp/.cache.bin), on node web01
    rec("SYSCALL", 103, SYS.format(sc=82, ok="yes", exit=0, a2="0", items=4, pid=1001, comm="mv", exe="/usr/bin/mv"),
        "1700000003", "web01"),
    rec("PATH", 103, 'item=0 name="/tmp/" nametype=PARENT', "1700000003", "web01"),
    rec("PATH", 103, 'item=1 name="/tmp/" nametype=PARENT', "1700000003", "web01"),
    rec("PATH", 103, 'item=2 name="/tmp/out.tgz" nametype=DELETE', "1700000003", "web01"),
    rec("PATH", 103, 'item=3 name="/tmp/.cache.bin" nametype=CREATE', "1700000003", "web01"),
    rec("EOE", 103, "", "1700000003", "web01"),
    # 23-25: connect to 10.0.5.13:8080, enriched format (non-blocking: exit=-115)
    rec("SYSCALL", 104, SYS.format(sc=42, ok="no", exit=-115, a2="10", items=0, pid=1002, comm="curl",
                                   exe="/usr/bin/curl") + '\x1dARCH=x86_64 SYSCALL=connect AUID="taro" UID="taro"',
        "1700000004"),
    rec("SOCKADDR", 104, f"saddr={SADDR_V4}\x1dSADDR={{ saddr_fam=inet laddr=10.0.5.13 lport=8080 }}", "1700000004"),
    rec("EOE", 104, "", "1700000004"),
    # 26-28: connect over IPv6 (raw format)
    rec("SYSCALL", 105, SYS.format(sc=42, ok="yes", exit=0, a2="1c", items=0, pid=1003, comm="ssh",
                                   exe="/usr/bin/ssh"), "1700000005"),
    rec("SOCKADDR", 105, f"saddr={SADDR_V6}", "1700000005"),
    rec("EOE", 105, "", "1700000005"),
    # 29-31: connect to a unix socket: not a network connection
    rec("SYSCALL", 106, SYS.format(sc=42, ok="yes", exit=0, a2="10", items=0, pid=1004, comm="logger",
                                   exe="/usr/bin/logger"), "1700000006"),
    rec("SOCKADDR", 106, f"saddr={SADDR_UNIX}", "1700000006"),
    rec("EOE", 106, "", "1700000006"),
    # 32-35: unlinkat(/tmp/.cache.bin)
    rec("SYSCALL", 107, SYS.format(sc=263, ok="yes", exit=0, a2="0", items=2, pid=1001, comm="rm", exe="/usr/bin/rm"),
        "1700000007"),
    rec("PATH", 107, 'item=0 name="/tmp/" nametype=PARENT', "1700000007"),
    rec("PATH", 107, 'item=1 name="/tmp/.cache.bin" nametype=DELETE', "1700000007"),
    rec("EOE", 107, "", "1700000007"),
    # 36-38: a failed open (ENOENT) is no file event
    rec("SYSCALL", 108, SYS.format(sc=2, ok="no", exit=-2, a2="0", items=1, pid=1000, comm="cat", exe="/usr/bin/cat"),
        "1700000008"),
    rec("PATH", 108, 'item=0 name="/etc/nothing" nametype=UNKNOWN', "1700000008"),
    rec("EOE", 108, "", "1700000008"),
    # 39: a record with no EOE (a login): not mapped, noted
    rec("USER_LOGIN", 109, "pid=1 uid=0 auid=1001 ses=3 msg='op=login acct=\"taro\" exe=\"/usr/sbin/sshd\" "
                           "hostname=? addr=10.1.2.3 terminal=sshd res=success'", "1700000009"),
]


def test_auditd_golden(tmp_path: Path) -> None:
    result, tables = run_lines(read_auditd, tmp_path, LOG, "audit.log")
    assert [(b.line, b.reason) for b in result.bad] == [(16, "not an audit record (type=... msg=audit(time:serial): ...)")]
    assert rows(tables, "process") == [{
        "ts": "2023-11-14T22:13:20.100000Z", "event": "start", "pid": 1000, "image": "/usr/bin/tar",
        "command_line": 'tar -czf /tmp/out.tgz "/home/taro/my docs"', "parent_pid": 900, "user": "1001",
        "source_line": 1,
        "extra": {"syscall": "59", "success": "yes", "exit": "0", "comm": "tar", "uid": "1001", "euid": "1001",
                  "auid": "1001", "tty": "pts0", "ses": "3", "cwd": "/home/taro"},
    }]
    files = [(r["ts"], r.get("host"), r["pid"], r["image"], r["action"], r["path"], r.get("target_path"),
              r["source_line"]) for r in rows(tables, "file_event")]
    assert files == [
        # inferred from tar's command line (at its start), then the syscalls themselves
        ("2023-11-14T22:13:20.100000Z", None, 1000, "/usr/bin/tar", "create", "/tmp/out.tgz", None, 1),
        ("2023-11-14T22:13:20.100000Z", None, 1000, "/usr/bin/tar", "read", "/home/taro/my docs", None, 1),
        ("2023-11-14T22:13:21.250000Z", None, 1000, "/usr/bin/tar", "read", "/home/taro/docs/report.docx", None, 7),
        ("2023-11-14T22:13:22Z", None, 1000, "/usr/bin/tar", "create", "/tmp/out.tgz", None, 11),
        ("2023-11-14T22:13:23Z", "web01", 1001, "/usr/bin/mv", "rename", "/tmp/out.tgz", "/tmp/.cache.bin", 17),
        ("2023-11-14T22:13:27Z", None, 1001, "/usr/bin/rm", "delete", "/tmp/.cache.bin", None, 32),
    ]
    conns = [(r["pid"], r["image"], r.get("user"), r["dst_ip"], r["dst_port"], r["extra"]["success"])
             for r in rows(tables, "endpoint_conn")]
    assert conns == [(1002, "/usr/bin/curl", "taro", "10.0.5.13", 8080, "no"),
                     (1003, "/usr/bin/ssh", "1001", "2001:db8::1", 443, "yes")]
    assert any("USER_LOGIN x1" in n and "connect non-inet x1" in n for n in result.notes), result.notes
    assert any("1 failed file operations" in n for n in result.notes)


def test_write_without_create_and_records_waiting_past_the_window(tmp_path: Path) -> None:
    """O_WRONLY on an existing file is a write; an event whose EOE never comes is still mapped."""
    lines = [
        rec("SYSCALL", 1, SYS.format(sc=2, ok="yes", exit=3, a2="0", items=1, pid=5, comm="vi", exe="/usr/bin/vi")
            .replace("a1=55d0", "a1=1")),
        rec("PATH", 1, 'item=0 name="/etc/hosts" nametype=NORMAL'),
    ]
    _, tables = run_lines(read_auditd, tmp_path, lines, "audit.log")
    assert [(r["action"], r["path"]) for r in rows(tables, "file_event")] == [("write", "/etc/hosts")]


def test_sockaddr_and_sniff() -> None:
    assert decode_sockaddr(SADDR_V4) == ("inet", "10.0.5.13", 8080)
    assert decode_sockaddr(SADDR_V6) == ("inet6", "2001:db8::1", 443)
    assert decode_sockaddr(SADDR_UNIX)[1] is None
    assert AuditdIngester().sniff(LOG[0].encode() + b"\n", "audit.log")
    assert AuditdIngester().sniff(b"node=h1 " + LOG[0].encode(), "x")
    assert not AuditdIngester().sniff(b'{"EventID": 1}', "audit.log")


def test_long_execve_arguments_come_in_pieces(tmp_path: Path) -> None:
    half = "A" * 10
    lines = [
        rec("SYSCALL", 7, SYS.format(sc=59, ok="yes", exit=0, a2="0", items=1, pid=9, comm="sh", exe="/bin/sh")),
        rec("EXECVE", 7, f'argc=3 a0="sh" a1="-c" a2_len=20 a2[0]={(half).encode().hex()} a2[1]={half.encode().hex()}'),
        rec("EOE", 7, ""),
    ]
    _, tables = run_lines(read_auditd, tmp_path, lines, "audit.log")
    assert rows(tables, "process")[0]["command_line"] == "sh -c " + "A" * 20
