"""``webhook``: an HTTP POST of the incident as JSON, signed with HMAC-SHA256.

Headers sent::

    Content-Type: application/json
    X-Leaktrace-Event: opened | escalated | test
    X-Leaktrace-Delivery: <delivery id, the same on every retry>
    X-Leaktrace-Timestamp: <unix seconds of this attempt>
    X-Leaktrace-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

A receiver checks the signature and the timestamp with :func:`verify_signature` (constant-time compare; a
timestamp older or newer than the tolerance is refused, so a captured request cannot be replayed later).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from leaktrace.errors import NotifyError
from leaktrace.notify.message import Notification
from leaktrace.notify.registry import Channel, channels

SIGNATURE_HEADER = "X-Leaktrace-Signature"
TIMESTAMP_HEADER = "X-Leaktrace-Timestamp"
DELIVERY_HEADER = "X-Leaktrace-Delivery"
EVENT_HEADER = "X-Leaktrace-Event"


class WebhookOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="http:// or https:// address the JSON is POSTed to")
    secret: SecretStr | None = Field(default=None, description="HMAC key (prefer secret_env)")
    secret_env: str | None = Field(default=None, description="environment variable holding the HMAC key")
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    verify_tls: bool = True
    ca_file: str | None = Field(default=None, description="CA bundle for a private PKI")
    headers: dict[str, str] = Field(default_factory=dict, description="extra headers (e.g. a routing key)")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be http://host/... or https://host/...")
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookOptions:
        if (self.secret is None) == (self.secret_env is None):
            raise ValueError("give exactly one of 'secret' or 'secret_env' (the HMAC signing key)")
        return self

    def key(self) -> bytes:
        if self.secret is not None:
            value = self.secret.get_secret_value()
        else:
            value = os.environ.get(self.secret_env or "", "")
            if not value:
                raise NotifyError(
                    f"environment variable '{self.secret_env}' (webhook secret) is not set", retryable=False
                )
        return value.encode("utf-8")


def sign(secret: bytes | str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``timestamp + "." + body``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    mac = hmac.new(key, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: bytes | str,
    timestamp: str | int | None,
    body: bytes,
    header: str | None,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """For receivers: whether ``header`` (``X-Leaktrace-Signature``) signs ``timestamp`` + ``body`` with
    ``secret`` and the timestamp is within ``tolerance_s`` seconds of ``now`` (default: the current time)."""
    if not header or timestamp is None:
        return False
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        return False
    expected = sign(secret, ts, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: urllib would re-send a POST as a GET without the body."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _host(url: str) -> str:
    """The host part only: a webhook URL path often carries a token and must not reach logs or the record."""
    return urllib.parse.urlsplit(url).hostname or "?"


@channels.register("webhook")
class WebhookChannel(Channel):
    Options = WebhookOptions

    @property
    def opts(self) -> WebhookOptions:
        assert isinstance(self.options, WebhookOptions)
        return self.options

    def render(self, n: Notification) -> bytes:
        return orjson.dumps(n.to_dict(), option=orjson.OPT_SORT_KEYS)

    def headers(self, n: Notification, payload: bytes, timestamp: int) -> dict[str, str]:
        from leaktrace import __version__

        return {
            **self.opts.headers,
            "Content-Type": "application/json",
            "User-Agent": f"leaktrace/{__version__}",
            EVENT_HEADER: n.event,
            DELIVERY_HEADER: n.delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.opts.key(), timestamp, payload),
        }

    def _opener(self) -> urllib.request.OpenerDirector:
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        if self.opts.url.startswith("https://"):
            ctx = ssl.create_default_context(cafile=self.opts.ca_file)
            if not self.opts.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            handlers.append(urllib.request.HTTPSHandler(context=ctx))
        return urllib.request.build_opener(*handlers)

    def deliver(self, n: Notification, payload: bytes) -> None:
        timestamp = int(self.clock().timestamp())
        req = urllib.request.Request(
            self.opts.url, data=payload, headers=self.headers(n, payload, timestamp), method="POST"
        )
        host = _host(self.opts.url)
        try:
            with self._opener().open(req, timeout=self.opts.timeout_s) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc.__class__.__name__
            raise NotifyError(f"webhook {host}: cannot deliver ({reason})") from None
        if not 200 <= status < 300:
            # 4xx means the receiver refuses this request (retrying will not help), except timeouts/limits
            retryable = status >= 500 or status in (408, 425, 429)
            raise NotifyError(f"webhook {host}: HTTP {status}", retryable=retryable)
