"""Live collectors: sources that keep arriving (NetFlow/IPFIX over UDP), written to the lake in micro-batches.
Packets on an interface are captured by tcpdump into a spool and tailed (:mod:`leaktrace.live.interface`);
``leaktrace collect --interface`` and ``leaktrace watch --interface`` share that path."""

from leaktrace.collect.commit import MicroBatchWriter, commit_rows
from leaktrace.collect.netflow import CollectStats, NetflowCollector, collect_netflow

__all__ = ["CollectStats", "MicroBatchWriter", "NetflowCollector", "collect_netflow", "commit_rows"]
