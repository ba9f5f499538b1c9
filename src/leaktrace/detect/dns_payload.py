"""Commands and payloads carried in DNS answers (TXT, NULL): the downstream half of DNS C2.

A DNS stager or command channel (PowerShell ``nslookup -q=txt`` loops, dnscat2, Cobalt Strike's DNS beacon)
sends code and commands to the implant in TXT answers. The query names may be few and short (``l.1.ns.x.pl``,
``l.2.ns.x.pl`` …), so the query-side tunnel test (:mod:`leaktrace.detect.dns_tunnel`) misses them; the
answers do not: many distinct, long answers of encoded text from one zone to one client.

Per (client, registered domain), over TXT/NULL answers:

* ``volume = log10(answer characters / 1000) / 2`` clamped (1 KB → 0, 10 KB → 0.5, 100 KB → 1);
* ``encoded`` = share of distinct answers that look like encoded data or script (≥ ``min_payload_len``
  characters, and base64/hex text (≥ 95 % of that alphabet, ≥ 3.5 bits/char) or ≥ 4.5 bits/char or
  shell/script syntax), ``/ 0.5``
  clamped;
* ``names = distinct query names / 20`` clamped (a channel asks for many chunks or commands);
* ``score = 0.4·volume + 0.4·encoded + 0.2·names`` + the prevalence modifier (±0.15).

Mail and domain-verification records are not payloads: answers starting ``v=`` (SPF, DKIM, DMARC), names
under ``_domainkey``, ``_dmarc``, ``_spf``, ``_acme-challenge``, ``_mta-sts`` are ignored.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any, ClassVar

from pydantic import Field

from leaktrace.config import Strict
from leaktrace.detect.base import Context, Finding, clamp, to_dt
from leaktrace.detect.common import prevalence_modifier, since_epoch
from leaktrace.detect.dns_facts import ANSWER_QTYPES as PAYLOAD_QTYPES  # the answers dns_queries keeps
from leaktrace.detect.dns_facts import dns_pairs, dns_queries, new_dns_clients
from leaktrace.detect.domains import common_zone, shannon_entropy
from leaktrace.detect.net import split_allowlist
from leaktrace.detect.registry import detectors

IGNORED_LABELS = ("_domainkey", "_dmarc", "_spf", "_acme-challenge", "_mta-sts", "_smtp._tls")
_ZEEK_TXT = re.compile(r"^TXT \d+ ")  # Zeek writes a TXT answer as "TXT <length> <text>"
_ALPHABET = re.compile(r"[A-Za-z0-9+/=_\-]")
_SCRIPT = re.compile(
    r"(\$[A-Za-z_]+\s*=|\bpowershell\b|\biex\b|invoke-|frombase64string|\bcmd(\.exe)?\s*/c\b|"
    r"\bnslookup\b|\bwhile\s*\(|\bfunction\s+\w+|;\s*\w+\s*=)",
    re.IGNORECASE,
)


def looks_like_payload(answer: str, min_len: int = 40) -> bool:
    """Encoded data or script in a DNS answer (quotes and separators stripped)."""
    text = _ZEEK_TXT.sub("", answer.strip()).strip("\"'@").replace('" "', "")
    if len(text) < min_len or text.lower().startswith("v="):
        return False
    if _SCRIPT.search(text):
        return True
    alpha = sum(1 for ch in text if _ALPHABET.match(ch)) / len(text)
    entropy = shannon_entropy(text)
    return (alpha >= 0.95 and entropy >= 3.5) or entropy >= 4.5


def payload_score(chars: int, encoded_share: float, names: int) -> dict[str, float]:
    parts = {
        "volume": clamp(math.log10(max(chars, 1) / 1000) / 2),
        "encoded": clamp(encoded_share / 0.5),
        "names": clamp(names / 20),
    }
    parts["score"] = 0.4 * parts["volume"] + 0.4 * parts["encoded"] + 0.2 * parts["names"]
    return parts


class DnsPayloadParams(Strict):
    min_answers: int = Field(default=5, ge=1, description="distinct payload-like answers per client × domain")
    min_payload_len: int = Field(default=40, ge=8, description="characters an answer needs to be a payload")
    min_score: float = Field(default=0.3, ge=0, le=1, description="findings below this score are dropped")
    min_population: int = Field(default=10, ge=1, description="clients needed for the prevalence modifier")
    rare_prevalence: float = Field(default=0.02, ge=0, le=1, description="prevalence for +0.15")
    common_prevalence: float = Field(default=0.2, ge=0, le=1, description="prevalence for −0.15")


@detectors.register("dns_payload")
class DnsPayload:
    """Encoded data or script in TXT/NULL answers from one zone to one client (DNS C2 downstream)."""

    name: ClassVar[str] = "dns_payload"
    kind: ClassVar[str] = "dns-tunnel"
    Params: ClassVar[type[Strict]] = DnsPayloadParams

    def run(self, ctx: Context) -> list[Finding]:
        p: DnsPayloadParams = ctx.params_for(self.name, DnsPayloadParams)
        pairs = dns_pairs(ctx)  # all history (preset from state on incremental runs)
        # incremental: only (client, domain) groups with answers since ``since`` are scored, so only the DNS
        # history of the clients with new records is read
        dns = dns_queries(ctx, new_dns_clients(ctx))
        pop = int(pairs.src_ip.nunique().execute() or 0)
        clients = {
            r["reg"]: int(r["clients"])
            for r in pairs.group_by("reg").aggregate(clients=pairs.src_ip.nunique()).to_pyarrow().to_pylist()
        }
        txt = dns.filter(
            dns.qtype.upper().isin(PAYLOAD_QTYPES).fill_null(False)
            & dns.answers.notnull()
            & (dns.answers.length() >= p.min_payload_len)
        )
        _, allowed = split_allowlist(ctx.allow_servers)
        if allowed:
            txt = txt.filter(~txt.reg.isin(allowed))
        rows = txt.select("src_ip", "reg", "q", "answers", "epoch", "uid", "dst_ip").to_pyarrow().to_pylist()
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            if any(label in r["q"] for label in IGNORED_LABELS):
                continue
            groups[(r["src_ip"], r["reg"])].append(r)
        since = since_epoch(ctx)
        out = []
        for (src, reg), items in groups.items():
            if since is not None and max(i["epoch"] for i in items) < since:
                continue
            answers = {i["answers"] for i in items}
            payloads = {a for a in answers if looks_like_payload(a, p.min_payload_len)}
            if len(payloads) < p.min_answers:
                continue
            names = {i["q"] for i in items}
            chars = sum(len(a) for a in answers)
            parts = payload_score(chars, len(payloads) / max(1, len(answers)), len(names))
            mod = prevalence_modifier(
                clients.get(reg, 1), pop, p.min_population, p.rare_prevalence, p.common_prevalence
            )
            score = clamp(parts["score"] + mod)
            if score < p.min_score:
                continue
            zone = common_zone(sorted(names)) or reg
            out.append(
                Finding(
                    detector=self.name,
                    kind=self.kind,
                    tenant=ctx.tenant,
                    src_ip=src,
                    dst_ip=None,
                    dst_domain=zone,
                    first_ts=to_dt(min(i["epoch"] for i in items)),
                    last_ts=to_dt(max(i["epoch"] for i in items)),
                    score=score,
                    bytes_in=chars,
                    conn_count=len(items),
                    summary=(
                        f"{len(payloads)} distinct encoded/script answers ({chars:,} characters) from {zone} in "
                        f"{len(items)} TXT/NULL answers to {len(names)} names"
                    ),
                    evidence={
                        "registered_domain": reg,
                        "answers": len(answers),
                        "payload_answers": len(payloads),
                        "answer_chars": chars,
                        "names": len(names),
                        "resolver": items[0]["dst_ip"],
                        "parts": {k: round(v, 3) for k, v in parts.items()},
                        "prevalence_modifier": mod,
                        "clients": clients.get(reg, 1),
                        "population": pop,
                    },
                    uids=sorted({i["uid"] for i in items if i.get("uid")})[:20],
                    window=zone,
                )
            )
        return out
