"""Analysis state kept between runs: small, mergeable aggregates stored as Parquet under ``state/analyze/``.

Two tables: the population facts of outbound flows (``host_servers``: per internal host × server × destination
IP × JA3, first and last epoch; see :func:`leaktrace.detect.common.host_servers_of`) and the DNS clients of each
registered domain (``dns_pairs``: distinct internal client × registered domain of their DNS queries; see
:func:`leaktrace.detect.dns_facts.dns_pairs_of`). A full analysis writes them; an incremental one merges the
facts of the new records into them instead of re-reading (and re-joining with TLS/HTTP names, or re-parsing every
DNS name of) the whole history, so detectors can read only the hosts that have new records.

The file name carries a fingerprint of the settings that shape the facts (internal networks, allow-lists and
a format version): when they change, the stored facts are ignored and the next run rebuilds them from the lake.
Records removed from the lake (retention) stay counted until the next full run (``leaktrace analyze --full``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FORMAT_VERSION = 1


class FactsState:
    """One table of stored facts (``name``) of one tenant."""

    def __init__(self, state_dir: Path, tenant: str, settings: dict[str, Any], name: str = "host_servers") -> None:
        self.name = name
        raw = json.dumps({"v": FORMAT_VERSION, **settings}, sort_keys=True)
        self.fingerprint = hashlib.sha1(raw.encode()).hexdigest()[:12]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in tenant)
        self.folder = state_dir / "analyze" / safe
        self.path = self.folder / f"{name}-{self.fingerprint}.parquet"

    def exists(self) -> bool:
        return self.path.exists()

    def load(self, engine: Any) -> Any | None:
        """The stored facts as a table of ``engine`` (None when there are none for the current settings)."""
        if not self.exists():
            return None
        return engine.load_parquet(f"_leaktrace_stored_{self.name}", self.path)

    def save(self, data: pa.Table) -> None:
        """Replace the stored facts (atomically); facts stored under other settings are removed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        pq.write_table(data, tmp)
        tmp.replace(self.path)
        for old in self.folder.glob(f"{self.name}-*.parquet"):
            if old != self.path:
                old.unlink(missing_ok=True)

    def clear(self) -> None:
        for old in self.folder.glob(f"{self.name}-*.parquet") if self.folder.exists() else []:
            old.unlink(missing_ok=True)
