"""The many-image tests' fake daemon."""

from collections.abc import Iterator

import pytest

from tests.fake_daemon import FakeDaemon, ping


@pytest.fixture
def fake() -> Iterator[FakeDaemon]:
    with FakeDaemon({"/_ping": ping("1.50")}) as daemon:
        yield daemon
