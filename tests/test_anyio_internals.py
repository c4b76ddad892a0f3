"""The AnyIO internals the abort on asyncio relies on, and what happens without them.

If a release of AnyIO changes them, the first test here fails and says what changed;
the library itself then falls back to cancelling each input once, natively.
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest

from multi_await import gather_or_abort
from multi_await._adapters import _anyio_scopes

from .conftest import ASYNCIO_BACKENDS

pytestmark = pytest.mark.anyio


@pytest.fixture(params=ASYNCIO_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    return request.param


def test_anyio_has_the_internals_the_abort_needs() -> None:
    assert _anyio_scopes.UNSUPPORTED is None, (
        f"{_anyio_scopes.UNSUPPORTED}: AnyIO shields inside inputs would no longer hold "
        "off an abort on asyncio; adapt src/multi_await/_adapters/_anyio_scopes.py"
    )


async def test_without_them_each_input_is_cancelled_once_natively_shield_or_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_anyio_scopes, "UNSUPPORTED", "as if AnyIO had changed")
    log: list[str] = []
    ready = anyio.Event()

    async def shielded() -> None:
        with anyio.CancelScope(shield=True):
            ready.set()
            try:
                await anyio.sleep(3600)
            finally:
                log.append("interrupted inside the shield")

    async def fails() -> None:
        await ready.wait()
        raise RuntimeError

    with pytest.raises(RuntimeError):
        await gather_or_abort(shielded(), fails())
    assert log == ["interrupted inside the shield"]
