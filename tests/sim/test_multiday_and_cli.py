from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from leaktrace.sim import SimulationConfig, simulate


def test_several_days_keep_beaconing_and_leak_once(tmp_path: Path) -> None:
    result = simulate(tmp_path / "out", config=SimulationConfig(hosts=8, days=2, seed=5, documents=35))
    days = sorted(p.name for p in (tmp_path / "out" / "zeek").iterdir())
    assert days == ["2026-03-02", "2026-03-03"]
    gt = result.ground_truth
    assert gt["exfil"]["day"] in (0, 1)
    assert gt["c2"]["beacons"] > 24 * 60  # more than a day of 60 s beacons
    victim = gt["compromised_host"]["ip"]
    for day in days:
        conn = (tmp_path / "out" / "zeek" / day / "conn.log").read_text(encoding="utf-8")
        assert f"{victim}\t" in conn and gt["c2"]["ip"] in conn
    uploads = {c["uid"] for c in gt["exfil"]["connections"]}
    exfil_day = days[gt["exfil"]["day"]]
    conn = (tmp_path / "out" / "zeek" / exfil_day / "conn.log").read_text(encoding="utf-8")
    assert all(uid in conn for uid in uploads)


def test_cli_simulate(tmp_path: Path) -> None:
    import leaktrace.cli.sim_cmds  # noqa: F401  (registers the commands)
    from leaktrace.cli.app import app

    out = tmp_path / "cli"
    res = CliRunner().invoke(
        app, ["simulate", "--out", str(out), "--hosts", "5", "--seed", "2", "--documents", "35"]
    )
    assert res.exit_code == 0, res.output
    gt = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    assert gt["compromised_host"]["name"] in res.output
    res = CliRunner().invoke(
        app, ["simulate-conn", str(tmp_path / "c.log"), "--rows", "1000", "--hosts", "20"]
    )
    assert res.exit_code == 0, res.output


def test_bad_config_is_a_config_error() -> None:
    import pytest

    from leaktrace.errors import ConfigError

    for bad in ({"hosts": 2}, {"days": 0}, {"start": "2026/03/02"}, {"docs_taken": (5, 3)}):
        with pytest.raises(ConfigError):
            SimulationConfig(**bad)  # type: ignore[arg-type]
