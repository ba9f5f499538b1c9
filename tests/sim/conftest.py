from __future__ import annotations

from pathlib import Path

import pytest

from leaktrace.sim import SimulationConfig, SimulationResult, simulate

SMALL = {"hosts": 12, "documents": 36}


def run_small(out: Path, seed: int = 1) -> SimulationResult:
    return simulate(out, config=SimulationConfig(seed=seed, **SMALL))


@pytest.fixture(scope="session")
def small_sim(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return run_small(tmp_path_factory.mktemp("sim") / "out")
