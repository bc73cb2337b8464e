"""What a run has already asked, kept: the first thread to want a thing asks for it, the others
wait for its answer, and nothing answered (or failed) is asked again in the same run."""

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Generic, TypeVar

from inspector.errors import RegistryTimeout
from inspector.sources.registry.transport import Deadline

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class Memo(Generic[Key, Value]):
    """Answers by key, each asked once; a failure is kept and raised to each who asks."""

    def __init__(self) -> None:
        self._futures: dict[Key, Future[Value]] = {}
        self._lock = threading.Lock()

    def peek(self, key: Key) -> Value | None:
        """The answer for key if it has come, without asking or waiting; None otherwise."""
        with self._lock:
            future = self._futures.get(key)
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    def get(self, key: Key, ask: Callable[[], Value], deadline: Deadline) -> Value:
        with self._lock:
            future = self._futures.get(key)
            mine = future is None
            if future is None:
                future = self._futures[key] = Future()
        if mine:
            try:
                value = ask()
            except BaseException as exc:
                future.set_exception(exc)
                raise
            future.set_result(value)
            return value
        try:
            return future.result(timeout=max(deadline.left, 0))
        except FutureTimeout as exc:
            raise RegistryTimeout(
                f"no answer within {deadline.seconds:g} seconds (waiting for another image's)"
            ) from exc
