"""Writing: stdout whole or not at all, one line on stderr per failure, the progress line."""

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

import click

from inspector.errors import ArchiveChoiceNeeded, ImginspectError, OutputError


def write_output(data: bytes | Iterable[bytes]) -> None:
    """Write all of data to stdout, bytes or chunks as they are made; a closed pipe ends
    quietly, other failures exit 74.

    Chunks are one output as bytes are: a Ctrl-C takes effect after the last. An exception
    raised while a chunk is made leaves the output cut where it is.
    """
    if sys.stdout is None:  # started with fd 1 closed (`>&-`): Python has no stdout at all
        raise OutputError("cannot write the output: stdout is closed")
    out = sys.stdout.buffer
    try:
        with _interrupt_after_writing():
            for chunk in (data,) if isinstance(data, bytes) else data:
                pending = memoryview(chunk)
                # Unbuffered (PYTHONUNBUFFERED=1), stdout is a raw file whose write() may stop
                # short.
                while pending:
                    written = out.write(pending)
                    pending = pending[written or 0 :]
            out.flush()
    except BrokenPipeError:
        _discard_stdout()
    except OSError as exc:
        _discard_stdout()
        raise OutputError(f"cannot write the output: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def _interrupt_after_writing() -> Iterator[None]:
    """A Ctrl-C during the write takes effect once the output is whole: never half an answer.

    The reader gets the same Ctrl-C (a pipeline is one process group): if it goes away
    instead of reading, the write ends with a closed pipe, and the interruption follows.
    """
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        # Only the main thread may set handlers (the CLI writes from it); an ignored Ctrl-C
        # (nohup, a background job) stays ignored.
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if caught:
        raise KeyboardInterrupt


def _discard_stdout() -> None:
    # Point fd 1 at /dev/null so the interpreter's final flush cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def stdout_is_terminal() -> bool:
    """True when stdout is a terminal; False when it is anything else, or closed."""
    return sys.stdout is not None and sys.stdout.isatty()


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # None (closed at start), or closed since
        return False


def view_settings(color: str) -> tuple[int, bool]:
    """The width and colour of the view (and of --diff's), from the terminal and environment."""
    from inspector.render import view

    try:
        columns: int | None = os.get_terminal_size(sys.stdout.fileno()).columns
    except (AttributeError, OSError, ValueError):  # AttributeError: stdout is closed (None)
        columns = None
    return (
        view.output_width(os.environ, columns),
        view.want_color(color, os.environ, stdout_is_terminal()),
    )


# -- stderr -----------------------------------------------------------------------------------


def report(error: ImginspectError) -> None:
    """An error's line on stderr, and the lines that list an archive's images if it has them."""
    say_error(error)
    if isinstance(error, ArchiveChoiceNeeded):
        for choice in error.choices:
            say_line(f"  {choice}")


def say_error(error: BaseException | str) -> None:
    """One line on stderr; control characters from the daemon are shown escaped, not obeyed."""
    say("Error", error)


def say_warning(message: str) -> None:
    say("Warning", message)


def say_debug(line: str) -> None:
    say("debug", line)


def say(kind: str, message: BaseException | str) -> None:
    """One `Kind: message` line on stderr, with control characters shown escaped."""
    say_line(f"{kind}: {message}")


def say_line(text: str) -> None:
    from inspector.terminal import escape_unsafe

    with contextlib.suppress(OSError):  # nowhere left to say it; the exit status still tells
        click.echo(escape_unsafe(text), err=True)


class Progress:
    """`imginspect: 120/300 images` on stderr, on one line that nothing else is mixed with:
    only on a terminal, only once the run has taken longer than a moment, and erased before
    any output or error line."""

    DELAY = 0.5  # seconds before it shows at all
    INTERVAL = 0.1  # seconds between redraws

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled
        self._total: int | None = None
        self._done = 0
        self._shown = False
        self._next = time.monotonic() + self.DELAY

    def expect(self, total: int) -> None:
        self._total = total

    def advance(self) -> None:
        self._done += 1
        if not self._enabled or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.INTERVAL
        of = f"/{self._total}" if self._total is not None else ""
        self._say(f"\r\x1b[Kimginspect: {self._done}{of} images")
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self._say("\r\x1b[K")
            self._shown = False

    def _say(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # stderr gone: the run goes on
            sys.stderr.write(text)
            sys.stderr.flush()
