"""`leaktrace inventory` and `leaktrace documents` (metadata only, never document text)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from leaktrace.cli.app import app, load_commands
from leaktrace.config import CONFIG_NAME
from leaktrace.documents.samples import make_docx
from leaktrace.workspace import Workspace

SECRET_TEXT = "この文は画面に出てはいけない本文です"


def test_inventory_and_documents(tmp_path: Path) -> None:
    load_commands()
    ws = Workspace.init(tmp_path / "ws")
    share = tmp_path / "share"
    share.mkdir()
    make_docx(share / "a.docx", [SECRET_TEXT, "個人番号 123456789018"], header="機密性２情報")
    (share / "b.jtd").write_bytes(b"\x00" * 64)
    runner = CliRunner()
    res = runner.invoke(app, ["inventory", "-w", str(ws.root), str(share)])
    assert res.exit_code == 0, res.output
    assert "機密性2" in res.output and "b.jtd" in res.output and "my_number" in res.output
    assert SECRET_TEXT not in res.output
    res = runner.invoke(app, ["inventory", "-w", str(ws.root), str(share), "--json"])
    out = json.loads(res.output)
    assert out["files"] == 2 and out["unchanged"] == 2 and out["not_read"][0]["status"] == "unsupported"
    res = runner.invoke(app, ["documents", "-w", str(ws.root), "--level", "機密性2", "--json"])
    docs = json.loads(res.output)
    assert [Path(d["path"]).name for d in docs] == ["a.docx"]
    assert docs[0]["pii_counts"] == {"my_number": 1}
    assert SECRET_TEXT not in res.output
    res = runner.invoke(app, ["documents", "-w", str(ws.root)])
    assert res.exit_code == 0 and "a.docx" in res.output


def test_inventory_of_one_tenant_is_invisible_to_another(tmp_path: Path) -> None:
    load_commands()
    ws = Workspace.init(tmp_path / "ws", tenant="ministry")
    with (ws.root / CONFIG_NAME).open("a", encoding="utf-8") as f:  # the second tenant, configured
        f.write('\n[[tenants]]\nname = "agency"\n')
    share = tmp_path / "share"
    share.mkdir()
    make_docx(share / "a.docx", ["職員名簿", "個人番号 123456789018"], header="機密性３情報")
    runner = CliRunner()
    res = runner.invoke(app, ["inventory", "-w", str(ws.root), str(share), "--tenant", "agency", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["tenant"] == "agency"

    def listed(*tenant: str) -> list[str]:
        res = runner.invoke(app, ["documents", "-w", str(ws.root), "--json", *tenant])
        assert res.exit_code == 0, res.output
        return [Path(d["path"]).name for d in json.loads(res.output)]

    assert listed("--tenant", "agency") == ["a.docx"]
    assert listed() == [] and listed("--tenant", "ministry") == []  # the workspace's tenant sees none of agency's
    (share / "b.txt").write_text("機密性２\n", encoding="utf-8")
    res = runner.invoke(app, ["inventory", "-w", str(ws.root), str(share / "b.txt")])  # default: ministry
    assert res.exit_code == 0, res.output
    assert listed() == ["b.txt"] and listed("--tenant", "agency") == ["a.docx"]
    (share / "a.docx").unlink()
    res = runner.invoke(app, ["inventory", "-w", str(ws.root), str(share)])  # ministry prunes only its own
    assert res.exit_code == 0, res.output
    assert listed("--tenant", "agency") == ["a.docx"]
    res = runner.invoke(app, ["documents", "-w", str(ws.root), "--tenant", "agency"])
    assert res.exit_code == 0 and "a.docx" in res.output and "b.txt" not in res.output
