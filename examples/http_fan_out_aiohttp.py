"""The article's three requests with aiohttp: the first failure cancels the others.

Start a server to stand in for the public sites (from the repository root,
``python -m tests.integration.local_server`` prints its base URL), then::

    python examples/http_fan_out_aiohttp.py BASE_URL
    python examples/http_fan_out_aiohttp.py BASE_URL --fail-with URL

"archive.org" answers after 5 seconds and "fsf.org" never answers. The middle
request fails: by default the server answers it with 503 Service Unavailable,
which the session turns into ``aiohttp.ClientResponseError``; ``--fail-with`` makes
it call another URL instead, such as a port where nothing listens (the article's
``http://localhost``). The loop is the article's, unchanged: the failure reaches
it only once the other two requests have been cancelled and have finished, and
the session is left ready for the next request.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp

from multi_await import as_completed_or_abort


async def async_main(base_url: str, failing_url: str) -> None:
    urls = [f"{base_url}/delay/5/archive.org", failing_url, f"{base_url}/hang/fsf.org"]
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        tasks = [asyncio.create_task(session.get(x)) for x in urls]
        try:
            for task in as_completed_or_abort(tasks):
                result = await task
                await result.read()
                print(result.status)
        except aiohttp.ClientError as exc:
            print(f"failed: {type(exc).__name__}: {exc}")
        for url, task in zip(urls, tasks, strict=True):
            state = "cancelled" if task.cancelled() else "failed" if task.exception() else "done"
            print(f"  {url.rsplit('/', 1)[-1]}: {state}")
        async with session.get(f"{base_url}/fast/again") as response:
            print(f"the session still works: {response.status} {await response.text()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the local server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--fail-with", metavar="URL", help="the URL of the failing request")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    failing_url = args.fail_with or f"{base_url}/status/503/localhost"
    asyncio.run(async_main(base_url, failing_url))


if __name__ == "__main__":
    main()
