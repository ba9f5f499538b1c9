"""The report as labelled rows, in one language: what HTML, PDF and Markdown print (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from leaktrace.report import charts
from leaktrace.report.fmt import human_bytes, span, ts
from leaktrace.report.i18n import level_name, translator
from leaktrace.report.model import ReportData

Row = list[str]


@dataclass
class Table:
    title: str
    head: Row
    rows: list[Row]
    empty: str = ""
    note: str = ""


@dataclass
class View:
    lang: str
    title: str
    subtitle: str
    tlp: str
    summary: list[tuple[str, str]]
    headline: str
    tables: dict[str, Table] = field(default_factory=dict)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (title, svg)
    who_acted: tuple[str, list[str]] | None = None
    notes: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


def tlp_label(tlp: str) -> str:
    return "TLP:" + tlp.upper()


def headline(data: ReportData, lang: str) -> str:
    t = translator(lang)
    a = data.attribution
    if a is None or a.rollup.documents == 0:
        return t("no_documents")
    r = a.rollup
    level = r.highest_level or t("unknown")
    if r.with_personal_data:
        return t("rollup", n=r.documents, level=level, pii=r.with_personal_data, people=r.people)
    docs, top = t("documents_count", n=r.documents), t("highest_level", level=level)
    return f"{docs}（{top}）" if lang == "ja" else f"{docs}, {top}"


def build_view(data: ReportData, lang: str) -> View:
    t = translator(lang)
    inc = data.incident
    actions_line = "; ".join(f"{t('action.' + a.kind)} {a.target} ({t('astatus.' + a.status)})"
                             for a in data.actions) or t("no_actions")
    how = [t("origin." + inc.origin)] + [t("kind." + k) for k in inc.kinds]
    summary = [
        (t("host"), inc.host + (f" / {inc.host_user}" if inc.host_user else "")),
        (t("server"), " / ".join(x for x in (inc.server_domain, inc.server_ip) if x) or "?"),
        (t("span"), span(inc.start, inc.end)),
        (t("volume"), f"{t('sent')} {human_bytes(inc.bytes_out)} / {t('received')} {human_bytes(inc.bytes_in)}"),
        (t("how_found"), "; ".join(how)),
        (t("actions_taken"), actions_line),
        (t("severity"), f"{t('severity.' + inc.severity)} ({inc.score:.2f})"),
        (t("status"), t("status." + inc.status)),
    ]
    if data.ja3:
        summary.append((t("ja3"), ", ".join(data.ja3)))
    view = View(
        lang=lang,
        title=f"{t('incident_report')} {inc.id}",
        subtitle=f"{t('organisation')}: {data.organisation} · {t('generated')}: {ts(data.generated_at)}",
        tlp=tlp_label(data.tlp),
        summary=summary,
        headline=headline(data, lang),
    )
    a = data.attribution
    docs = a.taken() if a else []
    view.tables["documents"] = Table(
        t("documents_taken"),
        [t("level"), t("document"), t("size"), t("confidence"), t("people"), t("first_read"), "SHA-256"],
        [[level_name(lang, d.level), d.inventory_path or d.path, human_bytes(d.size), f"{d.confidence:.2f}",
          str(d.people or ""), ts(d.first_read), d.sha256 or ""] for d in docs],
        empty=t("no_documents"),
    )
    objects = [o for o in (a.objects if a else []) if o.confidence >= 0.5]
    view.tables["objects"] = Table(
        t("objects_taken"),
        [t("object_kind"), t("path"), t("size"), t("confidence"), t("written"), t("object_evidence")],
        [[t("object." + o.kind), o.path, human_bytes(o.size), f"{o.confidence:.2f}", ts(o.first_read),
          ", ".join(t("evidence." + e.kind) for e in o.evidence)] for o in objects],
        empty=t("none"),
    )
    pii = data.pii_totals()
    pii_rows = [[t("pii." + k), f"{v:,}"] for k, v in pii.items()]
    if a is not None and (a.rollup.with_personal_data or pii):
        pii_rows += [[t("documents_with_pii"), f"{a.rollup.with_personal_data:,}"],
                     [t("people_affected"), f"{a.rollup.people:,}"]]
    view.tables["personal_data"] = Table(t("personal_data"), [t("pii_kind"), t("count")], pii_rows,
                                         empty=t("none"), note=t("personal_data_note"))
    events = sorted(a.timeline if a else [], key=lambda e: e.ts)
    view.tables["timeline"] = Table(
        t("timeline"), [t("time"), t("phase"), t("technique"), t("description")],
        [[ts(e.ts), t("phase." + e.phase), e.technique or "", e.description] for e in events],
        empty=t("none"),
    )
    view.tables["actions"] = Table(
        t("actions_taken"),
        [t("action"), t("target"), t("status"), t("by"), t("when"), t("expires"), t("reason")],
        [[f"{x.id} {t('action.' + x.kind)}", x.target, t("astatus." + x.status),
          x.requested_by + (f" / {x.approved_by}" if x.approved_by else ""), ts(x.created), ts(x.expires),
          x.reason] for x in data.actions],
        empty=t("no_actions"),
    )
    view.tables["history"] = Table(
        t("history"), [t("when"), t("change"), t("by"), t("note")],
        [[ts(h.at), f"{t('status.' + h.old)} → {t('status.' + h.new)}", h.actor, h.note] for h in inc.history],
        empty=t("none"),
    )
    view.tables["findings"] = Table(
        t("findings"), [t("detector"), t("kind"), t("span"), t("score"), t("what")],
        [[f.detector, t("kind." + f.kind), span(f.first_ts, f.last_ts), f"{f.score:.2f}", f.summary]
         for f in data.findings],
        empty=t("none"),
    )
    view.tables["evidence"] = Table(
        t("evidence"), [t("kind"), t("name"), t("size"), "SHA-256", t("detail")],
        [[t("ev." + e.kind), e.name, human_bytes(e.size), e.sha256 or "", e.detail] for e in data.evidence],
        empty=t("none"), note=t("evidence_note"),
    )
    view.charts = [
        (t("chart_traffic"), charts.traffic_chart(t("chart_traffic"), data.charts.traffic,
                                                  legend=t("bytes_out_legend"), empty=t("no_data"))),
        (t("chart_beacon"), charts.histogram(t("chart_beacon"), data.charts.beacon_intervals, empty=t("no_data"))),
        (t("chart_levels"), charts.levels_chart(
            t("chart_levels"), {level_name(lang, k): v for k, v in data.documents_by_level().items()},
            empty=t("no_data"))),
    ]
    if a is not None:
        rc = a.remote_control
        view.who_acted = (f"{t('who_acted')}: {t('verdict.' + rc.verdict)}", list(rc.reasons))
    view.notes = list(data.notes) + (list(a.notes) if a else [])
    view.labels = {k: t(k) for k in ("summary", "what_left", "charts", "who_acted", "notes", "tlp_note")}
    view.labels["tlp_note"] = t("tlp_note", tlp=view.tlp)
    return view
