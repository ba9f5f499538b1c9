"""``--netflow PORT``: the NetFlow/IPFIX collector of :mod:`leaktrace.collect` in a thread; each poll reports
the micro-batches it committed since the previous poll."""

from __future__ import annotations

import threading
from typing import Any

from leaktrace.live.model import Batch


class NetflowSource:
    def __init__(self, collector: Any, name: str = "") -> None:
        self.collector = collector
        self.name = name or f"netflow:{getattr(collector, 'port', '?')}"
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        collector.on_batch = self._on_batch

    def _on_batch(self, key: str, counts: dict[str, int]) -> None:
        with self._lock:
            for table, n in counts.items():
                self._rows[table] = self._rows.get(table, 0) + n

    def _run(self) -> None:
        try:
            self.collector.run(self._stop)
        except BaseException as exc:  # reported by the next poll
            self._error = exc

    def start(self) -> None:
        self.collector.bind()
        self.name = f"netflow:{self.collector.port}"
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def poll(self) -> Batch | None:
        if self._error is not None:
            from leaktrace.live.loop import SourceFailed

            raise SourceFailed(f"{self.name}: {self._error}")
        with self._lock:
            rows, self._rows = self._rows, {}
        return Batch(self.name, rows=rows) if rows else None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
