"""The fault tests' fixtures: a fake daemon, a scratch directory, and a check that no test
leaves a thread running."""

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_daemon import FakeDaemon, ping


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [thread for thread in threading.enumerate() if thread not in before]
    assert leaked == [], f"threads left running: {leaked}"


@pytest.fixture
def fake() -> Iterator[FakeDaemon]:
    """A daemon speaking API 1.50 that knows no images until the test adds routes."""
    with FakeDaemon({"/_ping": ping("1.50")}) as daemon:
        yield daemon


@pytest.fixture
def scratch() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="imginspect-test-", dir="/tmp"))
    yield directory
    for child in directory.iterdir():
        child.unlink()
    directory.rmdir()
