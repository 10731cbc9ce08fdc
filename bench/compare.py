"""The checkout against its floor in one run: ``bench.floor`` then ``bench.checkout``, with
short phases, and one JSON line at the end that says whether the goal holds.

    .venv/bin/python -m bench.compare

Defaults (each an environment variable the two benchmarks read, set here only when unset):
``BENCH_FLOOR_SECONDS`` 4 per step, ``BENCH_SECONDS`` 30 closed loop, ``BENCH_OPEN_SECONDS``
15 for the open loop at ``BENCH_SUSTAINED_SHARE`` 0.5 of the closed loop's rate (below
saturation), ``BENCH_RATE`` 0 (the open loop past saturation skipped), ``BENCH_CUSTOMERS``
100. About three minutes on a quiet machine. The last line holds ``orders_per_s``,
``cpu_ms_per_order`` (every process working for the shop, not the load generator),
``floor_ms_per_order``, ``cpu_ratio`` (the first over the second; the goal is at most 2),
``lost`` and ``doubled`` (the goal is 0), the below-saturation p99s, the same ratio of the
whole machine's CPU (``machine_cpu_ratio``: other sessions' work counts on both sides), and
the load average before and after (the machine may be shared: the ratio within one run is
what counts).
"""

from __future__ import annotations

import json
import os
from typing import Any

from shared import eventloop

DEFAULTS = {
    "BENCH_FLOOR_SECONDS": "4",
    "BENCH_SECONDS": "30",
    "BENCH_OPEN_SECONDS": "15",
    "BENCH_SUSTAINED_SHARE": "0.5",
    "BENCH_RATE": "0",
    "BENCH_CUSTOMERS": "100",
}


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


async def compare() -> dict[str, Any]:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Imported here: both read their knobs from the environment when imported.
    from bench import checkout, floor

    load_before = load_average()
    bare = await floor.run()
    shop = await checkout.run()
    ratio = shop["cpu_ms_per_order"] / bare["floor_ms_per_order"]
    result = {
        "bench": "compare",
        "orders_per_s": shop["orders_per_s"],
        "cpu_ms_per_order": shop["cpu_ms_per_order"],
        "floor_ms_per_order": bare["floor_ms_per_order"],
        "cpu_ratio": round(ratio, 3),
        "lost": shop["lost"],
        "doubled": shop["doubled"],
        "machine_cpu_ratio": round(
            shop["machine_cpu_ms_per_order"] / bare["machine_floor_ms_per_order"], 3
        ),
        "ceiling_orders_per_s": bare["ceiling_orders_per_s"],
        "sustained_rate": shop["sustained"]["rate"],
        "sustained_checkout_p99_ms": shop["sustained"]["checkout_api"]["p99_ms"],
        "sustained_courier_p99_ms": shop["sustained"]["checkout_to_courier"]["p99_ms"],
        "cpu_ms_per_order_by_process": shop["cpu_ms_per_order_by_process"],
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    eventloop.run(compare())
