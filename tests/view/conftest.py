"""The view tests' fake daemon."""

from collections.abc import Iterator

import pytest

from tests.fake_daemon import FakeDaemon, Response, history_path, inspect_path, ping
from tests.helpers import real, step_images


@pytest.fixture
def fake_image() -> Iterator[FakeDaemon]:
    """A daemon that knows `a` (lab-full's captured answers) and nothing else."""
    inspect, history = real("lab-full")
    with FakeDaemon({"/_ping": ping("1.50"), **step_images("lab-full")}) as fake:
        fake.routes[inspect_path("a")] = Response(200, inspect)
        fake.routes[history_path("a")] = Response(200, history)
        yield fake
