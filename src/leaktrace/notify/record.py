"""The record of what was sent: one row per delivery (all its attempts), in the workspace's state database.

Holds no message text and no secret: ids, names, counts, a sanitised error and the SHA-256 of the payload
(enough to prove later which bytes went out, given the incident). A delivery that was ``sent`` makes the same
(incident, event, severity) to the same target a duplicate from then on, across runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from leaktrace.notify.message import utcnow
from leaktrace.statedb import engine_for

MAX_ERROR = 500


class NotifyBase(DeclarativeBase):
    pass


class NotificationRow(NotifyBase):
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(32), unique=True)
    incident_id: Mapped[str] = mapped_column(String(20), index=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    event: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    previous_severity: Mapped[str | None] = mapped_column(String(10), nullable=True)
    target: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, failed
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload_sha256: Mapped[str] = mapped_column(String(64), default="")
    trigger: Mapped[str] = mapped_column(String(20), default="analysis")  # analysis, manual, test
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=UTC)


class NotificationRecord:
    """Reads and writes :class:`NotificationRow` on a SQLAlchemy URL (the workspace's ``state_url``)."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url, NotifyBase.metadata)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def for_workspace(cls, ws: object) -> NotificationRecord:
        return cls(ws.state_url)  # type: ignore[attr-defined]

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    def already_sent(self, incident_id: str, event: str, severity: str, target: str) -> bool:
        with self.session() as s:
            q = select(NotificationRow.id).where(
                NotificationRow.incident_id == incident_id,
                NotificationRow.event == event,
                NotificationRow.severity == severity,
                NotificationRow.target == target,
                NotificationRow.status == "sent",
            )
            return s.scalars(q.limit(1)).first() is not None

    def add(self, row: NotificationRow) -> NotificationRow:
        with self.session() as s:
            s.add(row)
        return row

    def update(self, row_id: int, **values: object) -> None:
        with self.session() as s:
            row = s.get(NotificationRow, row_id)
            if row is None:
                return
            for key, value in values.items():
                if key == "last_error" and isinstance(value, str):
                    value = value[:MAX_ERROR]
                setattr(row, key, value)
            row.updated_at = utcnow()

    def list(
        self, incident_id: str | None = None, tenant: str | None = None, limit: int | None = None
    ) -> list[NotificationRow]:
        """Newest first."""
        with self.session() as s:
            q = select(NotificationRow)
            if incident_id:
                q = q.where(NotificationRow.incident_id == incident_id.upper())
            if tenant:
                q = q.where(NotificationRow.tenant == tenant)
            q = q.order_by(NotificationRow.id.desc())
            if limit:
                q = q.limit(limit)
            rows = list(s.scalars(q))
        for r in rows:
            r.created_at = _aware(r.created_at) or r.created_at
            r.updated_at = _aware(r.updated_at) or r.updated_at
            r.sent_at = _aware(r.sent_at)
        return rows
