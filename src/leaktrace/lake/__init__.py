"""The Parquet lake: ``tenant=T/table=N/day=D/<batch>.parquet`` files, committed through a manifest."""

from leaktrace.lake.manifest import Lake, StagedBatch

__all__ = ["Lake", "StagedBatch"]
