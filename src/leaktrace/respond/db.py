"""Tables of the respond package (SQLAlchemy): ``actions`` and the append-only, hash-chained ``audit``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, DateTime, Integer, String, Text, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ACTION_KINDS = ("block", "unblock", "isolate")
ACTION_STATUSES = ("suggested", "pending-approval", "active", "expired", "rolled-back", "failed")
OPEN_STATUSES = ("suggested", "pending-approval", "active")


class RespondBase(DeclarativeBase):
    pass


class ActionRow(RespondBase):
    __tablename__ = "actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(255), index=True)
    target_kind: Mapped[str] = mapped_column(String(10))
    backend: Mapped[str] = mapped_column(String(200), default="")
    rule_text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    incident_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    severity: Mapped[str | None] = mapped_column(String(10), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration_s: Mapped[int | None] = mapped_column(Integer, nullable=True)  # expiry counted from activation
    removed: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def public_id(self) -> str:
        return action_label(self.id)

    @property
    def backends(self) -> list[str]:
        return [b for b in self.backend.split(",") if b]


class AuditRow(RespondBase):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(20))
    action_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    incident_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    target: Mapped[str] = mapped_column(String(255), default="")
    backend: Mapped[str] = mapped_column(String(200), default="")
    rule_text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # one successor per entry: no forks
    hash: Mapped[str] = mapped_column(String(64))


def action_label(action_id: int) -> str:
    return f"ACT-{action_id:04d}"


# SQLite: refuse UPDATE and DELETE on the audit table (the hash chain still detects edits made around this).
for _verb in ("UPDATE", "DELETE"):
    event.listen(
        AuditRow.__table__,
        "after_create",
        DDL(
            f"CREATE TRIGGER IF NOT EXISTS audit_no_{_verb.lower()} BEFORE {_verb} ON audit "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        ).execute_if(dialect="sqlite"),
    )
