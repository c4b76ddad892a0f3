"""The HTTP scripts in examples/ run against the local server and say what they should."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .integration.local_server import LocalServer, Record, serving
from .support import CONNECT_TCP_LEAKS

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as running:
        yield running


def run_example(name: str, *args: str, warnings: tuple[str, ...] = ()) -> list[str]:
    """The lines a script prints; its warnings are errors, proxy settings ignored.

    *warnings* are more ``-W`` options for Python, after ``-W error``.
    """
    environment = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    options = [option for warning in ("error", *warnings) for option in ("-W", warning)]
    run = subprocess.run(
        [sys.executable, *options, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    return run.stdout.splitlines()


def no_request_left_hanging(server: LocalServer) -> Record:
    """Every connection closed; every request the server received answered or abandoned."""
    record = server.observe_blocking(
        "every connection closed", lambda record: record.open_connections == 0
    )
    assert sorted(record.received) == sorted(record.answered + record.abandoned)
    return record


def test_aiohttp_fan_out_raises_the_503_once_the_other_requests_are_cancelled(
    server: LocalServer,
) -> None:
    lines = run_example("http_fan_out_aiohttp.py", server.base_url)
    assert lines[0].startswith("failed: ClientResponseError: 503, message='Service Unavailable'")
    assert server.status("localhost", 503) in lines[0]
    assert lines[1:] == [
        "  archive.org: cancelled",
        "  localhost: failed",
        "  fsf.org: cancelled",
        "the session still works: 200 again",
    ]
    assert no_request_left_hanging(server).answered == ["localhost", "again"]


def test_aiohttp_fan_out_raises_the_refused_connection(server: LocalServer) -> None:
    lines = run_example(
        "http_fan_out_aiohttp.py", server.base_url, "--fail-with", server.refused_url
    )
    assert lines[0].startswith("failed: ClientConnectorError: Cannot connect to host 127.0.0.1")
    assert lines[1:] == [
        "  archive.org: cancelled",
        "  refused: failed",
        "  fsf.org: cancelled",
        "the session still works: 200 again",
    ]
    assert no_request_left_hanging(server).answered == ["again"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_httpx_fan_out_closes_every_request_before_raising_the_503(
    server: LocalServer, backend: str
) -> None:
    lines = run_example("http_fan_out_httpx.py", server.base_url, "--backend", backend)
    assert sorted(lines[:3]) == [
        "  catalog: request closed",
        "  prices: request closed",
        "  reviews: request closed",
    ]
    assert lines[3] == (
        "failed: HTTPStatusError: Server error '503 Service Unavailable' "
        f"for url '{server.status('prices', 503)}'"
    )
    assert lines[-1] == "the client still works: 200 again"
    no_request_left_hanging(server)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_httpx_fan_out_closes_every_request_before_raising_the_connect_error(
    server: LocalServer, backend: str
) -> None:
    lines = run_example(
        "http_fan_out_httpx.py",
        server.base_url,
        "--backend",
        backend,
        "--fail-with",
        server.refused_url,
        # AnyIO's own leak, shown by tests/integration/test_httpx_client.py.
        warnings=("ignore::ResourceWarning",) if CONNECT_TCP_LEAKS else (),
    )
    assert sorted(lines[:3]) == [
        "  catalog: request closed",
        "  prices: request closed",
        "  reviews: request closed",
    ]
    assert lines[3].startswith("failed: ConnectError: ")
    assert lines[4:] == ["the client still works: 200 again"]
    assert no_request_left_hanging(server).answered == ["again"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_deadline_keeps_the_answers_in_time_and_cancels_the_stalled_request(
    server: LocalServer, backend: str
) -> None:
    lines = run_example("http_deadline.py", server.base_url, "--backend", backend)
    assert lines == [
        "in time: index: 'index'",
        "in time: news: 'news'",
        "deadline of 1 s passed; cancelled: stalled",
    ]
    record = no_request_left_hanging(server)
    assert record.abandoned == ["stalled"]


def test_trio_select_loop_receives_every_item_of_both_channels(server: LocalServer) -> None:
    lines = run_example("trio_channels_select.py", server.base_url)
    assert [line for line in lines if line.startswith("news")] == [
        "news: news-1",
        "news: news-2",
        "news: news-3",
    ]
    assert [line for line in lines if line.startswith("weather")] == [
        "weather: weather-1",
        "weather: weather-2",
    ]
    assert lines[-1] == "both channels have ended"
    assert len(lines) == 6
    assert no_request_left_hanging(server).abandoned == []


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_crawler_gives_up_on_the_stalled_page_alone_and_crawls_the_rest(
    server: LocalServer, backend: str
) -> None:
    lines = run_example("http_crawler.py", server.base_url, "--backend", backend)
    assert lines == [
        "index: 'index'",
        "about: 'about'",
        "news: 'news'",
        "stalled: gave up after 0.5 s",
        "contact: 'contact'",
        "archive: 'archive'",
    ]
    record = no_request_left_hanging(server)
    assert record.abandoned == ["stalled"]
    assert sorted(record.answered) == ["about", "archive", "contact", "index", "news"]
