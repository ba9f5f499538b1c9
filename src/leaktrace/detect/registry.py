"""The one registry of detectors. Built-in detectors register themselves when :mod:`leaktrace.detect` loads."""

from __future__ import annotations

from typing import Any

from leaktrace.registry import Registry

detectors: Registry[Any] = Registry("detector")


def load_builtins() -> None:
    """Import the built-in detector modules (each registers itself)."""
    from leaktrace.detect import (  # noqa: F401
        archive_upload,
        beacon,
        dns_tunnel,
        exfil_volume,
        intel_match,
        long_connection,
        no_dns,
        payload_download,
    )


load_builtins()
