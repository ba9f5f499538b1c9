"""The whole SigmaHQ rules folder loads: every rule is compiled or listed as unsupported with a reason."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from leaktrace.sigma import SigmaEngine, read_json_events
from leaktrace.sigma.bench import synthetic_events
from leaktrace.sigma.prefilter import HAVE_AHOCORASICK
from tests.conftest import shared_data

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine() -> SigmaEngine:
    root = shared_data() / "sigmahq" / "rules"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    return SigmaEngine.from_paths([root])


def test_all_sigmahq_rules_are_compiled_or_explained(engine: SigmaEngine) -> None:
    root = shared_data() / "sigmahq" / "rules"
    files = sorted(root.rglob("*.yml"))
    assert len(engine.rules) + len(engine.unsupported) == len(files)  # one rule per file in SigmaHQ
    assert all(u.reason for u in engine.unsupported)
    windows_files = {str(f) for f in files if f.relative_to(root).parts[0] == "windows"}
    win_unsupported = [u for u in engine.unsupported if u.rule_path in windows_files]
    win_share = 1 - len(win_unsupported) / len(windows_files)
    reasons = Counter(u.reason.split(":")[0].split("(")[0].strip() for u in engine.unsupported)
    print(
        f"\nSigmaHQ rules: {len(engine.rules)}/{len(files)} compiled ({engine.supported_share:.1%});"
        f" windows {len(windows_files) - len(win_unsupported)}/{len(windows_files)} ({win_share:.1%})"
    )
    for reason, n in reasons.most_common():
        print(f"  {n:5d}  {reason}")
    assert win_share >= 0.99
    # outside windows, only the log source keeps a rule out: no parse or modifier failures
    for u in engine.unsupported:
        assert "log source" in u.reason, (u.rule_path, u.reason)
    for u in win_unsupported:
        doc = yaml.safe_load(Path(u.rule_path).read_text(encoding="utf-8"))
        assert doc["logsource"].get("category") in ("file_access", "file_rename"), u


def test_value_index_changes_nothing_but_speed(engine: SigmaEngine) -> None:
    """Same matches with and without the prefilter, over real samples and generated events."""
    events = synthetic_events(3000, seed=11)
    for p in sorted((shared_data() / "sigmahq" / "regression_data").rglob("*.json")):
        events.extend(read_json_events(p))
    results = {}
    try:
        if HAVE_AHOCORASICK:
            engine.substring_index = True
            results["substring + exact index"] = engine.evaluate(events)
        engine.substring_index = False
        results["exact index"] = engine.evaluate(events)
        engine.use_index = False
        results["no index"] = engine.evaluate(events)
    finally:
        engine.use_index = True
        engine.substring_index = HAVE_AHOCORASICK
    reference = results["no index"]
    assert len(reference) > 200
    for name, got in results.items():
        assert got == reference, name
