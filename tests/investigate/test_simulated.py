"""Attribution on the simulator: the documents taken are recovered, with the right highest level, per seed.

For each seed: simulate a small ministry network, ingest its Zeek logs and endpoint events, scan its share
into the inventory, then attribute the traffic from the compromised host to the exfiltration server (named by
the ground truth here; finding them is the detectors' test) and compare with ``ground_truth.json``.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from leaktrace.documents import Inventory, scan
from leaktrace.ingest import ingest_paths
from leaktrace.investigate import attribute
from leaktrace.investigate.loader import inventory_refs, load_case
from leaktrace.sim import simulate
from leaktrace.workspace import Workspace

SEEDS = list(range(1, 11))


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rel(path: str) -> str:
    return path.replace("\\", "/").split("/share/", 1)[-1]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_documents_taken_are_recovered(seed: int, tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    simulate(sim, hosts=12, days=1, seed=seed)
    truth = json.loads((sim / "ground_truth.json").read_text(encoding="utf-8"))
    ws = Workspace.init(tmp_path / "ws", internal=["10.0.0.0/8"])
    ingest_paths(ws, [sim / "zeek", sim / "endpoint"])
    with Inventory(ws) as inv:
        inv.upsert(list(scan([sim / "share"], ws.config)))
    case = load_case(ws, truth["compromised_host"]["ip"], [truth["exfil_server"]["ip"]],
                     [truth["exfil_server"]["domain"]], _when(truth["times"]["first_beacon"]),
                     _when(truth["times"]["upload_end"]))
    result = attribute(case, inventory_refs(ws))

    expected = {d["path"] for d in truth["documents_taken"]}
    got = {_rel(d.inventory_path or d.path) for d in result.taken()}
    hits = len(expected & got)
    precision = hits / len(got) if got else 0.0
    recall = hits / len(expected)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall, sorted(expected ^ got)[:5])
    level = unicodedata.normalize("NFKC", truth["highest_level_text"])
    assert result.rollup.highest_level == level
    assert result.rollup.people == truth["personal_data"]["people"]
    assert result.remote_control.verdict == "remote-controlled"
