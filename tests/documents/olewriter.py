"""A minimal OLE2 compound-file writer for tests (.msg, encrypted Office, 一太郎 stand-ins).

Only regular streams: every stream is padded with NUL bytes to the 4096-byte mini-stream cutoff, so no
mini FAT is needed. Siblings are chained through the right-sibling link (olefile accepts that).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
END, FREE, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
CUTOFF = 4096


def _entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le") + b"\x00\x00"
    return (raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", NOSTREAM, right, child) + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, size))


@dataclass
class _Node:
    kind: int  # 1 storage, 2 stream, 5 root
    kids: list[str] = field(default_factory=list)
    data: bytes | None = None


def write_ole(streams: dict[str, bytes]) -> bytes:
    """``{"__substg1.0_0037001F": b"…", "storage/stream": b"…"}`` → compound-file bytes."""
    nodes: dict[str, _Node] = {"": _Node(5)}
    for path, data in streams.items():
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            key = "/".join(parts[:i])
            if key not in nodes:
                nodes[key] = _Node(2 if i == len(parts) else 1)
                nodes["/".join(parts[: i - 1])].kids.append(key)
        nodes[path].data = data.ljust(CUTOFF, b"\x00")
    order = list(nodes)
    ids = {k: i for i, k in enumerate(order)}
    n_dir = -(-len(order) * 128 // SECTOR)
    payloads = [(k, n.data) for k, n in nodes.items() if n.data is not None]
    data_sectors = sum(-(-len(d) // SECTOR) for _, d in payloads)
    n_fat = 1
    while n_fat * 128 < n_fat + n_dir + data_sectors:
        n_fat += 1
    fat = [FATSECT] * n_fat
    dir_start = len(fat)
    fat += [*range(dir_start + 1, dir_start + n_dir), END]
    starts: dict[str, int] = {}
    body = b""
    for key, data in payloads:
        count = -(-len(data) // SECTOR)
        starts[key] = len(fat)
        fat += [*range(len(fat) + 1, len(fat) + count), END]
        body += data.ljust(count * SECTOR, b"\x00")
    fat += [FREE] * (n_fat * 128 - len(fat))
    entries = b""
    for key in order:
        node = nodes[key]
        siblings = nodes["/".join(key.split("/")[:-1])].kids if key else []
        pos = siblings.index(key) if key else 0
        right = ids[siblings[pos + 1]] if key and pos + 1 < len(siblings) else NOSTREAM
        child = ids[node.kids[0]] if node.kids else NOSTREAM
        size = len(node.data) if node.data is not None else 0
        name = "Root Entry" if not key else key.split("/")[-1]
        entries += _entry(name, node.kind, child, right, starts.get(key, END), size)
    entries = entries.ljust(n_dir * SECTOR, b"\x00")
    difat = [*range(n_fat), *([FREE] * (109 - n_fat))]
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + bytes(6) + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, CUTOFF, END, 0, END, 0)
              + struct.pack("<109I", *difat))
    return header + struct.pack(f"<{len(fat)}I", *fat) + entries + body


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")
