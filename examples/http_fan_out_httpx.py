"""Fan out with httpx on asyncio or Trio: the first failing request cancels the others.

Start a server to stand in for the services (from the repository root,
``python -m tests.integration.local_server`` prints its base URL), then::

    python examples/http_fan_out_httpx.py BASE_URL [--backend trio] [--fail-with URL]

"catalog" answers after 5 seconds and "reviews" never answers. "prices" fails:
by default the server answers it with 503 Service Unavailable, which
``raise_for_status()`` turns into ``httpx.HTTPStatusError``; ``--fail-with`` makes
it call another URL instead, such as a port where nothing listens
(``httpx.ConnectError``). ``gather_or_abort`` raises that very exception, and only
once the other two requests have been cancelled and have finished: every
request's "request closed" line comes before the failure.
"""

from __future__ import annotations

import argparse

import anyio
import httpx

from multi_await import gather_or_abort


async def fetch(client: httpx.AsyncClient, name: str, url: str) -> str:
    try:
        response = await client.get(url)
        response.raise_for_status()
        return response.text
    finally:
        print(f"  {name}: request closed")


async def fan_out(base_url: str, failing_url: str) -> None:
    async with httpx.AsyncClient() as client:
        try:
            pages = await gather_or_abort(
                fetch(client, "catalog", f"{base_url}/delay/5/catalog"),
                fetch(client, "prices", failing_url),
                fetch(client, "reviews", f"{base_url}/hang/reviews"),
                timeout=30,
            )
        except httpx.HTTPError as exc:
            print(f"failed: {type(exc).__name__}: {exc}")
        else:
            print(pages)
        response = await client.get(f"{base_url}/fast/again")
        print(f"the client still works: {response.status_code} {response.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the local server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--fail-with", metavar="URL", help="the URL of the failing request")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    failing_url = args.fail_with or f"{base_url}/status/503/prices"
    anyio.run(fan_out, base_url, failing_url, backend=args.backend)


if __name__ == "__main__":
    main()
