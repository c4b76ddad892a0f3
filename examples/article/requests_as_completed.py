"""The article's last program: three requests, the middle one fails.

Stand-in coroutines replace the HTTP client: 'localhost' refuses the connection.
"""

import asyncio

from multi_await import as_completed_or_abort

finished: list[str] = []


async def get(url: str) -> int:
    try:
        if url == "http://localhost":
            await asyncio.sleep(0.05)
            raise ConnectionRefusedError(f"cannot connect to {url}")
        await asyncio.sleep(10)
        return 200
    finally:
        finished.append(url)


async def async_main() -> None:
    urls = ["http://archive.org", "http://localhost", "http://fsf.org"]
    try:
        for task in as_completed_or_abort([asyncio.create_task(get(x)) for x in urls]):
            status = await task
            print(status)
    except ConnectionRefusedError as exc:
        print(f"caught ConnectionRefusedError: {exc}")
    print("finished:", sorted(finished))


asyncio.run(async_main(), debug=True)
