"""Two tasks that succeed in 0.1 s and 0.2 s under a 5 s timeout.

multi-await 1.0.4 raised TimeoutError here after 0.1 s and cancelled the second.
"""

import asyncio

from multi_await import wait_or_abort


async def async_main() -> None:
    fast = asyncio.create_task(asyncio.sleep(0.1, result="fast"))
    slow = asyncio.create_task(asyncio.sleep(0.2, result="slow"))
    done = await wait_or_abort([fast, slow], timeout=5)
    print("results:", [await task for task in done])


asyncio.run(async_main(), debug=True)
