"""Turn raw Zeek records (every field as text) into rows of the normalised tables, in DuckDB SQL.

The raw batch has one string column per Zeek field plus ``_line`` (the record's line in its source).
:class:`Normaliser` validates each field against its Zeek type (or the kind its map expects), splits off the
records that fail (they are quarantined with the reason), and projects the good ones onto each target table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from leaktrace.ingest.arrow_project import project
from leaktrace.ingest.zeek_maps import LOG_MAPS, OTHER_MAP, TableMap
from leaktrace.schema import TABLES, conform

# Zeek type -> the check a value of it must pass
_ZEEK_CHECK = {
    "time": "double",
    "interval": "double",
    "double": "double",
    "count": "int",
    "int": "int",
    "port": "int",
    "bool": "bool",
}
_KIND_CHECK = {"time": "time", "interval": "double", "double": "double", "int": "int", "port": "int",
               "bool": "bool"}


def q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _time_expr(col: str) -> str:
    return f"COALESCE(to_timestamp(TRY_CAST({col} AS DOUBLE)), TRY_CAST({col} AS TIMESTAMPTZ))"


def _bool_expr(col: str) -> str:
    return (
        f"CASE lower({col}) WHEN 't' THEN true WHEN 'true' THEN true WHEN 'f' THEN false "
        f"WHEN 'false' THEN false END"
    )


def _check_expr(field: str, check: str) -> str:
    col = q(field)
    if check == "double":
        bad = f"TRY_CAST({col} AS DOUBLE) IS NULL"
        what = "not a number"
    elif check == "int":
        bad = f"TRY_CAST({col} AS HUGEINT) IS NULL"
        what = "not an integer"
    elif check == "time":
        bad = f"{_time_expr(col)} IS NULL"
        what = "not a time"
    else:
        bad = f"{_bool_expr(col)} IS NULL"
        what = "not a boolean (T/F)"
    return f"WHEN {col} IS NOT NULL AND {bad} THEN {lit(f'field {field}: {what}: ')} || left({col}, 80)"


@dataclass
class Provenance:
    tenant: str
    sensor: str
    source_format: str
    source_file: str


class Normaliser:
    """Normalises batches of one Zeek log (one field list) into the tables its log type feeds."""

    def __init__(
        self,
        log_type: str,
        fields: list[str],
        zeek_types: list[str] | None,
        provenance: Provenance,
        empty_marker: str = "(empty)",
        use_arrow: bool = True,
    ) -> None:
        self.log_type = log_type
        self.fields = fields
        self.maps = LOG_MAPS.get(log_type, [OTHER_MAP])
        self.known = log_type in LOG_MAPS
        self.prov = provenance
        self.empty = empty_marker
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute("SET threads=2")
        present = set(fields)
        checks: dict[str, str] = {}
        if zeek_types is not None:
            for f, t in zip(fields, zeek_types, strict=False):
                base = t.split("[")[0]
                if base in _ZEEK_CHECK and not t.startswith(("set[", "vector[")):
                    checks[f] = _ZEEK_CHECK[base]
        for m in self.maps:
            for _, alternatives, kind in m.columns:
                field = next((a for a in alternatives.split("|") if a in present), "")
                if field and kind in _KIND_CHECK and field not in checks:
                    checks[field] = _KIND_CHECK[kind]
        if "ts" in present:
            checks["ts"] = "time"
        whens = [_check_expr(f, c) for f, c in checks.items()]
        if fields:
            blank = " AND ".join(f"coalesce({q(f)}, '') = ''" for f in fields)
            whens.insert(0, f"WHEN {blank} THEN 'empty line'")
        if "ts" in present:
            whens.insert(1, "WHEN \"ts\" IS NULL THEN 'field ts: missing'")
        self.bad_expr = ("CASE " + " ".join(whens) + " END") if whens else "NULL"
        self.checks = checks
        self.sqls = [(m.table, self._select(m, typed=False)) for m in self.maps]
        self.typed_sqls = [(m.table, self._select(m, typed=True)) for m in self.maps]
        # the Arrow fast path covers plain maps; filtered or derived ones (assets, other_log) use SQL
        self.arrow_ok = use_arrow and all(
            m.where is None and not m.constants and m.table != "other_log" for m in self.maps
        )

    def _resolve(self, field: str) -> str | None:
        for alt in field.split("|"):
            if alt in self.fields:
                return alt
        return None

    def _value(self, field: str, kind: str, typed: bool = False) -> str:
        resolved = self._resolve(field)
        if resolved is None:
            return "NULL"
        field = resolved
        col = q(field)
        if typed and field in self.checks:
            # the column was already converted by Arrow (see _pre_convert)
            check = self.checks[field]
            if check == "time":
                return f"make_timestamptz(CAST(round({col} * 1000000) AS BIGINT))" if kind == "time" else col
            if check == "bool":
                return _bool_expr(col)
            if kind == "port":
                return f"TRY_CAST({col} AS INTEGER)"
            if kind == "int":
                return f"TRY_CAST({col} AS BIGINT)"
            if kind in ("interval", "double"):
                return f"CAST({col} AS DOUBLE)"
            if kind == "time":
                return f"make_timestamptz(CAST(round({col} * 1000000) AS BIGINT))"
            return f"CAST({col} AS VARCHAR)"
        if kind == "time":
            return _time_expr(col)
        if kind in ("interval", "double"):
            return f"TRY_CAST({col} AS DOUBLE)"
        if kind == "int":
            return f"TRY_CAST(TRY_CAST({col} AS HUGEINT) AS BIGINT)"
        if kind == "port":
            return f"TRY_CAST({col} AS INTEGER)"
        if kind == "bool":
            return _bool_expr(col)
        if kind == "user":
            return f"regexp_replace({col}, '[/@].*$', '')"
        return f"CASE WHEN {col} = {lit(self.empty)} THEN '' ELSE {col} END"

    def _select(self, m: TableMap, typed: bool) -> str:
        target = TABLES[m.table]
        exprs: dict[str, str] = {}
        mapped_fields = set()
        for column, field, kind in m.columns:
            if m.table == "assets" and column == "user":
                kind = "user"
            exprs[column] = self._value(field, kind, typed)
            mapped_fields.add(self._resolve(field) or field)
        for column, value in m.constants:
            exprs[column] = value
        if m.table == "other_log":
            exprs["log_type"] = lit(self.log_type)
            pairs = ", ".join(f"{lit(f)}, {q(f)}" for f in self.fields)
            exprs["fields"] = f"CAST(json_object({pairs}) AS VARCHAR)" if pairs else "NULL"
        elif m.keep_extra and "extra" in target.names:
            rest = [f for f in self.fields if f not in mapped_fields]
            if rest:
                # unmapped fields as JSON; Zeek's empty marker counts as empty, all-empty gives NULL
                vals = {f: f"NULLIF(CAST({q(f)} AS VARCHAR), {lit(self.empty)})" for f in rest}
                pairs = ", ".join(f"{lit(f)}, {v}" for f, v in vals.items())
                empty = " AND ".join(f"{v} IS NULL" for v in vals.values())
                exprs["extra"] = f"CASE WHEN {empty} THEN NULL ELSE CAST(json_object({pairs}) AS VARCHAR) END"
        exprs["tenant"] = lit(self.prov.tenant)
        exprs["sensor"] = lit(self.prov.sensor)
        exprs["source_format"] = lit(self.prov.source_format)
        exprs["source_file"] = lit(self.prov.source_file)
        exprs["source_line"] = "_line"
        cols = [f"{exprs.get(f.name, 'NULL')} AS {q(f.name)}" for f in target]
        ts = exprs.get("ts", "NULL")
        cols.append(f"strftime({ts}, '%Y-%m-%d') AS _day")
        where = "true" if typed else f"({self.bad_expr}) IS NULL"
        if m.where:
            where += f" AND ({m.where})"
        return f"SELECT {', '.join(cols)} FROM raw WHERE {where}"

    def _pre_convert(self, raw: pa.Table) -> pa.Table | None:
        """Convert the checked columns with Arrow (fast); None if any value does not convert."""
        import pyarrow.compute as pc

        columns = {}
        for field, check in self.checks.items():
            col = raw.column(field)
            try:
                if check in ("double", "time"):
                    columns[field] = pc.cast(col, pa.float64())
                elif check == "int":
                    columns[field] = pc.cast(col, pa.int64())
                elif check == "bool":
                    ok = pc.is_in(pc.drop_null(col), value_set=pa.array(["T", "F"]))
                    if pc.all(ok).as_py() not in (True, None):
                        return None
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None
        if "ts" in self.checks and raw.column("ts").null_count:
            return None
        for field, col in columns.items():
            raw = raw.set_column(raw.schema.get_field_index(field), field, col)
        return raw

    def run(self, raw: pa.Table) -> tuple[dict[str, pa.Table], pa.Table]:
        """Returns ``({table: rows with a _day column}, bad)`` where bad has ``_line``, ``reason``."""
        typed = self._pre_convert(raw)
        if typed is not None and self.arrow_ok:
            prov = {"tenant": self.prov.tenant, "sensor": self.prov.sensor,
                    "source_format": self.prov.source_format, "source_file": self.prov.source_file}
            resolve = {alt: self._resolve(alt) for m in self.maps for _, alt, _ in m.columns}
            out_fast = {m.table: project(typed, m, resolve, self.checks, prov, self.empty) for m in self.maps}
            empty_bad = pa.table({"_line": pa.array([], pa.int64()), "reason": pa.array([], pa.string())})
            return {t: r for t, r in out_fast.items() if r.num_rows}, empty_bad
        self.con.register("raw", typed if typed is not None else raw)
        try:
            if typed is not None:
                bad = pa.table({"_line": pa.array([], pa.int64()), "reason": pa.array([], pa.string())})
                sqls = self.typed_sqls
            else:
                bad = self.con.sql(
                    f"SELECT _line, ({self.bad_expr}) AS reason FROM raw WHERE ({self.bad_expr}) IS NOT NULL"
                ).to_arrow_table()
                sqls = self.sqls
            out: dict[str, pa.Table] = {}
            for table, sql in sqls:
                result = self.con.sql(sql).to_arrow_table()
                if result.num_rows:
                    out[table] = result
        finally:
            self.con.unregister("raw")
        return out, bad

    def close(self) -> None:
        self.con.close()


def split_days(table_name: str, rows: pa.Table) -> list[tuple[str, pa.Table]]:
    """Split normalised rows (with ``_day``) into per-day tables conforming to the schema."""
    day_col = rows.column("_day")
    days = day_col.unique().to_pylist()
    body = rows.drop_columns(["_day"])
    if len(days) == 1:
        return [(days[0] or "unknown", conform(table_name, body))]
    import pyarrow.compute as pc

    parts = []
    for day in days:
        mask = pc.is_null(day_col) if day is None else pc.equal(day_col, day)
        parts.append((day or "unknown", conform(table_name, body.filter(mask))))
    return parts
