"""``syslog``: one ArcSight CEF line per notification, to a SIEM over UDP or TCP.

The line::

    CEF:0|leaktrace|leaktrace|<version>|incident-<event>|<name>|<severity 0-10>|<extension>

Header fields escape ``\\`` and ``|``; extension values escape ``\\`` and ``=`` and write newlines as ``\\n``
and ``\\r`` (CEF Implementation Standard). The line is framed as RFC 5424 (default) or RFC 3164 syslog; over
TCP each message is octet-counted (RFC 6587, default) or newline-terminated.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from leaktrace.errors import NotifyError
from leaktrace.notify.message import Notification
from leaktrace.notify.registry import Channel, channels

CEF_SEVERITY = {"low": 3, "medium": 5, "high": 8, "critical": 10}
SYSLOG_SEVERITY = {"low": 5, "medium": 4, "high": 3, "critical": 2}  # notice, warning, err, crit
FACILITIES = {
    "user": 1, "daemon": 3, "auth": 4, "authpriv": 10, "local0": 16, "local1": 17, "local2": 18,
    "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}  # fmt: skip
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class SyslogOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = Field(default=514, ge=1, le=65535)
    protocol: Literal["udp", "tcp"] = "udp"
    format: Literal["rfc5424", "rfc3164"] = "rfc5424"
    framing: Literal["octet-counting", "newline"] = Field(default="octet-counting", description="TCP only")
    facility: Literal[
        "user", "daemon", "auth", "authpriv", "local0", "local1", "local2", "local3", "local4", "local5",
        "local6", "local7",
    ] = "local4"  # fmt: skip
    hostname: str | None = Field(default=None, description="HOSTNAME field; default: this machine's name")
    app_name: str = Field(default="leaktrace", pattern=r"^[!-~]{1,48}$")
    timeout_s: float = Field(default=5.0, gt=0, le=60)


def escape_header(value: object) -> str:
    """A CEF header field: ``\\`` → ``\\\\``, ``|`` → ``\\|``; a line break becomes a space."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def escape_extension(value: object) -> str:
    """A CEF extension value: ``\\`` → ``\\\\``, ``=`` → ``\\=``, newline → ``\\n``, carriage return → ``\\r``."""
    text = str(value).replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def _ms(dt: datetime) -> int:
    dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def cef_line(n: Notification) -> str:
    """The CEF record for ``n`` (no syslog header)."""
    names = {"opened": "Incident opened", "escalated": "Incident escalated", "test": "Test notification"}
    name = f"{names[n.event]}: {', '.join(n.kinds) or 'incident'}"
    header = [
        "CEF:0",
        "leaktrace",
        "leaktrace",
        n.version,
        f"incident-{n.event}",
        name,
        str(CEF_SEVERITY.get(n.severity, 5)),
    ]
    ext: list[tuple[str, object | None]] = [
        ("rt", _ms(n.generated_at)),
        ("start", _ms(n.start)),
        ("end", _ms(n.end)),
        ("externalId", n.incident_id),
        ("cat", n.event),
        ("src", n.host_ip),
        ("shost", n.host_name),
        ("dst", n.server_ip),
        ("dhost", n.server_domain),
        ("out", n.bytes_out),
        ("cs1Label", "tenant"),
        ("cs1", n.tenant),
        ("cs2Label", "kinds"),
        ("cs2", ",".join(n.kinds)),
        ("cs3Label", "severity"),
        ("cs3", n.severity),
        ("cs4Label", "previousSeverity"),
        ("cs4", n.previous_severity),
        ("cs5Label", "delivery"),
        ("cs5", n.delivery_id),
        ("cs6Label", "link"),
        ("cs6", n.link),
        ("cfp1Label", "score"),
        ("cfp1", f"{n.score:.3f}"),
    ]
    present = [(k, v) for k, v in ext if v is not None and v != ""]
    # a label without its value says nothing: drop it
    keys = {k for k, _ in present}
    present = [(k, v) for k, v in present if not k.endswith("Label") or k[: -len("Label")] in keys]
    extension = " ".join(f"{k}={escape_extension(v)}" for k, v in present)
    return "|".join(escape_header(h) if i else h for i, h in enumerate(header)) + "|" + extension


def _rfc3164_time(dt: datetime) -> str:
    return f"{_MONTHS[dt.month - 1]} {dt.day:>2} {dt:%H:%M:%S}"


def frame(message: str, o: SyslogOptions, severity: str, at: datetime, hostname: str) -> bytes:
    """The syslog message (header + ``message``), with the TCP framing when sending over TCP."""
    pri = FACILITIES[o.facility] * 8 + SYSLOG_SEVERITY.get(severity, 4)
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    if o.format == "rfc5424":
        ts = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
        text = f"<{pri}>1 {ts} {hostname} {o.app_name} - incident - {message}"
    else:
        text = f"<{pri}>{_rfc3164_time(at)} {hostname} {o.app_name}: {message}"
    data = text.encode("utf-8")
    if o.protocol == "tcp":
        if o.framing == "octet-counting":
            return f"{len(data)} ".encode("ascii") + data
        return data + b"\n"
    return data


@channels.register("syslog")
class SyslogChannel(Channel):
    Options = SyslogOptions

    @property
    def opts(self) -> SyslogOptions:
        assert isinstance(self.options, SyslogOptions)
        return self.options

    def render(self, n: Notification) -> bytes:
        return cef_line(n).encode("utf-8")

    def deliver(self, n: Notification, payload: bytes) -> None:
        o = self.opts
        hostname = (o.hostname or socket.gethostname() or "-").split()[0]
        data = frame(payload.decode("utf-8"), o, n.severity, self.clock(), hostname)
        try:
            if o.protocol == "udp":
                family = socket.getaddrinfo(o.host, o.port, type=socket.SOCK_DGRAM)[0][0]
                with socket.socket(family, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(o.timeout_s)
                    sock.sendto(data, (o.host, o.port))
            else:
                with socket.create_connection((o.host, o.port), timeout=o.timeout_s) as sock:
                    sock.sendall(data)
        except OSError as exc:
            raise NotifyError(f"syslog {o.protocol}://{o.host}:{o.port}: cannot send ({exc})") from None
