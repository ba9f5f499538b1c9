"""Engine portability: every detector runs on DuckDB and on PySpark (local mode) over the same records and
must give the same findings. Anything one engine cannot do is listed in UNSUPPORTED with the reason (none
today), never silently skipped."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest
from helpers import at, engine, flow, table

from leaktrace.detect.base import Context, Finding
from leaktrace.detect.registry import detectors
from leaktrace.schema import TABLES

pyspark = pytest.importorskip(
    "pyspark", reason="PySpark is not installed (pip install pyspark; needs Java 17)"
)
pytestmark = pytest.mark.slow

UNSUPPORTED: dict[str, str] = {}  # detector -> reason, when an engine lacks an operation


class SparkEngine:
    """Ibis over a local Spark session, with the same ``table(name)`` contract as :class:`Engine`."""

    def __init__(self, session: Any, tables: dict[str, pa.Table]) -> None:
        import ibis

        self.con = ibis.pyspark.connect(session)
        self._tables = {}
        for name, schema in TABLES.items():
            data = tables.get(name)
            self._tables[name] = self.con.create_table(
                name, data if data is not None else schema.empty_table(), overwrite=True
            )

    def table(self, name: str) -> Any:
        return self._tables[name]


def records() -> dict[str, list[dict[str, Any]]]:
    rnd = random.Random(11)
    conn, dns, http, tls = [], [], [], []
    t = 0.0
    while t < 6 * 3600:  # a beacon with a name
        uid = f"B{int(t)}"
        conn.append(flow("10.0.0.5", "203.0.113.9", t, out=210, inn=480, uid=uid))
        tls.append(
            {
                "ts": at(t),
                "uid": uid,
                "src_ip": "10.0.0.5",
                "dst_ip": "203.0.113.9",
                "sni": "c2.example",
                "ja3": "a" * 32,
                "tenant": "default",
            }
        )
        t += 60 * rnd.uniform(0.8, 1.2)
    conn.append(flow("10.0.0.5", "203.0.113.9", 3 * 3600, out=12_000_000, inn=20_000))  # the leak
    conn.append(flow("10.0.0.5", "192.0.2.77", 100, out=5000, dur=5 * 3600, port=8443))  # long, unresolved
    for i in range(12):
        dns.append(
            {
                "ts": at(i),
                "uid": f"D{i}",
                "src_ip": "10.0.0.5",
                "dst_ip": "10.0.0.53",
                "query": f"h{i}.example.org",
                "qtype": "A",
                "answers": "198.51.100.4",
                "tenant": "default",
            }
        )
    for i in range(60):
        dns.append(
            {
                "ts": at(100 + i),
                "uid": f"T{i}",
                "src_ip": "10.0.0.6",
                "dst_ip": "10.0.0.53",
                "query": "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(50))
                + ".t.example.attack",
                "qtype": "TXT",
                "tenant": "default",
            }
        )
    http.append(
        {
            "ts": at(500),
            "uid": "H1",
            "src_ip": "10.0.0.5",
            "dst_ip": "203.0.113.9",
            "method": "POST",
            "host": "c2.example",
            "uri": "/u",
            "request_body_len": 2_000_000,
            "orig_mime_types": "application/zip",
            "user_agent": "x",
            "tenant": "default",
        }
    )
    http.append(
        {
            "ts": at(50),
            "uid": "H2",
            "src_ip": "10.0.0.5",
            "dst_ip": "192.0.2.77",
            "method": "GET",
            "host": "192.0.2.77",
            "uri": "/winx64_payload.exe",
            "resp_mime_types": "application/x-dosexec",
            "response_body_len": 7168,
            "tenant": "default",
        }
    )
    return {"conn": conn, "dns": dns, "http": http, "tls": tls}


def key(f: Finding) -> tuple[Any, ...]:
    return (
        f.detector,
        f.src_ip,
        f.dst_ip or "",
        f.dst_domain or "",
        round(f.score, 3),
        f.conn_count,
        f.bytes_out,
    )


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("leaktrace-tests")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_duckdb_and_pyspark_give_the_same_findings(spark: Any) -> None:
    rows = records()
    duck = engine(**rows)
    sparky = SparkEngine(spark, {name: table(name, r) for name, r in rows.items()})
    inds = [
        {"type": "domain", "value": "example.attack", "confidence": 0.8},
        {"type": "ip", "value": "203.0.113.9", "confidence": 0.8},
    ]
    total = 0
    for name, cls in detectors.items():
        if name in UNSUPPORTED:
            continue
        a = sorted(key(f) for f in cls().run(Context(engine=duck, indicators=inds)))
        b = sorted(key(f) for f in cls().run(Context(engine=sparky, indicators=inds)))
        assert a == b, name
        total += len(a)
    assert total >= 6  # the data exercise most detectors
