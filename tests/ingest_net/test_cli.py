"""The CLI pieces: `collect` registration and the runners (stopped at once)."""

from __future__ import annotations

import threading

import pytest
import typer
from typer.testing import CliRunner

from leaktrace.errors import LeaktraceError
from leaktrace.ingest.net.cli import register, run_collect_netflow
from leaktrace.workspace import Workspace


def test_collect_needs_exactly_one_source() -> None:
    app = typer.Typer()
    register(app)

    @app.command()
    def other() -> None:  # a second command so that `collect` is a sub-command
        pass

    result = CliRunner().invoke(app, ["collect"])
    assert isinstance(result.exception, LeaktraceError)
    result = CliRunner().invoke(app, ["collect", "--help"])
    assert "--netflow" in result.output and "--interface" in result.output


def test_run_collect_netflow_stops(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    stop.set()
    run_collect_netflow(ws.root, "127.0.0.1:0", 0.1, stop_event=stop)
    out = capsys.readouterr().out
    assert "collecting NetFlow" in out and "0 packets" in out
