"""Per-day collections of episode rows: flows built row by row, and the smtp/files/dhcp lines tied to them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leaktrace.sim.endpoint import HostLog
from leaktrace.sim.flows import FLOW_DEFAULTS, REQUIRED_COLUMNS, Flows


class RowBuffer:
    """Flows appended one at a time (for episodes), turned into a :class:`Flows` batch at the end."""

    def __init__(self) -> None:
        self.cols: dict[str, list[int]] = {k: [] for k in (*REQUIRED_COLUMNS, *FLOW_DEFAULTS)}

    def add(self, **values: int) -> None:
        for key, col in self.cols.items():
            col.append(int(values[key]) if key in values else FLOW_DEFAULTS[key])

    def __len__(self) -> int:
        return len(self.cols["ts"])

    def flows(self) -> Flows:
        return Flows(**{k: np.asarray(v, dtype=np.int64) for k, v in self.cols.items()})


@dataclass
class DayRecords:
    """Everything a day's episodes produce besides background traffic."""

    rows: RowBuffer = field(default_factory=RowBuffer)
    smtp: list[dict[str, Any]] = field(default_factory=list)  # each has "_ts" (µs) and "_tag"
    files: list[dict[str, Any]] = field(default_factory=list)
    dhcp: list[dict[str, Any]] = field(default_factory=list)
    hosts: dict[int, HostLog] = field(default_factory=dict)
    _next_tag: int = 0

    def tag(self) -> int:
        self._next_tag += 1
        return self._next_tag - 1


def fake_hashes(seed: str) -> dict[str, str]:
    """Stable md5/sha1/sha256 strings for a file that exists only on the wire."""
    return {
        "md5": hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest(),
        "sha1": hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(seed.encode()).hexdigest(),
    }
