"""Asset context from DHCP and Kerberos logs on the wire and from the config's hosts list."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from leaktrace.assets import resolve_assets
from leaktrace.config import HostEntry
from leaktrace.engine import Engine
from leaktrace.ingest import ingest_paths
from leaktrace.lake import Lake
from leaktrace.workspace import Workspace
from tests.zeekgen import header

DHCP_FIELDS = ["ts", "uids", "client_addr", "server_addr", "mac", "host_name", "domain", "lease_time"]
DHCP_TYPES = ["time", "set[string]", "addr", "addr", "string", "string", "string", "interval"]
KRB_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "request_type", "client", "service"]
KRB_TYPES = ["time", "string", "addr", "port", "addr", "port", "string", "string", "string"]


def test_host_and_user_over_time(ws: Workspace, tmp_path: Path) -> None:
    dhcp = tmp_path / "dhcp.log"
    dhcp.write_text(header("dhcp", DHCP_FIELDS, DHCP_TYPES)
                    + "1700000000.0\tCa\t10.1.0.5\t10.1.0.1\taa:bb\tpc-0001\tmof.local\t86400.0\n"
                    + "1700050000.0\tCb\t10.1.0.5\t10.1.0.1\tcc:dd\tpc-0099\tmof.local\t86400.0\n")
    krb = tmp_path / "kerberos.log"
    krb.write_text(header("kerberos", KRB_FIELDS, KRB_TYPES)
                   + "1700000100.0\tCk\t10.1.0.5\t50000\t10.1.0.2\t88\tAS\ttanaka/MOF.LOCAL\tkrbtgt/MOF.LOCAL\n")
    ingest_paths(ws, [dhcp, krb])
    ws.config.assets.hosts = [HostEntry(ip="10.9.9.9", name="fileserver"), HostEntry(ip="10.1.0.5", name="x")]
    eng = Engine.for_lake(Lake(ws.lake_dir))
    early = resolve_assets(eng, ws.config, ["10.1.0.5", "10.9.9.9", "10.7.7.7"],
                           at=datetime.fromtimestamp(1700000200, UTC))
    assert early["10.1.0.5"].host_name == "pc-0001" and early["10.1.0.5"].user == "tanaka"
    assert early["10.9.9.9"].host_name == "fileserver" and early["10.9.9.9"].evidence == "config"
    assert "10.7.7.7" not in early
    late = resolve_assets(eng, ws.config, ["10.1.0.5"], at=datetime.fromtimestamp(1700060000, UTC))
    assert late["10.1.0.5"].host_name == "pc-0099"
