"""The output forms: how each image is printed as it comes, and what ends the output.

Each image is printed as soon as it is answered, whole: memory does not grow with the number
of images, and stdout never holds half an image or an unclosed JSON array, even when the run
is interrupted (Ctrl-C: the images printed so far stay, the array is closed, exit 130) or a
source stops answering.

A form may give an image as chunks made while they are written (--contents --json, whose
object can be larger than the entries it is made of). Whatever can fail for that image fails
before its first chunk, and a Ctrl-C waits for its last, so the image is still whole; only
a bug while a chunk is made can cut it, and then nothing closes the array: output cut
short is never passed off as whole.
"""

import contextlib
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING

from inspector.cli.output import Progress, report, say_error, view_settings, write_output
from inspector.errors import ExitCode, ImageNotFound, ImginspectError, OutputError, RuleBroken
from inspector.image import Image

if TYPE_CHECKING:
    from inspector.template import Template


# An image's output: its bytes, or its chunks as they are made.
Printed = bytes | Iterable[bytes]


class OutputForm:
    """How each image is printed, and how the output ends; this one prints nothing (-q)."""

    def image(self, image: Image, document: bytes, *, first: bool) -> "Printed | None":
        """The bytes for one image (first: nothing was printed before), or its chunks, None
        for nothing; ImginspectError if the image cannot be shown, raised before any chunk."""
        return None

    def end(self, printed: int) -> bytes:
        """What ends a run that printed this many images (and ran to its end)."""
        return b""

    def failures(self) -> list[ImginspectError]:
        """The failures of the image last shown besides its output (the --ci rules it broke),
        taken: each is said once."""
        return []


class JSONForm(OutputForm):
    """--json and -f json: the source's bytes, re-spaced as docker prints them."""

    def __init__(self, *, compact: bool) -> None:
        from inspector.render import json as json_render

        if compact:
            self._element, self._end = json_render.compact_element, json_render.compact_end
        else:
            self._element, self._end = json_render.indented_element, json_render.indented_end

    def image(self, image: Image, document: bytes, *, first: bool) -> bytes:
        return self._element(document, first=first)

    def end(self, printed: int) -> bytes:
        return self._end(empty=not printed)


class FormatForm(OutputForm):
    """One line per image; an image the template fails on prints nothing and is an error.

    Raw, as docker prints it, for scripts; on a terminal, what could act on it (escape
    sequences, bidi overrides, ...) is shown escaped, newlines and tabs aside.
    """

    def __init__(self, template: "Template", *, on_terminal: bool) -> None:
        from inspector.render.format import format_image, format_lines

        self._format_image, self._format_lines = format_image, format_lines
        self._template = template
        self._escape: Callable[[str], str] | None = None
        if on_terminal:  # its pattern takes a millisecond to compile: not for a script's pipe
            from inspector.terminal import escape_unsafe

            self._escape = lambda line: escape_unsafe(line, keep="\n\t")

    def image(self, image: Image, document: bytes, *, first: bool) -> bytes:
        line = self._format_image(self._template, document)
        return self._format_lines([self._escape(line) if self._escape else line])

    def end(self, printed: int) -> bytes:
        return b"" if printed else self._format_lines([])


class ViewForm(OutputForm):
    """The default output: a readable block for each image (rich is imported only here)."""

    def __init__(self, color: str) -> None:
        from datetime import UTC, datetime

        from inspector.render import view

        self._view = view
        self._width, self._color = view_settings(color)
        self._now = datetime.now(UTC)  # one "now" for every image of the run

    def image(self, image: Image, document: bytes, *, first: bool) -> bytes:
        text = self._view.render_view([image], width=self._width, color=self._color, now=self._now)
        return (b"" if first else b"\n") + text.encode()  # as render_view parts its blocks


def stream(
    images: Generator[Image, None, None],
    form: OutputForm,
    progress: Progress,
    errors: list[ImginspectError],
) -> OutputError | None:
    """Print each image as it comes, adding the run's errors to errors as they come (the
    caller's list: they are said even when a Ctrl-C cuts the run short); the write's error,
    if it failed.

    Once stdout fails, nothing more is written, but every image is still asked for: each
    failure of the run gets its line, as when the output is whole.
    """
    unwritten: OutputError | None = None
    printed = 0
    cut = False  # an image's chunks broke off: what is written cannot be closed

    def whole(chunks: Iterable[bytes]) -> Iterable[bytes]:
        nonlocal cut
        cut = True
        yield from chunks
        cut = False

    def write(data: Printed) -> None:
        nonlocal unwritten
        if unwritten is None and data:
            progress.clear()
            try:
                write_output(data if isinstance(data, bytes) else whole(data))
            except OutputError as exc:
                unwritten = exc

    ended = False
    with contextlib.closing(images):
        try:
            for image in images:
                progress.advance()
                if image.inspect is None:
                    if image.error is not None:
                        errors.append(image.error)
                    continue
                try:
                    chunk = form.image(image, image.inspect, first=not printed)
                except ImginspectError as exc:
                    errors.append(exc)
                else:
                    if chunk is not None:
                        write(chunk)
                        printed += 1
                errors += form.failures()
                if image.source_error is not None:
                    errors.append(image.source_error)
            ended = True
        finally:
            progress.clear()
            if (ended or printed) and not cut:  # interrupted before any image: nothing
                write(form.end(printed))
    return unwritten


def output_form(
    *, quiet: bool, as_json: bool, compiled: "Template | str | None", color: str
) -> OutputForm:
    """The form the options ask for: -q, JSON, a template (`json`: one compact array), the
    view."""
    from inspector.cli.output import stdout_is_terminal

    if quiet:
        return OutputForm()
    if as_json or compiled == "json":
        return JSONForm(compact=compiled == "json")
    if compiled is None:
        return ViewForm(color)
    assert not isinstance(compiled, str)
    return FormatForm(compiled, on_terminal=stdout_is_terminal())


def print_images(
    images: Generator[Image, None, None], form: OutputForm, progress: Progress, *, quiet: bool
) -> int:
    """Print each image in the form, then say each failure on stderr; the exit status.

    -q says nothing of an image that is not found, or of a --ci rule broken: the exit status
    tells.
    """
    errors: list[ImginspectError] = []
    try:
        unwritten = stream(images, form, progress, errors)
    finally:  # a Ctrl-C too: what failed before it still gets its line
        for error in errors:
            if not (quiet and isinstance(error, ImageNotFound | RuleBroken)):
                report(error)
    code = max((error.exit_code for error in errors), default=ExitCode.OK)
    if unwritten is not None:  # said last: every failure of the run gets its line
        say_error(unwritten)
        return max(code, unwritten.exit_code)
    return code
