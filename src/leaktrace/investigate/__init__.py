"""Investigate an incident: which documents left, how it happened, and who (or what) acted."""

from leaktrace.investigate.attribution import AttributionParams, attribute
from leaktrace.investigate.case import Case
from leaktrace.investigate.model import Attribution, DocRef, TakenDocument

__all__ = ["Attribution", "AttributionParams", "Case", "DocRef", "TakenDocument", "attribute"]
