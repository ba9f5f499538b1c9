"""Indicators: STIX 2.1, MISP and CSV/plain loaders, stored in the workspace, retro-hunted on arrival."""

from leaktrace.intel.indicators import Indicator, guess_type, load_file, parse_stix_pattern

__all__ = ["Indicator", "guess_type", "load_file", "parse_stix_pattern"]
