"""The name join of outbound flows: the join without uid grouping (unique TLS uids) gives what the grouped
join gives, including HTTP records repeating a uid, a uid in both logs, blank names and allow-listed domains."""

from __future__ import annotations

from typing import Any

from helpers import at, engine, flow

from leaktrace.detect import common
from leaktrace.detect.base import Context


def _tls(uid: str, sni: str | None, ja3: str | None = "abc") -> dict[str, Any]:
    return {"ts": at(0), "uid": uid, "src_ip": "10.0.0.1", "dst_ip": "203.0.113.9", "sni": sni, "ja3": ja3,
            "tenant": "default"}


def _http(uid: str, host: str | None) -> dict[str, Any]:
    return {"ts": at(0), "uid": uid, "src_ip": "10.0.0.1", "dst_ip": "203.0.113.9", "host": host,
            "tenant": "default"}


def _rows(eng: Any, grouped: bool) -> list[tuple[Any, ...]]:
    ctx = Context(engine=eng, internal=["10.0.0.0/8"], allow_servers=["allowed.example"], cache=False)
    t = common.named_flows(ctx, group_tls=grouped).to_pyarrow()
    cols = ["uid", "name", "ja3", "server", "bo", "bi", "size", "epoch"]
    return sorted(tuple(r[c] for c in cols) for r in t.select(cols).to_pylist())


def test_ungrouped_name_join_equals_grouped() -> None:
    flows = [flow("10.0.0.1", "203.0.113.9", i * 10.0, uid=f"C{i}") for i in range(8)]
    flows.append({**flow("10.0.0.1", "203.0.113.10", 100.0, uid="C8"), "bytes_out": None, "ip_bytes_out": None})
    eng = engine(
        conn=flows,
        tls=[_tls("C0", "a.b.Example.co.uk"), _tls("C1", "-", "DEF"), _tls("C2", "", None),
             _tls("C3", "zeta.example.org"), _tls("C7", "x.allowed.example"), _tls("C99", "unused.example")],
        http=[_http("C3", "alpha.example.org"), _http("C4", "h.example.net"), _http("C4", "z.example.net"),
              _http("C5", "-"), _http("C6", "198.51.100.7")],
    )
    ungrouped = _rows(eng, grouped=False)
    grouped = _rows(eng, grouped=True)
    assert ungrouped == grouped
    by_uid = {r[0]: r for r in ungrouped}
    assert by_uid["C0"][3] == "example.co.uk"
    assert by_uid["C3"][1] == "zeta.example.org"  # the larger of the TLS and HTTP names, as max() gives
    assert by_uid["C4"][1] == "z.example.net"
    assert by_uid["C1"][1] is None and by_uid["C1"][2] == "def"
    assert "C7" not in by_uid  # allow-listed domain
    assert by_uid["C8"][3] == "203.0.113.10" and by_uid["C8"][4] == 0 and by_uid["C8"][6] == 0


def test_repeated_tls_uids_fall_back_to_grouping() -> None:
    eng = engine(
        conn=[flow("10.0.0.1", "203.0.113.9", 0.0, uid="D1")],
        tls=[_tls("D1", "b.example.com"), _tls("D1", "a.example.org")],
    )
    ctx = Context(engine=eng, internal=["10.0.0.0/8"], cache=False)
    assert len(common.named_flows(ctx, group_tls=False).to_pyarrow()) == 2  # the flow met twice
    rows = common.outbound_named(ctx).to_pyarrow().to_pylist()
    assert [r["name"] for r in rows] == ["b.example.com"]  # rebuilt with TLS grouped by uid


def test_unique_flows_keep_the_ungrouped_join() -> None:
    eng = engine(conn=[flow("10.0.0.1", "203.0.113.9", 0.0, uid="E1")], tls=[_tls("E1", "c.example.com")])
    ctx = Context(engine=eng, internal=["10.0.0.0/8"])
    assert [r["name"] for r in common.outbound_named(ctx).to_pyarrow().to_pylist()] == ["c.example.com"]
    rebuilt: list[str] = []
    ctx.rebuild = lambda name, build: rebuilt.append(name)  # type: ignore[method-assign]
    ctx._cached.clear()
    common.outbound_named(ctx)
    assert rebuilt == []
