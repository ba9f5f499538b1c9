from __future__ import annotations

from pathlib import Path

import pytest

from leaktrace.documents.model import DocumentRecord
from leaktrace.documents.scanner import Scanner


@pytest.fixture
def scan_one() -> object:
    scanner = Scanner()

    def run(path: Path) -> list[DocumentRecord]:
        return scanner.scan_file(path)

    return run
