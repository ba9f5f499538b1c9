"""Network detectors: pure Ibis in, typed findings out. See :mod:`leaktrace.detect.registry`."""

from leaktrace.detect.base import Context, Finding, severity_for
from leaktrace.detect.registry import detectors

__all__ = ["Context", "Finding", "detectors", "severity_for"]
