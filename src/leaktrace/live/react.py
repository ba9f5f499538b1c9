"""The watch's reaction to an incident: the response policy (``Responder.respond``).

In a watch an incident often starts weak (a beacon alone: *suggest*) and escalates minutes later (the upload
starts: *block*); ``Responder.respond`` applies the earlier suggestions then (see ``Responder._escalate``).
"""

from __future__ import annotations

from typing import Any

from leaktrace.respond.service import SYSTEM, Outcome, Responder


class PolicyReactor:
    def __init__(self, responder: Responder, user: str = SYSTEM) -> None:
        self.responder = responder
        self.user = user

    def __call__(self, incident: Any) -> Outcome:
        return self.responder.respond(incident, user=self.user)
