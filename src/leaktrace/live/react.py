"""The watch's reaction to an incident: the response policy (``Responder.respond``), plus escalation.

``Responder.respond`` leaves a server alone once it has an open action. In a watch an incident often starts
weak (a beacon alone: *suggest*) and escalates minutes later (the upload starts: *block*). When the policy now
says *block* and the only open actions on the incident's servers are suggestions, those suggestions are
approved by the policy (user ``leaktrace``, audited as an approval) so the block is applied at once; if the
configuration forbids self-approval (``approver_must_differ``), the suggestion is cancelled and a new block
is made instead (both audited).
"""

from __future__ import annotations

from typing import Any

from leaktrace.respond.errors import BlockError
from leaktrace.respond.incidents import target_from_incident
from leaktrace.respond.model import BlockTarget, classify
from leaktrace.respond.service import SYSTEM, Outcome, Responder


class PolicyReactor:
    def __init__(self, responder: Responder, user: str = SYSTEM) -> None:
        self.responder = responder
        self.user = user

    def __call__(self, incident: Any) -> Outcome:
        r = self.responder
        outcome = r.respond(incident, user=self.user)
        if outcome.decision is None or outcome.decision.action != "block" or outcome.actions:
            return outcome
        target = target_from_incident(incident)
        reason = f"escalated: {outcome.decision.reason}"
        for value in target.values():
            for row in r.store.actions(status=["suggested"], target=classify(value)[1], kind="block"):
                try:
                    outcome.actions.append(r.approve(row.id, user=self.user))
                    outcome.notes.append(f"{row.public_id}: suggestion applied ({reason})")
                except BlockError:
                    r.unblock(row.id, user=self.user, reason=f"superseded by an automatic block ({reason})")
                    target_one = BlockTarget(server_ip=row.target if row.target_kind == "ip" else None,
                                              server_domain=row.target if row.target_kind == "domain" else None,
                                              host_ip=target.host_ip, incident_id=target.incident_id,
                                              severity=target.severity)
                    done = r.block(target_one, reason=reason, user=self.user, needs_approval=False)
                    outcome.actions += done.actions
                    outcome.notes += [*done.notes, f"{row.public_id}: cancelled, replaced by a block"]
        return outcome
