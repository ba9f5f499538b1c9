"""The incident as a STIX 2.1 bundle, to share back with the monitoring centre (pure; ``stix2`` library).

What goes in:

* the reporting organisation (``identity``) and a **TLP 2.0** marking (the OASIS ``marking-definition`` objects
  with the ``tlp_2_0`` property extension; TLP:AMBER by default) on every object;
* the external server as ``ipv4-addr`` / ``ipv6-addr`` / ``domain-name``, an ``infrastructure`` (exfiltration,
  command and control) made of them, and an ``indicator`` per value (STIX patterns), plus one per client JA3
  (a Suricata rule: STIX patterns have no JA3 object and custom objects are not used);
* the traffic as ``observed-data`` (``network-traffic`` host → server with byte counts) and a ``sighting`` of
  each indicator by the organisation;
* the event itself as a STIX 2.1 ``incident``. Chosen over a ``report`` because the incident is the thing the
  centre tracks and de-duplicates (stable ids, see below); a ``report`` is only a published container of
  references, which the bundle already is. The ATT&CK techniques of the timeline are ``attack-pattern``\\ s;
  everything is tied together by relationships.

Document titles and personal data never enter the bundle: the incident description carries counts by level.
Ids of SDOs are UUIDv5 of (organisation, incident, object), so re-sharing an incident updates the same objects.
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime, timedelta
from typing import Any

import stix2

from leaktrace.report.model import ReportData
from leaktrace.report.registry import RenderOptions, report_format
from leaktrace.report.settings import Tlp

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
NAMESPACE = uuid.UUID("6f1b7a52-3c4e-5d2a-9a57-1e6c0c3b7d11")  # leaktrace's namespace for SDO ids
TACTICS = {"initial-access", "execution", "persistence", "privilege-escalation", "defense-evasion",
           "credential-access", "discovery", "lateral-movement", "collection", "command-and-control",
           "exfiltration", "impact"}


def tlp_marking(tlp: Tlp) -> stix2.MarkingDefinition:
    """The OASIS TLP 2.0 marking definition (fixed id and content) for ``tlp``."""
    return stix2.MarkingDefinition(
        id=TLP2_IDS[tlp], created="2022-10-01T00:00:00.000Z", name=f"TLP:{tlp.upper()}",
        extensions={TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp}},
    )


class _Ids:
    def __init__(self, data: ReportData) -> None:
        self.base = f"{data.organisation}|{data.tenant}|{data.incident.id}"

    def __call__(self, kind: str, *parts: str) -> str:
        """A stable id in UUIDv4 form (STIX: SDOs and SROs SHOULD use v4): the UUIDv5 bits with version 4."""
        digest = uuid.uuid5(NAMESPACE, "|".join([self.base, kind, *parts])).bytes
        return f"{kind}--{uuid.UUID(bytes=digest, version=4)}"


def _ip_object(value: str, marking: list[str]) -> Any:
    cls = stix2.IPv6Address if ipaddress.ip_address(value).version == 6 else stix2.IPv4Address
    return cls(value=value, object_marking_refs=marking)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _description(data: ReportData) -> str:
    inc = data.incident
    lines = [
        f"{inc.id}: host {inc.host_ip} sent {inc.bytes_out:,} bytes to {inc.server} between "
        f"{inc.start.isoformat()} and {inc.end.isoformat()} (severity {inc.severity}, score {inc.score:.2f}).",
        f"Found by: {', '.join(inc.kinds) or inc.origin}.",
    ]
    a = data.attribution
    if a is not None and a.rollup.documents:
        levels = ", ".join(f"{k}: {v}" for k, v in a.rollup.by_level.items())
        lines.append(f"Documents probably taken: {a.rollup.documents} ({levels}); "
                     f"with personal data: {a.rollup.with_personal_data}.")
        lines.append(f"Who acted: {a.remote_control.verdict}.")
    if data.actions:
        lines.append("Containment: " + "; ".join(f"{x.kind} {x.target} ({x.status})" for x in data.actions) + ".")
    return "\n".join(lines)


def _traffic(data: ReportData, host: Any, servers: list[Any], mark: list[str], top: int = 5) -> list[Any]:
    """``network-traffic`` of the largest uploads (exact ports and times from the flow records); without
    records, one object for the whole span."""
    inc = data.incident
    ips = [o for o in servers if o.type in ("ipv4-addr", "ipv6-addr")]
    if not ips:
        return []
    proto = ["ipv6" if ips[0].type == "ipv6-addr" else "ipv4", "tcp"]
    flows = sorted((f for f in data.records.flows if f.get("dst_ip") == ips[0].value and f.get("ts")),
                   key=lambda f: -int(f.get("bytes_out") or 0))[:top]
    if not flows:
        return [stix2.NetworkTraffic(src_ref=host.id, dst_ref=ips[0].id, start=inc.start, end=inc.end,
                                     is_active=False, src_byte_count=inc.bytes_out, dst_byte_count=inc.bytes_in,
                                     protocols=proto, object_marking_refs=mark)]
    out = []
    for f in sorted(flows, key=lambda f: f["ts"]):
        start: datetime = f["ts"]
        end = start + timedelta(seconds=float(f.get("duration") or 0))
        out.append(stix2.NetworkTraffic(
            src_ref=host.id, dst_ref=ips[0].id, start=start, end=end, is_active=False,
            src_port=f.get("src_port"), dst_port=f.get("dst_port"), src_byte_count=int(f.get("bytes_out") or 0),
            dst_byte_count=int(f.get("bytes_in") or 0), protocols=[proto[0], str(f.get("proto") or "tcp")],
            object_marking_refs=mark))
    return out


def build_bundle(data: ReportData, now: datetime | None = None) -> stix2.Bundle:
    """The STIX 2.1 bundle of an incident (objects in dependency order)."""
    inc = data.incident
    ids = _Ids(data)
    when = now or data.generated_at
    md = tlp_marking(data.tlp)
    mark = [md.id]
    org = stix2.Identity(id=ids("identity", "org"), name=data.organisation, identity_class="organization",
                         created=when, modified=when, object_marking_refs=mark)
    common: dict[str, Any] = {"created_by_ref": org.id, "created": when, "modified": when,
                              "object_marking_refs": mark}
    objects: list[Any] = [md, org]

    server_objs: list[Any] = []
    ip_obj = _ip_object(inc.server_ip, mark) if inc.server_ip else None
    if ip_obj is not None:
        server_objs.append(ip_obj)
    dom_obj = None
    if inc.server_domain:
        dom_obj = stix2.DomainName(value=inc.server_domain, object_marking_refs=mark,
                                   resolves_to_refs=[ip_obj.id] if ip_obj is not None else None)
        server_objs.append(dom_obj)
    host_obj = _ip_object(inc.host_ip, mark)
    objects += [*server_objs, host_obj]

    infra_types = ["exfiltration"] + (["command-and-control"] if {"beaconing", "dns-tunnel"} & set(inc.kinds)
                                       else [])
    infra = stix2.Infrastructure(id=ids("infrastructure", inc.server), name=inc.server,
                                 infrastructure_types=infra_types, first_seen=inc.start, last_seen=inc.end,
                                 **common)
    objects.append(infra)

    indicators: list[Any] = []
    for obj in server_objs:
        pattern = f"[{obj.type}:value = '{_quote(obj.value)}']"
        indicators.append(stix2.Indicator(
            id=ids("indicator", obj.type, obj.value), name=f"{inc.id} server {obj.value}", pattern=pattern,
            description=f"External server that {inc.host_ip} sent {inc.bytes_out:,} bytes to "
                        f"({', '.join(inc.kinds) or inc.origin})",
            pattern_type="stix", valid_from=inc.start, indicator_types=["malicious-activity"],
            kill_chain_phases=[stix2.KillChainPhase(kill_chain_name="mitre-attack", phase_name="exfiltration")],
            **common))
    for n, ja3 in enumerate(data.ja3, start=1):
        rule = (f'alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"leaktrace {inc.id} client JA3"; '
                f'ja3.hash; content:"{ja3}"; sid:{9_100_000 + n}; rev:1;)')
        indicators.append(stix2.Indicator(
            id=ids("indicator", "ja3", ja3), name=f"{inc.id} client JA3 {ja3}", pattern=rule,
            pattern_type="suricata", valid_from=inc.start, indicator_types=["malicious-activity"],
            description=f"TLS client fingerprint (JA3 {ja3}) of the connections from the host to {inc.server}",
            **common))
    objects += indicators

    traffic = _traffic(data, host_obj, server_objs, mark)
    objects += traffic
    traffic_refs = [t.id for t in traffic]
    connections = sum(f.conn_count for f in data.findings) or len(data.records.flows) or 1
    observed = stix2.ObservedData(
        id=ids("observed-data", "traffic"), first_observed=inc.start, last_observed=inc.end,
        number_observed=max(1, min(connections, 999_999_999)),
        object_refs=traffic_refs + [o.id for o in server_objs] + [host_obj.id], **common)
    objects.append(observed)
    for ind in indicators:
        objects.append(stix2.Sighting(
            id=ids("sighting", ind.id), sighting_of_ref=ind.id, observed_data_refs=[observed.id],
            where_sighted_refs=[org.id], first_seen=inc.start, last_seen=inc.end,
            count=max(1, min(connections, 999_999_999)), **common))

    incident = stix2.Incident(id=ids("incident"), name=f"{inc.id}: data sent from {inc.host_ip} to {inc.server}",
                              description=_description(data), **common)
    objects.append(incident)

    rels: list[tuple[str, str, str]] = [(ind.id, "indicates", infra.id) for ind in indicators]
    rels += [(infra.id, "consists-of", o.id) for o in server_objs]
    rels += [(incident.id, "related-to", infra.id), (incident.id, "related-to", observed.id)]
    techniques: dict[str, str] = {}
    for e in data.attribution.timeline if data.attribution else []:
        if e.technique:
            techniques.setdefault(e.technique, e.phase)
    for tech, phase in sorted(techniques.items()):
        ap = stix2.AttackPattern(
            id=ids("attack-pattern", tech), name=tech,
            external_references=[stix2.ExternalReference(source_name="mitre-attack", external_id=tech)],
            kill_chain_phases=[stix2.KillChainPhase(kill_chain_name="mitre-attack", phase_name=phase)]
            if phase in TACTICS else None,
            **common)
        objects.append(ap)
        rels.append((incident.id, "related-to", ap.id))
    for src, kind, dst in rels:
        objects.append(stix2.Relationship(id=ids("relationship", src, kind, dst), source_ref=src,
                                          relationship_type=kind, target_ref=dst, **common))
    return stix2.Bundle(objects=objects, id=ids("bundle"), allow_custom=False)


def render_stix(data: ReportData) -> str:
    return str(build_bundle(data).serialize(pretty=True, ensure_ascii=False))


@report_format("stix", "json", "application/stix+json;version=2.1", "STIX 2.1 bundle to share (TLP 2.0 marked)")
def _stix(data: ReportData, options: RenderOptions) -> bytes:
    return render_stix(data).encode("utf-8")
