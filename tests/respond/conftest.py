"""Fixtures of the respond tests: a settable clock, the nft twin, a responder over a fresh store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leaktrace.respond.nft_twin import FakeNft
from leaktrace.respond.service import Responder
from leaktrace.respond.settings import RespondConfig
from leaktrace.respond.store import ActionStore

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def nft(clock: Clock) -> FakeNft:
    return FakeNft(clock=clock)


MakeResponder = Callable[..., Responder]


@pytest.fixture
def make_responder(tmp_path: Path, clock: Clock, nft: FakeNft) -> MakeResponder:
    def make(**settings: object) -> Responder:
        store = ActionStore.for_state_dir(tmp_path / "state", clock)
        return Responder(
            store, RespondConfig.model_validate({"backends": ["nftables", "csv", "rpz"], **settings}),
            allowlist=["update.microsoft.com", "198.51.100.0/24"], internal=["10.0.0.0/8", "192.168.0.0/16"],
            runner=nft, export_dir=tmp_path / "state" / "exports", clock=clock,
        )

    return make
