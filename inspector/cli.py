"""The command line: parse, fetch, render; the only module that writes or exits."""

import contextlib
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import click

from inspector import __version__
from inspector.connection import (
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    Connection,
    DaemonFlags,
    resolve_connection,
)
from inspector.errors import (
    DaemonError,
    ExitCode,
    ImageNotFound,
    ImginspectError,
    OutputError,
    TemplateSyntaxError,
    UsageError,
)
from inspector.reference import ImageReference, Platform, parse_platform, parse_reference
from inspector.terminal import escape_unsafe

if TYPE_CHECKING:
    from inspector.template import Template

EPILOG = """\b
Examples:
  imginspect nginx:latest                   show an image, readably
  imginspect --color=always app:1.0 | less -R
  imginspect --json app:1.0 | jq '.[0].Config.Env'
  imginspect -f json app:1.0 db:2           one compact JSON array
  imginspect -f '{{.Config.User}} {{json .Config.Cmd}}' app:1.0
  imginspect -q app:1.0 || docker pull app:1.0

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
When several things fail, the highest status wins.

\b
The daemon, as docker chooses it:
  --context, then --host, then DOCKER_HOST, then DOCKER_CONTEXT, then
  currentContext in $DOCKER_CONFIG/config.json, then unix:///var/run/docker.sock.
  --debug says which one was chosen and why.

\b
Environment:
  DOCKER_HOST          daemon address (unix:///path, tcp://host:port)
  DOCKER_CONTEXT       docker context to use (see `docker context ls`)
  DOCKER_CONFIG        docker's config directory (default ~/.docker)
  DOCKER_TLS_VERIFY    any value: as --tlsverify
  DOCKER_TLS           any value: as --tls
  DOCKER_CERT_PATH     directory of ca.pem, cert.pem, key.pem (default DOCKER_CONFIG)
  DOCKER_API_VERSION   pin the API version instead of asking the daemon
  IMGINSPECT_DEBUG     1: as --debug, and show tracebacks of internal errors
  NO_COLOR             non-empty: no colour in the view (--color beats it)
  FORCE_COLOR          non-empty: colour in the view even when piped
  TERM                 dumb: no colour in the view
  COLUMNS              the width of the view (default: the terminal's, or 80)
  TZ                   the time zone of the times in the view
"""


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
@click.argument("images", nargs=-1, required=True, type=ReferenceType(), metavar="IMAGE...")
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
    "--platform",
    type=PlatformType(),
    metavar="OS/ARCH[/VARIANT]",
    help="Inspect this platform of a multi-platform image (API 1.49+, e.g. linux/arm64).",
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
    images: tuple[ImageReference, ...],
    as_json: bool,
    template: str | None,
    quiet: bool,
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
    """Inspect container images through the Docker (or Podman) daemon.

    Without --json or --format, each image is shown as a readable summary: what runs, as
    whom, on which ports, from which layers, how big and how old.

    IMAGE is a name (nginx, nginx:1.27, registry.example.com:5000/team/app:1.0),
    a digest reference (app@sha256:...), or a full or short image ID.
    """
    if as_json and template:
        raise click.UsageError("use either --json or --format, not both")
    compiled = compile_format(template) if template and template != "json" else None
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
    log = _debug_line if debug or os.environ.get("IMGINSPECT_DEBUG") == "1" else None
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
        with_history=view and not quiet,
    )

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
        say_error(error)
    if unwritten is not None:
        say_error(unwritten)
        return max(outcome.exit_code, unwritten.exit_code)
    return outcome.exit_code


def fetch(
    connection: Connection,
    images: Sequence[ImageReference],
    *,
    log: Callable[[str], None] | None = None,
    platform: Platform | None = None,
    manifests: bool = False,
    with_history: bool = False,
) -> Outcome:
    """Ask the daemon for each image in order; one that fails does not stop the others."""
    from inspector.daemon import Daemon  # requests is heavy: import it only when asking

    outcome = Outcome()
    with Daemon(connection, log) as daemon:
        try:  # an option the daemon's API lacks is a usage error, raised before any image
            daemon.check_inspect_options(platform=platform is not None, manifests=manifests)
        except DaemonError as exc:
            outcome.results.append(exc)
            return outcome
        for image in images:
            try:
                outcome.results.append(
                    daemon.inspect(image, platform=platform, manifests=manifests)
                )
            except DaemonError as exc:
                outcome.results.append(exc)
                if exc.fatal:  # the next request would fail the same way
                    break
            except ImginspectError as exc:
                outcome.results.append(exc)
            else:
                if with_history and not fetch_history(daemon, image, outcome):
                    break
    return outcome


def fetch_history(daemon: "Daemon", image: ImageReference, outcome: Outcome) -> bool:
    """Add the image's history, or why it has none; False when the daemon is gone.

    An image whose history cannot be read is still shown, with a note instead of the
    history: the exit status only changes when the daemon itself stops answering.
    """
    outcome.asked.append(image.text)
    try:
        outcome.histories.append(daemon.history(image))
    except ImginspectError as exc:
        outcome.histories.append(exc)
        if isinstance(exc, DaemonError) and exc.fatal:
            outcome.results.append(exc)
            return False
    return True


def render_view(outcome: Outcome, color: str) -> bytes:
    """The default output: a readable block for each image (rich is imported only here)."""
    from datetime import UTC, datetime

    from inspector.render import table

    answers = [
        table.ImageAnswer(asked, document, history)
        if isinstance(history, bytes)
        else table.ImageAnswer(asked, document, None, str(history))
        for asked, document, history in zip(
            outcome.asked, outcome.documents, outcome.histories, strict=True
        )
    ]
    is_terminal = stdout_is_terminal()
    try:
        columns: int | None = os.get_terminal_size(sys.stdout.fileno()).columns
    except (AttributeError, OSError, ValueError):  # AttributeError: stdout is closed (None)
        columns = None
    text = table.render_view(
        answers,
        width=table.output_width(os.environ, columns),
        color=table.want_color(color, os.environ, is_terminal),
        now=datetime.now(UTC),
    )
    return text.encode()


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
        say_error(exc)
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
