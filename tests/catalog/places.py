"""A small MaxMind-format City database with known networks (mmdb-writer), for the tests'
places: what the beacon looks up instead of the DB-IP database ``make up`` uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

ALMATY = "95.56.0.0/16"
ASTANA = "178.89.0.0/16"
SHYMKENT = "2.134.0.0/16"
KARAGANDA_V6 = "2a03:e2c0::/32"

# network -> (city as the database names it, region)
NETWORKS: dict[str, tuple[str, str]] = {
    ALMATY: ("Almaty (Almaly Audany)", "Almaty"),  # a district: the beacon keeps the city
    ASTANA: ("Astana", "Astana"),
    SHYMKENT: ("Shymkent", "Shymkent"),
    KARAGANDA_V6: ("Karaganda", "Karaganda Region"),
}


def _record(city: str, region: str) -> dict[str, Any]:
    return {
        "city": {"names": {"en": city}},
        "subdivisions": [{"names": {"en": region}}],
        "country": {"iso_code": "KZ", "names": {"en": "Kazakhstan"}},
        "location": {"latitude": 43.25, "longitude": 76.95},  # finer than a city: never kept
    }


def write_places(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="Test-City")
    for network, (city, region) in NETWORKS.items():
        writer.insert_network(IPSet([network]), _record(city, region))
    writer.to_db_file(str(path))
    return path
