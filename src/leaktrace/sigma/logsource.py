"""Sigma ``logsource`` -> which events a rule applies to.

A rule's log source becomes a set of (channel, event id) keys; ``None`` as event id means "any event of that
channel". Windows services use pySigma's own service -> channel table
(``sigma.pipelines.common.windows_logsource_mapping``); categories map to Sysmon event ids (and Security
4688 for ``process_creation``, whose fields are aliased by :func:`leaktrace.sigma.events.flatten_event`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sigma.pipelines.common import windows_logsource_mapping
from sigma.rule.logsource import SigmaLogSource

from leaktrace.sigma.model import UnsupportedFeature

SYSMON = "microsoft-windows-sysmon/operational"
SECURITY = "security"
PS_OPERATIONAL = ("microsoft-windows-powershell/operational", "powershellcore/operational")
PS_CLASSIC = "windows powershell"
ANY_CHANNEL = "*"

# category -> (channel, event ids)
_CATEGORIES: dict[str, list[tuple[str, tuple[int, ...]]]] = {
    "process_creation": [(SYSMON, (1,)), (SECURITY, (4688,))],
    "file_change": [(SYSMON, (2,))],
    "network_connection": [(SYSMON, (3,))],
    "sysmon_status": [(SYSMON, (4, 16))],
    "process_termination": [(SYSMON, (5,))],
    "driver_load": [(SYSMON, (6,))],
    "image_load": [(SYSMON, (7,))],
    "create_remote_thread": [(SYSMON, (8,))],
    "raw_access_thread": [(SYSMON, (9,))],
    "process_access": [(SYSMON, (10,))],
    "file_event": [(SYSMON, (11,))],
    "registry_add": [(SYSMON, (12,))],
    "registry_delete": [(SYSMON, (12,))],
    "registry_set": [(SYSMON, (13,))],
    "registry_rename": [(SYSMON, (14,))],
    "registry_event": [(SYSMON, (12, 13, 14))],
    "create_stream_hash": [(SYSMON, (15,))],
    "pipe_created": [(SYSMON, (17, 18))],
    "wmi_event": [(SYSMON, (19, 20, 21))],
    "dns_query": [(SYSMON, (22,))],
    "file_delete": [(SYSMON, (23, 26))],
    "clipboard_capture": [(SYSMON, (24,))],
    "process_tampering": [(SYSMON, (25,))],
    "file_delete_detected": [(SYSMON, (26,))],
    "file_block_executable": [(SYSMON, (27,))],
    "file_block_shredding": [(SYSMON, (28,))],
    "file_executable_detected": [(SYSMON, (29,))],
    "sysmon_error": [(SYSMON, (255,))],
    "ps_module": [(c, (4103,)) for c in PS_OPERATIONAL],
    "ps_script": [(c, (4104,)) for c in PS_OPERATIONAL],
    "ps_classic_start": [(PS_CLASSIC, (400,))],
    "ps_classic_provider_start": [(PS_CLASSIC, (600,))],
    "ps_classic_script": [(PS_CLASSIC, (800,))],
}

_UNSUPPORTED_CATEGORIES = {
    "file_access": "needs the Microsoft-Windows-Kernel-File ETW provider, which no supported source carries",
    "file_rename": "needs the Microsoft-Windows-Kernel-File ETW provider, which no supported source carries",
    "antivirus": "generic antivirus alerts have no Windows event mapping",
}

Key = tuple[str, int | None]


@dataclass(frozen=True)
class LogsourceMatch:
    """The (channel, event id) keys a rule is indexed under."""

    keys: frozenset[Key]

    def restrict_event_ids(self, ids: frozenset[int]) -> LogsourceMatch:
        """Narrow ``(channel, None)`` keys to the event ids the detection itself requires."""
        out: set[Key] = set()
        for ch, eid in self.keys:
            if eid is None:
                out.update((ch, i) for i in ids)
            elif eid in ids:
                out.add((ch, eid))
        return LogsourceMatch(frozenset(out)) if out else self


# services SigmaHQ rules use that pySigma's table does not list yet
EXTRA_SERVICES: dict[str, str | list[str]] = {
    "smbserver-connectivity": "Microsoft-Windows-SMBServer/Connectivity",
    "smbserver-security": "Microsoft-Windows-SMBServer/Security",
    "smbclient-connectivity": "Microsoft-Windows-SmbClient/Connectivity",
}


def _service_channels(service: str) -> list[str]:
    chans = windows_logsource_mapping.get(service) or EXTRA_SERVICES.get(service)
    if chans is None:
        raise UnsupportedFeature(f"log source: unknown windows service '{service}'")
    return [c.lower() for c in ([chans] if isinstance(chans, str) else chans)]


def resolve_logsource(ls: SigmaLogSource) -> LogsourceMatch:
    """Map a rule's log source to event keys, or raise :class:`UnsupportedFeature` with the reason."""
    product, category, service = ls.product, ls.category, ls.service
    desc = f"product={product} category={category} service={service}"
    if product != "windows":
        raise UnsupportedFeature(f"log source not supported ({desc}): only product 'windows' event logs")
    keys: set[Key] = set()
    if category is not None:
        if category in _UNSUPPORTED_CATEGORIES:
            raise UnsupportedFeature(f"log source category '{category}' {_UNSUPPORTED_CATEGORIES[category]}")
        if category not in _CATEGORIES:
            raise UnsupportedFeature(f"log source category '{category}' has no event mapping")
        for ch, ids in _CATEGORIES[category]:
            keys.update((ch, i) for i in ids)
        if service is not None:
            chans = set(_service_channels(service))
            keys = {k for k in keys if k[0] in chans}
            if not keys:
                raise UnsupportedFeature(f"log source ({desc}): service and category do not overlap")
    elif service is not None:
        keys.update((ch, None) for ch in _service_channels(service))
    else:
        keys.add((ANY_CHANNEL, None))  # product only: every Windows event
    return LogsourceMatch(frozenset(keys))
