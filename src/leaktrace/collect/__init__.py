"""Live collectors: sources that keep arriving (NetFlow/IPFIX over UDP, packets on an interface), written to
the lake in micro-batches."""

from leaktrace.collect.capture import CaptureStats, LiveCapture
from leaktrace.collect.commit import MicroBatchWriter
from leaktrace.collect.netflow import CollectStats, NetflowCollector, collect_netflow

__all__ = ["CaptureStats", "CollectStats", "LiveCapture", "MicroBatchWriter", "NetflowCollector",
           "collect_netflow"]
