"""Mail: .eml (stdlib email, any Japanese charset) and .msg (Outlook, read with olefile; BSD licence).

Subject → subject zone; addresses → properties; the ``msip_labels`` header → labels; text parts → first
lines/body; attachments (and attached mails) → members, extracted recursively by the scanner.
"""

from __future__ import annotations

import email
import io
from email import policy
from email.message import EmailMessage, Message

from leaktrace.documents.extract.base import Context, add_lines
from leaktrace.documents.extract.ooxml import msip_labels_from_pairs
from leaktrace.documents.extract.text import decode, html_to_text
from leaktrace.documents.model import Extraction, Member, Status, Zone

ADDRESS_HEADERS = ("From", "To", "Cc", "Reply-To", "Sender")


def parse_msip_header(value: str) -> dict[str, str]:
    pairs = {}
    for item in " ".join(value.split()).split(";"):
        if "=" in item:
            k, v = item.split("=", 1)
            pairs[k.strip()] = v.strip()
    return pairs


def _part_text(part: Message) -> str:
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeDecodeError, ValueError):
        pass
    payload = part.get_payload(decode=True)
    return decode(payload)[0] if isinstance(payload, bytes) else ""


def extract_eml(data: bytes, name: str, ctx: Context) -> Extraction:
    msg = email.message_from_bytes(data, policy=policy.default)
    ex = Extraction(format="eml")
    subject = str(msg.get("Subject", "") or "")
    ex.title = subject or None
    ex.add(Zone.SUBJECT, subject, "Subject")
    ex.add(Zone.PROPERTIES, "\n".join(str(msg.get(h)) for h in ADDRESS_HEADERS if msg.get(h)), "addresses")
    if msg.get("msip_labels"):
        ex.labels.extend(msip_labels_from_pairs(parse_msip_header(str(msg.get("msip_labels"))), "msip_labels-header"))
    plain: list[str] = []
    html: list[str] = []
    for i, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = part.get_filename()
        if part.get_content_disposition() == "attachment" or filename or ctype == "message/rfc822":
            payload = part.get_payload(decode=True)
            if ctype == "message/rfc822" and not isinstance(payload, bytes):
                inner = part.get_payload()
                first = inner[0] if isinstance(inner, list) and inner else None
                payload = first.as_bytes() if isinstance(first, Message) else b""
            ex.members.append(Member(filename or f"part{i}.{'eml' if ctype == 'message/rfc822' else 'bin'}",
                                     payload if isinstance(payload, bytes) else b""))
        elif ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            html.append(html_to_text(_part_text(part))[1])
    text = "\n".join(plain) if plain else "\n".join(html)
    add_lines(ex, text.splitlines())
    return ex


def _stream(ole: object, path: str) -> bytes | None:
    import olefile

    assert isinstance(ole, olefile.OleFileIO)
    return ole.openstream(path).read() if ole.exists(path) else None


def _prop(ole: object, prefix: str, tag: str) -> str | None:
    """A MAPI string property: tag like '0037' → __substg1.0_0037001F (UTF-16) or …001E (8-bit)."""
    raw = _stream(ole, f"{prefix}__substg1.0_{tag}001F")
    if raw is not None:
        return raw.decode("utf-16-le", errors="replace").rstrip("\x00")
    raw = _stream(ole, f"{prefix}__substg1.0_{tag}001E")
    return decode(raw)[0].rstrip("\x00") if raw is not None else None


def extract_msg(data: bytes, name: str, ctx: Context) -> Extraction:
    try:
        import olefile
    except ImportError:
        return Extraction("msg", status=Status.UNSUPPORTED, reason="reading .msg needs the 'olefile' package")
    ex = Extraction(format="msg")
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        subject = _prop(ole, "", "0037") or ""
        ex.title = subject or None
        ex.add(Zone.SUBJECT, subject, "subject")
        addrs = [_prop(ole, "", t) for t in ("0C1F", "0E04", "0E03", "0042", "5D01")]
        ex.add(Zone.PROPERTIES, "\n".join(a for a in addrs if a), "addresses")
        headers = _prop(ole, "", "007D") or ""
        if "msip_labels" in headers:
            hmsg = email.message_from_string(headers, policy=policy.default)
            if hmsg.get("msip_labels"):
                pairs = parse_msip_header(str(hmsg.get("msip_labels")))
                ex.labels.extend(msip_labels_from_pairs(pairs, "msip_labels-header"))
        body = _prop(ole, "", "1000")
        if body is None:
            html = _stream(ole, "__substg1.0_10130102")
            body = html_to_text(decode(html)[0])[1] if html else ""
        add_lines(ex, body.splitlines())
        storages = sorted({e[0] for e in ole.listdir(streams=False, storages=True)
                           if e and e[0].startswith("__attach_version1.0_")})
        for st in storages:
            fname = _prop(ole, f"{st}/", "3707") or _prop(ole, f"{st}/", "3704") or f"{st}.bin"
            payload = _stream(ole, f"{st}/__substg1.0_37010102")
            if payload is None:
                ex.members.append(Member(fname, b"", Status.UNSUPPORTED, "embedded object attachment (not a file)"))
            else:
                ex.members.append(Member(fname, payload))
    return ex
