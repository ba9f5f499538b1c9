"""Golden tests of every export: the input rules and the expected text side by side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leaktrace.respond.model import BlockRule
from leaktrace.respond.nft_twin import FakeNft
from leaktrace.respond.registry import make_blocker
from leaktrace.respond.settings import RespondConfig

GENERATED = datetime(2026, 11, 26, tzinfo=UTC)
RULES = [
    BlockRule("evil.example", "domain", comment="INC-0001 ACT-0003", incident_id="INC-0001", action_id="ACT-0003",
              reason="C2 domain"),
    BlockRule("2001:db8::7", "ip", comment="ACT-0002", action_id="ACT-0002"),
    BlockRule("203.0.113.7", "ip", comment="INC-0001 ACT-0001", expires=datetime(2026, 12, 3, tzinfo=UTC),
              incident_id="INC-0001", action_id="ACT-0001", reason="exfil, 20 docs"),
]

GOLDEN = {
    "iptables": """\
# leaktrace blocklist (iptables), generated 2026-11-26T00:00:00Z
# load: iptables-restore --noflush < leaktrace.iptables
# once: iptables -I FORWARD -j LEAKTRACE; iptables -I OUTPUT -j LEAKTRACE
*filter
:LEAKTRACE - [0:0]
-F LEAKTRACE
-A LEAKTRACE -d 203.0.113.7/32 -m comment --comment "leaktrace INC-0001 ACT-0001 until 2026-12-03T00:00:00Z" -j DROP
-A LEAKTRACE -s 203.0.113.7/32 -m comment --comment "leaktrace INC-0001 ACT-0001 until 2026-12-03T00:00:00Z" -j DROP
COMMIT
""",
    "ip6tables": """\
# leaktrace blocklist (ip6tables), generated 2026-11-26T00:00:00Z
# load: ip6tables-restore --noflush < leaktrace.ip6tables
# once: ip6tables -I FORWARD -j LEAKTRACE; ip6tables -I OUTPUT -j LEAKTRACE
*filter
:LEAKTRACE - [0:0]
-F LEAKTRACE
-A LEAKTRACE -d 2001:db8::7/128 -m comment --comment "leaktrace ACT-0002" -j DROP
-A LEAKTRACE -s 2001:db8::7/128 -m comment --comment "leaktrace ACT-0002" -j DROP
COMMIT
""",
    "suricata": """\
# leaktrace blocklist (suricata), generated 2026-11-26T00:00:00Z
drop ip any any -> 203.0.113.7 any (msg:"leaktrace INC-0001 ACT-0001"; sid:1251498; rev:1;)
drop ip 203.0.113.7 any -> any any (msg:"leaktrace INC-0001 ACT-0001"; sid:1259735; rev:1;)
drop ip any any -> 2001:db8::7 any (msg:"leaktrace ACT-0002"; sid:1609847; rev:1;)
drop ip 2001:db8::7 any -> any any (msg:"leaktrace ACT-0002"; sid:1221524; rev:1;)
drop dns any any -> any any (msg:"leaktrace INC-0001 ACT-0003"; dns.query; dotprefix; content:".evil.example"; endswith; nocase; sid:1122931; rev:1;)
drop tls any any -> any any (msg:"leaktrace INC-0001 ACT-0003"; tls.sni; dotprefix; content:".evil.example"; endswith; nocase; sid:1552872; rev:1;)
""",
    "rpz": """\
; leaktrace response policy zone, generated 2026-11-26T00:00:00Z
$TTL 60
@ IN SOA localhost. hostmaster.localhost. ( 1795651200 3600 600 86400 60 )
  IN NS localhost.
; INC-0001 ACT-0001 until 2026-12-03T00:00:00Z
32.7.113.0.203.rpz-ip CNAME .
; ACT-0002
128.7.zz.db8.2001.rpz-ip CNAME .
; INC-0001 ACT-0003
evil.example CNAME .
*.evil.example CNAME .
""",
    "squid": """\
# leaktrace blocklist (squid), generated 2026-11-26T00:00:00Z
# INC-0001 ACT-0001 until 2026-12-03T00:00:00Z
acl leaktrace_block_ip dst 203.0.113.7
# ACT-0002
acl leaktrace_block_ip dst 2001:db8::7
# INC-0001 ACT-0003
acl leaktrace_block dstdomain .evil.example
http_access deny leaktrace_block
http_access deny leaktrace_block_ip
""",
    "windows": """\
# leaktrace blocklist (Windows Firewall), generated 2026-11-26T00:00:00Z
# Run in an elevated PowerShell; replaces all rules of the group 'leaktrace'.
#Requires -RunAsAdministrator
Get-NetFirewallRule -Group 'leaktrace' -ErrorAction SilentlyContinue | Remove-NetFirewallRule
New-NetFirewallRule -DisplayName 'leaktrace INC-0001 ACT-0001 203.0.113.7 outbound' -Group 'leaktrace' -Direction Outbound -RemoteAddress 203.0.113.7 -Action Block -Profile Any -Description 'leaktrace INC-0001 ACT-0001 until 2026-12-03T00:00:00Z' | Out-Null
New-NetFirewallRule -DisplayName 'leaktrace INC-0001 ACT-0001 203.0.113.7 inbound' -Group 'leaktrace' -Direction Inbound -RemoteAddress 203.0.113.7 -Action Block -Profile Any -Description 'leaktrace INC-0001 ACT-0001 until 2026-12-03T00:00:00Z' | Out-Null
New-NetFirewallRule -DisplayName 'leaktrace ACT-0002 2001:db8::7 outbound' -Group 'leaktrace' -Direction Outbound -RemoteAddress 2001:db8::7 -Action Block -Profile Any -Description 'leaktrace ACT-0002' | Out-Null
New-NetFirewallRule -DisplayName 'leaktrace ACT-0002 2001:db8::7 inbound' -Group 'leaktrace' -Direction Inbound -RemoteAddress 2001:db8::7 -Action Block -Profile Any -Description 'leaktrace ACT-0002' | Out-Null
# evil.example: Windows Firewall cannot block a domain; use the rpz or squid export
""",
    "csv": """\
value,type,expires,incident,action,reason
203.0.113.7,ip,2026-12-03T00:00:00Z,INC-0001,ACT-0001,"exfil, 20 docs"
2001:db8::7,ip,,,ACT-0002,
evil.example,domain,,INC-0001,ACT-0003,C2 domain
""",
    "json": """\
{
  "generator": "leaktrace",
  "generated": "2026-11-26T00:00:00Z",
  "blocks": [
    {
      "value": "203.0.113.7",
      "type": "ip",
      "expires": "2026-12-03T00:00:00Z",
      "incident": "INC-0001",
      "action": "ACT-0001",
      "reason": "exfil, 20 docs"
    },
    {
      "value": "2001:db8::7",
      "type": "ip",
      "expires": "",
      "incident": "",
      "action": "ACT-0002",
      "reason": ""
    },
    {
      "value": "evil.example",
      "type": "domain",
      "expires": "",
      "incident": "INC-0001",
      "action": "ACT-0003",
      "reason": "C2 domain"
    }
  ]
}
""",
    "nftables": """\
# leaktrace blocklist for nftables: nft -f FILE
add table inet leaktrace
add set inet leaktrace blocked_v4 { type ipv4_addr; flags timeout; }
add set inet leaktrace blocked_v6 { type ipv6_addr; flags timeout; }
add chain inet leaktrace forward { type filter hook forward priority -10; policy accept; }
flush chain inet leaktrace forward
add rule inet leaktrace forward ip daddr @blocked_v4 counter drop
add rule inet leaktrace forward ip6 daddr @blocked_v6 counter drop
add rule inet leaktrace forward ip saddr @blocked_v4 counter drop
add rule inet leaktrace forward ip6 saddr @blocked_v6 counter drop
add chain inet leaktrace output { type filter hook output priority -10; policy accept; }
flush chain inet leaktrace output
add rule inet leaktrace output ip daddr @blocked_v4 counter drop
add rule inet leaktrace output ip6 daddr @blocked_v6 counter drop
add element inet leaktrace blocked_v4 { 203.0.113.7 timeout 7d comment "INC-0001 ACT-0001" }
add element inet leaktrace blocked_v6 { 2001:db8::7 comment "ACT-0002" }
""",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_export_golden(name: str) -> None:
    blocker = make_blocker(name, RespondConfig(), FakeNft())
    assert blocker.render(RULES, GENERATED) == GOLDEN[name]
