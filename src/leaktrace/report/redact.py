"""Redaction for the public notice: what must never appear, which document titles may, and a final scrub."""

from __future__ import annotations

import ipaddress
import re
from pathlib import PureWindowsPath

from leaktrace.investigate.model import TakenDocument
from leaktrace.report.model import ReportData
from leaktrace.report.settings import RedactionRules

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![:\w])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![:\w])")
UNC_OR_PATH = re.compile(r"(?:\\\\|[A-Za-z]:\\)[^\s、。,]+")


def title_of(doc: TakenDocument) -> str:
    """The title a reader would recognise: the file name (paths use either separator)."""
    return PureWindowsPath((doc.inventory_path or doc.path).replace("/", "\\")).name


def server_shown(data: ReportData, rules: RedactionRules) -> bool:
    return data.incident.status in rules.show_server_when


def personal_names(data: ReportData) -> list[str]:
    """Names of people the data knows: the host's user, actors, who acted on actions and status changes."""
    names: set[str] = set()
    inc = data.incident
    if inc.host_user:
        names.add(inc.host_user)
    for a in data.actions:
        names.update(x for x in (a.requested_by, a.approved_by) if x)
    names.update(h.actor for h in inc.history if h.actor)
    if data.attribution:
        for p in data.attribution.actor_processes:
            user = p.get("user")
            if isinstance(user, str) and user:
                names.add(user)
                names.add(user.split("\\")[-1])
        names.update(EMAIL.findall(" ".join(e.description for e in data.attribution.timeline)))
    return sorted(n for n in names if len(n) >= 2 and n not in ("leaktrace", "unknown", "system"))


def redacted_terms(data: ReportData, rules: RedactionRules) -> list[str]:
    """Every word that must not appear in the notice under ``rules`` (tests check exactly this)."""
    inc = data.incident
    terms: set[str] = set(rules.terms)
    if not server_shown(data, rules):
        terms.update(x for x in (inc.server_ip, inc.server_domain) if x)
    if rules.hide_internal:
        terms.update(x for x in (inc.host_ip, inc.host_name) if x)
        if data.attribution and data.attribution.host:
            terms.add(data.attribution.host)
    if rules.hide_names:
        terms.update(personal_names(data))
    if data.attribution:
        for d in data.attribution.taken():
            if not title_allowed(d, rules, terms):
                terms.update({d.path, title_of(d)} | ({d.inventory_path} if d.inventory_path else set()))
    return sorted(t for t in terms if t)


def title_allowed(doc: TakenDocument, rules: RedactionRules, terms: set[str] | None = None) -> bool:
    unclassified = doc.level_rank <= 0
    if unclassified and not rules.titles_unclassified:
        return False
    if not unclassified and doc.level_rank > rules.title_max_rank:
        return False
    title = title_of(doc)
    if terms and any(t in title for t in terms):
        return False
    return not (EMAIL.search(title) or IPV4.search(title))


PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
           "fc00::/7", "fe80::/10", "::1/128")


def _internal_ip(text: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in networks)


def scrub(text: str, terms: list[str], rules: RedactionRules, allow: tuple[str, ...] = (),
          internal: tuple[str, ...] | list[str] = ()) -> str:
    """Replace every term (longest first), mail addresses and, when hiding internals, internal IP addresses (the
    private ranges and ``internal`` networks) and file paths. ``allow`` lists values that may stay (e.g. the
    server once the investigation is reported)."""
    mark = rules.placeholder
    nets = [ipaddress.ip_network(n, strict=False) for n in (*PRIVATE, *internal)]
    for term in sorted(set(terms), key=len, reverse=True):
        text = text.replace(term, mark)
    if rules.hide_names:
        text = EMAIL.sub(mark, text)
    if rules.hide_internal:
        text = IPV4.sub(lambda m: mark if _internal_ip(m.group(), nets) and m.group() not in allow else m.group(), text)
        text = IPV6.sub(lambda m: mark if _internal_ip(m.group(), nets) and m.group() not in allow else m.group(), text)
        text = UNC_OR_PATH.sub(mark, text)
    return text
