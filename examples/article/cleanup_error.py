"""The article's cleanup_task: its finally block writes to the file it just closed.

The RuntimeError propagates out of asyncio.run, as in the article; its printed
traceback also shows the ValueError the cancelled task raised while cleaning up.
"""

import asyncio
import os
import tempfile

from multi_await import wait_or_abort


async def task_that_fails() -> None:
    raise RuntimeError("task failed")


async def cleanup_task(path: str) -> None:
    i = 0
    f = open(path, "w")  # noqa: ASYNC230, SIM115 - the article's own program
    try:
        while True:
            await asyncio.sleep(1.0)
            i += 1
            f.write(f"test output {i}!\n")
    finally:
        f.close()
        f.write("done\n")  # the article's bug: the file is already closed


async def async_main(path: str) -> None:
    task0 = asyncio.create_task(asyncio.sleep(10.0))
    task1 = asyncio.create_task(task_that_fails())
    task2 = asyncio.create_task(cleanup_task(path))
    await wait_or_abort([task0, task1, task2], timeout=1.0)


with tempfile.TemporaryDirectory() as folder:
    asyncio.run(async_main(os.path.join(folder, "example.out")), debug=True)
