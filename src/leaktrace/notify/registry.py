"""The channel interface and its registry. Built-ins (webhook, smtp, syslog) register themselves in
:mod:`leaktrace.notify.channels`; a plugin registers the same way: ``@channels.register("name")``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from leaktrace.notify.message import Notification, utcnow
from leaktrace.registry import Registry


class Channel(ABC):
    """One way of sending: ``render`` builds the payload (hashed into the record), ``deliver`` sends it.

    ``deliver`` raises :class:`~leaktrace.errors.NotifyError` (``retryable`` says whether another attempt may
    help); the delivery loop retries, records and never lets a failure escape into the analysis.
    """

    Options: ClassVar[type[BaseModel]]

    def __init__(self, options: BaseModel, lang: str = "ja", clock: Callable[[], datetime] = utcnow) -> None:
        self.options = options
        self.lang = lang
        self.clock = clock

    @abstractmethod
    def render(self, n: Notification) -> bytes:
        """The payload for ``n`` (JSON body, e-mail, CEF line); the same bytes on every attempt."""

    @abstractmethod
    def deliver(self, n: Notification, payload: bytes) -> None:
        """Send ``payload`` once (one attempt)."""


channels: Registry[type[Channel]] = Registry("notification channel")


def channel_class(name: str) -> type[Channel]:
    import leaktrace.notify.channels  # noqa: F401  (registers the built-ins)

    return channels.get(name)
