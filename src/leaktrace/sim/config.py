"""Realism knobs of the simulator, in one typed place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from leaktrace.errors import ConfigError


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that shapes a simulated ministry network. Defaults give a plausible weekday."""

    hosts: int = 50
    days: int = 1
    seed: int = 1
    start: str = "2026-03-02"  # local date of the first day (a Monday by default)
    tz_offset_hours: int = 9  # JST; business hours are local, timestamps are UTC epoch
    documents: int | None = None  # share size; default scales with hosts (60..200)

    # office life (local hours)
    arrive_hour: float = 8.8
    leave_hour: float = 19.3  # Kasumigaseki works late
    absent_fraction: float = 0.07
    always_on_fraction: float = 0.15  # PCs left on overnight (machine traffic continues)
    weekend_presence: float = 0.04

    # browsing
    web_flows_per_host_hour: float = 70.0  # mean at full activity; per-host rate is log-normal around it
    host_rate_sigma: float = 0.6
    external_sites: int | None = None  # long tail size; default scales with hosts
    zipf_exponent: float = 1.1
    favourite_share: float = 0.45  # of flows that go to the host's own favourite sites
    favourites_per_host: int = 12
    plain_http_share: float = 0.07
    dns_miss_share: float = 0.3  # flows preceded by a DNS lookup (the rest hit the cache)

    # machine-generated periodic traffic (benign beacon-like, to servers every host uses)
    telemetry_period_s: float = 900.0
    av_period_s: float = 300.0
    mail_poll_period_s: float = 120.0

    endpoint_connect_share: float = 0.04  # background connections also logged as Sysmon 3 by the PC

    # routine episodes, per present host per day
    doc_reads_per_day: float = 9.0
    cloud_upload_prob: float = 0.12
    cloud_upload_mb: tuple[float, float] = (20.0, 80.0)
    video_call_prob: float = 0.3
    video_call_mbps: tuple[float, float] = (0.3, 1.2)  # upstream
    video_call_minutes: tuple[float, float] = (25.0, 90.0)
    os_update_prob: float = 0.5
    os_update_mb: tuple[float, float] = (80.0, 900.0)
    inbound_mails_per_day: float = 12.0
    attachment_share: float = 0.2
    partner_group: int = 6  # hosts of one team that exchange files with a partner organisation's server
    partner_upload_mb: tuple[float, float] = (0.5, 6.0)
    rare_site_hosts: int = 6  # hosts that touch a server nobody else uses, with small traffic
    rare_upload_kb: tuple[float, float] = (20.0, 600.0)

    # the attack
    beacon_period_s: float = 60.0
    beacon_jitter: float = 0.2
    docs_taken: tuple[int, int] = (15, 25)
    exfil_connections: tuple[int, int] = (1, 4)
    exfil_via_c2_prob: float = 0.4
    exfil_rate_mbps: tuple[float, float] = (3.0, 12.0)

    # generation
    rows_per_chunk: int = 600_000  # target conn rows per generated time slice (bounds memory)
    share_dirs: tuple[str, ...] = field(
        default=(
            "総務課",
            "会計課",
            "人事課",
            "国際協力局/アジア大洋州",
            "国際協力局/欧州",
            "政策企画室",
            "広報室",
            "情報システム室",
        )
    )

    def __post_init__(self) -> None:
        if not 4 <= self.hosts <= 204_800:
            raise ConfigError(f"simulate needs 4 to 204,800 hosts, got {self.hosts}")
        if self.days < 1:
            raise ConfigError("simulate needs at least 1 day", None)
        try:
            date.fromisoformat(self.start)
        except ValueError as exc:
            raise ConfigError(f"start must be YYYY-MM-DD, got {self.start!r}") from exc
        lo, hi = self.docs_taken
        if not 1 <= lo <= hi:
            raise ConfigError(f"docs_taken must be an increasing pair, got {self.docs_taken}")

    @property
    def n_documents(self) -> int:
        if self.documents is not None:
            return max(self.documents, self.docs_taken[1] + 10)
        return int(min(200, max(60, 60 + self.hosts // 5)))

    @property
    def n_external_sites(self) -> int:
        if self.external_sites is not None:
            return self.external_sites
        return int(min(60_000, 1500 + 6 * self.hosts))
