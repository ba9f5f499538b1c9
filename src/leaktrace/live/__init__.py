"""Live monitoring (``leaktrace watch``): sources feed the lake in micro-batches, each followed by incremental
analysis; new or escalated incidents are printed and passed to the response policy.

Sources: a network interface (tcpdump into a spool, tailed, flows kept across batches with progress rows for
uploads still in progress), a Zeek log folder (rotation-aware tail), a NetFlow/IPFIX UDP port. Every side
effect is a port with a test twin (:class:`~leaktrace.live.clock.FakeClock`, any object with ``poll()``).
"""

from leaktrace.live.clock import Clock, FakeClock, RealClock
from leaktrace.live.loop import SourceFailed, WatchLoop, incident_line
from leaktrace.live.model import Batch, IncidentEvent, Source, StepReport

__all__ = ["Batch", "Clock", "FakeClock", "IncidentEvent", "RealClock", "Source", "SourceFailed", "StepReport",
           "WatchLoop", "incident_line"]
