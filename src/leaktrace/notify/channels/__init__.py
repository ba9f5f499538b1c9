"""Built-in notification channels; importing this package registers them."""

from leaktrace.notify.channels import smtp, syslog, webhook

__all__ = ["smtp", "syslog", "webhook"]
