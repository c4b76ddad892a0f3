"""A Trio program that reads two memory channels with the select loop, ``multi_await()``.

Start a server to stand in for two feeds (from the repository root,
``python -m tests.integration.local_server`` prints its base URL), then::

    python examples/trio_channels_select.py BASE_URL

Two producer tasks fetch pages with httpx and send each body into a memory channel
of their own, then close it. The consumer waits on both channels at once with
``multi_await()``: each ``get()`` returns what arrived, by channel, and a
``receive()`` still pending stays pending for the next ``get()``, so no item is
lost. ``MultiAwait`` calls a source again after each completion, also after the
channel has ended, so a closed channel's source parks until the block is left;
leaving the block cancels what is still pending and waits for it.
"""

from __future__ import annotations

import argparse

import httpx
import trio

from multi_await import multi_await


async def produce(
    client: httpx.AsyncClient, urls: list[str], channel: trio.MemorySendChannel[str]
) -> None:
    async with channel:
        for url in urls:
            response = await client.get(url)
            response.raise_for_status()
            await channel.send(response.text)


class Feed:
    """One channel as a source of the select loop; once it has ended, never again."""

    def __init__(self, name: str, channel: trio.MemoryReceiveChannel[str]) -> None:
        self.name = name
        self.channel = channel
        self.open = True

    async def next_item(self) -> str | None:
        if not self.open:
            await trio.sleep_forever()
        try:
            return await self.channel.receive()
        except trio.EndOfChannel:
            self.open = False
            return None


async def consume(feeds: list[Feed]) -> None:
    async with multi_await() as m:
        for feed in feeds:
            m.add(feed.next_item)
        while any(feed.open for feed in feeds):
            for feed, item in zip(feeds, await m.get_or_raise(), strict=True):
                if item is not None:
                    print(f"{feed.name}: {item}")
    print("both channels have ended")


async def main(base_url: str) -> None:
    sources = {
        "news": [f"{base_url}/fast/news-{i}" for i in range(1, 4)],
        "weather": [f"{base_url}/delay/0.05/weather-{i}" for i in range(1, 3)],
    }
    async with httpx.AsyncClient() as client, trio.open_nursery() as nursery:
        feeds = []
        for name, urls in sources.items():
            send, receive = trio.open_memory_channel[str](0)
            nursery.start_soon(produce, client, urls, send)
            feeds.append(Feed(name, receive))
        await consume(feeds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the local server, e.g. http://127.0.0.1:8080")
    trio.run(main, parser.parse_args().base_url.rstrip("/"))
