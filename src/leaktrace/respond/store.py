"""The action store and the audit log (SQLAlchemy; SQLite ``state/leaktrace.db`` by default).

Every change to an action is written in the same transaction as its audit entry, so no action changes
without a trace. Audit entries are only ever appended; each carries the hash of the one before it.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from leaktrace.errors import NotFoundError
from leaktrace.respond.audit import GENESIS, AuditCheck, entry_hash, verify_chain
from leaktrace.respond.db import ActionRow, AuditRow, RespondBase
from leaktrace.respond.errors import BlockError
from leaktrace.respond.model import aware, utcnow
from leaktrace.statedb import engine_for

T = TypeVar("T")
_ACTION_ID = re.compile(r"^(?:ACT-?)?0*(\d+)$", re.IGNORECASE)
AUDIT_FIELDS = ("action_id", "incident_id", "target", "backend", "rule_text", "reason")


def parse_action_id(text: str | int) -> int:
    """``ACT-0007``, ``act-7`` or ``7`` -> 7."""
    m = _ACTION_ID.match(str(text).strip())
    if not m:
        raise BlockError(f"'{text}' is not an action id (like ACT-0007)")
    return int(m.group(1))


def _fix_times(row: ActionRow) -> ActionRow:
    row.created = aware(row.created)
    row.expires = aware(row.expires) if row.expires else None
    row.removed = aware(row.removed) if row.removed else None
    return row


class ActionStore:
    """Actions (block / unblock / isolate) and their audit log."""

    def __init__(self, url: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine_for(url, RespondBase.metadata)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self.clock = clock

    @classmethod
    def for_workspace(cls, ws: Any, clock: Callable[[], datetime] = utcnow) -> ActionStore:
        """The workspace's action store: ``[state] url`` or SQLite in ``state/``."""
        return cls(ws.state_url, clock)

    @classmethod
    def for_state_dir(cls, state_dir: Path, clock: Callable[[], datetime] = utcnow) -> ActionStore:
        state_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{state_dir / 'leaktrace.db'}", clock)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    def _transact(self, work: Callable[[Session], T], attempts: int = 20) -> T:
        """Run ``work`` in one transaction; retry when a concurrent writer extended the audit chain first
        (the unique ``prev_hash`` makes the second writer fail instead of forking the chain)."""
        for attempt in range(attempts):
            try:
                with self.session() as s:
                    return work(s)
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0, 0.02))
        raise AssertionError("unreachable")

    # -- audit -----------------------------------------------------------------------------------------------
    def _append(self, s: Session, event: str, actor: str, **fields: Any) -> AuditRow:
        last = s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(1)).first()
        values: dict[str, Any] = {name: fields.get(name) for name in AUDIT_FIELDS}
        for name in ("target", "backend", "rule_text", "reason"):
            values[name] = values[name] or ""
        values.update(
            id=(last.id + 1) if last else 1,
            at=self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            actor=actor or "unknown",
            event=event,
            prev_hash=last.hash if last else GENESIS,
        )
        row = AuditRow(**values, hash=entry_hash(values))
        s.add(row)
        s.flush()
        return row

    def audit(self, event: str, actor: str, **fields: Any) -> AuditRow:
        """Append one audit entry (fields: action_id, incident_id, target, backend, rule_text, reason)."""
        return self._transact(lambda s: self._append(s, event, actor, **fields))

    def audit_entries(self, action_id: int | None = None) -> list[AuditRow]:
        with self.session() as s:
            q = select(AuditRow).order_by(AuditRow.id)
            if action_id is not None:
                q = q.where(AuditRow.action_id == action_id)
            return list(s.scalars(q))

    def verify_audit(self) -> AuditCheck:
        """Recompute the hash chain; reports the first modified, removed or inserted entry."""
        return verify_chain(self.audit_entries())

    # -- actions ---------------------------------------------------------------------------------------------
    def create_action(self, event: str, actor: str, **fields: Any) -> ActionRow:
        """Insert an action and its audit entry in one transaction."""

        def work(s: Session) -> ActionRow:
            row = ActionRow(created=self.clock(), requested_by=actor, **fields)
            s.add(row)
            s.flush()
            self._append(s, event, actor, action_id=row.id, incident_id=row.incident_id, target=row.target,
                         backend=row.backend, rule_text=row.rule_text, reason=row.reason)
            return _fix_times(row)

        return self._transact(work)

    def change_action(self, action_id: int, event: str, actor: str, reason: str = "",
                      rule_text: str | None = None, **changes: Any) -> ActionRow:
        """Update an action and append the audit entry for the change, in one transaction."""

        def work(s: Session) -> ActionRow:
            row = self._get(s, action_id)
            for name, value in changes.items():
                setattr(row, name, value)
            s.flush()
            self._append(s, event, actor, action_id=row.id, incident_id=row.incident_id, target=row.target,
                         backend=row.backend, rule_text=row.rule_text if rule_text is None else rule_text,
                         reason=reason or row.reason)
            return _fix_times(row)

        return self._transact(work)

    @staticmethod
    def _get(s: Session, action_id: int) -> ActionRow:
        row = s.get(ActionRow, action_id)
        if row is None:
            raise NotFoundError(f"no action {action_id:04d} (ACT-{action_id:04d})")
        return row

    def get(self, action_id: int | str) -> ActionRow:
        with self.session() as s:
            return _fix_times(self._get(s, parse_action_id(action_id)))

    def actions(self, status: Sequence[str] | None = None, target: str | None = None,
                kind: str | None = None, incident_id: str | None = None) -> list[ActionRow]:
        with self.session() as s:
            q = select(ActionRow).order_by(ActionRow.id)
            if status:
                q = q.where(ActionRow.status.in_(list(status)))
            if target:
                q = q.where(ActionRow.target == target)
            if kind:
                q = q.where(ActionRow.kind == kind)
            if incident_id:
                q = q.where(ActionRow.incident_id == incident_id)
            return [_fix_times(r) for r in s.scalars(q)]

    def due(self, now: datetime) -> list[ActionRow]:
        """Active actions whose expiry has passed."""
        return [r for r in self.actions(status=["active"]) if r.expires is not None and r.expires <= now]
