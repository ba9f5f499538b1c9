"""The named outbound flows of a large lake kept between runs, so that an incremental run reads the history of the
hosts with new records from here instead of joining it again from the lake.

A full run of a large lake writes the named flows of all records anyway (:mod:`leaktrace.incidents.buckets`) and
keeps them as the first *segment*. An incremental run with new records from ``since`` on builds the flows of the
records from ``cut = since − tls_margin_s`` on (a window of the lake: the last hour or so, all hosts), reads the
stored flows before ``cut`` of the hosts with new records, and keeps the window as the next segment. A segment
holds the flows from its cut up to the cut of any later segment (a later window supersedes what it overlaps), so a
record's flow is always read from the newest segment that built it.

Stored flows before the cut are what a rebuild from the lake gives unless a TLS or HTTP record of a connection
arrives in a later batch more than ``tls_margin_s`` after the connection's start: the assumption the hourly
slices of the full run make too. The run's check that each connection has one flow still applies to the
combined flows; when it fails the run rebuilds from the lake and drops the stored flows. Any run that adds
records without adding a segment drops them too (:meth:`FlowState.clear`), as does a full run of a lake small
enough to be analysed in memory. The folder name carries a fingerprint of the settings that shape the flows
(internal networks, allow-lists, format version), as the stored facts do (:mod:`leaktrace.engine.state`).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leaktrace.detect.base import Context
from leaktrace.detect.common import hosts_since, named_flows
from leaktrace.detect.net import outbound_conn
from leaktrace.engine.state import settings_fingerprint, tenant_folder
from leaktrace.incidents.buckets import SliceEngine

FORMAT_VERSION = 1
MANIFEST = "segments.json"


class FlowState:
    """The stored named flows of one tenant: segments, each a folder of Parquet files and a cut (epoch seconds;
    None for the first, which a full run wrote)."""

    def __init__(self, state_dir: Path, tenant: str, settings: dict[str, Any]) -> None:
        self.parent = tenant_folder(state_dir, tenant)
        self.folder = self.parent / f"flows-{settings_fingerprint(settings, FORMAT_VERSION)}"

    def segments(self) -> list[dict[str, Any]]:
        """The segments in the order they were written (empty when nothing usable is stored)."""
        path = self.folder / MANIFEST
        if not path.exists():
            return []
        return list(json.loads(path.read_text(encoding="utf-8"))["segments"])

    def exists(self) -> bool:
        return bool(self.segments())

    def clear(self) -> None:
        """Remove the stored flows (of any settings)."""
        for old in self.parent.glob("flows-*") if self.parent.exists() else []:
            shutil.rmtree(old, ignore_errors=True)

    def adopt(self, folder: Path) -> None:
        """Keep ``folder`` (the flows of all records, written by a full run) as the only segment."""
        self.clear()
        self.folder.mkdir(parents=True)
        if folder.exists():
            shutil.move(folder, self.folder / "seg-00000")  # a rename within the workspace
        else:  # no outbound flows at all
            (self.folder / "seg-00000").mkdir()
        self._write_manifest([{"dir": "seg-00000", "cut": None}])

    def read(self, engine: Any, before: int) -> Any | None:
        """The stored flows with ``t < before``, each from the segment that holds it (None when none are stored)."""
        segs = self.segments()
        parts = []
        for i, seg in enumerate(segs):
            until = min([before] + [int(s["cut"]) for s in segs[i + 1 :]])
            if seg["cut"] is not None and int(seg["cut"]) >= until:
                continue  # superseded by a later window
            files = sorted((self.folder / seg["dir"]).rglob("*.parquet"))
            if not files:
                continue
            view = engine.parquet_view(f"_leaktrace_stored_flows_{i}", files)
            parts.append(view.filter(view.t < until))
        if not parts:
            return None
        out = parts[0]
        for p in parts[1:]:
            out = out.union(p)
        return out

    def append(self, flows: Any, cut: int) -> None:
        """Keep ``flows`` (the flows of the records from ``cut`` on, an Ibis table) as the next segment; segments
        it supersedes entirely are removed. The manifest is replaced last, so a crash before leaves the stored
        flows as they were."""
        segs = self.segments()
        if not segs:
            raise FileNotFoundError(self.folder / MANIFEST)
        n = max(int(s["dir"].split("-")[1]) for s in segs) + 1
        name = f"seg-{n:05d}"
        (self.folder / name).mkdir(exist_ok=True)  # left by a run that failed before its manifest
        flows.to_parquet(self.folder / name / "flows.parquet")
        keep = [s for s in segs if s["cut"] is None or int(s["cut"]) < cut]
        self._write_manifest([*keep, {"dir": name, "cut": int(cut)}])
        for s in segs:
            if s not in keep:
                shutil.rmtree(self.folder / s["dir"], ignore_errors=True)

    def _write_manifest(self, segments: list[dict[str, Any]]) -> None:
        tmp = self.folder / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps({"segments": segments}, indent=1), encoding="utf-8")
        tmp.replace(self.folder / MANIFEST)


def window_and_scoped_flows(ctx: Context, state: FlowState, cut: int) -> tuple[Any, Any]:
    """(the flows of the records from ``cut`` on, all hosts, kept in the run's engine; the flows of the hosts with
    records since ``ctx.since``: stored before ``cut``, built from the window after)."""
    lo = datetime.fromtimestamp(cut, UTC)
    engine = SliceEngine(ctx.engine, ctx.engine.table("http"), lo, None, timedelta(0))
    window_ctx = ctx.fork(engine=engine, cache=False, scoped=False)
    window = ctx.cached("outbound_window", lambda: named_flows(window_ctx, group_tls=False))
    conn = outbound_conn(ctx, ctx.engine.table("conn"))
    # kept as a table, so that the engine knows it is small and joins the stored flows against it (over a view
    # of the files it built the join's hash table from the stored flows instead)
    touched = ctx.cached("touched_hosts", lambda: hosts_since(ctx, conn))
    stored = state.read(ctx.engine, before=cut)
    every = window if stored is None else stored.union(window)
    return window, every.semi_join(touched, "src_ip")
