"""Webhook: signature verification, delivery to a local receiver, retries and backoff, permanent failures."""

from __future__ import annotations

import json
import time

import pytest

from leaktrace.notify.channels.webhook import sign, verify_signature
from leaktrace.notify.delivery import Notifier
from leaktrace.notify.events import IncidentEvent
from leaktrace.notify.record import NotificationRecord
from tests.notify.conftest import SECRET, Sleeper, WebhookReceiver, free_port, incident, settings

BODY = b'{"incident":{"id":"INC-0001"}}'


def test_signature_good_tampered_stale() -> None:
    ts = 1_772_413_200
    header = sign(SECRET, ts, BODY)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature(SECRET, str(ts), BODY, header, tolerance_s=300, now=ts + 10)
    assert not verify_signature(SECRET, str(ts), BODY.replace(b"0001", b"0002"), header, 300, now=ts)
    assert not verify_signature("other-secret", str(ts), BODY, header, 300, now=ts)
    assert not verify_signature(SECRET, str(ts + 1), BODY, header, 300, now=ts)  # timestamp is signed too
    assert not verify_signature(SECRET, str(ts), BODY, header, tolerance_s=300, now=ts + 301)  # stale
    assert not verify_signature(SECRET, str(ts), BODY, header, tolerance_s=300, now=ts - 301)  # future
    assert not verify_signature(SECRET, "yesterday", BODY, header, 300, now=ts)
    assert not verify_signature(SECRET, str(ts), BODY, None, 300, now=ts)
    # rotation: a receiver may pass several signatures in one header
    assert verify_signature(SECRET, str(ts), BODY, "sha256=00, " + header, 300, now=ts)


def target(url: str, **kw: object) -> dict[str, object]:
    return {"name": "soc", "channel": "webhook", "options": {"url": url, "secret": SECRET}, **kw}


def opened(inc: object) -> IncidentEvent:
    return IncidentEvent(inc.id, "opened", inc.severity)  # type: ignore[attr-defined]


def test_delivery_is_signed_and_describes_the_incident(
    webhook: WebhookReceiver, record: NotificationRecord, sleeper: Sleeper
) -> None:
    cfg = settings(target(webhook.url), base_url="https://lt.example/")
    inc = incident()
    out = Notifier(cfg, record, sleep=sleeper).send_incident(cfg.targets[0], inc, opened(inc))
    assert out.status == "sent" and out.attempts == 1 and sleeper.calls == []
    headers, body = webhook.received[0]
    assert verify_signature(
        SECRET, headers["X-Leaktrace-Timestamp"], body, headers["X-Leaktrace-Signature"], 300, now=time.time()
    )
    assert headers["X-Leaktrace-Delivery"] == out.delivery_id and headers["X-Leaktrace-Event"] == "opened"
    assert headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc["event"] == "opened" and doc["delivery"] == out.delivery_id
    i = doc["incident"]
    assert i["id"] == "INC-0007" and i["tenant"] == "ministry" and i["severity"] == "high"
    assert i["host"] == {"ip": "10.0.0.5", "name": "pc-042"}
    assert i["server"] == {"ip": "203.0.113.9", "domain": "c2.example"}
    assert i["start"] == "2026-03-02T01:00:00Z" and i["end"] == "2026-03-02T03:30:00Z"
    assert i["kinds"] == ["beaconing", "exfiltration"] and i["bytes_out"] == 15_000_000
    assert i["score"] == 0.723 and i["previous_severity"] is None
    assert i["link"] == "https://lt.example/incidents/INC-0007"
    [row] = record.list()
    assert (
        row.status == "sent" and row.attempts == 1 and row.channel == "webhook" and row.trigger == "analysis"
    )
    assert len(row.payload_sha256) == 64 and row.sent_at is not None


def test_retries_500_twice_then_200(
    webhook: WebhookReceiver, record: NotificationRecord, sleeper: Sleeper
) -> None:
    webhook.statuses = [500, 503]
    cfg = settings(target(webhook.url), retry={"attempts": 4, "initial_backoff_s": 1.5, "factor": 2})
    inc = incident()
    out = Notifier(cfg, record, sleep=sleeper).send_incident(cfg.targets[0], inc, opened(inc))
    assert out.status == "sent" and out.attempts == 3
    assert sleeper.calls == [1.5, 3.0]
    assert len(webhook.received) == 3
    assert len({h["X-Leaktrace-Delivery"] for h, _ in webhook.received}) == 1  # one delivery, three attempts
    assert len({b for _, b in webhook.received}) == 1
    [row] = record.list()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_always_down_fails_after_the_configured_attempts(
    record: NotificationRecord, sleeper: Sleeper
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook?token=do-not-log"
    cfg = settings(
        target(url), retry={"attempts": 5, "initial_backoff_s": 1, "factor": 3, "max_backoff_s": 10}
    )
    inc = incident()
    out = Notifier(cfg, record, sleep=sleeper).send_incident(cfg.targets[0], inc, opened(inc))
    assert out.status == "failed" and out.attempts == 5
    assert sleeper.calls == [1, 3, 9, 10]  # bounded by max_backoff_s
    [row] = record.list()
    assert row.status == "failed" and row.attempts == 5 and row.last_error
    assert (
        "127.0.0.1" in row.last_error and "do-not-log" not in row.last_error and SECRET not in row.last_error
    )


def test_client_error_is_not_retried(
    webhook: WebhookReceiver, record: NotificationRecord, sleeper: Sleeper
) -> None:
    webhook.statuses = [401]
    cfg = settings(target(webhook.url), retry={"attempts": 3})
    inc = incident()
    out = Notifier(cfg, record, sleep=sleeper).send_incident(cfg.targets[0], inc, opened(inc))
    assert out.status == "failed" and out.attempts == 1 and "HTTP 401" in (out.error or "")
    assert sleeper.calls == []


def test_secret_from_environment(
    webhook: WebhookReceiver, record: NotificationRecord, sleeper: Sleeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = {"name": "soc", "channel": "webhook", "options": {"url": webhook.url, "secret_env": "LT_TEST_HOOK"}}
    cfg = settings(t)
    inc = incident()
    monkeypatch.delenv("LT_TEST_HOOK", raising=False)
    missing = Notifier(cfg, record, sleep=sleeper).send_incident(cfg.targets[0], inc, opened(inc))
    assert missing.status == "failed" and missing.attempts == 1 and "LT_TEST_HOOK" in (missing.error or "")
    monkeypatch.setenv("LT_TEST_HOOK", "from-env")
    ok = Notifier(cfg, record, sleep=sleeper).send_incident(cfg.targets[0], inc, opened(inc))
    assert ok.status == "sent"
    headers, body = webhook.received[-1]
    assert verify_signature(
        "from-env", headers["X-Leaktrace-Timestamp"], body, headers["X-Leaktrace-Signature"]
    )
