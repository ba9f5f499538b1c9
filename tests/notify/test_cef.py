"""CEF line: golden output, header and extension escaping, syslog framing."""

from __future__ import annotations

from datetime import UTC, datetime

from leaktrace.notify.channels.syslog import SyslogOptions, cef_line, escape_extension, escape_header, frame
from leaktrace.notify.message import Notification
from tests.notify.conftest import T, incident

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def notification(**kw: object) -> Notification:
    n = Notification.from_incident(
        incident(**kw), "escalated", "medium", link="https://lt.example/incidents/INC-0007", now=NOW
    )
    return Notification(**{**n.__dict__, "delivery_id": "d" * 32, "version": "0.1.0"})


def test_golden_line() -> None:
    assert cef_line(notification()) == (
        "CEF:0|leaktrace|leaktrace|0.1.0|incident-escalated|Incident escalated: beaconing, exfiltration|8|"
        "rt=1772424000000 start=1772413200000 end=1772422200000 externalId=INC-0007 cat=escalated "
        "src=10.0.0.5 shost=pc-042 dst=203.0.113.9 dhost=c2.example out=15000000 "
        "cs1Label=tenant cs1=ministry cs2Label=kinds cs2=beaconing,exfiltration cs3Label=severity cs3=high "
        "cs4Label=previousSeverity cs4=medium cs5Label=delivery cs5=" + "d" * 32 + " "
        "cs6Label=link cs6=https://lt.example/incidents/INC-0007 cfp1Label=score cfp1=0.723"
    )


def test_missing_values_drop_their_labels() -> None:
    n = Notification.from_incident(
        incident(host_name=None, server_domain=None, severity="critical"), "opened", now=NOW
    )
    line = cef_line(n)
    assert "|10|" in line and "shost=" not in line and "dhost=" not in line
    assert "cs4Label" not in line and "cs6Label" not in line and "cs4=" not in line


def test_header_escaping() -> None:
    assert escape_header("a|b\\c") == "a\\|b\\\\c"
    assert escape_header("two\nlines\r\nhere") == "two lines here"
    assert escape_header("a=b") == "a=b"  # '=' is literal in the header
    line = cef_line(notification(kinds=["pipe|kind", "back\\slash"]))
    assert "|Incident escalated: pipe\\|kind, back\\\\slash|8|" in line
    assert line.split("|")[0] == "CEF:0"


def test_extension_escaping() -> None:
    assert escape_extension("a=b") == "a\\=b"
    assert escape_extension("c:\\temp") == "c:\\\\temp"
    assert escape_extension("l1\nl2\rl3\r\nl4") == "l1\\nl2\\rl3\\nl4"
    assert escape_extension("pipe|stays") == "pipe|stays"
    line = cef_line(notification(host_name="pc=1\nx", tenant="a\\b"))
    assert "shost=pc\\=1\\nx " in line and "cs1=a\\\\b " in line
    assert "\n" not in line


def test_framing() -> None:
    msg = "CEF:0|x"
    udp5424 = frame(msg, SyslogOptions(host="h"), "high", T, "centre")
    assert udp5424 == b"<163>1 2026-03-02T01:00:00.000Z centre leaktrace - incident - CEF:0|x"  # local4.err
    bsd = frame(msg, SyslogOptions(host="h", format="rfc3164", facility="local0"), "critical", T, "centre")
    assert bsd == b"<130>Mar  2 01:00:00 centre leaktrace: CEF:0|x"  # local0.crit, day space-padded
    tcp = frame(msg, SyslogOptions(host="h", protocol="tcp"), "low", T, "c")
    body = b"<165>1 2026-03-02T01:00:00.000Z c leaktrace - incident - CEF:0|x"
    assert tcp == str(len(body)).encode() + b" " + body
    nl = frame(msg, SyslogOptions(host="h", protocol="tcp", framing="newline"), "low", T, "c")
    assert nl == body + b"\n"
