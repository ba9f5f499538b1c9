"""Write small Zeek TSV logs for tests (the exact header layout Zeek writes)."""

from __future__ import annotations

from collections.abc import Sequence

CONN_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents"]
CONN_TYPES = ["time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "count", "string", "bool", "bool", "count", "string", "count", "count", "count", "count", "set[string]"]


def header(path: str, fields: Sequence[str], types: Sequence[str]) -> str:
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        f"#path\t{path}\n#open\t2024-01-01-00-00-00\n"
        "#fields\t" + "\t".join(fields) + "\n#types\t" + "\t".join(types) + "\n"
    )


def conn_row(i: int, ts0: float = 1_700_000_000.0, src: str = "10.1.0.5", dst: str = "203.0.113.7") -> str:
    return "\t".join(
        [f"{ts0 + i:.6f}", f"C{i:08d}", src, str(40000 + i % 20000), dst, "443", "tcp", "ssl",
         "1.250000", str(1000 + i), str(5000 + i), "SF", "T", "F", "0", "ShADadFf", "10", "1500", "12",
         "6000", "(empty)"]
    )


def conn_log(n: int, start: int = 0, **kw: object) -> str:
    rows = [conn_row(i, **kw) for i in range(start, start + n)]  # type: ignore[arg-type]
    return header("conn", CONN_FIELDS, CONN_TYPES) + "\n".join(rows) + "\n#close\t2024-01-01-01-00-00\n"
