"""The ``[server]`` section of ``leaktrace.toml``: where ``leaktrace serve`` listens and how long sessions last."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServerSettings(BaseModel):
    """``[server]``: address, port and session/cookie policy of the REST API and web UI."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8080, ge=1, le=65535)
    session_hours: float = Field(default=12.0, gt=0, description="a browser session lasts this long")
    secure_cookies: bool = Field(default=False, description="mark cookies Secure (set when served over HTTPS)")
    default_lang: str = Field(default="ja", pattern="^(ja|en)$", description="language of the web UI")
