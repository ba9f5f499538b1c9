"""Incremental HTTP/1.x parsing of one TCP connection (both directions), with body hashing.

Each direction is fed its in-order payload. Messages are framed by Content-Length, chunked encoding or the
end of the connection. Bodies are hashed (MD5, SHA-1, SHA-256) as they stream; the first bytes are kept to
sniff the MIME type, and request bodies up to ``MULTIPART_MAX`` are kept whole to split multipart uploads
into their files.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

METHODS = (b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"OPTIONS", b"PATCH", b"CONNECT", b"TRACE",
           b"PROPFIND", b"MKCOL", b"COPY", b"MOVE", b"LOCK", b"UNLOCK", b"PROPPATCH")
_REQ_RE = re.compile(rb"^(" + b"|".join(METHODS) + rb") \S+ HTTP/\d\.\d\r?\n")
HEAD_MAX = 64 * 1024
KEEP_HEAD = 4096
MULTIPART_MAX = 32 * 1024 * 1024


def looks_like_request(payload: bytes) -> bool:
    return _REQ_RE.match(payload[:4096]) is not None or any(payload.startswith(m + b" /") for m in METHODS)


class Body:
    __slots__ = ("size", "head", "md5", "sha1", "sha256", "whole", "keep_whole")

    def __init__(self, keep_whole: bool) -> None:
        self.size = 0
        self.head = b""
        self.md5 = hashlib.md5()  # noqa: S324 (file hash, as Zeek files.log)
        self.sha1 = hashlib.sha1()  # noqa: S324
        self.sha256 = hashlib.sha256()
        self.keep_whole = keep_whole
        self.whole: bytearray | None = bytearray() if keep_whole else None

    def add(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if len(self.head) < KEEP_HEAD:
            self.head += data[:KEEP_HEAD - len(self.head)]
        self.md5.update(data)
        self.sha1.update(data)
        self.sha256.update(data)
        if self.whole is not None:
            if len(self.whole) + len(data) > MULTIPART_MAX:
                self.whole = None
            else:
                self.whole += data


@dataclass
class Message:
    ts: float
    start_line: str
    headers: dict[str, str]
    body: Body | None = None
    complete: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def body_len(self) -> int:
        return self.body.size if self.body else 0


class Direction:
    """Parses the messages of one direction of a connection."""

    def __init__(self, is_request: bool, pending_methods: deque[str]) -> None:
        self.is_request = is_request
        self.pending_methods = pending_methods  # request methods awaiting a response (shared)
        self.buf = bytearray()
        self.mode = "head"
        self.remaining = 0
        self.current: Message | None = None
        self.messages: list[Message] = []
        self.dead = False

    def feed(self, data: bytes, ts: float) -> None:
        if self.dead or not data:
            return
        self.buf += data
        while self.buf and not self.dead:
            if not self._step(ts):
                break

    def _step(self, ts: float) -> bool:
        if self.mode == "head":
            end = self.buf.find(b"\r\n\r\n")
            sep = 4
            if end < 0:
                end = self.buf.find(b"\n\n")
                sep = 2
            if end < 0:
                if len(self.buf) > HEAD_MAX:
                    self.dead = True
                return False
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[:end + sep]
            self._start_message(head, ts)
            return True
        msg = self.current
        assert msg is not None and msg.body is not None
        if self.mode == "length":
            take = min(self.remaining, len(self.buf))
            msg.body.add(bytes(self.buf[:take]))
            del self.buf[:take]
            self.remaining -= take
            if self.remaining == 0:
                self._finish()
                return True
            return False
        if self.mode == "close":
            msg.body.add(bytes(self.buf))
            self.buf.clear()
            return False
        # chunked
        if self.mode == "chunk-size":
            nl = self.buf.find(b"\n")
            if nl < 0:
                if len(self.buf) > 1024:
                    self.dead = True
                return False
            line = bytes(self.buf[:nl]).strip().split(b";")[0]
            del self.buf[:nl + 1]
            try:
                size = int(line, 16)
            except ValueError:
                self.dead = True
                return False
            if size == 0:
                self.mode = "trailer"
            else:
                self.remaining = size
                self.mode = "chunk-data"
            return True
        if self.mode == "chunk-data":
            take = min(self.remaining, len(self.buf))
            msg.body.add(bytes(self.buf[:take]))
            del self.buf[:take]
            self.remaining -= take
            if self.remaining == 0:
                self.mode = "chunk-crlf"
                return True
            return False
        if self.mode == "chunk-crlf":
            nl = self.buf.find(b"\n")
            if nl < 0:
                return False
            del self.buf[:nl + 1]
            self.mode = "chunk-size"
            return True
        if self.mode == "trailer":
            nl = self.buf.find(b"\n")
            if nl < 0:
                return False
            line = bytes(self.buf[:nl]).strip()
            del self.buf[:nl + 1]
            if not line:
                self._finish()
            return True
        return False

    def _start_message(self, head: str, ts: float) -> None:
        lines = head.split("\n")
        start = lines[0].strip()
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                key = name.strip().lower()
                headers[key] = (headers[key] + ", " + value.strip()) if key in headers else value.strip()
        if self.is_request and start.split(" ", 1)[0].encode() not in METHODS:
            self.dead = True
            return
        if not self.is_request and not start.startswith("HTTP/"):
            self.dead = True
            return
        keep = self.is_request and "multipart/form-data" in headers.get("content-type", "")
        msg = Message(ts, start, headers, Body(keep))
        self.current = msg
        self.messages.append(msg)
        if self.is_request:
            self.pending_methods.append(start.split(" ", 1)[0])
        no_body = False
        if not self.is_request:
            parts = start.split(" ")
            code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            method = self.pending_methods.popleft() if self.pending_methods and code >= 200 else ""
            if code < 200:
                # an interim response: the request still awaits its final one
                no_body = True
            no_body = no_body or method == "HEAD" or code in (204, 304)
        te = headers.get("transfer-encoding", "").lower()
        cl = headers.get("content-length", "")
        if no_body:
            self._finish()
        elif "chunked" in te:
            self.mode = "chunk-size"
        elif cl.strip().isdigit():
            self.remaining = int(cl.strip())
            if self.remaining == 0:
                self._finish()
            else:
                self.mode = "length"
        elif self.is_request:
            self._finish()
        else:
            self.mode = "close"

    def _finish(self) -> None:
        if self.current is not None:
            self.current.complete = True
        self.current = None
        self.mode = "head"
        self.remaining = 0


class HttpConnection:
    """Both directions of one connection; requests and responses are paired in order."""

    def __init__(self) -> None:
        self.pending: deque[str] = deque()
        self.requests = Direction(True, self.pending)
        self.responses = Direction(False, self.pending)

    def feed(self, from_orig: bool, data: bytes, ts: float) -> None:
        (self.requests if from_orig else self.responses).feed(data, ts)

    def pairs(self) -> list[tuple[Message | None, Message | None]]:
        reqs = self.requests.messages
        # interim (1xx) responses do not answer a request
        resps = [m for m in self.responses.messages if not _is_interim(m)]
        n = max(len(reqs), len(resps))
        return [(reqs[i] if i < len(reqs) else None, resps[i] if i < len(resps) else None) for i in range(n)]


def _is_interim(msg: Message) -> bool:
    parts = msg.start_line.split(" ")
    return len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < 200


def multipart_parts(body: bytes, content_type: str) -> list[tuple[str | None, str | None, bytes]]:
    """Split a multipart/form-data body into (filename, content type, data) for the parts that are files."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        return []
    boundary = b"--" + m.group(1).encode("latin-1")
    out: list[tuple[str | None, str | None, bytes]] = []
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        head_text = head.decode("latin-1")
        fn = re.search(r'filename="([^"]*)"', head_text)
        if not fn:
            continue
        ct = re.search(r"(?im)^content-type:\s*([^\r\n;]+)", head_text)
        out.append((fn.group(1), ct.group(1).strip() if ct else None, data))
    return out
