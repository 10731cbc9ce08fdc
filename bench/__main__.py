"""`make bench`: every benchmark in one run, figures and ratios printed."""

import asyncio

from bench import catalog_get, outbox_relay


async def main() -> None:
    await outbox_relay.run()
    await catalog_get.run()


asyncio.run(main())
