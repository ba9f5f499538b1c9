"""The responder: applies the policy, drives the blockers, records every action and its audit entry.

One action = one blocked value (an IP address or a domain) on one or more backends. An incident naming both
an IP and a domain gives two actions. Domains reach nftables only as IP addresses, through ``resolver`` (the
lake's DNS answers, when wired); the RPZ, Squid, Suricata and CSV/JSON exports block the domain itself.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from leaktrace.respond.db import OPEN_STATUSES, ActionRow
from leaktrace.respond.errors import BlockError
from leaktrace.respond.incidents import target_from_incident
from leaktrace.respond.isolation import isolation_script, release_script
from leaktrace.respond.model import BlockRule, BlockTarget, classify, parse_duration, utcnow
from leaktrace.respond.policy import Decision, check_target, decide, protected_reason
from leaktrace.respond.registry import Blocker, make_blocker
from leaktrace.respond.runner import CommandRunner
from leaktrace.respond.settings import RespondConfig, respond_config
from leaktrace.respond.store import ActionStore, parse_action_id

Resolver = Callable[[str], Sequence[str]]
SYSTEM = "leaktrace"


def current_user() -> str:
    """Who runs the command: ``$LEAKTRACE_USER``, else the login name."""
    for var in ("LEAKTRACE_USER", "SUDO_USER", "USER", "LOGNAME"):
        if os.environ.get(var):
            return os.environ[var]
    return "unknown"


@dataclass
class Planned:
    """One value to block and what each backend would do with it (``--dry-run`` shows this)."""

    rule: BlockRule
    texts: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def rule_text(self) -> str:
        return "\n".join(f"[{name}] {text}" for name, text in self.texts.items())


@dataclass
class Outcome:
    """What ``block`` / ``respond`` did."""

    decision: Decision | None = None
    actions: list[ActionRow] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[ActionRow]:
        return [a for a in self.actions if a.status == "failed"]


class Responder:
    """Block, approve, unblock, expire, export and isolate; every change audited."""

    def __init__(self, store: ActionStore, settings: RespondConfig | None = None, *,
                 allowlist: Sequence[str] = (), internal: Sequence[str] = (), runner: CommandRunner | None = None,
                 export_dir: Path | None = None, resolver: Resolver | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.settings = settings or RespondConfig()
        self.allowlist = list(allowlist)
        self.internal = list(internal)
        self.runner = runner
        self.export_dir = export_dir
        self.resolver = resolver
        self.clock = clock
        self._blockers: dict[str, Blocker] = {}

    @classmethod
    def for_workspace(cls, ws: Any, runner: CommandRunner | None = None, resolver: Resolver | None = None,
                      clock: Callable[[], datetime] = utcnow, settings: RespondConfig | None = None) -> Responder:
        """A responder over ``ws.state_dir`` with the workspace's ``[respond]``, allowlist and internal nets."""
        cfg = ws.config
        settings = settings or respond_config(cfg)
        return cls(
            ActionStore.for_workspace(ws, clock), settings,
            allowlist=cfg.allowlist.servers, internal=cfg.internal_networks(getattr(ws, "tenant", None)),
            runner=runner, export_dir=ws.state_dir / settings.export_dir, resolver=resolver, clock=clock,
        )

    def blocker(self, name: str) -> Blocker:
        if name not in self._blockers:
            self._blockers[name] = make_blocker(name, self.settings, self.runner)
        return self._blockers[name]

    # -- planning --------------------------------------------------------------------------------------------
    def _duration(self, expire: str | None) -> timedelta | None:
        return parse_duration(self.settings.default_expire if expire is None else expire)

    def plan(self, target: BlockTarget, *, expire: str | None = None, reason: str = "",
             backends: Sequence[str] | None = None) -> tuple[list[Planned], list[str]]:
        """The rules to apply for ``target`` and, per backend, the rule text; raises when nothing can block."""
        names = list(backends or self.settings.backends)
        for name in names:
            self.blocker(name)  # unknown backends fail here, before anything is recorded
        why = check_target(target, self.settings, allowlist=self.allowlist, internal=self.internal)
        if why:
            raise BlockError(f"refused: {why}")
        duration = self._duration(expire)
        now = self.clock()
        expires = now + duration if duration else None
        values: list[str] = [v for v in target.values()]
        notes: list[str] = []
        if target.server_domain and self.resolver and any(self.blocker(n).enforcing for n in names):
            for ip in self.resolver(target.server_domain):
                why = protected_reason(ip, allowlist=self.allowlist, never_block=self.settings.never_block,
                                       internal=self.internal if self.settings.protect_internal else ())
                if why:
                    notes.append(f"{target.server_domain} resolves to {ip}, not blocked: {why}")
                elif ip not in values:
                    values.append(ip)
                    notes.append(f"{target.server_domain} resolved to {ip} from the DNS answers seen")
        planned: list[Planned] = []
        for value in values:
            kind, canonical = classify(value)
            if any(p.rule.value == canonical for p in planned):
                continue
            rule = BlockRule(value=canonical, kind=kind, expires=expires, incident_id=target.incident_id,
                             reason=reason)
            item = Planned(rule)
            for name in names:
                blocker = self.blocker(name)
                if blocker.supports(rule):
                    item.texts[name] = blocker.describe(rule, now)
                else:
                    item.skipped[name] = f"{name} cannot block a {kind}"
            if item.texts:
                planned.append(item)
            else:
                notes.append(f"no backend among {', '.join(names)} can block the {kind} {canonical} "
                             "(domains: use rpz, squid, suricata, csv or json)")
        if not planned:
            raise BlockError(notes[-1] if notes else "nothing to block")
        return planned, notes

    def _labelled(self, rule: BlockRule, row: ActionRow) -> BlockRule:
        label = " ".join(x for x in (row.incident_id, row.public_id) if x)
        return BlockRule(value=rule.value, kind=rule.kind, comment=label, expires=row.expires,
                         action_id=row.public_id, incident_id=row.incident_id, reason=row.reason)

    def rule_for(self, row: ActionRow) -> BlockRule:
        rule = BlockRule(value=row.target, kind="ip") if row.target_kind == "ip" else BlockRule(row.target, "domain")
        return self._labelled(rule, row)

    # -- block / approve -------------------------------------------------------------------------------------
    def block(self, target: BlockTarget, *, expire: str | None = None, reason: str = "",
              backends: Sequence[str] | None = None, user: str | None = None, dry_run: bool = False,
              needs_approval: bool | None = None) -> Outcome:
        """Block the target's server now (or ask for approval in mode ``approve``); ``dry_run`` changes nothing."""
        user = user or current_user()
        try:
            planned, notes = self.plan(target, expire=expire, reason=reason, backends=backends)
        except BlockError as exc:
            if exc.message.startswith("refused") and not dry_run:
                self.store.audit("refuse", user, incident_id=target.incident_id,
                                 target=", ".join(target.values()), reason=exc.message)
            raise
        outcome = Outcome(planned=planned, notes=notes)
        if dry_run:
            return outcome
        pending = self.settings.mode == "approve" if needs_approval is None else needs_approval
        duration = self._duration(expire)
        names = list(backends or self.settings.backends)
        for item in planned:
            existing = self.store.actions(status=["active"], target=item.rule.value, kind="block")
            if existing and not pending:
                outcome.actions.append(self._activate(existing[0], user, "renew", duration))
                continue
            row = self.store.create_action(
                "request", user, kind="block", target=item.rule.value, target_kind=item.rule.kind,
                backend=",".join(n for n in names if n in item.texts), rule_text=item.rule_text, reason=reason,
                incident_id=target.incident_id, severity=target.severity,
                status="pending-approval" if pending else "active",
                expires=None if pending else item.rule.expires,
                duration_s=int(duration.total_seconds()) if duration else None,
            )
            outcome.actions.append(row if pending else self._activate(row, user, "block", duration))
        self.sync_exports()
        return outcome

    def _activate(self, row: ActionRow, user: str, event: str, duration: timedelta | None,
                  approved_by: str | None = None) -> ActionRow:
        now = self.clock()
        changes: dict[str, Any] = {
            "status": "active", "expires": now + duration if duration else None,
            "duration_s": int(duration.total_seconds()) if duration else None,
        }
        if approved_by:
            changes["approved_by"] = approved_by
        row.expires = changes["expires"]
        rule = self.rule_for(row)
        texts: list[str] = []
        done: list[str] = []
        try:
            for name in row.backends:
                applied = self.blocker(name).apply(rule, now)
                texts.append(f"[{name}] {applied.text}")
                done.append(name)
        except BlockError as exc:
            for name in done:  # all or nothing: take back what the other backends already applied
                with contextlib.suppress(BlockError):
                    self.blocker(name).remove(rule)
            return self.store.change_action(row.id, "fail", user, reason=exc.message, status="failed",
                                            error=exc.message, rule_text="\n".join(texts))
        changes["rule_text"] = "\n".join(texts)
        return self.store.change_action(row.id, event, user, **changes)

    def approve(self, action_id: int | str, user: str | None = None) -> ActionRow:
        """Apply a pending (or suggested) action, recording who approved it."""
        user = user or current_user()
        row = self.store.get(action_id)
        if row.status not in ("pending-approval", "suggested"):
            raise BlockError(f"{row.public_id} is {row.status}; only pending or suggested actions can be approved")
        if self.settings.approver_must_differ and user == row.requested_by:
            raise BlockError(f"{row.public_id} was requested by {user}; another person must approve it")
        if row.kind == "isolate":
            out = self.store.change_action(row.id, "approve", user, status="active", approved_by=user)
        else:
            duration = timedelta(seconds=row.duration_s) if row.duration_s else None
            out = self._activate(row, user, "approve", duration, approved_by=user)
        self.sync_exports()
        return out

    def decide(self, incident: Any) -> Decision:
        """The policy's decision for an incident (row, dict or :class:`BlockTarget`), without acting on it."""
        return decide(target_from_incident(incident), self.settings, allowlist=self.allowlist,
                      internal=self.internal)

    def respond(self, incident: Any, user: str = SYSTEM) -> Outcome:
        """What the policy does on a new incident (called by ``watch``): suggest, ask, block or refuse.

        ``incident`` is an incident row, a dict or a :class:`BlockTarget`. Values that already have an open
        action are left alone, so calling this again for the same incident is harmless — except that when the
        policy now says *block* and earlier only *suggested*, the suggestions are applied (:meth:`_escalate`).
        """
        target = target_from_incident(incident)
        decision = self.decide(target)
        if decision.action == "refuse":
            self.store.audit("refuse", user, incident_id=target.incident_id, target=", ".join(target.values()),
                             reason=decision.reason)
            return Outcome(decision=decision)
        values = [classify(v)[1] for v in target.values()]
        if decision.action == "block":
            suggested = [row for v in values for row in self.store.actions(status=["suggested"], target=v, kind="block")]
            if suggested:
                return self._escalate(target, decision, suggested, user)
        if all(self.store.actions(status=OPEN_STATUSES, target=v) for v in values):
            return Outcome(decision=decision, notes=["already handled: an open action exists"])
        if decision.action == "block":
            outcome = self.block(target, reason=decision.reason, user=user, needs_approval=False)
        else:
            status = "pending-approval" if decision.action == "ask" else "suggested"
            planned, notes = self.plan(target, reason=decision.reason)
            outcome = Outcome(planned=planned, notes=notes)
            duration = self._duration(None)
            for item in planned:
                if self.store.actions(status=OPEN_STATUSES, target=item.rule.value):
                    continue
                outcome.actions.append(self.store.create_action(
                    "suggest" if status == "suggested" else "request", user, kind="block",
                    target=item.rule.value, target_kind=item.rule.kind, backend=",".join(item.texts),
                    rule_text=item.rule_text, reason=decision.reason, incident_id=target.incident_id,
                    severity=target.severity, status=status, expires=None,
                    duration_s=int(duration.total_seconds()) if duration else None,
                ))
        outcome.decision = decision
        return outcome

    def _escalate(self, target: BlockTarget, decision: Decision, suggested: list[ActionRow], user: str) -> Outcome:
        """The policy now says *block* where earlier it only suggested (a beacon first, then the upload): the
        suggestions are approved by the policy (audited as approvals by ``user``); where the configuration
        forbids self-approval (``approver_must_differ``) a suggestion is cancelled and replaced by a block."""
        outcome = Outcome(decision=decision)
        reason = f"escalated: {decision.reason}"
        for row in suggested:
            try:
                outcome.actions.append(self.approve(row.id, user=user))
                outcome.notes.append(f"{row.public_id}: suggestion applied ({reason})")
            except BlockError:
                self.unblock(row.id, user=user, reason=f"superseded by an automatic block ({reason})")
                one = BlockTarget(server_ip=row.target if row.target_kind == "ip" else None,
                                  server_domain=row.target if row.target_kind == "domain" else None,
                                  host_ip=target.host_ip, incident_id=target.incident_id, severity=target.severity)
                done = self.block(one, reason=reason, user=user, needs_approval=False)
                outcome.actions += done.actions
                outcome.notes += [*done.notes, f"{row.public_id}: cancelled, replaced by a block"]
        return outcome

    # -- unblock / expire ------------------------------------------------------------------------------------
    def unblock(self, action_id: int | str | None = None, server: str | None = None, user: str | None = None,
                reason: str = "") -> list[ActionRow]:
        """Roll back one action, or every open action on ``server``; removal is recorded."""
        user = user or current_user()
        if action_id is not None:
            rows = [self.store.get(parse_action_id(action_id))]
        elif server:
            rows = self.store.actions(status=OPEN_STATUSES, target=classify(server)[1])
            if not rows:
                raise BlockError(f"no open block on {server}")
        else:
            raise BlockError("give an action id or --server")
        out = []
        for row in rows:
            if row.status not in OPEN_STATUSES:
                raise BlockError(f"{row.public_id} is already {row.status}")
            out.append(self._remove(row, user, "rolled-back", reason))
        self.sync_exports()
        return out

    def _remove(self, row: ActionRow, user: str, status: str, reason: str) -> ActionRow:
        event = {"expired": "expire"}.get(status, "unblock" if row.status == "active" else "cancel")
        text = row.rule_text
        if row.status == "active" and row.kind == "block":
            rule = self.rule_for(row)
            for name in row.backends:
                try:
                    self.blocker(name).remove(rule)
                except BlockError as exc:
                    self.store.audit("fail", user, action_id=row.id, incident_id=row.incident_id,
                                     target=row.target, backend=name, reason=f"removal failed: {exc.message}")
                    if status != "expired":  # an expired nft element is already gone through its timeout
                        raise
        elif row.kind == "isolate" and row.status == "active":
            text = release_script(row.backend, row.target)
        return self.store.change_action(row.id, event, user, reason=reason or f"{event} by {user}",
                                        rule_text=text, status=status, removed=self.clock())

    def expire_due(self, now: datetime | None = None) -> list[ActionRow]:
        """Mark actions past their expiry as expired and remove them from every backend (the kernel already
        removed nftables elements through the set timeout; removing again is harmless)."""
        now = now or self.clock()
        out = [self._remove(row, SYSTEM, "expired", f"expired at {row.expires:%Y-%m-%dT%H:%M:%SZ}")
               for row in self.store.due(now) if row.expires is not None]
        if out:
            self.sync_exports()
        return out

    def active(self) -> list[ActionRow]:
        return self.store.actions(status=["active"], kind="block")

    def reconcile(self, reapply: bool = False, user: str = SYSTEM) -> list[str]:
        """Compare active blocks with what each enforcing backend reports (after a reboot the kernel sets are
        empty); with ``reapply``, put missing ones back with their remaining time (audited)."""
        problems: list[str] = []
        now = self.clock()
        rows = self.active()
        for name in {b for row in rows for b in row.backends}:
            blocker = self.blocker(name)
            if not blocker.enforcing:
                continue
            present = {a.value for a in blocker.list()}
            for row in rows:
                if name not in row.backends or row.target in present:
                    continue
                problems.append(f"{row.public_id} {row.target} is active but missing from {name}")
                if reapply:
                    text = blocker.apply(self.rule_for(row), now).text
                    self.store.audit("reapply", user, action_id=row.id, incident_id=row.incident_id,
                                     target=row.target, backend=name, rule_text=f"[{name}] {text}",
                                     reason=f"missing from {name}; applied again")
            known = {row.target for row in rows if name in row.backends}
            problems += [f"{v} is in {name} but has no active action" for v in sorted(present - known)]
        return problems

    # -- exports ---------------------------------------------------------------------------------------------
    def export(self, fmt: str, generated: datetime | None = None) -> str:
        """Every active block in one backend's format."""
        return self.blocker(fmt).render([self.rule_for(r) for r in self.active()], generated or self.clock())

    def sync_exports(self) -> list[Path]:
        """Rewrite the export file of each configured export backend from the active blocks on it."""
        if self.export_dir is None:
            return []
        written = []
        rows = self.active()
        for name in self.settings.backends:
            blocker = self.blocker(name)
            if blocker.enforcing:
                continue
            rules = [self.rule_for(r) for r in rows if name in r.backends]
            written.append(write_atomic(self.export_dir / blocker.filename, blocker.render(rules, self.clock())))
        return written

    # -- isolation -------------------------------------------------------------------------------------------
    def isolate(self, host_ip: str, fmt: str = "nftables", *, incident_id: str | None = None, reason: str = "",
                user: str | None = None, dry_run: bool = False) -> tuple[ActionRow | None, str]:
        """Render the isolation script for a PC and record it as an ``isolate`` action."""
        user = user or current_user()
        label = incident_id or "manual"
        script = isolation_script(fmt, host_ip, label, self.settings.isolation.management)
        if dry_run:
            return None, script
        pending = self.settings.mode == "approve"
        row = self.store.create_action(
            "isolate", user, kind="isolate", target=classify(host_ip)[1], target_kind="host", backend=fmt,
            rule_text=script, reason=reason, incident_id=incident_id,
            status="pending-approval" if pending else "active",
        )
        if self.export_dir is not None:
            write_atomic(self.export_dir / f"isolate-{row.target.replace(':', '_')}.{_ext(fmt)}", script)
        return row, script


def _ext(fmt: str) -> str:
    return {"nftables": "nft", "windows": "ps1"}.get(fmt, "txt")


def write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
