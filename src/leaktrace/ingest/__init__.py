"""Ingest: read sources into the lake. Importing this package registers the built-in ingesters."""

from leaktrace.ingest import endpoint, net, zeek_json, zeek_tsv  # noqa: F401  (registration)
from leaktrace.ingest.base import IngestContext, Ingester, SourceResult, ingesters
from leaktrace.ingest.runner import IngestSummary, SourceOutcome, ingest_paths

__all__ = [
    "IngestContext",
    "IngestSummary",
    "Ingester",
    "SourceOutcome",
    "SourceResult",
    "ingest_paths",
    "ingesters",
]
