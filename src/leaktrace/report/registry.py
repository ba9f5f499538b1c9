"""The registry of report formats. Built-ins (html, pdf, md, json, stix, notice, evidence) register themselves
when the registry is first used; a plugin registers the same way::

    from leaktrace.report.registry import ReportFormat, formats

    @formats.register("csv")
    def _csv() -> ReportFormat: ...      # or formats.add("csv", ReportFormat(...))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast

from leaktrace.errors import LeaktraceError
from leaktrace.registry import Registry
from leaktrace.report.i18n import LANGS
from leaktrace.report.model import ReportData
from leaktrace.report.settings import Lang, RedactionRules


@dataclass(frozen=True)
class RenderOptions:
    lang: Lang = "en"
    redaction: RedactionRules = field(default_factory=RedactionRules)


Renderer = Callable[[ReportData, RenderOptions], bytes]


@dataclass(frozen=True)
class ReportFormat:
    name: str
    extension: str  # without the dot
    media_type: str
    render: Renderer
    description: str = ""


BUILTINS = ("html", "pdf", "markdown", "json_report", "stix", "notice", "evidence")


class FormatRegistry(Registry[ReportFormat]):
    """A registry that imports the built-in format modules (which register themselves) on first use."""

    _loaded = False

    def load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in BUILTINS:
                importlib.import_module(f"leaktrace.report.{module}")

    def get(self, name: str) -> ReportFormat:
        self.load()
        return super().get(name)

    def names(self) -> list[str]:
        self.load()
        return super().names()

    def items(self) -> Iterator[tuple[str, ReportFormat]]:
        self.load()
        return super().items()

    def __contains__(self, name: object) -> bool:
        self.load()
        return super().__contains__(name)

    def __len__(self) -> int:
        self.load()
        return super().__len__()


formats: FormatRegistry = FormatRegistry("report format")


def report_format(name: str, extension: str, media_type: str, description: str = "") -> Callable[[Renderer], Renderer]:
    """Decorator registering a renderer function as a report format."""

    def add(fn: Renderer) -> Renderer:
        formats.add(name, ReportFormat(name, extension, media_type, fn, description))
        return fn

    return add


def render(data: ReportData, fmt: str, lang: str = "en", redaction: RedactionRules | None = None) -> bytes:
    """Render ``data`` in the format named ``fmt`` (``lang``: ja or en)."""
    if lang not in LANGS:
        raise LeaktraceError(f"report language must be one of {', '.join(LANGS)}, not '{lang}'")
    options = RenderOptions(lang=cast(Lang, lang), redaction=redaction or RedactionRules())
    return formats.get(fmt).render(data, options)
