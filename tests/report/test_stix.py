"""The STIX 2.1 bundle: validates (stix2 strict parsing, stix2-validator when installed), round-trips, TLP 2.0."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stix2

from leaktrace.report import render
from leaktrace.report.stix import TLP2_EXTENSION, TLP2_IDS, build_bundle
from tests.report.sample import DOC2, HOST_NAME, SERVER_DOMAIN, SERVER_IP, USER, sample_data


def _objects(raw: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in raw["objects"] if o["type"] == kind]


def test_bundle_parses_strictly_and_round_trips() -> None:
    text = render(sample_data(), "stix").decode()
    parsed = stix2.parse(text, allow_custom=False)
    again = stix2.parse(parsed.serialize(), allow_custom=False)
    assert again == parsed
    assert json.loads(again.serialize()) == json.loads(text)
    assert text == render(sample_data(), "stix").decode()  # stable ids: same data, same bundle


def test_bundle_content() -> None:
    raw = json.loads(render(sample_data(), "stix"))
    types = {o["type"] for o in raw["objects"]}
    assert {"identity", "marking-definition", "indicator", "observed-data", "sighting", "incident",
            "relationship", "infrastructure", "network-traffic", "ipv4-addr", "domain-name",
            "attack-pattern"} <= types
    patterns = {o["pattern"] for o in _objects(raw, "indicator")}
    assert f"[ipv4-addr:value = '{SERVER_IP}']" in patterns
    assert f"[domain-name:value = '{SERVER_DOMAIN}']" in patterns
    assert any("ja3.hash" in p and "51c64c77e60f3980eea90869b68c58a8" in p for p in patterns)
    (incident,) = _objects(raw, "incident")
    assert "機密性3: 1" in incident["description"]
    traffic = _objects(raw, "network-traffic")
    assert max(t["src_byte_count"] for t in traffic) == 3_000_000 and traffic[0]["dst_port"] == 443
    sightings = _objects(raw, "sighting")
    assert len(sightings) == len(_objects(raw, "indicator"))
    (org,) = _objects(raw, "identity")
    assert org["name"] == "Example Ministry CSIRT"
    assert {r["relationship_type"] for r in _objects(raw, "relationship")} >= {"indicates", "related-to"}
    text = json.dumps(raw, ensure_ascii=False)
    assert DOC2 not in text and "職員名簿" not in text and USER not in text and HOST_NAME not in text


@pytest.mark.parametrize("tlp", ["amber", "red", "clear", "amber+strict", "green"])
def test_tlp2_marking_on_every_object(tlp: str) -> None:
    raw = json.loads(render(sample_data(tlp=tlp), "stix"))
    (marking,) = _objects(raw, "marking-definition")
    assert marking["id"] == TLP2_IDS[tlp] and marking["name"] == f"TLP:{tlp.upper()}"
    assert marking["extensions"][TLP2_EXTENSION] == {"extension_type": "property-extension", "tlp_2_0": tlp}
    for obj in raw["objects"]:
        if obj["type"] != "marking-definition":
            assert obj["object_marking_refs"] == [TLP2_IDS[tlp]], obj["id"]


def test_default_is_amber() -> None:
    assert sample_data().tlp == "amber"
    bundle = build_bundle(sample_data())
    assert any(o.id == TLP2_IDS["amber"] for o in bundle.objects)


def test_stix2_validator_when_installed() -> None:
    validator = pytest.importorskip("stix2validator", reason="stix2-validator is not installed")
    text = render(sample_data(), "stix").decode()
    result = validator.validate_string(text, validator.ValidationOptions(version="2.1", strict=True))
    assert result.is_valid and not result.warnings, (result.errors, result.warnings)


def test_bundle_without_domain_or_attribution() -> None:
    data = sample_data()
    data.incident.server_domain = None
    data.attribution = None
    data.ja3 = []
    data.records.flows = []  # one network-traffic for the whole span
    parsed = stix2.parse(render(data, "stix").decode(), allow_custom=False)
    assert [o.pattern for o in parsed.objects if o.type == "indicator"] == [f"[ipv4-addr:value = '{SERVER_IP}']"]
