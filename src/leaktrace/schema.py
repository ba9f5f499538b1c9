"""The normalised tables of leaktrace, in one place.

Field names follow one flat convention close to ECS/OCSF: ``src_ip``/``dst_ip`` for the originator and the
responder of a flow, ``bytes_out`` for bytes sent by the originator (``orig_bytes`` in Zeek), ``bytes_in`` for
bytes it received. Every table has provenance columns: ``tenant``, ``sensor``, ``source_format``,
``source_file`` and ``source_line`` (the line of the record in its source, 1-based, where one exists).

``ECS_NAMES`` maps our names to Elastic Common Schema names for export.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

PROVENANCE: list[tuple[str, pa.DataType]] = [
    ("tenant", pa.string()),
    ("sensor", pa.string()),
    ("source_format", pa.string()),
    ("source_file", pa.string()),
    ("source_line", pa.int64()),
]

_FLOW_KEY: list[tuple[str, pa.DataType]] = [
    ("ts", TS),
    ("uid", pa.string()),
    ("src_ip", pa.string()),
    ("src_port", pa.int32()),
    ("dst_ip", pa.string()),
    ("dst_port", pa.int32()),
]


def _schema(*groups: list[tuple[str, pa.DataType]]) -> pa.Schema:
    fields: list[tuple[str, pa.DataType]] = []
    for group in groups:
        fields.extend(group)
    return pa.schema(fields + PROVENANCE)


TABLES: dict[str, pa.Schema] = {
    # one row per flow
    "conn": _schema(
        _FLOW_KEY,
        [
            ("proto", pa.string()),
            ("app", pa.string()),
            ("duration", pa.float64()),
            ("bytes_out", pa.int64()),
            ("bytes_in", pa.int64()),
            ("pkts_out", pa.int64()),
            ("pkts_in", pa.int64()),
            ("ip_bytes_out", pa.int64()),
            ("ip_bytes_in", pa.int64()),
            ("state", pa.string()),
            ("history", pa.string()),
            ("missed_bytes", pa.int64()),
            ("local_orig", pa.bool_()),
            ("local_resp", pa.bool_()),
            ("extra", pa.string()),
        ],
    ),
    "dns": _schema(
        _FLOW_KEY,
        [
            ("proto", pa.string()),
            ("trans_id", pa.int64()),
            ("rtt", pa.float64()),
            ("query", pa.string()),
            ("qclass", pa.string()),
            ("qtype", pa.string()),
            ("rcode", pa.string()),
            ("answers", pa.string()),
            ("ttls", pa.string()),
            ("rejected", pa.bool_()),
            ("extra", pa.string()),
        ],
    ),
    "http": _schema(
        _FLOW_KEY,
        [
            ("method", pa.string()),
            ("host", pa.string()),
            ("uri", pa.string()),
            ("referrer", pa.string()),
            ("user_agent", pa.string()),
            ("request_body_len", pa.int64()),
            ("response_body_len", pa.int64()),
            ("status_code", pa.int32()),
            ("orig_mime_types", pa.string()),
            ("resp_mime_types", pa.string()),
            ("orig_fuids", pa.string()),
            ("resp_fuids", pa.string()),
            ("extra", pa.string()),
        ],
    ),
    "tls": _schema(
        _FLOW_KEY,
        [
            ("version", pa.string()),
            ("cipher", pa.string()),
            ("sni", pa.string()),
            ("ja3", pa.string()),
            ("ja3s", pa.string()),
            ("ja4", pa.string()),
            ("established", pa.bool_()),
            ("subject", pa.string()),
            ("issuer", pa.string()),
            ("cert_fuids", pa.string()),
            ("extra", pa.string()),
        ],
    ),
    "x509": _schema(
        [
            ("ts", TS),
            ("fuid", pa.string()),
            ("serial", pa.string()),
            ("subject", pa.string()),
            ("issuer", pa.string()),
            ("not_before", TS),
            ("not_after", TS),
            ("san_dns", pa.string()),
            ("fingerprint", pa.string()),
            ("extra", pa.string()),
        ]
    ),
    # files seen on the wire
    "net_files": _schema(
        [
            ("ts", TS),
            ("fuid", pa.string()),
            ("uid", pa.string()),
            ("src_ip", pa.string()),
            ("dst_ip", pa.string()),
            ("app", pa.string()),
            ("is_orig", pa.bool_()),
            ("filename", pa.string()),
            ("mime_type", pa.string()),
            ("size", pa.int64()),
            ("seen_bytes", pa.int64()),
            ("md5", pa.string()),
            ("sha1", pa.string()),
            ("sha256", pa.string()),
            ("extra", pa.string()),
        ]
    ),
    "smtp": _schema(
        _FLOW_KEY,
        [
            ("mail_from", pa.string()),
            ("rcpt_to", pa.string()),
            ("from_header", pa.string()),
            ("to_header", pa.string()),
            ("subject", pa.string()),
            ("msg_id", pa.string()),
            ("fuids", pa.string()),
            ("extra", pa.string()),
        ],
    ),
    "dhcp": _schema(
        [
            ("ts", TS),
            ("uid", pa.string()),
            ("client_ip", pa.string()),
            ("mac", pa.string()),
            ("host_name", pa.string()),
            ("domain", pa.string()),
            ("lease_time", pa.float64()),
            ("extra", pa.string()),
        ]
    ),
    "notice": _schema(
        [
            ("ts", TS),
            ("uid", pa.string()),
            ("src_ip", pa.string()),
            ("dst_ip", pa.string()),
            ("dst_port", pa.int32()),
            ("note", pa.string()),
            ("msg", pa.string()),
            ("sub", pa.string()),
            ("extra", pa.string()),
        ]
    ),
    "weird": _schema(
        [
            ("ts", TS),
            ("uid", pa.string()),
            ("src_ip", pa.string()),
            ("dst_ip", pa.string()),
            ("name", pa.string()),
            ("addl", pa.string()),
            ("extra", pa.string()),
        ]
    ),
    "software": _schema(
        [
            ("ts", TS),
            ("host_ip", pa.string()),
            ("software_type", pa.string()),
            ("name", pa.string()),
            ("version", pa.string()),
            ("unparsed_version", pa.string()),
            ("extra", pa.string()),
        ]
    ),
    # ip <-> host name <-> user over time (DHCP, Kerberos, NTLM, hosts file)
    "assets": _schema(
        [
            ("ts", TS),
            ("ip", pa.string()),
            ("host_name", pa.string()),
            ("user", pa.string()),
            ("mac", pa.string()),
            ("evidence", pa.string()),
        ]
    ),
    # endpoint telemetry
    "process": _schema(
        [
            ("ts", TS),
            ("host", pa.string()),
            ("event", pa.string()),
            ("pid", pa.int64()),
            ("process_guid", pa.string()),
            ("image", pa.string()),
            ("command_line", pa.string()),
            ("parent_pid", pa.int64()),
            ("parent_guid", pa.string()),
            ("parent_image", pa.string()),
            ("user", pa.string()),
            ("sha256", pa.string()),
            ("extra", pa.string()),
        ]
    ),
    "file_event": _schema(
        [
            ("ts", TS),
            ("host", pa.string()),
            ("pid", pa.int64()),
            ("process_guid", pa.string()),
            ("image", pa.string()),
            ("action", pa.string()),
            ("path", pa.string()),
            ("target_path", pa.string()),
            ("size", pa.int64()),
            ("sha256", pa.string()),
            ("user", pa.string()),
            ("extra", pa.string()),
        ]
    ),
    "endpoint_conn": _schema(
        [
            ("ts", TS),
            ("host", pa.string()),
            ("pid", pa.int64()),
            ("process_guid", pa.string()),
            ("image", pa.string()),
            ("user", pa.string()),
            ("proto", pa.string()),
            ("src_ip", pa.string()),
            ("src_port", pa.int32()),
            ("dst_ip", pa.string()),
            ("dst_port", pa.int32()),
            ("dst_host", pa.string()),
            ("extra", pa.string()),
        ]
    ),
    # Windows events not mapped to a normalised table: kept whole (EventData as JSON)
    "win_event": _schema(
        [
            ("ts", TS),
            ("host", pa.string()),
            ("channel", pa.string()),
            ("provider", pa.string()),
            ("event_id", pa.int32()),
            ("record_id", pa.int64()),
            ("user", pa.string()),
            ("data", pa.string()),
        ]
    ),
    # client->server payload of a flow split into bursts separated by idle gaps (estimates the files sent)
    "upload_bursts": _schema(
        _FLOW_KEY,
        [
            ("burst_index", pa.int32()),
            ("start", TS),
            ("end", TS),
            ("bytes", pa.int64()),
            ("packets", pa.int64()),
        ],
    ),
    # logs of a type leaktrace does not model (Zeek pe, smb_mapping, sip, ...): kept, fields as JSON
    "other_log": _schema(
        _FLOW_KEY,
        [
            ("log_type", pa.string()),
            ("fields", pa.string()),
        ],
    ),
    # records that could not be parsed, kept with where they came from
    "quarantine": _schema(
        [
            ("ts", TS),
            ("reason", pa.string()),
            ("raw", pa.string()),
        ]
    ),
}

ECS_NAMES: dict[str, str] = {
    "ts": "@timestamp",
    "src_ip": "source.ip",
    "src_port": "source.port",
    "dst_ip": "destination.ip",
    "dst_port": "destination.port",
    "bytes_out": "source.bytes",
    "bytes_in": "destination.bytes",
    "pkts_out": "source.packets",
    "pkts_in": "destination.packets",
    "proto": "network.transport",
    "app": "network.protocol",
    "uid": "zeek.session_id",
    "query": "dns.question.name",
    "qtype": "dns.question.type",
    "rcode": "dns.response_code",
    "host": "host.name",
    "method": "http.request.method",
    "user_agent": "user_agent.original",
    "sni": "tls.client.server_name",
    "ja3": "tls.client.ja3",
    "image": "process.executable",
    "command_line": "process.command_line",
    "pid": "process.pid",
    "path": "file.path",
    "sha256": "file.hash.sha256",
    "tenant": "organization.name",
}


def empty_table(name: str) -> pa.Table:
    """An empty Arrow table of a normalised table."""
    return TABLES[name].empty_table()


def conform(name: str, table: pa.Table) -> pa.Table:
    """Give ``table`` exactly the columns of the normalised table ``name``, in order; missing ones are null."""
    target = TABLES[name]
    columns = []
    for field in target:
        if field.name in table.column_names:
            col = table.column(field.name)
            if col.type != field.type:
                col = col.cast(field.type)
            columns.append(col)
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=target)
