"""Sigma regression samples through the whole path analysis uses: ingest into a lake, normalised rows, events
rebuilt from the rows (:mod:`leaktrace.hostdetect.lake_events`).

All samples are ingested into one workspace in one call (fast); the rows are then split by the file they
came from. A sample whose bytes equal another sample's is ingested once (ingest is idempotent by content), so
its rows are found under the first file with those bytes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from leaktrace.hostdetect.lake_events import lake_events

TABLES = ("process", "file_event", "endpoint_conn", "win_event")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class LakeSamples:
    """``load(path)`` -> the events of one sample as analysis sees them."""

    def __init__(self, samples: Iterable[Path], workspace_dir: Path) -> None:
        import leaktrace.ingest.endpoint  # noqa: F401  (registers the Windows ingesters)
        from leaktrace.engine import Engine
        from leaktrace.ingest import ingest_paths
        from leaktrace.lake import Lake
        from leaktrace.workspace import Workspace

        files = sorted(samples)
        ws = Workspace.init(workspace_dir)
        self.summary = ingest_paths(ws, files)
        self._first_with: dict[str, str] = {}
        self._alias: dict[str, str] = {}
        for f in files:
            digest = _sha256(f)
            self._alias[str(f)] = self._first_with.setdefault(digest, str(f))
        engine = Engine.for_lake(Lake(ws.lake_dir))
        self._rows: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for name in TABLES:
            for row in engine.table(name).order_by(["source_file", "source_line"]).to_pyarrow().to_pylist():
                self._rows[str(row["source_file"])][name].append(row)

    def load(self, path: Path) -> list[dict[str, Any]]:
        tables = self._rows.get(self._alias.get(str(path), str(path)), {})
        return [ev for ev, _ in lake_events(tables)]
