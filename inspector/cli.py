"""The command line: parse, fetch, render; the only module that writes or exits."""

import contextlib
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from inspector import __version__, source
from inspector.connection import (
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    Connection,
    DaemonFlags,
    resolve_connection,
)
from inspector.environment import help_section
from inspector.errors import (
    ArchiveChoiceNeeded,
    DaemonError,
    ExitCode,
    ImageNotFound,
    ImginspectError,
    OutputError,
    TemplateSyntaxError,
    UsageError,
)
from inspector.reference import ImageReference, Platform, parse_platform, parse_reference
from inspector.source import ArchiveSource
from inspector.terminal import escape_unsafe

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from inspector.archive import ArchiveImage
    from inspector.compare import Difference
    from inspector.template import Template

EPILOG = """\b
Examples:
  imginspect nginx:latest                   show an image, readably
  imginspect --color=always app:1.0 | less -R
  imginspect --json app:1.0 | jq '.[0].Config.Env'
  imginspect -f json app:1.0 db:2           one compact JSON array
  imginspect -f '{{.Config.User}} {{json .Config.Cmd}}' app:1.0
  imginspect -q app:1.0 || docker pull app:1.0
  imginspect ./app.tar                      an image saved by docker or podman save
  imginspect oci:./layout:1.0 --platform linux/arm64
  imginspect --diff app:1.0 ./app-1.1.tar   what changed; exit 1 if anything did

\b
Exit status:
  0    every image was found and printed
  1    at least one image was not found (the others are still printed)
  2    usage error: bad option, invalid image reference, template syntax error
  3    daemon problem: unreachable, permission denied, timeout, error or bad answer
  4    a template could not be evaluated for an image
  70   internal error (a bug; IMGINSPECT_DEBUG=1 shows the traceback)
  74   output could not be written
  130  interrupted
When several things fail, the highest status wins. With --diff, as diff(1):
0 the same, 1 different, 2 or more trouble (an image not found is 2).

\b
The daemon, as docker chooses it:
  --context, then --host, then DOCKER_HOST, then DOCKER_CONTEXT, then
  currentContext in $DOCKER_CONFIG/config.json, then unix:///var/run/docker.sock.
  --debug says which one was chosen and why.

\b
Environment:
"""
# One table for --help and the man page (scripts/generate), so the two cannot disagree.
EPILOG += help_section() + "\n"


if TYPE_CHECKING:  # click >= 8.5 types ParamType as a generic; older clicks cannot subscript it
    from inspector.daemon import Daemon

    _ReferenceBase = click.ParamType[ImageReference, Any]
    _PlatformBase = click.ParamType[Platform | None, Any]
    _TimeoutBase = click.ParamType[float, Any]
else:
    _ReferenceBase = click.ParamType
    _PlatformBase = click.ParamType
    _TimeoutBase = click.ParamType


class ReferenceType(_ReferenceBase):
    """An image reference or ID, validated before anything is sent to the daemon."""

    name = "image"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> ImageReference:
        if isinstance(value, ImageReference):
            return value
        try:
            return parse_reference(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list["CompletionItem"]:
        """Local image names, and IDs for a word in hex, from the daemon the command would ask."""
        from click.shell_completion import CompletionItem

        from inspector.completion import complete_image  # the stdlib only: TAB must be quick

        host, context = ctx.params.get("host"), ctx.params.get("context")
        return [
            CompletionItem(value, help=description)
            for value, description in complete_image(
                host if isinstance(host, str) else None,
                incomplete,
                os.environ,
                context if isinstance(context, str) else None,
            )
        ]


def _complete_context(incomplete: str) -> list[str]:
    from inspector.completion import complete_context

    return complete_context(incomplete, os.environ)


class PlatformType(_PlatformBase):
    """os/arch[/variant], normalized as docker does; empty means none, as in docker."""

    name = "platform"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Platform | None:
        if value is None or isinstance(value, Platform):
            return value
        if not str(value):
            return None
        try:
            return parse_platform(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


if TYPE_CHECKING:
    _SourceBase = click.ParamType[ImageReference | ArchiveSource, Any]
else:
    _SourceBase = click.ParamType


class SourceType(_SourceBase):
    """An image for the daemon, or an archive or layout to read: checked before any I/O."""

    name = "image"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> ImageReference | ArchiveSource:
        if isinstance(value, ImageReference | ArchiveSource):
            return value
        text = str(value)
        if not names_a_file(text):
            return ReferenceType().convert(value, param, ctx)
        try:
            named = source.parse_source(text)
            source.check_source(named)
        except UsageError as exc:
            self.fail(str(exc), param, ctx)
        return named

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list["CompletionItem"]:
        """The daemon's image names, as for a plain IMAGE (paths are the shell's to complete)."""
        return ReferenceType().shell_complete(ctx, param, incomplete)


def names_a_file(text: str) -> bool:
    """A path rather than an image name: docker-archive:, oci-archive: or oci: before it, an
    existing file or layout directory, or a `/` in something that is no image reference
    (`./app.tar`, `/tmp/app.tar`); anything else goes to the daemon."""
    if source.has_prefix(text):
        return True
    if not text or "\x00" in text:  # no path holds a NUL; the reference check says why
        return False
    path = Path(text)
    try:
        if path.is_dir():  # a directory named like an image (`nginx/`): the image, unless a layout
            return source.is_layout_directory(text) or not _is_reference(text)
        exists = path.exists()
    except OSError:  # a name too long, a directory we may not search: no file we can read
        exists = False
    return exists or ("/" in text and not _is_reference(text))


def _is_reference(text: str) -> bool:
    try:
        parse_reference(text)
    except UsageError:
        return False
    return True


class TimeoutType(_TimeoutBase):
    """Seconds, more than 0 and at most MAX_TIMEOUT: nan, inf and typos fail before any I/O."""

    name = "seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT:
            self.fail(
                f"{value!r} is not more than 0 and at most {MAX_TIMEOUT:g} seconds", param, ctx
            )
        return seconds


@dataclass
class Outcome:
    """What a run produced, image by image in the order asked: an answer or an error."""

    results: list[bytes | ImginspectError] = field(default_factory=list)
    # The view only, one per document: its reference as asked, and its history or why none.
    asked: list[str] = field(default_factory=list)
    histories: list[bytes | ImginspectError] = field(default_factory=list)
    # For the view too: the archive each image was read from (None: from the daemon).
    origins: list["ArchiveImage | None"] = field(default_factory=list)
    # By the index of a history that leaves a layer's step open: the layer counts of the step
    # images that settle it, by their history Id (`fetch_layer_counts`).
    layer_counts: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def documents(self) -> list[bytes]:
        return [result for result in self.results if isinstance(result, bytes)]

    @property
    def errors(self) -> list[ImginspectError]:
        return [result for result in self.results if isinstance(result, ImginspectError)]

    @property
    def exit_code(self) -> int:
        return max((error.exit_code for error in self.errors), default=ExitCode.OK)


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.argument("images", nargs=-1, required=True, type=SourceType(), metavar="IMAGE...")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the daemon's JSON, exactly as docker does."
)
@click.option(
    "-f",
    "--format",
    "template",
    metavar="TEMPLATE",
    help="Format each image with a Go template, as docker -f does; 'json' prints one compact "
    "JSON array.",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Print nothing; the exit status says if all images exist."
)
@click.option(
    "--diff",
    is_flag=True,
    help="Compare two images (A B): what differs, and the layers they share; exit 0 if the "
    "same, 1 if not.",
)
@click.option(
    "--platform",
    type=PlatformType(),
    metavar="OS/ARCH[/VARIANT]",
    help="Inspect this platform of a multi-platform image (API 1.49+, e.g. linux/arm64), "
    "or pick it from an archive holding several.",
)
@click.option(
    "--manifests",
    is_flag=True,
    help="Ask for the image's manifests: each platform, and whether it is here (API 1.48+).",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the view: auto means on a terminal, unless NO_COLOR or TERM=dumb say no.",
)
@click.option(
    "-H",
    "--host",
    metavar="URL",
    help="Daemon to ask: unix:///path or tcp://host:port [env: DOCKER_HOST].",
)
@click.option(
    "--context",
    metavar="NAME",
    shell_complete=lambda ctx, param, incomplete: _complete_context(incomplete),
    help="Docker context to use (overrides DOCKER_HOST, DOCKER_CONTEXT) [env: DOCKER_CONTEXT].",
)
@click.option("--tls", is_flag=True, help="Use TLS; implied by --tlsverify [env: DOCKER_TLS].")
@click.option(
    "--tlsverify",
    is_flag=True,
    help="Use TLS and verify the daemon's certificate [env: DOCKER_TLS_VERIFY].",
)
@click.option(
    "--tlscacert",
    metavar="PATH",
    help="Trust only daemon certificates signed by this CA [default: DOCKER_CERT_PATH/ca.pem].",
)
@click.option(
    "--tlscert",
    metavar="PATH",
    help="Client certificate for TLS [default: DOCKER_CERT_PATH/cert.pem].",
)
@click.option(
    "--tlskey", metavar="PATH", help="Client key for TLS [default: DOCKER_CERT_PATH/key.pem]."
)
@click.option(
    "--timeout",
    type=TimeoutType(),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help=f"Give up on a request to the daemon that takes longer (at most {MAX_TIMEOUT:g}).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Say on stderr which daemon is used and why, the API version, and each request.",
)
@click.version_option(__version__, "--version", prog_name="imginspect")
def imginspect(
    images: tuple[ImageReference | ArchiveSource, ...],
    as_json: bool,
    template: str | None,
    quiet: bool,
    diff: bool,
    color: str,
    platform: Platform | None,
    manifests: bool,
    host: str | None,
    context: str | None,
    tls: bool,
    tlsverify: bool,
    tlscacert: str | None,
    tlscert: str | None,
    tlskey: str | None,
    timeout: float,
    debug: bool,
) -> int:
    """Inspect container images through the Docker (or Podman) daemon, or in archives.

    Without --json or --format, each image is shown as a readable summary: what runs, as
    whom, on which ports, from which layers, how big and how old.

    IMAGE is a name (nginx, nginx:1.27, registry.example.com:5000/team/app:1.0),
    a digest reference (app@sha256:...), or a full or short image ID; or a path to an
    image archive (docker save, podman save, oci-archive; also gzipped) or an OCI layout
    directory, read without a daemon: ./app.tar, docker-archive:PATH[:NAME],
    oci-archive:PATH[:NAME], oci:DIR[:NAME].
    """
    if as_json and template:
        raise click.UsageError("use either --json or --format, not both")
    if diff and (template or len(images) != 2):
        raise click.UsageError(
            "--diff compares two images: give exactly two, and no --format"
            if len(images) != 2
            else "--diff prints a view or --json, not --format"
        )
    compiled = compile_format(template) if template and template != "json" else None
    connection = None
    log = _debug_line if debug or os.environ.get("IMGINSPECT_DEBUG") == "1" else None
    if any(isinstance(image, ImageReference) for image in images):
        flags = DaemonFlags(
            host=host,
            context=context,
            tls=tls,
            tlsverify=tlsverify,
            tlscacert=tlscacert,
            tlscert=tlscert,
            tlskey=tlskey,
            timeout=timeout,
        )
        try:
            connection = resolve_connection(flags, os.environ)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from exc
        for warning in connection.warnings:
            say("Warning", warning)
        if log:
            for reason in connection.reasons:
                log(reason)

    view = not as_json and not template
    outcome = fetch(
        connection,
        images,
        log=log,
        platform=platform,
        manifests=manifests,
        with_history=(view or diff) and not quiet,
    )
    if diff:
        return show_difference(images, outcome, as_json=as_json, quiet=quiet, color=color)

    if quiet:
        output = None
    elif view:
        output = render_view(outcome, color)
    elif compiled is not None:
        output = render_format(compiled, outcome, on_terminal=stdout_is_terminal())
    else:
        output = render_json(outcome.documents, compact=template == "json")
    unwritten: OutputError | None = None
    if output is not None:
        try:
            write_output(output)
        except OutputError as exc:  # said last: every failure of the run gets its line
            unwritten = exc
    for error in outcome.errors:
        if quiet and isinstance(error, ImageNotFound):
            continue
        report(error)
    if unwritten is not None:
        say_error(unwritten)
        return max(outcome.exit_code, unwritten.exit_code)
    return outcome.exit_code


def fetch(
    connection: Connection | None,
    images: Sequence[ImageReference | ArchiveSource],
    *,
    log: Callable[[str], None] | None = None,
    platform: Platform | None = None,
    manifests: bool = False,
    with_history: bool = False,
) -> Outcome:
    """Each image in order, from the daemon or its archive; one that fails stops no other."""
    outcome = Outcome()
    # Archives name their platforms as containerd does; the daemon gets docker's query.
    archive_platform = source.normalize_platform(str(platform)) if platform else None
    with contextlib.ExitStack() as stack:
        daemon: Daemon | None = None
        gone = False  # the daemon stopped answering: ask it nothing more
        for image in images:
            if isinstance(image, ArchiveSource):
                read_archive(image, outcome, with_history=with_history, platform=archive_platform)
                continue
            if gone:
                continue
            if daemon is None:
                assert connection is not None  # resolved whenever an image is the daemon's
                daemon = stack.enter_context(open_daemon(connection, log))
                try:  # an option the daemon's API lacks is a usage error, before any image
                    daemon.check_inspect_options(platform=platform is not None, manifests=manifests)
                except DaemonError as exc:
                    outcome.results.append(exc)
                    gone = True
                    continue
            try:
                outcome.results.append(
                    daemon.inspect(image, platform=platform, manifests=manifests)
                )
            except DaemonError as exc:
                outcome.results.append(exc)
                gone = exc.fatal  # the next request would fail the same way
            except ImginspectError as exc:
                outcome.results.append(exc)
            else:
                if with_history and not fetch_history(daemon, image, outcome):
                    gone = True
    return outcome


def open_daemon(connection: Connection, log: Callable[[str], None] | None) -> "Daemon":
    from inspector.daemon import Daemon  # requests is heavy: import it only when asking

    return Daemon(connection, log)


def read_archive(
    named: ArchiveSource, outcome: Outcome, *, with_history: bool, platform: str | None
) -> None:
    """Read one image from an archive into the outcome, as if a daemon had answered."""
    from inspector.archive import read_image  # tarfile and the compressors: only to read

    try:
        image = read_image(named, platform)
    except ImginspectError as exc:
        outcome.results.append(exc)
        return
    outcome.results.append(image.inspect)
    if with_history:
        outcome.asked.append(named.text)
        outcome.histories.append(image.history)
        outcome.origins.append(image)


def fetch_history(daemon: "Daemon", image: ImageReference, outcome: Outcome) -> bool:
    """Add the image's history, or why it has none; False when the daemon is gone.

    An image whose history cannot be read is still shown, with a note instead of the
    history: the exit status only changes when the daemon itself stops answering.
    """
    outcome.asked.append(image.text)
    outcome.origins.append(None)
    try:
        history = daemon.history(image)
    except ImginspectError as exc:
        outcome.histories.append(exc)
        if isinstance(exc, DaemonError) and exc.fatal:
            outcome.results.append(exc)
            return False
        return True
    outcome.histories.append(history)
    return fetch_layer_counts(daemon, history, outcome)


def fetch_layer_counts(daemon: "Daemon", history: bytes, outcome: Outcome) -> bool:
    """Where the history leaves open which step made a layer, ask for the step images it
    names (at most 32): their numbers of layers settle it. False when the daemon is gone.

    A step image that is missing or fails is no error: the view lists the possible steps.
    """
    from inspector.layers import image_ids_to_ask, layer_count

    inspect = outcome.results[-1]
    assert isinstance(inspect, bytes)  # the history is asked for after the image's answer
    counts: dict[str, int] = {}
    outcome.layer_counts[len(outcome.histories) - 1] = counts
    for image_id in image_ids_to_ask(inspect, history):
        try:
            count = layer_count(daemon.inspect(parse_reference(image_id)))
        except ImginspectError as exc:  # pruned, an Id that is no reference, a 500: left out
            if isinstance(exc, DaemonError) and exc.fatal:
                outcome.results.append(exc)
                return False
            continue
        if count is not None:
            counts[image_id] = count
    return True


def render_view(outcome: Outcome, color: str) -> bytes:
    """The default output: a readable block for each image (rich is imported only here)."""
    from datetime import UTC, datetime

    from inspector.render import table

    answers = [
        table.ImageAnswer(
            asked,
            document,
            history if isinstance(history, bytes) else None,
            None if isinstance(history, bytes) else str(history),
            origin.origin if origin else None,
            origin.stored_size if origin else None,
            outcome.layer_counts.get(index),
        )
        for index, (asked, document, history, origin) in enumerate(
            zip(outcome.asked, outcome.documents, outcome.histories, outcome.origins, strict=True)
        )
    ]
    width, use_color = view_settings(color)
    text = table.render_view(answers, width=width, color=use_color, now=datetime.now(UTC))
    return text.encode()


def view_settings(color: str) -> tuple[int, bool]:
    """The width and colour of the view (and of --diff's), from the terminal and environment."""
    from inspector.render import table

    is_terminal = stdout_is_terminal()
    try:
        columns: int | None = os.get_terminal_size(sys.stdout.fileno()).columns
    except (AttributeError, OSError, ValueError):  # AttributeError: stdout is closed (None)
        columns = None
    return (
        table.output_width(os.environ, columns),
        table.want_color(color, os.environ, is_terminal),
    )


def show_difference(
    images: Sequence[ImageReference | ArchiveSource],
    outcome: Outcome,
    *,
    as_json: bool,
    quiet: bool,
    color: str,
) -> int:
    """--diff: exit 0 when the two are the same and 1 when they differ, as diff(1) does."""
    if outcome.errors:
        for error in outcome.errors:
            report(error)
        # diff(1) keeps 1 for "different": trouble is 2 or more, so a missing image is 2.
        return max(ExitCode.USAGE, outcome.exit_code)
    difference = compare_images(images, outcome)
    if not quiet:
        write_output(render_difference(difference, as_json=as_json, color=color))
    return ExitCode.OK if difference.same else ExitCode.DIFFERENT


def compare_images(
    images: Sequence[ImageReference | ArchiveSource], outcome: Outcome
) -> "Difference":
    from inspector.compare import Image, compare

    histories = [h if isinstance(h, bytes) else None for h in outcome.histories] or [None, None]
    a, b = (
        Image(image.text, document, history, outcome.layer_counts.get(index))
        for index, (image, document, history) in enumerate(
            zip(images, outcome.documents, histories, strict=True)
        )
    )
    return compare(a, b)


def render_difference(difference: "Difference", *, as_json: bool, color: str) -> bytes:
    if as_json:
        from inspector.render.diff_json import diff_document

        return diff_document(difference)
    from inspector.render.diff_view import render_diff

    width, use_color = view_settings(color)
    return render_diff(difference, width=width, color=use_color).encode()


def compile_format(template: str) -> "Template":
    """Parse --format before anything is asked of the daemon: a syntax error is exit 2."""
    from inspector.template import compile_template

    return compile_template(template)


def render_format(template: "Template", outcome: Outcome, *, on_terminal: bool = False) -> bytes:
    """One line per image; an image the template fails on prints nothing and is an error.

    Raw, as docker prints it, for scripts; on a terminal, what could act on it (escape
    sequences, bidi overrides, ...) is shown escaped, newlines and tabs aside.
    """
    from inspector.render.format import format_image, format_lines

    lines: list[str] = []
    for index, result in enumerate(outcome.results):
        if isinstance(result, bytes):
            try:
                line = format_image(template, result)
            except ImginspectError as exc:
                outcome.results[index] = exc
            else:
                lines.append(escape_unsafe(line, keep="\n\t") if on_terminal else line)
    return format_lines(lines)


def render_json(documents: Sequence[bytes], *, compact: bool) -> bytes:
    from inspector.render import json as json_render

    if compact:
        return json_render.compact_array(documents)
    return json_render.indented_array(documents)


def write_output(data: bytes) -> None:
    """Write all of stdout at once; a closed pipe ends quietly, other failures exit 74."""
    if sys.stdout is None:  # started with fd 1 closed (`>&-`): Python has no stdout at all
        raise OutputError("cannot write the output: stdout is closed")
    out = sys.stdout.buffer
    pending = memoryview(data)
    try:
        with _interrupt_after_writing():
            # Unbuffered (PYTHONUNBUFFERED=1), stdout is a raw file whose write() may stop short.
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
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; the CLI writes from it
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if caught:
        raise KeyboardInterrupt


def stdout_is_terminal() -> bool:
    """True when stdout is a terminal; False when it is anything else, or closed."""
    return sys.stdout is not None and sys.stdout.isatty()


def _discard_stdout() -> None:
    # Point fd 1 at /dev/null so the interpreter's final flush cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def report(error: ImginspectError) -> None:
    """An error's line on stderr, and the lines that list an archive's images if it has them."""
    say_error(error)
    if isinstance(error, ArchiveChoiceNeeded):
        for choice in error.choices:
            say_line(f"  {choice}")


def say_error(error: BaseException | str) -> None:
    """One line on stderr; control characters from the daemon are shown escaped, not obeyed."""
    say("Error", error)


def say(kind: str, message: BaseException | str) -> None:
    """One `Kind: message` line on stderr, with control characters shown escaped."""
    say_line(f"{kind}: {message}")


def say_line(text: str) -> None:
    with contextlib.suppress(OSError):  # nowhere left to say it; the exit status still tells
        click.echo(escape_unsafe(text), err=True)


def _debug_line(line: str) -> None:
    say("debug", line)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command and turn every outcome, expected or not, into an exit status."""
    try:
        code = imginspect.main(
            args=list(sys.argv[1:] if argv is None else argv),
            prog_name="imginspect",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        say_error(exc.format_message())
        return ExitCode.USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    except TemplateSyntaxError as exc:
        first, *caret = str(exc).splitlines() or [""]
        say_error(first)
        for line in caret:  # the template's line and a caret under the spot
            say_line(line)
        return exc.exit_code
    except ImginspectError as exc:
        report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:  # the one top-level guard
        if os.environ.get("IMGINSPECT_DEBUG") == "1":
            import traceback

            traceback.print_exc()
        say_error(f"internal error: {type(exc).__name__}: {exc}; please report it")
        return ExitCode.INTERNAL
    return int(code or 0)


def main() -> NoReturn:
    try:
        code = run()
    except KeyboardInterrupt:  # after run's own guard, before here
        code = ExitCode.INTERRUPTED
    # The work is done and said: a Ctrl-C now could only add a traceback, or kill the
    # interpreter as it flushes and exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
