"""Export-only blockers: text files for iptables, Suricata, DNS RPZ, Squid, Windows Firewall, CSV/JSON."""
