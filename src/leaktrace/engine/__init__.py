"""The analytics engine: an Ibis connection over the lake. Nothing else knows which backend runs.

``Engine.table(name)`` gives an Ibis table of a normalised table (empty with the right schema when the lake
has none). Detectors receive an Engine (or anything with ``table``) and build Ibis expressions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from leaktrace.lake import Lake
from leaktrace.schema import TABLES


def sql_string(value: object) -> str:
    """``value`` (a path, usually) as a DuckDB string literal."""
    return "'" + str(value).replace("'", "''") + "'"


class Engine:
    """Ibis over DuckDB (default, embedded)."""

    backend_name = "duckdb"

    def __init__(self, con: Any) -> None:
        self.con = con
        self._tables: dict[str, Any] = {}

    # -- construction ----------------------------------------------------------------------------------------
    @classmethod
    def for_lake(
        cls,
        lake: Lake,
        tenant: str | None = None,
        database: Path | None = None,
        memory_limit: str = "2GB",
        threads: int | None = None,
        spill_dir: Path | None = None,
    ) -> Engine:
        """Views over the committed Parquet files of ``tenant`` (all tenants when None). What does not fit in
        ``memory_limit`` spills to ``spill_dir`` (default: the workspace's ``tmp/duckdb``, beside the lake),
        never to the current directory."""
        con = ibis.duckdb.connect(str(database) if database else ":memory:")
        con.raw_sql(f"SET memory_limit='{memory_limit}'")
        spill = spill_dir or lake.root.parent / "tmp" / "duckdb"
        spill.mkdir(parents=True, exist_ok=True)
        con.raw_sql(f"SET temp_directory={sql_string(spill)}")
        if threads:
            con.raw_sql(f"SET threads={int(threads)}")
        eng = cls(con)
        for name in TABLES:
            eng._register_files(name, lake.files(name, tenant=tenant))
        return eng

    @classmethod
    def from_arrow(cls, tables: Mapping[str, pa.Table]) -> Engine:
        """An in-memory engine over Arrow tables (tests, golden files). Missing tables are empty."""
        con = ibis.duckdb.connect()
        eng = cls(con)
        for name, schema in TABLES.items():
            data = tables.get(name)
            if data is None:
                data = schema.empty_table()
            eng._create_table(name, data)
        for name, data in tables.items():  # extra, non-normalised tables
            if name not in TABLES:
                eng._create_table(name, data)
        return eng

    def _create_table(self, name: str, data: pa.Table) -> None:
        raw = self.con.con  # the DuckDB connection under Ibis
        tmp = f"__arrow_{name}"
        raw.register(tmp, data)
        try:
            raw.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "{tmp}"')
        finally:
            raw.unregister(tmp)
        self._tables[name] = self.con.table(name)

    def _register_files(self, name: str, files: list[Path]) -> None:
        if files:
            paths = ", ".join(sql_string(f) for f in files)
            self.con.raw_sql(
                f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet([{paths}], union_by_name=true)'
            )
            self._tables[name] = self.con.table(name)
        else:
            self._create_table(name, TABLES[name].empty_table())

    def parquet_view(self, name: str, paths: list[Path]) -> Any:
        """A view of this engine over Parquet files (stored analysis state), read when queried; folder names such
        as ``bucket=3`` are not read as columns."""
        quoted = ", ".join(sql_string(p) for p in paths)
        self.con.raw_sql(
            f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet([{quoted}], hive_partitioning = false)'
        )
        return self.con.table(name)

    # -- use -------------------------------------------------------------------------------------------------
    def table(self, name: str) -> Any:
        """The Ibis table ``name``."""
        return self._tables[name]

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def to_arrow(self, expr: Any) -> pa.Table:
        return expr.to_pyarrow()

    def sql(self, query: str) -> pa.Table:
        return self.con.sql(query).to_pyarrow()
