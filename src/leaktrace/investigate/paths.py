"""Match a path seen on a host (``\\\\fileserver\\share\\課\\a.docx``, ``C:\\Users\\...``) to an inventory path.

Shares are mounted under different roots on the host and on the scanner, so paths are compared by their
tail: the longest run of trailing components (case-folded, NFKC, either slash) that both share, at least the
file name and, when the inventory has it, its folder.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

from leaktrace.investigate.model import DocRef


def components(path: str) -> list[str]:
    p = unicodedata.normalize("NFKC", path).replace("\\", "/").casefold()
    if "!/" in p:  # archive member: match on the outer file
        p = p.split("!/")[0]
    return [c for c in p.split("/") if c and c not in (".",) and not c.endswith(":")]


class PathIndex:
    """Index inventory documents by file name, then rank candidates by the length of the common tail."""

    def __init__(self, docs: list[DocRef]) -> None:
        self.by_name: dict[str, list[tuple[list[str], DocRef]]] = defaultdict(list)
        for d in docs:
            parts = components(d.path)
            if parts:
                self.by_name[parts[-1]].append((parts, d))

    def match(self, host_path: str) -> DocRef | None:
        parts = components(host_path)
        if not parts:
            return None
        best: tuple[int, DocRef] | None = None
        ambiguous = False
        for inv_parts, doc in self.by_name.get(parts[-1], []):
            n = 0
            while n < min(len(parts), len(inv_parts)) and parts[-1 - n] == inv_parts[-1 - n]:
                n += 1
            if best is None or n > best[0]:
                best, ambiguous = (n, doc), False
            elif n == best[0]:
                ambiguous = True
        if best is None:
            return None
        n, doc = best
        # a bare file name that several documents share is not a match
        if ambiguous and n < 2:
            return None
        return doc
