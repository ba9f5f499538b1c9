"""A workspace: one folder holding the config, the Parquet lake, operational state and outputs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from leaktrace.config import CONFIG_NAME, Config, load_config, render_default_config
from leaktrace.errors import Location, WorkspaceError

ENV_VAR = "LEAKTRACE_WORKSPACE"


@dataclass
class Workspace:
    root: Path
    config: Config

    @property
    def lake_dir(self) -> Path:
        return self.root / "lake"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def state_url(self) -> str:
        """SQLAlchemy URL of the operational state: ``[state] url`` or SQLite ``state/leaktrace.db``."""
        if self.config.state.url:
            return self.config.state.url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.state_dir / 'leaktrace.db'}"

    @property
    def tenant(self) -> str:
        return self.config.ingest.default_tenant

    @overload
    def check_tenant(self, name: str) -> str: ...
    @overload
    def check_tenant(self, name: None) -> None: ...

    def check_tenant(self, name: str | None) -> str | None:
        """A tenant given by the user, checked against the configuration (``None``, "not given", passes through):
        one of the ``[[tenants]]`` or the default tenant, else :class:`~leaktrace.errors.UnknownTenantError`."""
        return None if name is None else self.config.check_tenant(name)

    @classmethod
    def open(cls, root: Path | str | None = None) -> Workspace:
        if root is None:
            env = os.environ.get(ENV_VAR)
            if not env:
                raise WorkspaceError(f"no workspace given: pass --workspace DIR or set {ENV_VAR}")
            root = env
        root = Path(root).resolve()
        cfg_path = root / CONFIG_NAME
        if not cfg_path.exists():
            raise WorkspaceError(
                "not a leaktrace workspace (run `leaktrace init --workspace DIR` first)",
                Location(path=str(root)),
            )
        ws = cls(root=root, config=load_config(cfg_path))
        for d in (ws.lake_dir, ws.state_dir, ws.reports_dir, ws.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        return ws

    @classmethod
    def init(cls, root: Path | str, internal: list[str] | None = None, tenant: str = "default") -> Workspace:
        root = Path(root).resolve()
        root.mkdir(parents=True, exist_ok=True)
        cfg_path = root / CONFIG_NAME
        if not cfg_path.exists():
            cfg_path.write_text(render_default_config(internal, tenant), encoding="utf-8")
        return cls.open(root)
