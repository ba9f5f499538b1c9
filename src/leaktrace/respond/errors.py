"""Errors of the respond package."""

from __future__ import annotations

from leaktrace.errors import LeaktraceError


class BlockError(LeaktraceError):
    """A block, unblock or isolation could not be planned, applied or removed."""
