"""`make bench`: every benchmark in one run, figures and ratios printed."""

from bench import (
    campaign,
    catalog_get,
    catalog_search,
    checkout,
    customer_erasure,
    customer_export,
    customer_releases,
    customers_me,
    floor,
    outbox_relay,
    stats_beacon,
)
from shared import eventloop


async def main() -> None:
    await outbox_relay.run()
    await catalog_get.run()
    await catalog_search.run()
    await stats_beacon.run()
    await customers_me.run()
    await customer_releases.run()
    await checkout.run()
    await customer_export.run()
    await customer_erasure.run()
    await campaign.run()
    await floor.run()


eventloop.run(main())
