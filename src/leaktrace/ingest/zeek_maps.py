"""How each Zeek log type maps onto the normalised tables.

A map is a list of ``(column, zeek_field, kind)``; ``zeek_field`` may list alternatives (``uid|conn_uids``):
the first one the log has is used (Zeek 5+ files.log has ``uid`` and ``id.*``, where older ones had
``conn_uids``, ``tx_hosts`` and ``rx_hosts``; with the new layout ``is_orig`` tells the direction); ``kind`` says how the Zeek text is converted: ``str``,
``time`` (epoch seconds or ISO-8601), ``interval``/``double``, ``int``, ``port`` and ``bool`` (T/F). Zeek fields
a log has but no map names are kept as JSON in the table's ``extra`` column, so labelled logs (Stratosphere's
``label``/``detailedlabel``) and site-specific fields survive. One log type may feed several tables (DHCP,
Kerberos and NTLM also feed ``assets``). Log types with no map go to ``other_log``.
"""

from __future__ import annotations

from dataclasses import dataclass

FLOW_KEY = [
    ("ts", "ts", "time"),
    ("uid", "uid", "str"),
    ("src_ip", "id.orig_h", "str"),
    ("src_port", "id.orig_p", "port"),
    ("dst_ip", "id.resp_h", "str"),
    ("dst_port", "id.resp_p", "port"),
]


@dataclass(frozen=True)
class TableMap:
    table: str
    columns: list[tuple[str, str, str]]
    keep_extra: bool = True
    # constant columns, e.g. the evidence kind of an assets row: column -> SQL literal
    constants: tuple[tuple[str, str], ...] = ()
    # optional SQL filter on the source columns (e.g. only rows that name a host)
    where: str | None = None


LOG_MAPS: dict[str, list[TableMap]] = {
    "conn": [
        TableMap(
            "conn",
            FLOW_KEY
            + [
                ("proto", "proto", "str"),
                ("app", "service", "str"),
                ("duration", "duration", "interval"),
                ("bytes_out", "orig_bytes", "int"),
                ("bytes_in", "resp_bytes", "int"),
                ("pkts_out", "orig_pkts", "int"),
                ("pkts_in", "resp_pkts", "int"),
                ("ip_bytes_out", "orig_ip_bytes", "int"),
                ("ip_bytes_in", "resp_ip_bytes", "int"),
                ("state", "conn_state", "str"),
                ("history", "history", "str"),
                ("missed_bytes", "missed_bytes", "int"),
                ("local_orig", "local_orig", "bool"),
                ("local_resp", "local_resp", "bool"),
            ],
        )
    ],
    "dns": [
        TableMap(
            "dns",
            FLOW_KEY
            + [
                ("proto", "proto", "str"),
                ("trans_id", "trans_id", "int"),
                ("rtt", "rtt", "interval"),
                ("query", "query", "str"),
                ("qclass", "qclass_name", "str"),
                ("qtype", "qtype_name", "str"),
                ("rcode", "rcode_name", "str"),
                ("answers", "answers", "str"),
                ("ttls", "TTLs", "str"),
                ("rejected", "rejected", "bool"),
            ],
        )
    ],
    "http": [
        TableMap(
            "http",
            FLOW_KEY
            + [
                ("method", "method", "str"),
                ("host", "host", "str"),
                ("uri", "uri", "str"),
                ("referrer", "referrer", "str"),
                ("user_agent", "user_agent", "str"),
                ("request_body_len", "request_body_len", "int"),
                ("response_body_len", "response_body_len", "int"),
                ("status_code", "status_code", "int"),
                ("orig_mime_types", "orig_mime_types", "str"),
                ("resp_mime_types", "resp_mime_types", "str"),
                ("orig_fuids", "orig_fuids", "str"),
                ("resp_fuids", "resp_fuids", "str"),
            ],
        )
    ],
    "ssl": [
        TableMap(
            "tls",
            FLOW_KEY
            + [
                ("version", "version", "str"),
                ("cipher", "cipher", "str"),
                ("sni", "server_name", "str"),
                ("ja3", "ja3", "str"),
                ("ja3s", "ja3s", "str"),
                ("ja4", "ja4", "str"),
                ("established", "established", "bool"),
                ("subject", "subject", "str"),
                ("issuer", "issuer", "str"),
                ("cert_fuids", "cert_chain_fuids", "str"),
            ],
        )
    ],
    "x509": [
        TableMap(
            "x509",
            [
                ("ts", "ts", "time"),
                ("fuid", "id", "str"),
                ("serial", "certificate.serial", "str"),
                ("subject", "certificate.subject", "str"),
                ("issuer", "certificate.issuer", "str"),
                ("not_before", "certificate.not_valid_before", "time"),
                ("not_after", "certificate.not_valid_after", "time"),
                ("san_dns", "san.dns", "str"),
                ("fingerprint", "fingerprint", "str"),
            ],
        )
    ],
    "files": [
        TableMap(
            "net_files",
            [
                ("ts", "ts", "time"),
                ("fuid", "fuid", "str"),
                ("uid", "uid|conn_uids", "str"),
                ("src_ip", "tx_hosts|id.orig_h", "str"),
                ("dst_ip", "rx_hosts|id.resp_h", "str"),
                ("app", "source", "str"),
                ("is_orig", "is_orig", "bool"),
                ("filename", "filename", "str"),
                ("mime_type", "mime_type", "str"),
                ("size", "total_bytes", "int"),
                ("seen_bytes", "seen_bytes", "int"),
                ("md5", "md5", "str"),
                ("sha1", "sha1", "str"),
                ("sha256", "sha256", "str"),
            ],
        )
    ],
    "smtp": [
        TableMap(
            "smtp",
            FLOW_KEY
            + [
                ("mail_from", "mailfrom", "str"),
                ("rcpt_to", "rcptto", "str"),
                ("from_header", "from", "str"),
                ("to_header", "to", "str"),
                ("subject", "subject", "str"),
                ("msg_id", "msg_id", "str"),
                ("fuids", "fuids", "str"),
            ],
        )
    ],
    "dhcp": [
        TableMap(
            "dhcp",
            [
                ("ts", "ts", "time"),
                ("uid", "uids", "str"),
                ("client_ip", "client_addr", "str"),
                ("mac", "mac", "str"),
                ("host_name", "host_name", "str"),
                ("domain", "domain", "str"),
                ("lease_time", "lease_time", "interval"),
            ],
        ),
        TableMap(
            "assets",
            [
                ("ts", "ts", "time"),
                ("ip", "client_addr", "str"),
                ("host_name", "host_name", "str"),
                ("mac", "mac", "str"),
            ],
            keep_extra=False,
            constants=(("evidence", "'dhcp'"),),
            where='"client_addr" IS NOT NULL',
        ),
    ],
    "kerberos": [
        TableMap("other_log", FLOW_KEY, keep_extra=False),
        TableMap(
            "assets",
            [("ts", "ts", "time"), ("ip", "id.orig_h", "str"), ("user", "client", "str")],
            keep_extra=False,
            constants=(("evidence", "'kerberos'"),),
            where='"client" IS NOT NULL',
        )
    ],
    "ntlm": [
        TableMap("other_log", FLOW_KEY, keep_extra=False),
        TableMap(
            "assets",
            [
                ("ts", "ts", "time"),
                ("ip", "id.orig_h", "str"),
                ("host_name", "hostname", "str"),
                ("user", "username", "str"),
            ],
            keep_extra=False,
            constants=(("evidence", "'ntlm'"),),
            where='"username" IS NOT NULL OR "hostname" IS NOT NULL',
        )
    ],
    "notice": [
        TableMap(
            "notice",
            [
                ("ts", "ts", "time"),
                ("uid", "uid", "str"),
                ("src_ip", "id.orig_h", "str"),
                ("dst_ip", "id.resp_h", "str"),
                ("dst_port", "id.resp_p", "port"),
                ("note", "note", "str"),
                ("msg", "msg", "str"),
                ("sub", "sub", "str"),
            ],
        )
    ],
    "weird": [
        TableMap(
            "weird",
            [
                ("ts", "ts", "time"),
                ("uid", "uid", "str"),
                ("src_ip", "id.orig_h", "str"),
                ("dst_ip", "id.resp_h", "str"),
                ("name", "name", "str"),
                ("addl", "addl", "str"),
            ],
        )
    ],
    "software": [
        TableMap(
            "software",
            [
                ("ts", "ts", "time"),
                ("host_ip", "host", "str"),
                ("software_type", "software_type", "str"),
                ("name", "name", "str"),
                ("version", "version.major", "str"),
                ("unparsed_version", "unparsed_version", "str"),
            ],
        )
    ],
}

# Kerberos clients look like "user/REALM" or "user@REALM": keep the user part.
USER_CLEANUP = {"kerberos": "user"}

OTHER_MAP = TableMap("other_log", FLOW_KEY, keep_extra=False)

# the table that holds every record of a log type (others, like assets, get a derived subset)
PRIMARY_TABLE = {log_type: maps[0].table for log_type, maps in LOG_MAPS.items()}
