"""Shared fixtures: a fresh workspace, the shared real-data folder, small Zeek log writers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leaktrace.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LEAKTRACE_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_data() -> Path:
    """The folder of real third-party data; tests that need it skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found at {SHARED_DATA} (set LEAKTRACE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def real_data() -> Path:
    return shared_data()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws", internal=["10.0.0.0/8", "192.168.0.0/16"])
