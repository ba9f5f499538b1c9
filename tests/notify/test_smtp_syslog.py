"""E-mail to a local SMTP server and CEF lines to local syslog receivers (UDP and TCP)."""

from __future__ import annotations

import email
import email.policy
import re

from leaktrace.notify.delivery import Notifier
from leaktrace.notify.events import IncidentEvent
from leaktrace.notify.record import NotificationRecord
from tests.notify.conftest import Sleeper, SmtpReceiver, SyslogReceiver, free_port, incident, settings


def smtp_target(port: int, lang: str) -> dict[str, object]:
    return {
        "name": "mail",
        "channel": "smtp",
        "lang": lang,
        "options": {
            "host": "127.0.0.1",
            "port": port,
            "from": "centre@soc.example",
            "to": ["csirt@ministry.example", "duty@ministry.example"],
        },
    }


def test_email_reaches_local_smtp_server(
    smtp_server: SmtpReceiver, record: NotificationRecord, sleeper: Sleeper
) -> None:
    cfg = settings(smtp_target(smtp_server.port, "ja+en"), base_url="https://lt.example")
    inc = incident(severity="critical")
    ev = IncidentEvent(inc.id, "escalated", "critical", previous="high")
    out = Notifier(cfg, record, sleep=sleeper).send_incident(cfg.targets[0], inc, ev)
    assert out.status == "sent", out.error
    [env] = smtp_server.envelopes
    assert env.mail_from == "centre@soc.example"
    assert env.rcpt_tos == ["csirt@ministry.example", "duty@ministry.example"]
    msg = email.message_from_bytes(env.original_content, policy=email.policy.default)
    subject = str(msg["Subject"])
    assert "INC-0007" in subject and "CRITICAL" in subject and "緊急" in subject and "重大度上昇" in subject
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "インシデント: INC-0007" in text and "以前の重大度: 高 (high)" in text  # Japanese
    assert "Severity:          critical" in text and "Previous severity: high" in text  # English
    assert "pc-042" in text and "c2.example" in text and "https://lt.example/incidents/INC-0007" in text
    assert msg["X-Leaktrace-Incident"] == "INC-0007" and msg["X-Leaktrace-Delivery"] == out.delivery_id


def test_email_english_only(smtp_server: SmtpReceiver, record: NotificationRecord, sleeper: Sleeper) -> None:
    cfg = settings(smtp_target(smtp_server.port, "en"))
    inc = incident()
    out = Notifier(cfg, record, sleep=sleeper).send_incident(
        cfg.targets[0], inc, IncidentEvent(inc.id, "opened", "high")
    )
    assert out.status == "sent"
    msg = email.message_from_bytes(smtp_server.envelopes[0].original_content, policy=email.policy.default)
    assert (
        str(msg["Subject"]).strip()
        == "[leaktrace][HIGH] INC-0007 new incident: 10.0.0.5 -> c2.example / 203.0.113.9"
    )
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "インシデント" not in text and "Incident:          INC-0007" in text


def test_smtp_down_is_recorded_failed(record: NotificationRecord, sleeper: Sleeper) -> None:
    cfg = settings(smtp_target(free_port(), "ja"), retry={"attempts": 2, "initial_backoff_s": 0})
    inc = incident()
    out = Notifier(cfg, record, sleep=sleeper).send_incident(
        cfg.targets[0], inc, IncidentEvent(inc.id, "opened", "high")
    )
    assert out.status == "failed" and out.attempts == 2 and record.list()[0].status == "failed"


CEF = re.compile(
    r"CEF:0\|leaktrace\|leaktrace\|[^|]+\|incident-opened\|Incident opened: beaconing, exfiltration\|8\|"
)


def syslog_target(port: int, **opts: object) -> dict[str, object]:
    return {
        "name": "siem",
        "channel": "syslog",
        "options": {"host": "127.0.0.1", "port": port, "hostname": "centre", **opts},
    }


def test_cef_over_udp(syslog_udp: SyslogReceiver, record: NotificationRecord, sleeper: Sleeper) -> None:
    cfg = settings(syslog_target(syslog_udp.port))
    inc = incident()
    out = Notifier(cfg, record, sleep=sleeper).send_incident(
        cfg.targets[0], inc, IncidentEvent(inc.id, "opened", "high")
    )
    assert out.status == "sent"
    assert syslog_udp.event.wait(5)
    line = syslog_udp.messages[0].decode()
    assert re.match(
        r"<163>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z centre leaktrace - incident - CEF:0\|", line
    )
    assert CEF.search(line) and "externalId=INC-0007" in line and "src=10.0.0.5" in line


def test_cef_over_tcp_octet_counted_and_newline(
    syslog_tcp: SyslogReceiver, record: NotificationRecord, sleeper: Sleeper
) -> None:
    inc = incident()
    for framing in ("octet-counting", "newline"):
        syslog_tcp.event.clear()
        cfg = settings(syslog_target(syslog_tcp.port, protocol="tcp", framing=framing, format="rfc3164"))
        out = Notifier(cfg, record, sleep=sleeper).send_incident(
            cfg.targets[0], inc, IncidentEvent(inc.id, "opened", "high"), force=True
        )
        assert out.status == "sent"
        assert syslog_tcp.event.wait(5)
    counted, newline = syslog_tcp.messages
    length, _, rest = counted.partition(b" ")
    assert int(length) == len(rest) and CEF.search(rest.decode())
    assert re.match(rb"<163>\w{3} [ \d]\d \d\d:\d\d:\d\d centre leaktrace: CEF:0\|", rest)
    assert newline.endswith(b"\n") and newline.count(b"\n") == 1 and CEF.search(newline.decode())


def test_tcp_syslog_down(record: NotificationRecord, sleeper: Sleeper) -> None:
    cfg = settings(
        syslog_target(free_port(), protocol="tcp"), retry={"attempts": 3, "initial_backoff_s": 0.5}
    )
    inc = incident()
    out = Notifier(cfg, record, sleep=sleeper).send_incident(
        cfg.targets[0], inc, IncidentEvent(inc.id, "opened", "high")
    )
    assert out.status == "failed" and out.attempts == 3 and sleeper.calls == [0.5, 1.0]
