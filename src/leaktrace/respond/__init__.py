"""Containment: block a server (nftables, enforced) or export the block (iptables, Suricata, DNS RPZ, Squid,
Windows Firewall, CSV/JSON); isolate a PC; a policy for new incidents; every action audited in a hash chain.

Typical use::

    responder = Responder.for_workspace(ws)
    responder.block(BlockTarget(server_ip="203.0.113.7", incident_id="INC-0001"), expire="7d", reason="...")
    responder.respond(target_from_incident(incident))      # policy: suggest / ask / block / refuse
    responder.expire_due()

Names are imported lazily, so ``leaktrace.config`` can import :mod:`leaktrace.respond.settings` cheaply.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leaktrace.respond.errors import BlockError
    from leaktrace.respond.incidents import incident_targets, target_from_incident
    from leaktrace.respond.model import AppliedRule, BlockRule, BlockTarget, format_duration, parse_duration
    from leaktrace.respond.policy import Decision, decide
    from leaktrace.respond.registry import Blocker, blockers, make_blocker
    from leaktrace.respond.service import Outcome, Responder
    from leaktrace.respond.settings import RespondConfig, respond_config
    from leaktrace.respond.store import ActionStore

_WHERE = {
    "BlockError": "errors", "incident_targets": "incidents", "target_from_incident": "incidents",
    "AppliedRule": "model", "BlockRule": "model", "BlockTarget": "model", "format_duration": "model",
    "parse_duration": "model", "Decision": "policy", "decide": "policy", "Blocker": "registry",
    "blockers": "registry", "make_blocker": "registry", "Outcome": "service", "Responder": "service",
    "RespondConfig": "settings", "respond_config": "settings", "ActionStore": "store",
}
__all__ = [
    "ActionStore", "AppliedRule", "BlockError", "BlockRule", "BlockTarget", "Blocker", "Decision", "Outcome",
    "RespondConfig", "Responder", "blockers", "decide", "format_duration", "incident_targets", "make_blocker",
    "parse_duration", "respond_config", "target_from_incident",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"leaktrace.respond.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'leaktrace.respond' has no attribute '{name}'")
