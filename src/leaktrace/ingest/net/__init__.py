"""Network sources beyond Zeek: pcap/pcapng, Suricata EVE, DNS server logs, Squid, NetFlow/IPFIX, nfdump.

Importing this package registers its ingesters in :data:`leaktrace.ingest.base.ingesters`, (``dns-server-log``,
``nfdump-csv``, ``pcap``, ``squid``, ``suricata-eve``); their sniffers are specific, so the order does not matter.
"""

from leaktrace.ingest.net import dnslogs, nfdump, pcap, squid, suricata  # noqa: F401  (registration)
