"""Report settings: the reporting organisation, the TLP of shared material, and the public-notice redaction rules.

Read from a TOML file (``leaktrace report --settings FILE``) with the same shape as the models; unknown keys are
rejected. Example::

    organisation = "Ministry of Examples CSIRT"
    tlp = "amber"
    [redaction]
    title_max_rank = 10          # document titles only for levels ranked <= 10 (機密性1)
    show_server_when = ["reported", "closed"]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leaktrace.errors import ConfigError, Location

Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]
Lang = Literal["ja", "en"]


class RedactionRules(BaseModel):
    """What the public notice may say. Defaults are the strict ones."""

    model_config = ConfigDict(extra="forbid")

    show_server_when: list[str] = Field(
        default_factory=lambda: ["reported", "closed"],
        description="incident statuses in which the external server may be named (not while investigating)",
    )
    title_max_rank: int = Field(
        default=10, description="document titles only for levels ranked at most this (jp-gov: 機密性1 = 10)"
    )
    titles_unclassified: bool = Field(default=False, description="titles of documents with no level")
    hide_internal: bool = Field(default=True, description="no internal IP addresses or host names")
    hide_names: bool = Field(default=True, description="no personal names (users, mail addresses, actors)")
    terms: list[str] = Field(default_factory=list, description="further words never to appear")
    placeholder: str = "■■■"


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation: str | None = Field(default=None, description="the reporting organisation (default: tenant)")
    contact: str | None = Field(default=None, description="contact line of the public notice")
    tlp: Tlp = "amber"
    redaction: RedactionRules = Field(default_factory=RedactionRules)


def load_settings(path: Path) -> ReportSettings:
    """Read a report settings TOML file; errors name the file and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("report settings file not found", Location(path=str(path))) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", Location(path=str(path))) from None
    try:
        return ReportSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        msg = f"unknown key '{key}'" if first["type"] == "extra_forbidden" else f"invalid '{key}': {first['msg']}"
        raise ConfigError(msg, Location(path=str(path), key=key)) from None
