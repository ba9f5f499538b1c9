"""Registers the built-in blockers with :data:`leaktrace.respond.registry.blockers`."""

from __future__ import annotations

from leaktrace.respond.exports.base import ExportBlocker
from leaktrace.respond.exports.blocklist import CsvExport, JsonExport
from leaktrace.respond.exports.iptables import Ip6tablesExport, IptablesExport
from leaktrace.respond.exports.rpz import RpzExport
from leaktrace.respond.exports.squid import SquidExport
from leaktrace.respond.exports.suricata import SuricataExport
from leaktrace.respond.exports.windows import WindowsExport
from leaktrace.respond.nftables import NftablesBlocker
from leaktrace.respond.registry import Blocker, blockers
from leaktrace.respond.runner import CommandRunner
from leaktrace.respond.settings import RespondConfig


def _simple(cls: type[ExportBlocker]) -> None:
    def factory(cfg: RespondConfig, runner: CommandRunner | None) -> Blocker:
        blocker: Blocker = cls()
        return blocker

    blockers.add(cls.name, factory)


if "nftables" not in blockers:
    blockers.add("nftables", NftablesBlocker.from_config)
    for _cls in (IptablesExport, Ip6tablesExport, RpzExport, SquidExport, WindowsExport, CsvExport, JsonExport):
        _simple(_cls)
    blockers.add("suricata", lambda cfg, runner: SuricataExport(cfg.suricata_sid_base))

EXPORT_FORMATS = ["iptables", "ip6tables", "suricata", "rpz", "squid", "windows", "csv", "json", "nftables"]
