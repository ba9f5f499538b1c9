"""Run SigmaHQ's regression data (``regression_data/**/info.yml``) through the engine.

Each ``info.yml`` names a rule (by id) and its sample; the rule must fire on the sample's ``.json`` events
``match_count`` times (at least once when no count is declared, as SigmaHQ's own runner checks). Rules the engine cannot evaluate, rules missing from the
rules folder and entries without a test are reported with the reason, never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leaktrace.sigma.engine import SigmaEngine
from leaktrace.sigma.events import flatten_event, read_json_events

_ID_LINE = re.compile(r"^id:\s*['\"]?([0-9a-fA-F-]{36})", re.MULTILINE)


@dataclass
class CaseResult:
    info: str
    rule_id: str
    rule_path: str | None
    expected: int | None
    got: int | None
    status: str  # pass | fail | unsupported | missing-rule | no-test
    reason: str = ""


@dataclass
class RegressionReport:
    cases: list[CaseResult] = field(default_factory=list)

    def by_status(self, status: str) -> list[CaseResult]:
        return [c for c in self.cases if c.status == status]

    @property
    def testable(self) -> list[CaseResult]:
        """Cases with a rule and a sample: the denominator of the supported share."""
        return [c for c in self.cases if c.status in ("pass", "fail", "unsupported")]

    @property
    def supported_share(self) -> float:
        t = self.testable
        return sum(c.status != "unsupported" for c in t) / len(t) if t else 0.0

    def summary(self) -> str:
        t = self.testable
        lines = [
            f"regression entries: {len(self.cases)}; with rule and sample: {len(t)}",
            f"supported: {len(self.by_status('pass')) + len(self.by_status('fail'))}/{len(t)}"
            f" ({self.supported_share:.1%}); pass: {len(self.by_status('pass'))};"
            f" fail: {len(self.by_status('fail'))}",
        ]
        for status in ("fail", "unsupported", "missing-rule", "no-test"):
            for c in self.by_status(status):
                extra = f" expected {c.expected} got {c.got}" if status == "fail" else ""
                lines.append(f"  {status}: {c.rule_id} {c.rule_path or c.info}{extra} {c.reason}".rstrip())
        return "\n".join(lines)


def index_rules(rules_root: Path) -> dict[str, Path]:
    """Rule id -> file, from a fast scan of the ``id:`` lines (no YAML parsing)."""
    out: dict[str, Path] = {}
    for p in sorted(rules_root.rglob("*.yml")):
        m = _ID_LINE.search(p.read_text(encoding="utf-8", errors="replace"))
        if m:
            out.setdefault(m.group(1).lower(), p)
    return out


def read_evtx_events(path: Path) -> list[dict[str, Any]]:
    """Events of an ``.evtx`` file through the optional ``evtx`` parser (pyevtx-rs), flattened."""
    from evtx import PyEvtxParser  # optional: only for the .evtx variant of the regression run

    out: list[dict[str, Any]] = []
    for rec in PyEvtxParser(str(path)).records_json():
        if rec is not None:
            out.append(flatten_event(json.loads(rec["data"])))
    return out


def run_regression(regression_root: Path, rules_root: Path, sample: str = "json",
                   load: Callable[[Path], list[dict[str, Any]]] | None = None) -> RegressionReport:
    """``sample``: ``json`` (the rendered twin) or ``evtx`` (the original log, needs the ``evtx`` package).
    ``load``: how a sample file becomes events (default: parse it directly; the lake variant ingests it and
    rebuilds the events from the normalised rows, see :mod:`leaktrace.hostdetect.regression_lake`)."""
    rules = index_rules(rules_root)
    report = RegressionReport()
    for info_path in sorted(regression_root.rglob("info.yml")):
        info = yaml.safe_load(info_path.read_text(encoding="utf-8")) or {}
        meta = (info.get("rule_metadata") or [{}])[0]
        rid = str(meta.get("id", "")).lower()
        tests = info.get("regression_tests_info") or []
        rel = str(info_path.parent.relative_to(regression_root))
        rule_file = rules.get(rid)
        if not tests:
            report.cases.append(CaseResult(rel, rid, None, None, None, "no-test", "no regression_tests_info"))
            continue
        if rule_file is None:
            reason = "rule not in the rules folder (emerging-threats / threat-hunting set not shipped)"
            report.cases.append(CaseResult(rel, rid, None, None, None, "missing-rule", reason))
            continue
        engine = SigmaEngine.from_paths([rule_file])
        rp = str(rule_file.relative_to(rules_root.parent))
        if not engine.rules:
            reason = "; ".join(u.reason for u in engine.unsupported) or "no rule compiled"
            report.cases.append(CaseResult(rel, rid, rp, None, None, "unsupported", reason))
            continue
        for t in tests:
            declared = t.get("match_count")
            expected = int(declared) if declared is not None else None
            path = info_path.parent / (Path(str(t.get("path", ""))).stem + "." + sample)
            if not path.is_file():
                found = sorted(info_path.parent.glob("*." + sample))
                if not found:
                    report.cases.append(
                        CaseResult(rel, rid, rp, expected, None, "no-test", f"no .{sample} sample")
                    )
                    continue
                path = found[0]
            if load is not None:
                events = load(path)
            else:
                events = read_evtx_events(path) if sample == "evtx" else read_json_events(path)
            got = sum(1 for m in engine.evaluate(events, explain=False) if m.rule_id.lower() == rid)
            ok = got == expected if expected is not None else got >= 1  # no count: the rule must fire
            status = "pass" if ok else "fail"
            report.cases.append(CaseResult(rel, rid, rp, expected, got, status))
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m leaktrace.sigma.regression SIGMAHQ_DIR [--evtx] [--json OUT]``: print the summary."""
    import argparse

    ap = argparse.ArgumentParser(description="Run SigmaHQ regression_data through leaktrace's Sigma engine")
    ap.add_argument("sigmahq", type=Path, help="folder holding rules/ and regression_data/")
    ap.add_argument("--evtx", action="store_true", help="read the .evtx samples (needs the evtx package)")
    ap.add_argument("--json", type=Path, help="also write every case as JSON here")
    args = ap.parse_args(argv)
    report = run_regression(
        args.sigmahq / "regression_data", args.sigmahq / "rules", sample="evtx" if args.evtx else "json"
    )
    print(report.summary())
    if args.json:
        cases = [c.__dict__ for c in report.cases]
        args.json.write_text(
            json.dumps({"supported_share": report.supported_share, "cases": cases}, indent=1)
        )
    return 1 if report.by_status("fail") else 0


if __name__ == "__main__":
    raise SystemExit(main())
