"""A robust connection to whichever node of a RabbitMQ cluster answers.

``AMQP_URL`` may name several nodes of one cluster, comma-separated
(``amqp://u:p@mq-0:5672/shop,amqp://u:p@mq-1:5672/shop,...``); a single URL is the usual
case and behaves as aio-pika's robust connection. aio-pika reconnects to the one URL it was
given (aio-pika issue 141), so a node taken down would be retried forever while its peers
serve the same queues: ``NodesConnection`` moves to the next node when the connection to one
is lost and after every attempt that fails, round robin.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aio_pika import RobustConnection
from yarl import URL


def node_urls(amqp_url: str) -> list[str]:
    """The node URLs of an ``AMQP_URL`` (one or several, comma-separated)."""
    urls = [part.strip() for part in amqp_url.split(",") if part.strip()]
    if not urls:
        raise ValueError("no AMQP URL")
    return urls


class NodesConnection(RobustConnection):
    """aio-pika's robust connection, rotating through ``urls`` (the first one first)."""

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        self.node_urls = [URL(url) for url in urls]
        self._node = 0
        super().__init__(self.node_urls[0], **kwargs)

    def _next_node(self) -> None:
        self._node = (self._node + 1) % len(self.node_urls)
        self.url = self.node_urls[self._node]

    # aio-pika's reconnection loop calls this private method for every attempt; it is the one
    # place where the URL of the next attempt can be chosen.
    async def _RobustConnection__connect_transport(self) -> None:
        try:
            await super()._RobustConnection__connect_transport()  # type: ignore[misc]
        except Exception:
            self._next_node()
            raise

    async def _on_connection_close(self, closing: asyncio.Future[Any]) -> None:
        if not self._close_called:
            self._next_node()
        await super()._on_connection_close(closing)
