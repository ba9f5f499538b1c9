"""Sigma rules over Windows endpoint events: pySigma parses, leaktrace matches.

Public API::

    from leaktrace.sigma import SigmaEngine, flatten_event, read_json_events

    engine = SigmaEngine.from_paths(["my_rules/"], builtin=True)   # or SigmaEngine.builtin()
    matches = engine.evaluate(events)          # list[SigmaMatch]; events are flat dicts
    matches = engine.evaluate(raw, flatten=True)   # EVTX-JSON / Winlogbeat / NXLog shapes
    engine.unsupported                         # list[UnsupportedRule]: (rule_path, reason)

What is evaluated (see ``compile.py``): every pySigma value modifier that yields a value (contains,
startswith, endswith, all, windash, base64, base64offset, wide/utf16*, re with i/m/s, cased, cidr, exists,
lt/lte/gt/gte, neq, fieldref), null, Sigma's case-insensitive ``*``/``?`` matching, lists (OR), maps (AND),
keywords (searched in every field) and every condition form pySigma resolves (``1 of x*``, ``all of them``,
``not``, parentheses). Log sources: Windows services through pySigma's channel table and the Sysmon
categories (plus Security 4688 for ``process_creation``), see ``logsource.py``.

Reported as unsupported, with the reason: correlation rules, ``| count()`` aggregations, meta filters,
non-Windows log sources, ``file_access``/``file_rename`` (kernel ETW), ``expand`` placeholders, timestamp-part
modifiers, and anything pySigma itself rejects.

Speed: rules are indexed by (channel, event id), then by a value index (``prefilter.py``) so that an event
only evaluates the rules that can match it; with ``pyahocorasick`` installed, substring anchors are indexed too.
``python -m leaktrace.sigma.bench`` measures throughput.

The built-in rules (``rules/``) are SigmaHQ rules under the Detection Rule License 1.1: each
:class:`SigmaMatch` carries the rule ``author``, which outputs showing matches must keep.
"""

from leaktrace.sigma.engine import BUILTIN_RULES, CompiledRule, SigmaEngine
from leaktrace.sigma.events import flatten_event, flatten_events, iter_json_documents, read_json_events
from leaktrace.sigma.model import SigmaMatch, UnsupportedRule

__all__ = [
    "BUILTIN_RULES",
    "CompiledRule",
    "SigmaEngine",
    "SigmaMatch",
    "UnsupportedRule",
    "flatten_event",
    "flatten_events",
    "iter_json_documents",
    "read_json_events",
]
