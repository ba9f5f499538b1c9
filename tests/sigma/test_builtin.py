"""The curated built-in rule set: compiles, credits its authors, and fires on a real LSASS dump campaign."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter

import pytest
import yaml

from leaktrace.sigma import BUILTIN_RULES, SigmaEngine, flatten_event
from tests.conftest import shared_data

ORIGIN_COMMIT = "8eaafff1f2845a696050e05e72ba1140ee190698"


def test_every_builtin_rule_compiles_and_keeps_its_author() -> None:
    files = sorted(BUILTIN_RULES.rglob("*.yml"))
    assert 30 <= len(files) <= 80
    engine = SigmaEngine.builtin()
    assert engine.unsupported == []
    assert len(engine.rules) == len(files)
    assert all(r.author for r in engine.rules)
    readme = (BUILTIN_RULES / "README.md").read_text(encoding="utf-8")
    assert ORIGIN_COMMIT in readme and ORIGIN_COMMIT in (BUILTIN_RULES / "LICENSE.DRL").read_text()
    for f in files:
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        assert str(f.relative_to(BUILTIN_RULES)) in readme, f"{f.name} missing from rules/README.md"
        assert doc["author"] in readme


def test_matches_credit_the_rule_author() -> None:
    engine = SigmaEngine.builtin()
    ev = {
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventID": 1,
        "Image": "C:\\Windows\\System32\\rundll32.exe",
        "CommandLine": "rundll32.exe C:\\windows\\System32\\comsvcs.dll MiniDump 628 C:\\t\\l.dmp full",
    }
    matches = engine.evaluate([ev])
    assert matches and all(m.author for m in matches)
    assert "Process Memory Dump Via Comsvcs.DLL" in {m.title for m in matches}
    assert any("T1003.001" in m.attack_techniques for m in matches)


@pytest.mark.realdata
def test_builtin_rules_on_otrf_comsvcs_lsass_campaign() -> None:
    z = (
        shared_data()
        / "otrf-lsass-campaigns"
        / "LSASS_campaign_03"
        / "metasploit_comsvcs_lsass_memory_dump.zip"
    )
    if not z.is_file():
        pytest.skip(f"{z} not found")
    with zipfile.ZipFile(z) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".json"))
        with zf.open(name) as f:
            events = [
                flatten_event(json.loads(line))
                for line in io.TextIOWrapper(f, encoding="utf-8")
                if line.strip()
            ]
    assert len(events) > 40_000
    matches = SigmaEngine.builtin().evaluate(events)
    titles = Counter(m.title for m in matches)
    # the comsvcs MiniDump seen both by Sysmon 1 and by Security 4688 (through the field aliases)
    assert titles["Process Memory Dump Via Comsvcs.DLL"] == 2
    assert titles["Lsass Memory Dump via Comsvcs DLL"] >= 1  # Sysmon 10: rundll32 opening lsass
    assert titles["Suspicious Execution of Systeminfo"] >= 1
    assert {m.computer for m in matches} == {"PRD01.pandalab.com"}
    dump = [m for m in matches if m.title == "Process Memory Dump Via Comsvcs.DLL"]
    assert all("comsvcs" in str(m.matched_fields.get("CommandLine", "")).lower() for m in dump)
