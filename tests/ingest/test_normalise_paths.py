"""The Arrow fast path and the SQL path of normalisation give identical rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from leaktrace.ingest.normalise import Normaliser, Provenance
from tests.zeekgen import CONN_FIELDS, CONN_TYPES, conn_row


def _raw(rows: list[list[str]], fields: list[str]) -> pa.Table:
    cols = {f: pa.array([None if r[i] == "-" else r[i] for r in rows], pa.string()) for i, f in enumerate(fields)}
    cols["_line"] = pa.array(np.arange(9, 9 + len(rows)), pa.int64())
    return pa.table(cols)


def test_arrow_and_sql_paths_agree() -> None:
    fields = [*CONN_FIELDS, "label"]
    types = [*CONN_TYPES, "string"]
    rows = []
    for i in range(50):
        r = conn_row(i, ts0=1_700_000_000.0 + i * 3000).split("\t") + ['Mal"icious\\x' if i % 3 else "(empty)"]
        if i % 5 == 0:
            r[7] = "-"
            r[12] = "-"
        rows.append(r)
    raw = _raw(rows, fields)
    prov = Provenance("t", "s", "zeek-tsv", "f.log")
    fast, _ = Normaliser("conn", fields, types, prov, use_arrow=True).run(raw)
    slow, _ = Normaliser("conn", fields, types, prov, use_arrow=False).run(raw)
    a = fast["conn"].to_pylist()
    b = slow["conn"].cast(fast["conn"].schema).to_pylist()
    assert len(a) == 50
    assert a == b
