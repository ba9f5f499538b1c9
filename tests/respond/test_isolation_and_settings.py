"""Isolation scripts (golden), address complements, stable Suricata sids, and the [respond] settings."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from leaktrace.errors import ConfigError
from leaktrace.respond import BlockError, BlockRule, RespondConfig, respond_config
from leaktrace.respond.exports.rpz import rpz_ip_owner
from leaktrace.respond.exports.suricata import SuricataExport, stable_sid
from leaktrace.respond.isolation import complement_ranges, isolation_script, release_script

MGMT = ["10.9.9.9", "10.9.8.0/24"]

WINDOWS_ISOLATION = """\
# leaktrace: isolate this PC (10.1.2.3, INC-0001); run in an elevated PowerShell on the PC
# still reachable: 10.9.9.9, 10.9.8.0/24
#Requires -RunAsAdministrator
Get-NetFirewallRule -Group 'leaktrace-isolation' -ErrorAction SilentlyContinue | Remove-NetFirewallRule
Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True
New-NetFirewallRule -DisplayName 'leaktrace isolation INC-0001 IPv4 outbound' -Group 'leaktrace-isolation' \
-Direction Outbound -RemoteAddress '0.0.0.0-10.9.7.255','10.9.9.0-10.9.9.8','10.9.9.10-255.255.255.255' \
-Action Block -Profile Any | Out-Null
New-NetFirewallRule -DisplayName 'leaktrace isolation INC-0001 IPv4 inbound' -Group 'leaktrace-isolation' \
-Direction Inbound -RemoteAddress '0.0.0.0-10.9.7.255','10.9.9.0-10.9.9.8','10.9.9.10-255.255.255.255' \
-Action Block -Profile Any | Out-Null
New-NetFirewallRule -DisplayName 'leaktrace isolation INC-0001 IPv6 outbound' -Group 'leaktrace-isolation' \
-Direction Outbound -RemoteAddress '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' -Action Block -Profile Any | Out-Null
New-NetFirewallRule -DisplayName 'leaktrace isolation INC-0001 IPv6 inbound' -Group 'leaktrace-isolation' \
-Direction Inbound -RemoteAddress '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' -Action Block -Profile Any | Out-Null
"""

NFT_ISOLATION_TAIL = """\
flush set inet leaktrace_isolate mgmt_v4
add element inet leaktrace_isolate mgmt_v4 { 10.9.8.0/24, 10.9.9.9/32 }
flush set inet leaktrace_isolate mgmt_v6
add element inet leaktrace_isolate hosts_v4 { 10.1.2.3 comment "INC-0001" }
"""


def test_windows_isolation_golden() -> None:
    assert isolation_script("windows", "10.1.2.3", "INC-0001", MGMT) == WINDOWS_ISOLATION
    assert "Remove-NetFirewallRule" in release_script("windows", "10.1.2.3")


def test_nft_isolation_golden_tail() -> None:
    script = isolation_script("nftables", "10.1.2.3", "INC-0001", MGMT)
    assert script.endswith(NFT_ISOLATION_TAIL)
    assert "add rule inet leaktrace_isolate forward ip saddr @hosts_v4 ip daddr @mgmt_v4 accept" in script
    assert release_script("nftables", "10.1.2.3") == (
        "# leaktrace: release 10.1.2.3 from isolation\n"
        "add element inet leaktrace_isolate hosts_v4 { 10.1.2.3 }\n"
        "delete element inet leaktrace_isolate hosts_v4 { 10.1.2.3 }\n"
    )
    with pytest.raises(BlockError, match="not an IP address"):
        isolation_script("nftables", "pc-042", "x", MGMT)
    with pytest.raises(BlockError, match="unknown isolation format"):
        isolation_script("pf", "10.1.2.3", "x", MGMT)


def test_complement_ranges() -> None:
    assert complement_ranges(["0.0.0.0/1"], 4) == ["128.0.0.0-255.255.255.255"]
    assert complement_ranges(["10.0.0.0/8", "10.1.0.0/16"], 4) == ["0.0.0.0-9.255.255.255",
                                                                     "11.0.0.0-255.255.255.255"]
    assert complement_ranges(["fd00::/8"], 6) == ["::-fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                                  "fe00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
    assert complement_ranges(["0.0.0.0/0"], 4) == []


def test_rpz_ip_owner() -> None:
    assert rpz_ip_owner("203.0.113.7") == "32.7.113.0.203.rpz-ip"
    assert rpz_ip_owner("2001:db8::1") == "128.1.zz.db8.2001.rpz-ip"
    assert rpz_ip_owner("::1") == "128.1.zz.rpz-ip"


def test_suricata_sids_are_stable_and_unique() -> None:
    assert stable_sid("ip-dst 203.0.113.7", 1_000_000) == stable_sid("ip-dst 203.0.113.7", 1_000_000)
    rules = [BlockRule.make(f"203.0.113.{i}") for i in range(1, 200)]
    text = SuricataExport().render(rules)
    sids = [line.split("sid:")[1].split(";")[0] for line in text.splitlines() if "sid:" in line]
    assert len(sids) == len(set(sids)) == 398
    alone = SuricataExport().render(rules[:1])
    assert alone.splitlines()[1] in text.splitlines()  # adding rules does not renumber the others


def test_settings_defaults_and_validation() -> None:
    cfg = RespondConfig()
    assert (cfg.mode, cfg.auto_min_severity, cfg.backends, cfg.default_expire) == ("suggest", "high",
                                                                                    ["nftables", "csv"], "7d")
    with pytest.raises(ValueError, match="unknown backend"):
        RespondConfig(backends=["nftables", "pf"])
    with pytest.raises(ValueError, match="not a duration"):
        RespondConfig(default_expire="soon")
    with pytest.raises(ValueError, match="neither a network"):
        RespondConfig(never_block=["not valid!"])
    with pytest.raises(ValueError, match="not a network"):
        RespondConfig.model_validate({"isolation": {"management": ["mgmt.example"]}})
    with pytest.raises(ValueError, match="Extra inputs"):
        RespondConfig.model_validate({"mode": "auto", "typo": 1})


def test_respond_config_is_read_defensively() -> None:
    assert respond_config(SimpleNamespace()) == RespondConfig()
    assert respond_config(SimpleNamespace(respond={"mode": "auto"})).mode == "auto"
    with pytest.raises(ConfigError, match="respond.mode"):
        respond_config(SimpleNamespace(respond={"mode": "sometimes"}, source_path="leaktrace.toml"))
