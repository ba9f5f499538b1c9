"""Dedupe across runs, tenant filters, events filter, the record, and settings validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaktrace.config import config_from_dict
from leaktrace.errors import ConfigError, NotifyError
from leaktrace.notify.delivery import Notifier
from leaktrace.notify.events import snapshot
from leaktrace.notify.record import NotificationRecord
from leaktrace.notify.settings import RetrySettings
from tests.notify.conftest import SECRET, Sleeper, WebhookReceiver, incident, settings


def hook(url: str, name: str = "soc", **kw: object) -> dict[str, object]:
    return {"name": name, "channel": "webhook", "options": {"url": url, "secret": SECRET}, **kw}


def test_dedupe_across_runs(webhook: WebhookReceiver, tmp_path: Path, sleeper: Sleeper) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    cfg = settings(hook(webhook.url))
    inc = incident(severity="high")
    after = snapshot([inc])
    first = Notifier(cfg, NotificationRecord(url), sleep=sleeper).notify_changes({}, after, {inc.id: inc})
    assert [o.status for o in first] == ["sent"]
    # a second run (new process, same state database) that sees the same change again sends nothing
    again = Notifier(cfg, NotificationRecord(url), sleep=sleeper).notify_changes({}, after, {inc.id: inc})
    assert [o.status for o in again] == ["duplicate"] and len(webhook.received) == 1
    # the escalation is new
    hot = incident(severity="critical")
    esc = Notifier(cfg, NotificationRecord(url), sleep=sleeper).notify_changes(
        after, snapshot([hot]), {hot.id: hot}
    )
    assert [(o.event, o.status) for o in esc] == [("escalated", "sent")] and len(webhook.received) == 2
    rows = NotificationRecord(url).list()
    assert [(r.event, r.severity, r.status) for r in rows] == [
        ("escalated", "critical", "sent"),
        ("opened", "high", "sent"),
    ]
    assert rows[0].previous_severity == "high"


def test_failed_delivery_is_not_a_duplicate(
    webhook: WebhookReceiver, record: NotificationRecord, sleeper: Sleeper
) -> None:
    webhook.statuses = [500]
    cfg = settings(hook(webhook.url), retry={"attempts": 1})
    inc = incident()
    n = Notifier(cfg, record, sleep=sleeper)
    assert n.send_now(inc)[0].status == "failed"
    assert n.send_now(inc)[0].status == "sent"
    assert n.send_now(inc)[0].status == "duplicate"
    assert n.send_now(inc, force=True)[0].status == "sent"


def test_tenants_events_and_min_severity(
    webhook: WebhookReceiver, record: NotificationRecord, sleeper: Sleeper
) -> None:
    cfg = settings(
        hook(webhook.url, "ministry", tenants=["ministry"], min_severity="high"),
        hook(webhook.url, "agency", tenants=["agency"], min_severity="low"),
        hook(webhook.url, "centre-escalations", events=["escalated"], min_severity="low"),
        hook(webhook.url, "off", enabled=False, min_severity="low"),
    )
    a = incident(id="INC-0001", tenant="ministry", severity="high")
    b = incident(id="INC-0002", tenant="agency", severity="medium")
    c = incident(id="INC-0003", tenant="ministry", severity="medium")
    rows = {i.id: i for i in (a, b, c)}
    out = Notifier(cfg, record, sleep=sleeper).notify_changes(
        {"INC-0003": "low"}, snapshot(rows.values()), rows
    )
    got = sorted((o.target, o.incident_id, o.event) for o in out)
    assert got == [
        ("agency", "INC-0002", "opened"),
        ("centre-escalations", "INC-0003", "escalated"),
        ("ministry", "INC-0001", "opened"),
    ]
    # by hand: only targets serving the incident's tenant; a foreign target is refused
    manual = Notifier(cfg, record, sleep=sleeper).send_now(b, force=True)
    assert sorted(o.target for o in manual) == ["agency", "centre-escalations"]
    with pytest.raises(NotifyError):
        Notifier(cfg, record, sleep=sleeper).send_now(b, target="ministry")


def test_record_holds_no_secret_or_text(
    webhook: WebhookReceiver, record: NotificationRecord, sleeper: Sleeper
) -> None:
    cfg = settings(hook(webhook.url))
    Notifier(cfg, record, sleep=sleeper).send_now(incident())
    [row] = record.list()
    values = " ".join(str(getattr(row, c.name)) for c in row.__table__.columns)
    assert SECRET not in values and "token=abc" not in values
    assert SECRET not in repr(cfg)


def test_retry_policy_is_bounded() -> None:
    r = RetrySettings(attempts=4, initial_backoff_s=2, factor=5, max_backoff_s=20)
    assert [r.delay(i) for i in (1, 2, 3)] == [2, 10, 20]
    for bad in ({"attempts": 0}, {"attempts": 100}, {"factor": 0.5}, {"max_backoff_s": 10_000}):
        with pytest.raises(ValueError):
            RetrySettings.model_validate(bad)


def test_config_validation() -> None:
    good = {
        "notify": {
            "targets": [
                hook("https://soc.example/h"),
                {"name": "siem", "channel": "syslog", "options": {"host": "127.0.0.1"}},
            ]
        }
    }
    cfg = config_from_dict(good)
    assert [t.channel for t in cfg.notify.targets] == ["webhook", "syslog"]
    bad_cases = [
        ({"notify": {"targets": [{"name": "x", "channel": "pigeon"}]}}, "unknown notification channel"),
        ({"notify": {"targets": [hook("https://soc.example/h", colour="red")]}}, "unknown key"),
        (
            {"notify": {"targets": [{"name": "x", "channel": "webhook", "options": {"url": "ftp://x"}}]}},
            "url",
        ),
        (
            {"notify": {"targets": [{"name": "x", "channel": "webhook", "options": {"url": "https://x/"}}]}},
            "secret",
        ),
        (
            {
                "notify": {
                    "targets": [{"name": "x", "channel": "syslog", "options": {"host": "h", "proto": "udp"}}]
                }
            },
            "unknown option 'proto'",
        ),
        ({"notify": {"targets": [hook("https://a/"), hook("https://b/")]}}, "used twice"),
        ({"notify": {"targets": [hook("https://a/", min_severity="urgent")]}}, "min_severity"),
        ({"notify": {"retry": {"attempts": 0}}}, "notify.retry.attempts"),
    ]
    for raw, words in bad_cases:
        with pytest.raises(ConfigError) as err:
            config_from_dict(raw)
        assert words in str(err.value), (raw, str(err.value))
