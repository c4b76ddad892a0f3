"""What a user or a library meets before any call: names, version, reprs, errors."""

from __future__ import annotations

import copy
import importlib.metadata
import pickle

import anyio
import anyio.lowlevel
import pytest

import multi_await
from multi_await import InputCancelledError, MultiAwait, as_completed_or_abort

from .conftest import ASYNCIO_BACKENDS
from .support import Probe
from .typing import user_program

#: The ``return_when`` values: strings, which carry no module.
CONSTANTS = {"ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"}


@pytest.mark.parametrize("name", sorted(set(multi_await.__all__) - CONSTANTS))
def test_every_public_object_reports_the_public_module(name: str) -> None:
    assert getattr(multi_await, name).__module__ == "multi_await"


def test_the_return_when_constants_are_their_own_names() -> None:
    assert {name: getattr(multi_await, name) for name in CONSTANTS} == {
        name: name for name in CONSTANTS
    }


def test_the_version_is_the_installed_distributions() -> None:
    assert multi_await.__version__ == importlib.metadata.version("multi-await")


class TestInputCancelledErrorCrossesProcessBoundaries:
    error = InputCancelledError(2, "task 'victim'")

    def same(self, other: InputCancelledError) -> None:
        assert type(other) is InputCancelledError
        assert other is not self.error
        assert other.index == 2
        assert str(other) == str(self.error)
        assert other.args == self.error.args
        assert "input 2 (task 'victim')" in str(other)

    def test_pickle(self) -> None:
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            self.same(pickle.loads(pickle.dumps(self.error, protocol)))

    def test_copy(self) -> None:
        self.same(copy.copy(self.error))

    def test_deepcopy(self) -> None:
        self.same(copy.deepcopy(self.error))


@pytest.mark.anyio
class TestReprs:
    async def test_as_completed_or_abort_says_how_far_it_got(self) -> None:
        probe = Probe()
        completed = as_completed_or_abort(
            [probe.returns("a", 1), probe.returns("b", 2, checkpoints=50)]
        )
        assert repr(completed) == "<as_completed_or_abort not started, inputs=2, finished=0>"
        async with completed:
            assert await anext(completed) == 1
            assert repr(completed) == "<as_completed_or_abort open, inputs=2, finished=1>"
        assert repr(completed) == "<as_completed_or_abort closed, inputs=2, finished=2>"

    async def test_multi_await_says_what_is_pending_and_undelivered(self) -> None:
        send, receive = anyio.create_memory_object_stream[int](1)
        never_send, never_receive = anyio.create_memory_object_stream[int]()
        async with send, receive, never_send, never_receive:
            m = MultiAwait()
            m.add(receive.receive)
            m.add(never_receive.receive)
            async with m:
                assert repr(m) == "<MultiAwait sources=2, pending=0, undelivered=0>"
                with anyio.CancelScope() as scope:
                    scope.cancel()
                    await m.get()  # calls both sources; the wait alone is cancelled
                assert repr(m) == "<MultiAwait sources=2, pending=2, undelivered=0>"
                await send.send(1)
                for _ in range(100):
                    if "undelivered=1" in repr(m):
                        break
                    await anyio.lowlevel.checkpoint()
                assert repr(m) == "<MultiAwait sources=2, pending=1, undelivered=1>"
            assert m.undelivered() == ([1, None], [None, None])


def test_repr_of_an_unentered_multi_await_needs_no_event_loop() -> None:
    assert repr(MultiAwait()) == "<MultiAwait sources=0, pending=0, undelivered=0>"


@pytest.mark.anyio
async def test_the_typed_program_runs() -> None:
    await user_program.main()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ASYNCIO_BACKENDS)
async def test_the_typed_program_runs_its_asyncio_part() -> None:
    await user_program.asyncio_main()
