"""``smtp``: a plain-text e-mail (Japanese, English or both) through an SMTP relay.

``security``: ``none`` (port 25, a relay inside the centre), ``starttls`` (port 587, upgraded before login) or
``ssl`` (port 465, TLS from the first byte). Login is optional (``username`` with ``password`` or
``password_env``). The subject carries the severity and the incident id.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from leaktrace.errors import NotifyError
from leaktrace.notify.message import Notification, body, subject
from leaktrace.notify.registry import Channel, channels

# RFC 5322 allows 998; folding at 78 splits a long ASCII subject right after "Subject:", which some readers
# show with a leading space.
SMTP_POLICY = SMTP.clone(max_line_length=200)


def _check_address(value: str) -> str:
    if "@" not in value or any(c in value for c in "\r\n<>, "):
        raise ValueError(f"'{value}' is not an e-mail address")
    return value


class SmtpOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = Field(default=None, description="environment variable holding the password")
    sender: str = Field(alias="from", description="From: address")
    to: list[str] = Field(min_length=1)
    cc: list[str] = Field(default_factory=list)
    timeout_s: float = Field(default=15.0, gt=0, le=120)
    verify_tls: bool = True
    ca_file: str | None = None

    _addr = field_validator("sender")(classmethod(lambda cls, v: _check_address(v)))

    @field_validator("to", "cc")
    @classmethod
    def _check_addresses(cls, values: list[str]) -> list[str]:
        return [_check_address(v) for v in values]

    @model_validator(mode="after")
    def _login(self) -> SmtpOptions:
        if self.password is not None and self.password_env is not None:
            raise ValueError("give 'password' or 'password_env', not both")
        if (self.password is not None or self.password_env is not None) and not self.username:
            raise ValueError("a password needs a 'username'")
        return self

    def secret(self) -> str | None:
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_env:
            value = os.environ.get(self.password_env)
            if not value:
                raise NotifyError(
                    f"environment variable '{self.password_env}' (SMTP password) is not set", retryable=False
                )
            return value
        return None


@channels.register("smtp")
class SmtpChannel(Channel):
    Options = SmtpOptions

    @property
    def opts(self) -> SmtpOptions:
        assert isinstance(self.options, SmtpOptions)
        return self.options

    def message(self, n: Notification) -> EmailMessage:
        msg = EmailMessage(policy=SMTP_POLICY)
        msg["Subject"] = subject(n, self.lang)
        msg["From"] = self.opts.sender
        msg["To"] = ", ".join(self.opts.to)
        if self.opts.cc:
            msg["Cc"] = ", ".join(self.opts.cc)
        msg["Date"] = format_datetime(n.generated_at)
        msg["Message-ID"] = make_msgid(idstring=n.delivery_id, domain=self.opts.sender.rsplit("@", 1)[1])
        msg["X-Leaktrace-Incident"] = n.incident_id
        msg["X-Leaktrace-Event"] = n.event
        msg["X-Leaktrace-Severity"] = n.severity
        msg["X-Leaktrace-Delivery"] = n.delivery_id
        msg.set_content(body(n, self.lang), subtype="plain", charset="utf-8")
        return msg

    def render(self, n: Notification) -> bytes:
        return self.message(n).as_bytes()

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.opts.ca_file)
        if not self.opts.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def deliver(self, n: Notification, payload: bytes) -> None:
        o = self.opts
        password = o.secret()
        try:
            client: smtplib.SMTP
            if o.security == "ssl":
                client = smtplib.SMTP_SSL(o.host, o.port, timeout=o.timeout_s, context=self._context())
            else:
                client = smtplib.SMTP(o.host, o.port, timeout=o.timeout_s)
            with client:
                client.ehlo()
                if o.security == "starttls":
                    client.starttls(context=self._context())
                    client.ehlo()
                if o.username and password is not None:
                    client.login(o.username, password)
                refused = client.sendmail(o.sender, [*o.to, *o.cc], payload)
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifyError(
                f"smtp {o.host}:{o.port}: login refused ({exc.smtp_code})", retryable=False
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifyError(
                f"smtp {o.host}:{o.port}: all recipients refused ({len(exc.recipients)})", retryable=False
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise NotifyError(
                f"smtp {o.host}:{o.port}: server answered {exc.smtp_code}",
                retryable=exc.smtp_code >= 400 and exc.smtp_code < 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(
                f"smtp {o.host}:{o.port}: cannot deliver ({exc.__class__.__name__}: {exc})"
            ) from None
        if refused:
            raise NotifyError(f"smtp {o.host}:{o.port}: {len(refused)} recipient(s) refused", retryable=False)
