"""The one exception root of leaktrace.

Every error raised on purpose is a :class:`LeaktraceError`. It carries *where* it happened (a file, a line or
record number, a key) so that the outermost layer (CLI, web server) can print one clear sentence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where an error happened: a file and optionally a line (1-based) or a key inside it."""

    path: str | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.path:
            parts.append(self.path)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.key:
            parts.append(f"key '{self.key}'")
        return ", ".join(parts)


class LeaktraceError(Exception):
    """Root of every error leaktrace raises on purpose."""

    def __init__(self, message: str, where: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        if self.where is not None and str(self.where):
            return f"{self.where}: {self.message}"
        return self.message


class ConfigError(LeaktraceError):
    """The configuration file is missing, malformed or has unknown keys."""


class WorkspaceError(LeaktraceError):
    """The workspace does not exist or is not a leaktrace workspace."""


class IngestError(LeaktraceError):
    """A source could not be read at all (single bad records are quarantined instead)."""


class UnknownFormatError(IngestError):
    """No ingester recognises a source."""


class LakeError(LeaktraceError):
    """The Parquet lake or its manifest is inconsistent."""


class RegistryError(LeaktraceError):
    """A plugin name is unknown or registered twice."""


class DetectionError(LeaktraceError):
    """A detector failed on its input."""


class NotFoundError(LeaktraceError):
    """An incident, document or other object does not exist (for this tenant)."""


class UnknownTenantError(NotFoundError):
    """A tenant named by the user (``--tenant``) is not configured in the workspace (``[[tenants]]``)."""


class AuthError(LeaktraceError):
    """No valid credentials: a missing, wrong or expired password, token or session (HTTP 401)."""


class PermissionDeniedError(LeaktraceError):
    """Authenticated, but the role does not allow this (HTTP 403), or a CSRF token is missing or wrong."""


class ConflictError(LeaktraceError):
    """The request clashes with the current state: a name already taken, a status that cannot go back (HTTP 409)."""


class NotifyError(LeaktraceError):
    """A notification could not be delivered to a target (or a target is misconfigured). ``retryable``: whether
    another attempt may succeed (a refused connection, HTTP 5xx) or not (HTTP 4xx, a missing secret)."""

    def __init__(self, message: str, where: Location | None = None, retryable: bool = True) -> None:
        super().__init__(message, where)
        self.retryable = retryable
