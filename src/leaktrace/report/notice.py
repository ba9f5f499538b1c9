"""A public notice draft (「不正アクセスによる情報流出の可能性について」), Japanese or English, with redaction.

The draft says only what the redaction rules allow: counts of documents by level, document titles only at or
below the configured level, kinds and counts of personal data, the actions in plain words; never personal
names, internal addresses or host names, and the external server only once the incident is reported or closed.
A final scrub removes any redacted term that a free-text field might still carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from leaktrace.report.i18n import level_name, tr
from leaktrace.report.model import ReportData
from leaktrace.report.redact import redacted_terms, scrub, server_shown, title_allowed, title_of
from leaktrace.report.registry import RenderOptions, report_format
from leaktrace.report.settings import RedactionRules


def _date(dt: datetime, lang: str) -> str:
    return f"{dt.year}年{dt.month}月{dt.day}日" if lang == "ja" else f"{dt.day} {dt:%B %Y}"


def _when(start: datetime, end: datetime, lang: str) -> str:
    """「2026年3月2日に」 / 「…から…にかけて」; "on 2 March 2026" / "between … and …"."""
    same = start.date() == end.date()
    if lang == "ja":
        return f"{_date(start, lang)}に" if same else f"{_date(start, lang)}から{_date(end, lang)}にかけて"
    return f"on {_date(start, lang)}" if same else f"between {_date(start, lang)} and {_date(end, lang)}"


@dataclass
class Facts:
    """What the notice may say."""

    documents: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)
    with_pii: int = 0
    people: int = 0
    pii: dict[str, int] = field(default_factory=dict)
    blocked: bool = False
    isolated: bool = False
    server: str | None = None
    tip: bool = False


def _facts(data: ReportData, rules: RedactionRules) -> Facts:
    a = data.attribution
    taken = a.taken() if a else []
    terms = set(redacted_terms(data, rules))
    done = ("active", "expired")
    return Facts(
        documents=len(taken),
        by_level=dict(a.rollup.by_level) if a else {},
        titles=sorted({title_of(d) for d in taken if title_allowed(d, rules, terms)}),
        with_pii=a.rollup.with_personal_data if a else 0,
        people=a.rollup.people if a else 0,
        pii=data.pii_totals(),
        blocked=any(x.kind == "block" and x.status in done for x in data.actions),
        isolated=any(x.kind == "isolate" and x.status in done for x in data.actions),
        server=data.incident.server if server_shown(data, rules) else None,
        tip=data.incident.origin == "tip" or "tip" in data.incident.kinds,
    )


def _ja(data: ReportData, f: Facts) -> list[str]:
    inc, org = data.incident, data.organisation
    levels = "、".join(f"{level_name('ja', k)} {v}件" for k, v in f.by_level.items())
    server = f"外部のサーバ（{f.server}）" if f.server else "外部のサーバ"
    found = "外部機関からの通報を受けて調査した結果" if f.tip else "当方の監視により"
    out = [
        "【公表文案・未確定】",
        f"{_date(data.generated_at, 'ja')}",
        org,
        "",
        "不正アクセスによる情報流出の可能性について",
        "",
        f"このたび、{org}の職員が使用する端末1台が外部からの不正アクセスを受け、当該端末から{server}へ"
        "情報が送信された可能性があることが判明しました。関係する皆様に多大なご心配とご迷惑をおかけしますことを、"
        "深くお詫び申し上げます。",
        "",
        "1. 経緯",
        f"{found}、{_when(inc.start, inc.end, 'ja')}、当該端末から{server}へ"
        "通常とは異なる通信が行われていたことを確認しました。",
        "",
        "2. 流出した可能性のある情報",
    ]
    if f.documents:
        out.append(f"業務上の文書 {f.documents}件（{levels}）")
        if f.titles:
            out.append("うち公表可能な文書名: " + "、".join(f.titles))
        if f.with_pii:
            kinds = "、".join(tr("ja", "pii." + k) for k in f.pii)
            out.append(f"うち個人情報を含む文書 {f.with_pii}件（約{f.people}人分"
                       + (f"。{kinds}" if kinds else "") + "）")
    else:
        out.append("現在、流出した可能性のある情報の範囲を調査しています。")
    out += ["", "3. 対応状況"]
    steps = []
    if f.blocked:
        steps.append("当該サーバとの通信を遮断しました。")
    if f.isolated:
        steps.append("当該端末をネットワークから隔離しました。")
    steps.append("引き続き、外部の専門機関と連携して詳細な調査を進めています。")
    if f.with_pii:
        steps.append("個人情報保護委員会への報告を行うとともに、ご本人への連絡を順次進めてまいります。")
    out += steps
    out += ["", "4. 今後の対応",
            "新たな事実が判明した場合には、速やかにお知らせいたします。再発防止に向けて、情報セキュリティ対策の"
            "一層の強化に努めてまいります。",
            "", "5. 本件に関するお問い合わせ先", data.contact or "（お問い合わせ先を記入）"]
    return out


def _en(data: ReportData, f: Facts) -> list[str]:
    inc, org = data.incident, data.organisation
    levels = ", ".join(f"{level_name('en', k)}: {v}" for k, v in f.by_level.items())
    server = f"an external server ({f.server})" if f.server else "an external server"
    found = "Following a report from an external organisation, we found" if f.tip else "Our monitoring found"
    out = [
        "[DRAFT - not for release]",
        _date(data.generated_at, "en"),
        org,
        "",
        "Notice of a possible information leak caused by unauthorised access",
        "",
        f"One computer used by staff of {org} was accessed without authorisation, and information may have been "
        f"sent from it to {server}. We sincerely apologise for the concern and inconvenience this may cause.",
        "",
        "1. What happened",
        f"{found} unusual communication from the computer to {server} {_when(inc.start, inc.end, 'en')}.",
        "",
        "2. Information that may have been leaked",
    ]
    if f.documents:
        out.append(f"{f.documents} work documents ({levels}).")
        if f.titles:
            out.append("Titles that can be disclosed: " + ", ".join(f.titles))
        if f.with_pii:
            kinds = ", ".join(tr("en", "pii." + k) for k in f.pii)
            verb = "contains" if f.with_pii == 1 else "contain"
            out.append(f"{f.with_pii} of them {verb} personal data of about {f.people} people"
                       + (f" ({kinds})" if kinds else "") + ".")
    else:
        out.append("We are still establishing what information may have been affected.")
    out += ["", "3. What we have done"]
    if f.blocked:
        out.append("We blocked all communication with the server.")
    if f.isolated:
        out.append("We disconnected the computer from the network.")
    out.append("We continue to investigate together with external specialists.")
    if f.with_pii:
        out.append("We are reporting to the Personal Information Protection Commission and will contact the "
                   "people concerned.")
    out += ["", "4. Next steps",
            "We will publish any new facts promptly and are strengthening our information security measures.",
            "", "5. Contact", data.contact or "(contact details to be added)"]
    return out


def render_notice(data: ReportData, lang: str = "ja", rules: RedactionRules | None = None) -> str:
    """The public notice draft as plain text, redacted under ``rules`` (pure)."""
    rules = rules or RedactionRules()
    facts = _facts(data, rules)
    lines = _ja(data, facts) if lang == "ja" else _en(data, facts)
    allow = tuple(x for x in (data.incident.server_ip,) if x and facts.server)
    return scrub("\n".join(lines) + "\n", redacted_terms(data, rules), rules, allow=allow,
                 internal=data.internal_networks)


@report_format("notice", "txt", "text/plain; charset=utf-8", "public notice draft, redacted")
def _notice(data: ReportData, options: RenderOptions) -> bytes:
    return render_notice(data, options.lang, options.redaction).encode("utf-8")
