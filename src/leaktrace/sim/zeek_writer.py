"""Zeek TSV logs written column-wise: standard headers, vectorised formatting through Arrow, streamed blocks.

A log is opened once, fed any number of column blocks (each a mapping of Zeek field name → Arrow array of
strings, numpy integers, or a Python list), and closed with a ``#close`` line. Missing fields are written as
the unset value ``-``. Formatting is done in Arrow's C++ kernels, so millions of rows per second are written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

UNSET = "-"
EMPTY = "(empty)"

# Standard Zeek field lists and types (Zeek 4.x/5.x base scripts, plus ja3/ja3s from the ja3 package and the
# pre-5.0 tx_hosts/rx_hosts/conn_uids layout of files.log, which most public datasets use).
# fmt: off
FIELDS: dict[str, list[tuple[str, str]]] = {
    "conn": [
        ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
        ("id.resp_h", "addr"), ("id.resp_p", "port"), ("proto", "enum"), ("service", "string"),
        ("duration", "interval"), ("orig_bytes", "count"), ("resp_bytes", "count"), ("conn_state", "string"),
        ("local_orig", "bool"), ("local_resp", "bool"), ("missed_bytes", "count"), ("history", "string"),
        ("orig_pkts", "count"), ("orig_ip_bytes", "count"), ("resp_pkts", "count"), ("resp_ip_bytes", "count"),
        ("tunnel_parents", "set[string]"),
    ],
    "dns": [
        ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
        ("id.resp_h", "addr"), ("id.resp_p", "port"), ("proto", "enum"), ("trans_id", "count"),
        ("rtt", "interval"), ("query", "string"), ("qclass", "count"), ("qclass_name", "string"),
        ("qtype", "count"), ("qtype_name", "string"), ("rcode", "count"), ("rcode_name", "string"),
        ("AA", "bool"), ("TC", "bool"), ("RD", "bool"), ("RA", "bool"), ("Z", "count"),
        ("answers", "vector[string]"), ("TTLs", "vector[interval]"), ("rejected", "bool"),
    ],
    "http": [
        ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
        ("id.resp_h", "addr"), ("id.resp_p", "port"), ("trans_depth", "count"), ("method", "string"),
        ("host", "string"), ("uri", "string"), ("referrer", "string"), ("version", "string"),
        ("user_agent", "string"), ("origin", "string"), ("request_body_len", "count"),
        ("response_body_len", "count"), ("status_code", "count"), ("status_msg", "string"),
        ("info_code", "count"), ("info_msg", "string"), ("tags", "set[enum]"), ("username", "string"),
        ("password", "string"), ("proxied", "set[string]"), ("orig_fuids", "vector[string]"),
        ("orig_filenames", "vector[string]"), ("orig_mime_types", "vector[string]"),
        ("resp_fuids", "vector[string]"), ("resp_filenames", "vector[string]"),
        ("resp_mime_types", "vector[string]"),
    ],
    "ssl": [
        ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
        ("id.resp_h", "addr"), ("id.resp_p", "port"), ("version", "string"), ("cipher", "string"),
        ("curve", "string"), ("server_name", "string"), ("resumed", "bool"), ("last_alert", "string"),
        ("next_protocol", "string"), ("established", "bool"), ("ssl_history", "string"),
        ("cert_chain_fps", "vector[string]"), ("client_cert_chain_fps", "vector[string]"),
        ("sni_matches_cert", "bool"), ("ja3", "string"), ("ja3s", "string"),
    ],
    "files": [
        ("ts", "time"), ("fuid", "string"), ("tx_hosts", "set[addr]"), ("rx_hosts", "set[addr]"),
        ("conn_uids", "set[string]"), ("source", "string"), ("depth", "count"), ("analyzers", "set[string]"),
        ("mime_type", "string"), ("filename", "string"), ("duration", "interval"), ("local_orig", "bool"),
        ("is_orig", "bool"), ("seen_bytes", "count"), ("total_bytes", "count"), ("missing_bytes", "count"),
        ("overflow_bytes", "count"), ("timedout", "bool"), ("parent_fuid", "string"), ("md5", "string"),
        ("sha1", "string"), ("sha256", "string"), ("extracted", "string"), ("extracted_cutoff", "bool"),
        ("extracted_size", "count"),
    ],
    "smtp": [
        ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
        ("id.resp_h", "addr"), ("id.resp_p", "port"), ("trans_depth", "count"), ("helo", "string"),
        ("mailfrom", "string"), ("rcptto", "set[string]"), ("date", "string"), ("from", "string"),
        ("to", "set[string]"), ("cc", "set[string]"), ("reply_to", "string"), ("msg_id", "string"),
        ("in_reply_to", "string"), ("subject", "string"), ("x_originating_ip", "addr"),
        ("first_received", "string"), ("second_received", "string"), ("last_reply", "string"),
        ("path", "vector[addr]"), ("user_agent", "string"), ("tls", "bool"), ("fuids", "vector[string]"),
        ("is_webmail", "bool"),
    ],
    "dhcp": [
        ("ts", "time"), ("uids", "set[string]"), ("client_addr", "addr"), ("server_addr", "addr"),
        ("mac", "string"), ("host_name", "string"), ("client_fqdn", "string"), ("domain", "string"),
        ("requested_addr", "addr"), ("assigned_addr", "addr"), ("lease_time", "interval"),
        ("client_message", "string"), ("server_message", "string"), ("msg_types", "vector[string]"),
        ("duration", "interval"),
    ],
}
# fmt: on

_CSV_OPTIONS = pcsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none", batch_size=65536)


def zeek_stamp(epoch_s: float) -> str:
    """Zeek's ``#open``/``#close`` stamp: ``YYYY-MM-DD-HH-MM-SS`` (UTC here, for determinism)."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%d-%H-%M-%S")


def header(path: str, open_epoch_s: float) -> str:
    names, types = zip(*FIELDS[path], strict=True)
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        f"#path\t{path}\n#open\t{zeek_stamp(open_epoch_s)}\n"
        "#fields\t" + "\t".join(names) + "\n#types\t" + "\t".join(types) + "\n"
    )


def fmt_micros(us: np.ndarray) -> pa.Array:
    """Integer microseconds → Zeek ``time``/``interval`` text with six decimals (e.g. ``1772377200.066632``)."""
    us = np.asarray(us, dtype=np.int64)
    sec = pc.cast(pa.array(us // 1_000_000), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(us % 1_000_000), pa.string()), 6, "0")
    return pc.binary_join_element_wise(sec, frac, ".")


def fmt_int(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def take(vocab: Sequence[str] | pa.Array, index: np.ndarray) -> pa.Array:
    """Strings of a small vocabulary picked by an index array (the fast way to write IPs, names, states)."""
    arr = vocab if isinstance(vocab, pa.Array) else pa.array(list(vocab), pa.string())
    return pc.take(arr, pa.array(np.asarray(index, dtype=np.int64)))


def fmt_bool(values: np.ndarray) -> pa.Array:
    return take(["F", "T"], np.asarray(values, dtype=np.int64))


_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def make_ids(rng: np.random.Generator, n: int, prefix: str, length: int = 18) -> pa.Array:
    """Zeek-style identifiers (``C`` + 17 base-62 characters for uids, ``F`` + 17 for fuids)."""
    raw = np.frombuffer(rng.bytes(n * length), dtype=np.uint8).reshape(n, length) % 62
    chars = _B62[raw]
    chars[:, 0] = ord(prefix)
    arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(length), n, [None, pa.py_buffer(chars.tobytes())])
    return arr.cast(pa.binary()).cast(pa.string())


def _column(value: Any, n: int) -> pa.Array:
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        arr = value if value.type in (pa.string(), pa.int64()) else pc.cast(value, pa.string())
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "iu":
            arr = pa.array(value.astype(np.int64, copy=False))  # the CSV writer formats integers natively
        elif value.dtype.kind == "b":
            arr = fmt_bool(value)
        else:
            arr = pa.array([str(v) for v in value], pa.string())
    elif isinstance(value, str):
        return (
            pa.array([value] * n, pa.string())
            if n < 1024
            else pc.cast(pa.repeat(pa.scalar(value), n), pa.string())
        )
    else:
        arr = pa.array([UNSET if v is None else str(v) for v in value], pa.string())
    if len(arr) != n:
        raise ValueError(f"column of {len(arr)} values in a block of {n} rows")
    if arr.null_count:
        arr = pc.fill_null(arr, UNSET)
    return arr


class ZeekLog:
    """One Zeek TSV log file, written in blocks. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path, log: str, open_epoch_s: float) -> None:
        self.path = path
        self.log = log
        self.names = [name for name, _ in FIELDS[log]]
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = pa.OSFile(str(path), "wb")  # Arrow's own file: writes release the GIL
        self._fh.write(header(log, open_epoch_s).encode())
        self._unset = pa.array([UNSET], pa.string())

    def write(self, columns: Mapping[str, Any], order: np.ndarray | None = None) -> int:
        """Write one block; ``columns`` maps field names to values (absent fields are unset)."""
        unknown = set(columns) - set(self.names)
        if unknown:
            raise ValueError(f"{self.log}: unknown fields {sorted(unknown)}")
        n = len(next(iter(columns.values())))
        if n == 0:
            return 0
        arrays = []
        unset_col: pa.Array | None = None
        for name in self.names:
            if name in columns:
                arrays.append(_column(columns[name], n))
            else:
                if unset_col is None:
                    unset_col = pc.take(self._unset, pa.array(np.zeros(n, dtype=np.int64)))
                arrays.append(unset_col)
        table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))])
        if order is not None:
            table = table.take(pa.array(order))
        pcsv.write_csv(table, self._fh, _CSV_OPTIONS)
        self.rows += n
        return n

    def close(self, close_epoch_s: float) -> None:
        if not self._fh.closed:
            self._fh.write(f"#close\t{zeek_stamp(close_epoch_s)}\n".encode())
            self._fh.close()

    def __enter__(self) -> ZeekLog:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._fh.closed:
            self._fh.close()
