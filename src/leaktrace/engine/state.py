"""Analysis state kept between runs: small, mergeable aggregates stored as Parquet under ``state/analyze/``.

Two tables: the population facts of outbound flows (``host_servers``: per internal host × server × destination
IP × JA3, first and last epoch; see :func:`leaktrace.detect.common.host_servers_of`) and the DNS clients of each
registered domain (``dns_pairs``: distinct internal client × registered domain of their DNS queries; see
:func:`leaktrace.detect.dns_facts.dns_pairs_of`). A full analysis writes them; an incremental one adds the
facts of the new records instead of re-reading (and re-joining with TLS/HTTP names, or re-parsing every DNS name
of) the whole history, so detectors can read only the hosts that have new records.

Each table is a base file (written by a full run) and delta files (one per incremental run: the facts of its
new records only, so an incremental run writes kilobytes, not the whole table). Read back, the table is the
union of its files: a combination may appear in more than one file, which changes nothing for its readers
(distinct counts, minima and maxima). After ``max_deltas`` deltas the next incremental run rewrites the base
merged (:meth:`FactsState.compact_due`).

The file names carry a fingerprint of the settings that shape the facts (internal networks, allow-lists and
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
    """One table of stored facts (``name``) of one tenant: a base file and delta files."""

    def __init__(
        self,
        state_dir: Path,
        tenant: str,
        settings: dict[str, Any],
        name: str = "host_servers",
        max_deltas: int = 24,
    ) -> None:
        self.name = name
        self.max_deltas = max_deltas
        self.fingerprint = settings_fingerprint(settings, FORMAT_VERSION)
        self.folder = tenant_folder(state_dir, tenant)
        self.path = self.folder / f"{name}-{self.fingerprint}.parquet"

    def exists(self) -> bool:
        return self.path.exists()

    def deltas(self) -> list[Path]:
        """The delta files of the current settings, oldest first."""
        found = self.folder.glob(f"{self.name}-{self.fingerprint}.delta-*.parquet") if self.folder.exists() else []
        return sorted(found, key=_delta_number)

    def files(self) -> list[Path]:
        """Base and delta files (empty when there is no base for the current settings)."""
        return [self.path, *self.deltas()] if self.exists() else []

    def load(self, engine: Any) -> Any | None:
        """The stored facts as a table of ``engine`` over the files (None when there are none for the current
        settings)."""
        files = self.files()
        if not files:
            return None
        return engine.parquet_view(f"_leaktrace_stored_{self.name}", files)

    def compact_due(self) -> bool:
        """Whether the next write should be a merged base (:meth:`save`) rather than another delta."""
        return len(self.deltas()) >= self.max_deltas

    def save(self, data: Any) -> None:
        """Replace the stored facts with ``data`` (atomically); deltas and facts stored under other settings are
        removed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(data, self.path)
        for old in self.folder.glob(f"{self.name}-*.parquet"):
            if old != self.path:
                old.unlink(missing_ok=True)

    def append(self, data: Any) -> None:
        """Add ``data`` (the facts of new records) as the next delta file (atomically). A base must exist."""
        if not self.exists():
            raise FileNotFoundError(self.path)
        last = self.deltas()
        n = _delta_number(last[-1]) + 1 if last else 1
        _write_atomic(data, self.folder / f"{self.name}-{self.fingerprint}.delta-{n}.parquet")

    def clear(self) -> None:
        for old in self.folder.glob(f"{self.name}-*.parquet") if self.folder.exists() else []:
            old.unlink(missing_ok=True)


def settings_fingerprint(settings: dict[str, Any], version: int) -> str:
    """A short digest of the settings that shape stored state, and of its format version."""
    raw = json.dumps({"v": version, **settings}, sort_keys=True)
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def tenant_folder(state_dir: Path, tenant: str) -> Path:
    """Where the analysis state of ``tenant`` lives (the name made safe for a path)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in tenant)
    return state_dir / "analyze" / safe


def _delta_number(path: Path) -> int:
    """The number of a delta file (``<name>-<fingerprint>.delta-<n>.parquet``)."""
    return int(path.name.rsplit("-", 1)[1].split(".")[0])


def _write_atomic(data: Any, path: Path) -> None:
    """``data`` (an Arrow table, or an Ibis expression, which its engine writes: DuckDB copies it in parallel, with
    no round trip through Python) as ``path``, replaced in one step."""
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, pa.Table):
        pq.write_table(data, tmp)
    else:
        data.to_parquet(tmp)
    tmp.replace(path)
