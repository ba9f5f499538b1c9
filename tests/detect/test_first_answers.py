"""The first DNS answer per address (no-DNS detector's facts) of two batches merged equals that of all records."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from leaktrace.detect.dns_facts import first_answers_of, merge_first_answers
from leaktrace.engine import Engine
from leaktrace.schema import TABLES


def dns(rows: list[tuple[str, int, str | None]]) -> pa.Table:
    empty = TABLES["dns"].empty_table()
    cols = {name: [None] * len(rows) for name in empty.column_names}
    cols["src_ip"] = [r[0] for r in rows]
    cols["ts"] = [datetime.fromtimestamp(r[1], UTC) for r in rows]
    cols["answers"] = [r[2] for r in rows]
    cols["query"] = ["x.example"] * len(rows)
    return pa.table(cols, schema=empty.schema)


@pytest.mark.parametrize("scope", ["org", "host"])
def test_merged_batches_equal_all_records(scope: str) -> None:
    first = [("10.0.0.1", 100, "1.1.1.1,2.2.2.2"), ("10.0.0.2", 200, "2.2.2.2"), ("10.0.0.3", 150, "")]
    # the second batch: a new address, an earlier answer for a known one (late log), a later one, no answer
    second = [("10.0.0.2", 50, "2.2.2.2"), ("10.0.0.1", 300, "3.3.3.3,1.1.1.1"), ("10.0.0.3", 400, None)]
    eng = Engine.from_arrow({"a": dns(first), "b": dns(second), "all": dns(first + second)})

    def rows(expr: object) -> list[tuple[object, ...]]:
        return sorted(tuple(r.values()) for r in expr.to_pyarrow().to_pylist())  # type: ignore[attr-defined]

    a, b = first_answers_of(eng.table("a"), scope), first_answers_of(eng.table("b"), scope)
    whole = rows(first_answers_of(eng.table("all"), scope))
    assert rows(merge_first_answers(a, b)) == whole
    if scope == "org":
        assert whole == [("1.1.1.1", 100), ("2.2.2.2", 50), ("3.3.3.3", 300)]
    else:
        assert ("10.0.0.2", "2.2.2.2", 50) in whole and ("10.0.0.1", "2.2.2.2", 100) in whole
