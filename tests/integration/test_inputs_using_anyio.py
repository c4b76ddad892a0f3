"""Inputs that use AnyIO cancel scopes themselves, as httpx and httpcore do.

httpcore's ``connect_tcp`` runs AnyIO's happy-eyeballs task group, which cancels its
own scope the moment a connection succeeds. An abort that arrives in that same
step must still stop the input.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from multi_await import gather_or_abort

from ..conftest import ASYNCIO_BACKENDS

pytestmark = pytest.mark.anyio


class TestAsyncio:
    @pytest.fixture(params=ASYNCIO_BACKENDS)
    def anyio_backend(self, request: pytest.FixtureRequest) -> Any:
        return request.param

    async def test_an_abort_is_not_lost_to_the_inputs_own_scope_cancelled_in_the_same_step(
        self,
    ) -> None:
        log: list[str] = []

        async def connects() -> None:
            async with anyio.create_task_group() as tg:

                async def connected() -> None:
                    tg.cancel_scope.cancel()  # like happy eyeballs, once a connection is up

                tg.start_soon(connected)
                await anyio.sleep_forever()
            log.append("left its own scope")
            # An input the abort missed runs on: with sleep_forever() the call would hang.
            for _ in range(10):
                await asyncio.sleep(0)
            log.append("ran on after the abort")

        async def fails() -> None:
            raise RuntimeError("refused")

        with pytest.raises(RuntimeError):
            await gather_or_abort(connects(), fails())
        assert "ran on after the abort" not in log
