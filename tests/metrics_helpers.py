"""Reading a service's ``GET /metrics`` in tests: the samples by name and labels."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape_text(base_url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        return await response.text()


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    """A sample's value, 0 when the series was never touched."""
    return found.get((name, frozenset(labels.items())), 0.0)
