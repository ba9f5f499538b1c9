"""Read a folder of rotating classic-pcap files (``tcpdump -w DIR/chunk-%s.pcap -G N -U``) as they grow.

Only complete records are returned; a partly written record is read again at the next poll. A file is
finished once a newer file exists (tcpdump closes the old file before it opens the next) and everything in
it has been read; finished files are deleted by :meth:`release` once their rows are committed (unless
``keep``), so the spool does not grow.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAGICS = {b"\xd4\xc3\xb2\xa1": ("<", 1e6), b"\xa1\xb2\xc3\xd4": (">", 1e6),
          b"\x4d\x3c\xb2\xa1": ("<", 1e9), b"\xa1\xb2\x3c\x4d": (">", 1e9)}
MAX_RECORD = 1 << 20


class PcapTailError(Exception):
    pass


@dataclass
class _Open:
    path: Path
    offset: int = 0
    order: str = "<"
    div: float = 1e6
    linktype: int | None = None


@dataclass
class Chunk:
    """Frames read in one poll: (link type, timestamp, frame), and a digest of the bytes they came from."""

    frames: list[tuple[int, float, bytes]] = field(default_factory=list)
    digest: str = ""
    files_done: list[str] = field(default_factory=list)


class PcapTail:
    def __init__(self, spool: Path, pattern: str = "*.pcap", keep: bool = False) -> None:
        self.spool = spool
        self.pattern = pattern
        self.keep = keep
        self.current: _Open | None = None
        self.done: set[str] = set()

    def _files(self) -> list[Path]:
        return sorted(p for p in self.spool.glob(self.pattern) if p.name not in self.done)

    def poll(self, max_frames: int = 200_000) -> Chunk:
        chunk = Chunk()
        h = hashlib.sha256()
        files = self._files()
        for i, path in enumerate(files):
            if self.current is None or self.current.path != path:
                self.current = _Open(path)
            newer_exists = i + 1 < len(files)
            for frame in self._read(self.current, h):
                chunk.frames.append(frame)
            if not newer_exists or len(chunk.frames) >= max_frames:
                break
            self._finish(path, chunk)
        chunk.digest = h.hexdigest()
        return chunk

    def _finish(self, path: Path, chunk: Chunk) -> None:
        self.done.add(path.name)
        chunk.files_done.append(path.name)
        self.current = None

    def release(self, names: list[str]) -> None:
        """Delete finished files once what was read from them is safely committed."""
        if self.keep:
            return
        for name in names:
            (self.spool / name).unlink(missing_ok=True)

    def _read(self, st: _Open, h: hashlib._Hash) -> Iterator[tuple[int, float, bytes]]:
        try:
            fh = st.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            fh.seek(st.offset)
            if st.linktype is None:
                head = fh.read(24)
                if len(head) < 24:
                    return
                if head[:4] not in MAGICS:
                    raise PcapTailError(f"{st.path}: not a classic pcap file (magic {head[:4].hex()})")
                st.order, st.div = MAGICS[head[:4]]
                st.linktype = struct.unpack(st.order + "I", head[20:24])[0] & 0x0FFFFFFF
                st.offset = 24
            rec = struct.Struct(st.order + "IIII")
            while True:
                hdr = fh.read(16)
                if len(hdr) < 16:
                    return
                sec, frac, caplen, _ = rec.unpack(hdr)
                if caplen > MAX_RECORD:
                    raise PcapTailError(f"{st.path}: implausible record length {caplen} at byte {st.offset}")
                data = fh.read(caplen)
                if len(data) < caplen:
                    return
                st.offset += 16 + caplen
                h.update(hdr)
                h.update(data)
                yield st.linktype, sec + frac / st.div, data
