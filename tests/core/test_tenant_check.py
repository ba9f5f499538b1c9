"""A `--tenant` must be a configured tenant: a typo is refused (naming it and the configured ones) instead of
silently writing to, or reading from, a tenant nobody configured."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from leaktrace.cli.app import app, load_commands, main
from leaktrace.config import CONFIG_NAME, config_from_dict
from leaktrace.errors import LeaktraceError, UnknownTenantError
from leaktrace.ingest.net.cli import run_collect_netflow
from leaktrace.workspace import Workspace
from tests.zeekgen import conn_log

load_commands()
runner = CliRunner()


@pytest.fixture
def two_tenants(tmp_path: Path) -> Workspace:
    """Default tenant "ministry" (its own [[tenants]] entry, written by init) and a configured "agency"."""
    ws = Workspace.init(tmp_path / "ws", internal=["10.0.0.0/8"], tenant="ministry")
    with (ws.root / CONFIG_NAME).open("a", encoding="utf-8") as f:
        f.write('\n[[tenants]]\nname = "agency"\n')
    return Workspace.open(ws.root)


def _rejected(res: Result, name: str) -> UnknownTenantError:
    assert res.exit_code != 0, res.output
    assert isinstance(res.exception, UnknownTenantError), res.exception
    text = str(res.exception)
    assert f"unknown tenant '{name}'" in text and "configured: ministry, agency" in text, text
    return res.exception


# -- the rule ---------------------------------------------------------------------------------------------------
def test_configured_tenants_and_the_default_count() -> None:
    cfg = config_from_dict({"ingest": {"default_tenant": "ministry"}, "tenants": [{"name": "agency"}]})
    assert cfg.tenant_names() == ["agency", "ministry"]  # the default counts even without its own entry
    assert cfg.check_tenant("agency") == "agency" and cfg.check_tenant("ministry") == "ministry"
    with pytest.raises(UnknownTenantError, match="unknown tenant 'minstry' .configured: agency, ministry"):
        cfg.check_tenant("minstry")
    with pytest.raises(UnknownTenantError):
        cfg.check_tenant("Agency")  # exact names: no case folding that would hide a second spelling


def test_without_tenants_only_the_default_is_accepted() -> None:
    cfg = config_from_dict({})
    assert cfg.tenants == [] and cfg.tenant_names() == ["default"]
    assert cfg.check_tenant("default") == "default"
    with pytest.raises(LeaktraceError, match="unknown tenant 'ministry' .configured: default"):
        cfg.check_tenant("ministry")


def test_workspace_check_names_the_config_file(two_tenants: Workspace) -> None:
    assert two_tenants.check_tenant(None) is None  # not given: the command's own default applies
    assert two_tenants.check_tenant("agency") == "agency"
    with pytest.raises(UnknownTenantError) as err:
        two_tenants.check_tenant("agnecy")
    assert err.value.where is not None and err.value.where.path == str(two_tenants.root / CONFIG_NAME)
    assert str(err.value).startswith(f"{two_tenants.root / CONFIG_NAME}, key 'tenants': unknown tenant 'agnecy'")


# -- ingest -----------------------------------------------------------------------------------------------------
def test_ingest_refuses_an_unknown_tenant_and_writes_nothing(two_tenants: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text(conn_log(5))
    _rejected(runner.invoke(app, ["ingest", "-w", str(two_tenants.root), str(log), "--tenant", "minstry"]),
              "minstry")
    assert not list(two_tenants.lake_dir.glob("tenant=*"))
    res = runner.invoke(app, ["stats", "-w", str(two_tenants.root), "--json"])
    assert json.loads(res.output)["tables"] == {}


def test_ingest_into_a_configured_tenant_still_works(two_tenants: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text(conn_log(5))
    res = runner.invoke(app, ["ingest", "-w", str(two_tenants.root), str(log), "--tenant", "agency"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["stats", "-w", str(two_tenants.root), "--tenant", "agency", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["tables"] == {"conn": 5} and json.loads(res.output)["tenants"] == ["agency"]
    res = runner.invoke(app, ["stats", "-w", str(two_tenants.root), "--tenant", "ministry", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["tables"] == {}
    _rejected(runner.invoke(app, ["stats", "-w", str(two_tenants.root), "--tenant", "agnecy"]), "agnecy")


# -- documents --------------------------------------------------------------------------------------------------
def test_inventory_and_documents_refuse_an_unknown_tenant(two_tenants: Workspace, tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text("機密性２\n", encoding="utf-8")
    root = str(two_tenants.root)
    _rejected(runner.invoke(app, ["inventory", "-w", root, str(share), "--tenant", "minstry", "--json"]), "minstry")
    _rejected(runner.invoke(app, ["documents", "-w", root, "--tenant", "minstry", "--json"]), "minstry")
    res = runner.invoke(app, ["inventory", "-w", root, str(share), "--tenant", "agency", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["tenant"] == "agency"
    res = runner.invoke(app, ["documents", "-w", root, "--tenant", "agency", "--json"])
    assert res.exit_code == 0, res.output
    assert [Path(d["path"]).name for d in json.loads(res.output)] == ["a.txt"]


# -- the other commands with --tenant ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["notifications", "--tenant", "minstry"],
        ["investigate", "--host", "10.0.0.5", "--server", "203.0.113.9", "--tenant", "minstry"],
        ["investigate", "INC-0001", "--tenant", "minstry"],
    ],
    ids=["notifications", "investigate-host", "investigate-incident"],
)
def test_other_commands_refuse_an_unknown_tenant(two_tenants: Workspace, args: list[str]) -> None:
    _rejected(runner.invoke(app, [args[0], "-w", str(two_tenants.root), *args[1:]]), "minstry")


def test_collect_refuses_an_unknown_tenant_before_listening(two_tenants: Workspace) -> None:
    stop = threading.Event()
    stop.set()  # were the tenant accepted, the collector would stop at once instead of listening
    with pytest.raises(UnknownTenantError, match="unknown tenant 'minstry'"):
        run_collect_netflow(two_tenants.root, "127.0.0.1:0", 0.1, tenant="minstry", stop_event=stop)


# -- the outermost layer: one line on stderr, exit code 2 -------------------------------------------------------
def test_main_prints_the_error_and_exits_2(
    two_tenants: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["leaktrace", "documents", "-w", str(two_tenants.root), "--tenant", "minstry"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "error:" in err and "unknown tenant 'minstry'" in err and "configured: ministry, agency" in err
