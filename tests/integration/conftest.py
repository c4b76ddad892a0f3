"""The local HTTP server every integration test talks to; nothing else on the network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .local_server import LocalServer, serving


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A fresh server per test, so a test's record holds only its own requests."""
    with serving() as running:
        yield running
