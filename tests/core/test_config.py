"""Typed config: defaults, unknown keys rejected with key and file named, bad values explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaktrace.config import load_config
from leaktrace.errors import ConfigError, WorkspaceError
from leaktrace.workspace import Workspace


def test_init_writes_a_valid_config(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", internal=["10.0.0.0/8"], tenant="mof")
    assert ws.config.network.internal == ["10.0.0.0/8"]
    assert ws.config.ingest.default_tenant == "mof"
    assert ws.config.tenants[0].name == "mof"
    assert Workspace.open(tmp_path / "w").config == ws.config


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[network]\ninternal = ['10.0.0.0/8']\nintenral = []\n", "network.intenral"),
        ("[ingestt]\n", "ingestt"),
        ("[[tenants]]\nname = 'a'\ncolour = 'red'\n", "tenants.0.colour"),
    ],
)
def test_unknown_keys_are_rejected_with_key_and_file(tmp_path: Path, toml: str, key: str) -> None:
    p = tmp_path / "leaktrace.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert f"unknown key '{key}'" in str(err.value)
    assert str(p) in str(err.value)


def test_bad_cidr_is_explained(tmp_path: Path) -> None:
    p = tmp_path / "leaktrace.toml"
    p.write_text("[network]\ninternal = ['10.0.0.0/33']\n")
    with pytest.raises(ConfigError, match="network.internal"):
        load_config(p)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "leaktrace.toml"
    p.write_text("[network\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


def test_opening_a_folder_that_is_no_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="leaktrace init"):
        Workspace.open(tmp_path)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[detect.buckets]\nbucket_size = 5\n", "detect.buckets"),  # unknown key
        ("[detect.buckets]\nbucket_rows = 10\n", "bucket_rows"),  # below the smallest bucket
        ("[detect.bukets]\nmax_rows = 5\n", "unknown detector 'bukets'"),
    ],
)
def test_bucket_settings_are_checked(tmp_path: Path, toml: str, message: str) -> None:
    p = tmp_path / "leaktrace.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_config(p)
    p.write_text("[detect.buckets]\nmax_rows = 5\nbucket_rows = 2000\n")
    assert load_config(p).detect["buckets"] == {"max_rows": 5, "bucket_rows": 2000}
