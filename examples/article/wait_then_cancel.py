"""The article's asyncio.wait programs: a failure while another task sleeps."""

import asyncio

from multi_await import wait_or_abort


async def task_that_fails() -> None:
    raise RuntimeError("task failed")


async def async_main() -> None:
    task0 = asyncio.create_task(asyncio.sleep(10.0))
    task1 = asyncio.create_task(task_that_fails())
    try:
        await wait_or_abort([task0, task1], timeout=1.0)
    except RuntimeError as exc:
        print(f"caught RuntimeError: {exc}")
    print(f"task0 done: {task0.done()}, cancelled: {task0.cancelled()}")


asyncio.run(async_main(), debug=True)
