"""A polite crawler: pages from an async source, a start rate, a time limit per request.

Start a server to stand in for the site (from the repository root,
``python -m tests.integration.local_server`` prints its base URL), then::

    python examples/http_crawler.py BASE_URL [--backend trio]

The pages come one at a time from an async generator, as they would from a sitemap
being read or a queue of links. ``map_or_abort`` pulls a page only when one of its
``max_concurrency`` slots is free, starts at most ``max_per_second`` requests a
second, and gives each request ``input_timeout`` seconds of its own: the page that
never answers is cancelled, its connection closed, and its ``TimeoutError`` comes
back in its place (``return_exceptions=True``) while the crawl goes on. The whole
crawl still has its own ``timeout``.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import anyio
import httpx

from multi_await import map_or_abort

PAGES = ["index", "about", "news", "stalled", "contact", "archive"]


async def pages(base_url: str) -> AsyncIterator[str]:
    for name in PAGES:
        route = "hang" if name == "stalled" else "delay/0.05" if name == "news" else "fast"
        yield f"{base_url}/{route}/{name}"


async def crawl(base_url: str) -> None:
    async with httpx.AsyncClient() as client:

        async def fetch(url: str) -> str:
            response = await client.get(url)
            response.raise_for_status()
            return response.text

        async with map_or_abort(
            fetch,
            pages(base_url),
            max_concurrency=3,
            max_per_second=20,
            input_timeout=0.5,
            timeout=30,
            return_exceptions=True,
        ) as results:
            names = iter(PAGES)  # the stream is in the order of the pages
            async for result in results:
                name = next(names)
                if isinstance(result, TimeoutError):
                    print(f"{name}: gave up after 0.5 s")
                else:
                    print(f"{name}: {result!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the local server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    anyio.run(crawl, args.base_url.rstrip("/"), backend=args.backend)


if __name__ == "__main__":
    main()
