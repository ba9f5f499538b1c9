"""Incidents: findings grouped by (tenant, internal host, external server, time span), scored, with a
lifecycle and analyst feedback; stored with SQLAlchemy (SQLite ``state/leaktrace.db`` by default)."""

from leaktrace.incidents.analyze import AnalysisResult, analyze
from leaktrace.incidents.scoring import LIFECYCLE, IncidentParams, group_findings, score_group
from leaktrace.incidents.store import Store

__all__ = [
    "LIFECYCLE",
    "AnalysisResult",
    "IncidentParams",
    "Store",
    "analyze",
    "group_findings",
    "score_group",
]
