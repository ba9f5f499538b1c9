"""The watch loop: poll every source, re-analyse when new data arrived, report new or escalated incidents and
pass each to the response policy. No I/O of its own: sources, analysis, response, output and clock are ports.

One iteration (a *micro-batch*)::

    poll sources ──► any rows? ──► analyze() ──► incidents new / more severe than last seen
                                                   │
                                                   ├─► output (one line each)
                                                   └─► react(incident)   (Responder.respond: suggest/ask/block)

Incidents that exist when the loop starts are taken as already seen (``known``): a restart of ``watch`` does
not re-act on old incidents; they are reported again only if they escalate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from leaktrace.detect.base import SEVERITIES
from leaktrace.live.clock import Clock, RealClock
from leaktrace.live.model import Analyzer, Batch, IncidentEvent, Output, Reactor, Source, StepReport

RANK = {s: i for i, s in enumerate(SEVERITIES)}


class SourceFailed(Exception):
    """A source cannot go on (its capture process died, its folder vanished): the loop stops."""


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def incident_line(ev: IncidentEvent) -> str:
    """One human line for an incident event, e.g. ``NEW INC-0001 critical 10.1.0.2 → 203.0.113.7 ...``."""
    inc = ev.incident
    server = _field(inc, "server_domain") or _field(inc, "server_ip") or "?"
    if _field(inc, "server_domain") and _field(inc, "server_ip"):
        server = f"{_field(inc, 'server_domain')} ({_field(inc, 'server_ip')})"
    sev = _field(inc, "severity") or "?"
    head = "NEW" if ev.kind == "new" else f"ESCALATED {ev.previous_severity}→"
    kinds = ",".join(_field(inc, "kinds") or [])
    mb = (_field(inc, "bytes_out") or 0) / 1e6
    return (f"{head} {_field(inc, 'id')} {sev} score {float(_field(inc, 'score') or 0):.2f} "
            f"{_field(inc, 'host_ip')} → {server} [{kinds}] {mb:.1f} MB out")


def outcome_line(ev: IncidentEvent) -> str:
    if ev.error:
        return f"  response failed: {ev.error}"
    out = ev.outcome
    if out is None:
        return "  no response policy"
    decision = getattr(out, "decision", None)
    parts = [f"  policy: {decision.action} ({decision.reason})" if decision else "  policy: -"]
    for a in getattr(out, "actions", []) or []:
        parts.append(f"  {getattr(a, 'public_id', '?')} {getattr(a, 'status', '?')} {getattr(a, 'target', '')}")
    parts += [f"  note: {n}" for n in getattr(out, "notes", []) or []]
    return "\n".join(parts)


class WatchLoop:
    """``run(stop)`` until ``stop`` is set (SIGINT in the CLI); ``step()`` is one micro-batch."""

    def __init__(self, sources: Sequence[Source], analyze: Analyzer, react: Reactor | None = None, *,
                 interval: float = 2.0, clock: Clock | None = None, output: Output | None = None,
                 known: Iterable[Any] = (), on_step: Callable[[StepReport], None] | None = None) -> None:
        self.sources = list(sources)
        self.analyze = analyze
        self.react = react
        self.interval = interval
        self.clock = clock or RealClock()
        self.output = output or (lambda line: None)
        self.on_step = on_step
        self.seen: dict[str, str] = {}
        for inc in known:
            self.seen[str(_field(inc, "id"))] = str(_field(inc, "severity") or "low")
        self.iterations = 0

    # -- one micro-batch ---------------------------------------------------------------------------------------
    def poll(self) -> list[Batch]:
        batches = []
        for src in self.sources:
            batch = src.poll()
            if batch is not None and batch.total:
                batches.append(batch)
        return batches

    def changes(self, incidents: Iterable[Any]) -> list[IncidentEvent]:
        """Incidents never seen, or seen at a lower severity; remembers the current severities."""
        events = []
        for inc in incidents:
            ident = str(_field(inc, "id"))
            sev = str(_field(inc, "severity") or "low")
            before = self.seen.get(ident)
            if before is None:
                events.append(IncidentEvent("new", inc))
            elif RANK.get(sev, 0) > RANK.get(before, 0):
                events.append(IncidentEvent("escalated", inc, previous_severity=before))
            if before is None or RANK.get(sev, 0) > RANK.get(before, 0):
                self.seen[ident] = sev
        return events

    def step(self) -> StepReport:
        report = StepReport(batches=self.poll())
        if report.batches:
            t0 = time.perf_counter()
            incidents = self.analyze()
            report.analyzed = True
            report.analysis_seconds = time.perf_counter() - t0
            report.events = self.changes(incidents)
            for ev in report.events:
                if self.react is not None:
                    try:
                        ev.outcome = self.react(ev.incident)
                    except Exception as exc:  # one failed response must not stop the watch
                        ev.error = f"{type(exc).__name__}: {exc}"
                        report.errors.append(ev.error)
                self.output(incident_line(ev))
                self.output(outcome_line(ev))
        self.iterations += 1
        if self.on_step is not None:
            self.on_step(report)
        return report

    # -- the loop ----------------------------------------------------------------------------------------------
    def run(self, stop: threading.Event, max_iterations: int | None = None) -> int:
        """Start the sources, step every ``interval`` seconds until ``stop``; sources are always stopped."""
        started: list[Source] = []
        try:
            for src in self.sources:
                src.start()
                started.append(src)
            while not stop.is_set():
                t0 = self.clock.now()
                self.step()
                if max_iterations is not None and self.iterations >= max_iterations:
                    break
                self.clock.sleep(self.interval - (self.clock.now() - t0), stop)
            if stop.is_set():
                self.step()  # what arrived while stopping
        finally:
            for src in reversed(started):
                try:
                    src.stop()
                except Exception as exc:  # report, and stop the others anyway
                    self.output(f"error stopping {src.name}: {exc}")
        return self.iterations
