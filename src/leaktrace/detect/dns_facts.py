"""DNS queries as the DNS detectors see them, and the (client, registered domain) facts they share.

:func:`dns_pairs` (distinct client × registered domain, with whether the tunnel detector looks at the query) gives
both DNS detectors their population and per-domain client counts. It is small and mergeable, so it is kept as
state (:mod:`leaktrace.engine.state`) and incremental runs read only the DNS history of clients with new records
(:func:`new_dns_clients`).
"""

from __future__ import annotations

from typing import Any

import ibis

from leaktrace.detect.base import Context
from leaktrace.detect.common import epoch, recent_records
from leaktrace.detect.domains import registered_domain_expr
from leaktrace.detect.net import is_internal, split_allowlist

# the DNS columns the DNS detectors and facts read (the rest of the log is not carried through the name join)
QUERY_COLUMNS = ("ts", "uid", "src_ip", "dst_ip", "query", "qtype", "answers")
ANSWER_QTYPES = ["TXT", "NULL", "16", "10"]  # the query types whose answers :func:`dns_queries` keeps


def recent_dns_queries(ctx: Context) -> Any:
    """:func:`dns_queries` of the records from the second of ``since`` on only (lazy; the names of these records
    only are parsed): what an incremental run adds to the stored DNS facts."""
    return _dns_queries(ctx, None, recent=True)


def dns_queries(ctx: Context, hosts: Any = None) -> Any:
    """DNS queries of internal clients with ``q`` (the name, lower case, no trailing dot), ``reg`` (its registered
    domain) and ``epoch``, ``.arpa``/``.local`` left out: what the DNS detectors start from. With ``hosts`` (a
    table with ``src_ip``; within a run always :func:`new_dns_clients`), only queries of those clients.

    Built once per run and shared by both DNS detectors and the DNS facts (the names' registered domains are
    regular expressions, evaluated on the distinct names only)."""
    return ctx.cached("dns_queries" if hosts is None else "dns_queries_new", lambda: _dns_queries(ctx, hosts))


def _dns_queries(ctx: Context, hosts: Any, recent: bool = False) -> Any:
    dns = ctx.engine.table("dns")
    if recent:
        dns = recent_records(ctx, dns)
    if hosts is not None:
        dns = dns.semi_join(hosts, "src_ip")
    dns = dns.filter(is_internal(dns.src_ip, ctx.internal) & dns.query.notnull())
    dns = dns.select(*QUERY_COLUMNS)
    # answers are read for TXT/NULL only (DNS payloads); the A/AAAA answers of most queries are not carried
    dns = dns.mutate(answers=ibis.cases((dns.qtype.upper().isin(ANSWER_QTYPES), dns.answers), else_=ibis.null("string")))
    names = dns.select("query").distinct()
    q = names.query.lower().re_replace(r"\.$", "")
    names = names.mutate(q=q, reg=registered_domain_expr(q))
    dns = dns.join(names, "query").mutate(epoch=epoch(dns.ts)).drop("ts", "query")
    return dns.filter(~dns.q.endswith(".arpa") & ~dns.q.endswith(".local"))


def _tunnel_pred(ctx: Context, dns: Any) -> Any:
    """Names below a registered domain, not allow-listed: the queries the tunnel detector looks at."""
    pred = dns.q.contains(".") & (dns.q != dns.reg)
    _, allowed = split_allowlist(ctx.allow_servers)
    if allowed:
        pred = pred & ~dns.reg.isin(allowed)
    return pred


def tunnel_queries(ctx: Context, hosts: Any = None) -> Any:
    """:func:`dns_queries` that the tunnel detector looks at (see :func:`_tunnel_pred`)."""
    dns = dns_queries(ctx, hosts)
    return dns.filter(_tunnel_pred(ctx, dns))


def dns_pairs_of(ctx: Context, queries: Any) -> Any:
    """Distinct (client, registered domain, ``tunnel``) of :func:`dns_queries`, ``tunnel`` telling whether the
    tunnel detector looks at the query: the population (distinct clients) and the clients of each domain
    (prevalence) of both DNS detectors. Mergeable: the pairs of two batches of records are their union, so
    incremental runs keep them as state instead of re-parsing every DNS name of the history."""
    return queries.select("src_ip", "reg", tunnel=_tunnel_pred(ctx, queries)).distinct()


def merge_dns_pairs(a: Any, b: Any) -> Any:
    return a.union(b, distinct=True)


def dns_pairs(ctx: Context) -> Any:
    """:func:`dns_pairs_of` all DNS history (built once per run; preset from state on incremental runs)."""
    return ctx.cached("dns_pairs", lambda: dns_pairs_of(ctx, dns_queries(ctx)))


def new_dns_clients(ctx: Context) -> Any:
    """On incremental runs with stored DNS pairs, the clients with DNS records in the second of ``since`` or
    later (a table with ``src_ip``), else None (all clients). Detectors that only score (client, domain) pairs
    with records since then read the DNS history of these clients only. A timestamp comparison, so that Parquet
    statistics can skip older row groups."""
    if ctx.since is None or "dns_pairs" not in ctx.stored:
        return None
    raw = ctx.engine.table("dns")
    return recent_records(ctx, raw).select("src_ip").distinct()


def first_answers_of(dns: Any, scope: str) -> Any:
    """When each address was first given in a DNS answer, from the DNS records ``dns``: per answered address
    ``a`` (``scope`` "org") or per client and address (``scope`` "host"), the epoch of the earliest answer
    (``first_resolved``). What the no-DNS detector compares connections with. Mergeable (minima), so it is kept as
    state: incremental runs add the answers of their new records instead of splitting every answer again."""
    answered = dns.filter(dns.answers.notnull() & (dns.answers != ""))
    ans = answered.select(src_ip=answered.src_ip, a=answered.answers.split(",").unnest(), t=epoch(answered.ts))
    keys = ["a"] if scope == "org" else ["src_ip", "a"]
    return ans.group_by(keys).aggregate(first_resolved=ans.t.min())


def merge_first_answers(a: Any, b: Any) -> Any:
    u = a.union(b)
    keys = [c for c in u.columns if c != "first_resolved"]
    return u.group_by(keys).aggregate(first_resolved=u.first_resolved.min())


def first_answers(ctx: Context, scope: str) -> Any:
    """:func:`first_answers_of` all DNS history (built once per run; preset from state on incremental runs)."""
    return ctx.cached("dns_first_answers", lambda: first_answers_of(ctx.engine.table("dns"), scope))
