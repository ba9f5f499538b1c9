"""Real receivers on 127.0.0.1 (HTTP, syslog UDP/TCP, SMTP), a fixed incident, and time that never waits."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from leaktrace.notify.record import NotificationRecord
from leaktrace.notify.settings import NotifySettings

T = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def incident(**kw: Any) -> SimpleNamespace:
    base: dict[str, Any] = {
        "id": "INC-0007",
        "tenant": "ministry",
        "host_ip": "10.0.0.5",
        "host_name": "pc-042",
        "server_ip": "203.0.113.9",
        "server_domain": "c2.example",
        "start": T,
        "end": datetime(2026, 3, 2, 3, 30, tzinfo=UTC),
        "severity": "high",
        "score": 0.7234,
        "kinds": ["beaconing", "exfiltration"],
        "bytes_out": 15_000_000,
        "active": True,
    }
    base.update(kw)
    return SimpleNamespace(**base)


class Sleeper:
    """Records the waits instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture
def record(tmp_path: Path) -> NotificationRecord:
    return NotificationRecord(f"sqlite:///{tmp_path / 'state.db'}")


def settings(*targets: dict[str, Any], **kw: Any) -> NotifySettings:
    return NotifySettings.model_validate({"targets": list(targets), **kw})


# -- webhook receiver ------------------------------------------------------------------------------------------
@dataclass
class WebhookReceiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    state = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append(({k: v for k, v in self.headers.items()}, body))
            code = state.statuses.pop(0) if state.statuses else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/leaktrace?token=abc"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# -- syslog receivers ------------------------------------------------------------------------------------------
@dataclass
class SyslogReceiver:
    port: int
    messages: list[bytes] = field(default_factory=list)
    event: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def syslog_udp() -> Iterator[SyslogReceiver]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    state = SyslogReceiver(port=sock.getsockname()[1])
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                data, _ = sock.recvfrom(65535)
            except TimeoutError:
                continue
            state.messages.append(data)
            state.event.set()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield state
    stop.set()
    thread.join(2)
    sock.close()


@pytest.fixture
def syslog_tcp() -> Iterator[SyslogReceiver]:
    state = SyslogReceiver(port=0)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            chunks = []
            while True:
                data = self.request.recv(65535)
                if not data:
                    break
                chunks.append(data)
            state.messages.append(b"".join(chunks))
            state.event.set()

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# -- SMTP receiver (aiosmtpd) ----------------------------------------------------------------------------------
@dataclass
class SmtpReceiver:
    port: int
    envelopes: list[Any] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[SmtpReceiver]:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd (dev extra) not installed")
    state = SmtpReceiver(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            state.envelopes.append(envelope)
            return "250 Message accepted for delivery"

    controller = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=state.port)
    controller.start()
    yield state
    controller.stop()
