"""Settings of the catalog service."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = Field(default=8101, ge=0, le=65535)
    pool_size: int = Field(default=10, ge=1)
    # Visit statistics count per calendar day in this time zone.
    stats_timezone: str = "Asia/Almaty"
    # Visit statistics keep the referring site and the city this long, then only the
    # day's hits per path and region (services/catalog/retention.py).
    page_hits_detail_days: float = Field(default=90.0, ge=1)
    # How often the scheduler looks for promotions whose start or end is due to announce
    # (PromotionStarted / PromotionEnded); prices follow the clock regardless.
    promotion_interval_s: float = Field(default=5.0, gt=0)
    # A MaxMind-format City database (make up: DB-IP IP to City Lite); none: no places.
    geoip_database: Path | None = None
    # What the database's licence asks the statistics to show with the places.
    geoip_attribution: str = ""
    # The raw hits (one row per page view, already coarse) are rolled up into the daily
    # counters once a day has been over this long, and destroyed after stats_raw_hits_days.
    stats_rollup_delay_s: float = Field(default=600.0, ge=0)
    stats_raw_hits_days: float = Field(default=7.0, ge=1)
    # The export for third parties leaves out every group of fewer hits (policy 4.4).
    stats_export_min_hits: int = Field(default=10, ge=1)
    # A product created without its own threshold alerts below this many free units.
    low_stock_threshold: int = Field(default=5, ge=0)

    @field_validator("stats_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return value
