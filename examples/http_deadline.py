"""A batch of requests with a deadline: keep what arrived in time, cancel the rest.

Start a server to stand in for the services (from the repository root,
``python -m tests.integration.local_server`` prints its base URL), then::

    python examples/http_deadline.py BASE_URL [--backend trio]

Of the three requests, "index" answers at once, "news" after 0.1 seconds and
"stalled" never. ``as_completed_or_abort(..., timeout=1)`` gives each body as it
arrives, with ``indexed()`` saying which request it answers; when the deadline
passes, "stalled" is cancelled, its connection closed, and then ``TimeoutError``
is raised.
"""

from __future__ import annotations

import argparse

import anyio
import httpx

from multi_await import as_completed_or_abort

DEADLINE = 1.0


async def fetch(client: httpx.AsyncClient, url: str) -> str:
    response = await client.get(url)
    response.raise_for_status()
    return response.text


async def batch(base_url: str) -> None:
    names = ["index", "news", "stalled"]
    urls = [f"{base_url}/fast/index", f"{base_url}/delay/0.1/news", f"{base_url}/hang/stalled"]
    arrived: list[str] = []
    async with httpx.AsyncClient() as client:
        try:
            aws = [fetch(client, url) for url in urls]
            async with as_completed_or_abort(aws, timeout=DEADLINE) as completed:
                async for index, body in completed.indexed():
                    arrived.append(names[index])
                    print(f"in time: {names[index]}: {body!r}")
        except TimeoutError:
            late = [name for name in names if name not in arrived]
            print(f"deadline of {DEADLINE:g} s passed; cancelled: {', '.join(late)}")
        else:
            print("every request answered in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the local server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    anyio.run(batch, args.base_url.rstrip("/"), backend=args.backend)


if __name__ == "__main__":
    main()
