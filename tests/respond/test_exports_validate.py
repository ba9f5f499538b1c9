"""The exports are accepted by the real tools where those are installed (iptables-restore, named-checkzone).

iptables-restore loads the file inside a namespace the test creates; each test skips with the reason when
its tool (apt: iptables, bind9-utils) or root is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leaktrace.respond.model import BlockRule
from leaktrace.respond.registry import make_blocker
from leaktrace.respond.settings import RespondConfig

from .netns import single_netns, unavailable_reason

NOW = datetime(2026, 11, 26, tzinfo=UTC)
RULES = [
    BlockRule.make("203.0.113.7", comment="INC-0001 ACT-0001", expires=NOW + timedelta(days=7)),
    BlockRule.make("2001:db8::7", comment="ACT-0002"),
    BlockRule.make("evil.example", comment="INC-0001 ACT-0003"),
]


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"`{tool}` not installed")


@pytest.mark.parametrize(("fmt", "tool"), [("iptables", "iptables-restore"), ("ip6tables", "ip6tables-restore")])
def test_iptables_restore_accepts_export(fmt: str, tool: str) -> None:
    why = unavailable_reason()
    if why:
        pytest.skip(why)
    _need(tool)
    text = make_blocker(fmt, RespondConfig()).render(RULES, NOW)
    with single_netns() as ns:
        for _ in range(2):  # loading twice replaces the chain's rules instead of adding them again
            done = subprocess.run(["ip", "netns", "exec", ns, tool, "--noflush"], input=text,
                                  capture_output=True, text=True, timeout=20)
            assert done.returncode == 0, done.stderr
        listed = subprocess.run(["ip", "netns", "exec", ns, tool.replace("-restore", ""), "-S", "LEAKTRACE"],
                                capture_output=True, text=True, timeout=20).stdout
    rules = [line for line in listed.splitlines() if line.startswith("-A LEAKTRACE")]
    assert len(rules) == 2 and all("-j DROP" in r and "leaktrace" in r for r in rules), listed


def test_named_checkzone_accepts_rpz(tmp_path: Path) -> None:
    _need("named-checkzone")
    zone = tmp_path / "rpz.zone"
    zone.write_text(make_blocker("rpz", RespondConfig()).render(RULES, NOW))
    done = subprocess.run(["named-checkzone", "rpz.leaktrace", str(zone)], capture_output=True, text=True,
                          timeout=20)
    assert done.returncode == 0, done.stdout + done.stderr
