"""The one registry of detectors. Built-in detectors register themselves when :mod:`leaktrace.detect` loads."""

from __future__ import annotations

from typing import Any

from leaktrace.registry import Registry

detectors: Registry[Any] = Registry("detector")


def load_builtins() -> None:
    """Import the built-in detector modules (each registers itself): network detectors, and the host
    detectors of :mod:`leaktrace.hostdetect`."""
    from leaktrace.detect import (  # noqa: F401
        archive_upload,
        beacon,
        dns_payload,
        dns_tunnel,
        exfil_volume,
        intel_match,
        long_connection,
        no_dns,
        payload_download,
    )
    from leaktrace.hostdetect import detectors as _host  # noqa: F401


load_builtins()
