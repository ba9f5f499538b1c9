"""``arg_max`` breaks ties by the record's uid, so the record a finding cites does not depend on row order."""

from __future__ import annotations

import pyarrow as pa
import pytest

from leaktrace.detect.common import arg_max
from leaktrace.engine import Engine


@pytest.mark.parametrize("reverse", [False, True])
def test_ties_go_to_the_largest_uid_in_any_row_order(reverse: bool) -> None:
    rows = [("a", "u1", 5, 443), ("a", "u3", 9, 80), ("a", "u2", 9, 8080), ("b", "u9", 0, 53), ("b", "u4", 0, 25)]
    if reverse:
        rows = rows[::-1]
    data = pa.table(dict(zip(("pair", "uid", "bo", "port"), map(list, zip(*rows, strict=True)), strict=True)))
    t = Engine.from_arrow({"f": data}).table("f")
    got = t.group_by("pair").aggregate(uid=arg_max(t.uid, t.bo, t.uid), port=arg_max(t.port, t.bo, t.uid))
    assert sorted(tuple(r.values()) for r in got.to_pyarrow().to_pylist()) == [("a", "u3", 80), ("b", "u9", 53)]
