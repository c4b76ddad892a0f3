"""Fan out to several services; the first failure stops the others, cleanly.

Run with ``python examples/fan_out.py asyncio`` or ``python examples/fan_out.py trio``.
"""

from __future__ import annotations

import sys

import anyio

from multi_await import gather_or_abort, secondary_errors


async def fetch(service: str, seconds: float, fail: bool = False) -> str:
    try:
        await anyio.sleep(seconds)
        if fail:
            raise ConnectionError(f"{service}: connection refused")
        return f"{service}: 200 OK"
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.sleep(0.01)  # close the connection politely
        print(f"  {service} closed")


async def main() -> None:
    try:
        results = await gather_or_abort(
            fetch("archive", 0.3),
            fetch("localhost", 0.05, fail=True),
            fetch("fsf", 0.2),
            timeout=5,
        )
    except ConnectionError as exc:
        print(f"failed: {exc}; other failures: {list(secondary_errors(exc))}")
    else:
        print(results)


if __name__ == "__main__":
    anyio.run(main, backend=sys.argv[1] if len(sys.argv) > 1 else "asyncio")
