"""Small, total conversions of raw event values (text, numbers, hex) used by every endpoint mapper."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

try:  # orjson is optional: 3-5x faster on large JSON-lines sources
    import orjson

    def loads(data: bytes | str) -> Any:
        return orjson.loads(data)

    def dumps(obj: Any) -> str:
        return orjson.dumps(obj, default=str).decode()

    JSONDecodeError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - exercised only without orjson
    import json

    def loads(data: bytes | str) -> Any:
        return json.loads(data)

    def dumps(obj: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)

    JSONDecodeError = json.JSONDecodeError

EMPTY = {"", "-", "(null)", "null", "NULL"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FRACTION = re.compile(r"(\.\d{6})\d+")


def text(value: Any) -> str | None:
    """A value as text; Windows' placeholders for "nothing" ('-', '') become None."""
    if value is None:
        return None
    if isinstance(value, str):
        v = value.strip()
        return None if v in EMPTY else v
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def integer(value: Any) -> int | None:
    """Decimal or 0x-hex integers ('0x1d54' in Security events, '7508' in Sysmon); None when not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    v = str(value).strip()
    try:
        if v[:2].lower() == "0x":
            return int(v, 16)
        return int(v)
    except ValueError:
        return None


def port(value: Any) -> int | None:
    p = integer(value)
    return p if p is not None and 0 <= p <= 65535 else None


def guid(value: Any) -> str | None:
    """GUIDs in one form: lower case, no braces (Sysmon JSON has '{..}', EVTX upper case without)."""
    v = text(value)
    return v.strip("{}").lower() if v else None


def sha256_of(hashes: Any) -> str | None:
    """SHA256 from a Sysmon ``Hashes`` value (``SHA1=..,MD5=..,SHA256=..``), lower case."""
    v = text(hashes)
    if not v:
        return None
    for part in v.split(","):
        k, _, h = part.partition("=")
        if k.strip().upper() == "SHA256" and h:
            return h.strip().lower()
    if len(v) == 64 and "=" not in v:
        return v.lower()
    return None


def micros(value: Any) -> int | None:
    """Epoch microseconds (UTC) of an ISO-like time text; naive times are taken as UTC.

    Accepts ``2023-08-18T08:56:04.315Z``, ``2023-08-18 15:56:06.238`` (Sysmon UtcTime), 7-digit fractions
    (EVTX), offsets (``-07:00``), a trailing `` UTC``, and epoch seconds/milliseconds as numbers.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000.0
        return int(round(seconds * 1_000_000))
    v = str(value).strip()
    if not v:
        return None
    if v.endswith(" UTC"):
        v = v[:-4]
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        try:
            dt = datetime.fromisoformat(_FRACTION.sub(r"\1", v))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
