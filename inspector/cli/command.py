"""The command line: parse, fetch, render; the only module that writes or exits."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

import click

from inspector import DEFAULT_TIMEOUT, MAX_TIMEOUT, __version__
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

# What a path needs is imported where it is needed (issue 8): --help, --version, usage errors
# and TAB completion load none of the daemon's layers, --json no template engine or rich.
# tests/test_imports.py checks each path.
if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from inspector.compare import Difference
    from inspector.reference import ImageReference, Platform
    from inspector.sources.archive.names import ArchiveName
    from inspector.sources.archive.reader import ArchiveImage
    from inspector.sources.daemon.endpoint import Connection
    from inspector.template import Template

EPILOG = """\b
Examples:
  imginspect nginx:latest                   show an image, readably
  imginspect --color=always app:1.0 | less -R
  imginspect --json app:1.0 | jq '.[0].Config.Env'
  imginspect -f json app:1.0 db:2           one compact JSON array
  imginspect -f '{{.Config.User}} {{json .Config.Cmd}}' app:1.0
  imginspect -q app:1.0 || docker pull app:1.0
  imginspect --all --filter dangling=true -f '{{.Id}} {{.Size}}'
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
HELP_WIDTH = 100  # the widest --help, on a wide terminal


class Command(click.Command):
    """The command, whose epilog ends with the environment table when --help shows it."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # One table for --help and the man page (scripts/generate), so the two cannot
        # disagree; loaded only for --help (issue 8).
        from inspector.environment import help_section

        self.epilog = EPILOG + help_section() + "\n"
        super().format_epilog(ctx, formatter)


if TYPE_CHECKING:  # click >= 8.5 types ParamType as a generic; older clicks cannot subscript it
    from inspector.sources.daemon.client import Daemon, Inspection

    _ReferenceBase = click.ParamType[ImageReference, Any]
    _PlatformBase = click.ParamType[Platform | None, Any]
    _TimeoutBase = click.ParamType[float, Any]
    _FilterBase = click.ParamType[tuple[str, str] | None, Any]
else:
    _ReferenceBase = click.ParamType
    _PlatformBase = click.ParamType
    _TimeoutBase = click.ParamType
    _FilterBase = click.ParamType


class ReferenceType(_ReferenceBase):
    """An image reference or ID, validated before anything is sent to the daemon."""

    name = "image"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> ImageReference:
        from inspector.reference import ImageReference, parse_reference

        if isinstance(value, ImageReference):
            return value
        try:
            return parse_reference(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """Local image names, and IDs for a word in hex, from the daemon the command would ask."""
        from click.shell_completion import CompletionItem

        from inspector.sources.daemon.completion import (
            complete_image,  # the stdlib only: TAB must be quick
        )

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
    from inspector.sources.daemon.completion import complete_context

    return complete_context(incomplete, os.environ)


class PlatformType(_PlatformBase):
    """os/arch[/variant], normalized as docker does; empty means none, as in docker."""

    name = "platform"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Platform | None:
        from inspector.reference import Platform, parse_platform

        if value is None or isinstance(value, Platform):
            return value
        if not str(value):
            return None
        try:
            return parse_platform(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


if TYPE_CHECKING:
    _SourceBase = click.ParamType[ImageReference | ArchiveName, Any]
else:
    _SourceBase = click.ParamType


class SourceType(_SourceBase):
    """An image for the daemon, or an archive or layout to read: checked before any I/O."""

    name = "image"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> ImageReference | ArchiveName:
        from inspector.reference import ImageReference
        from inspector.sources.archive import names as source
        from inspector.sources.archive.names import ArchiveName

        if isinstance(value, ImageReference | ArchiveName):
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
    ) -> list[CompletionItem]:
        """The daemon's image names, as for a plain IMAGE (paths are the shell's to complete)."""
        return ReferenceType().shell_complete(ctx, param, incomplete)


def names_a_file(text: str) -> bool:
    """A path rather than an image name: docker-archive:, oci-archive: or oci: before it, an
    existing file or layout directory, or a `/` in something that is no image reference
    (`./app.tar`, `/tmp/app.tar`); anything else goes to the daemon."""
    from pathlib import Path

    from inspector.sources.archive import names as source

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
    from inspector.reference import parse_reference

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


class FilterType(_FilterBase):
    """--filter NAME=VALUE, read as docker reads it (filters.ParseFlag); empty means none."""

    name = "filter"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, str] | None:
        if value is None or isinstance(value, tuple):
            return value
        if not str(value):
            return None
        name, equals, wanted = str(value).partition("=")
        if not equals:
            self.fail(f"bad format of filter {str(value)!r} (expected name=value)", param, ctx)
        return name.strip().lower(), wanted.strip()


class Fetched(NamedTuple):
    """One image of the run, in the order asked: its answer or why there is none; for the
    view, its name as asked, its history (or why none) and the archive it was read from;
    and where the history leaves open which step made a layer, the layer counts of the step
    images that settle it, by their history Id (`fetch_layer_counts`)."""

    result: bytes | ImginspectError
    asked: str = ""
    history: bytes | ImginspectError | None = None
    origin: ArchiveImage | None = None
    layer_counts: Mapping[str, int] | None = None

    @property
    def lost_daemon(self) -> DaemonError | None:
        """The daemon stopped answering when asked for the history: the image is still shown,
        with a note, and the run fails with this error."""
        history = self.history
        return history if isinstance(history, DaemonError) and history.fatal else None


class Outcome:
    """What a run produced, image by image in the order asked: an answer or an error."""

    def __init__(self) -> None:
        self.results: list[bytes | ImginspectError] = []
        # The view only, one per document: its reference as asked, and its history or why none.
        self.asked: list[str] = []
        self.histories: list[bytes | ImginspectError] = []
        # For the view too: the archive each image was read from (None: from the daemon).
        self.origins: list[ArchiveImage | None] = []
        # By the index of a history: the step images' layer counts (Fetched.layer_counts).
        self.layer_counts: dict[int, Mapping[str, int]] = {}

    @property
    def documents(self) -> list[bytes]:
        return [result for result in self.results if isinstance(result, bytes)]

    @property
    def errors(self) -> list[ImginspectError]:
        return [result for result in self.results if isinstance(result, ImginspectError)]

    @property
    def exit_code(self) -> int:
        return max((error.exit_code for error in self.errors), default=ExitCode.OK)

    @classmethod
    def collect(cls, fetched: Iterable[Fetched]) -> Outcome:
        """Every image of a run, kept (--diff needs both before it can say anything)."""
        outcome = cls()
        for image in fetched:
            outcome.results.append(image.result)
            if image.history is not None:
                if image.layer_counts is not None:
                    outcome.layer_counts[len(outcome.histories)] = image.layer_counts
                outcome.asked.append(image.asked)
                outcome.histories.append(image.history)
                outcome.origins.append(image.origin)
            if image.lost_daemon is not None:
                outcome.results.append(image.lost_daemon)
        return outcome


@click.command(
    cls=Command,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": HELP_WIDTH},
    epilog=EPILOG,
)
@click.argument("images", nargs=-1, type=SourceType(), metavar="IMAGE...")
@click.option(
    "--all",
    "all_images",
    is_flag=True,
    help="Inspect every image the daemon lists (as docker image ls does), in its order.",
)
@click.option(
    "--filter",
    "filters",
    type=FilterType(),
    multiple=True,
    metavar="NAME=VALUE",
    help="With --all: only the images the daemon's filter keeps, as `docker image ls --filter` "
    "(label=KEY[=VALUE], dangling=true, reference=PATTERN, before=, since=, until=); repeatable.",
)
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
    images: tuple[ImageReference | ArchiveName, ...],
    all_images: bool,
    filters: tuple[tuple[str, str] | None, ...],
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
    if all_images and images:
        raise click.UsageError("use either --all or IMAGE arguments, not both")
    if not all_images and not images:
        raise click.UsageError("Missing argument 'IMAGE...' (or --all).")
    if any(filters) and not all_images:
        raise click.UsageError("--filter works with --all only")
    wanted: dict[str, list[str]] = {}
    for name, value in filter(None, filters):
        wanted.setdefault(name, []).append(value)
    if diff and (template or len(images) != 2):
        raise click.UsageError(
            "--diff compares two images: give exactly two, and no --format"
            if len(images) != 2
            else "--diff prints a view or --json, not --format"
        )
    compiled = compile_format(template) if template and template != "json" else None
    from inspector.reference import ImageReference

    connection = None
    log = _debug_line if debug or os.environ.get("IMGINSPECT_DEBUG") == "1" else None
    if all_images or any(isinstance(image, ImageReference) for image in images):
        from inspector.sources.daemon.endpoint import (  # only for a daemon
            DaemonFlags,
            resolve_connection,
        )

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
    progress = Progress(enabled=log is None and _is_terminal(sys.stderr))
    fetched = fetch(
        connection,
        None if all_images else images,
        filters=wanted,
        log=log,
        platform=platform,
        manifests=manifests,
        with_history=(view or diff) and not quiet,
        counted=progress.expect,
    )
    if diff:
        return show_difference(
            images, Outcome.collect(fetched), as_json=as_json, quiet=quiet, color=color
        )

    form: OutputForm
    if quiet:
        form = OutputForm()
    elif view:
        form = ViewForm(color)
    elif compiled is not None:
        form = FormatForm(compiled, on_terminal=stdout_is_terminal())
    else:
        form = JSONForm(compact=template == "json")
    errors: list[ImginspectError] = []
    try:
        unwritten = stream(fetched, form, progress, errors)
    finally:  # a Ctrl-C too: what failed before it still gets its line
        for error in errors:
            if quiet and isinstance(error, ImageNotFound):
                continue
            report(error)
    code = max((error.exit_code for error in errors), default=ExitCode.OK)
    if unwritten is not None:  # said last: every failure of the run gets its line
        say_error(unwritten)
        return max(code, unwritten.exit_code)
    return code


def fetch(
    connection: Connection | None,
    images: Sequence[ImageReference | ArchiveName] | None,
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    log: Callable[[str], None] | None = None,
    platform: Platform | None = None,
    manifests: bool = False,
    with_history: bool = False,
    counted: Callable[[int], None] | None = None,
) -> Generator[Fetched, None, None]:
    """Each image in order, from the daemon or its archive, or (images None) every image the
    daemon lists; one that fails stops no other.

    The daemon's images are asked for ahead of their turn (Daemon.inspect_many), archives read
    in theirs. An error that is about no image (the daemon cannot be reached, the list cannot
    be read) comes alone; usage errors are raised.
    """
    from inspector.reference import ImageReference
    from inspector.sources.archive import names as source
    from inspector.sources.archive.names import ArchiveName

    # Archives name their platforms as containerd does; the daemon gets docker's query.
    archive_platform = source.normalize_platform(str(platform)) if platform else None
    with contextlib.ExitStack() as stack:
        daemon: Daemon | None = None

        def ready(daemon: Daemon) -> None:
            """Which daemon, which API it speaks, and whether it has the options asked for."""
            daemon.api_version  # noqa: B018 -- asks the daemon once, before any image
            # An option the daemon's API lacks is a usage error, before any image.
            daemon.check_inspect_options(platform=platform is not None, manifests=manifests)

        names: Sequence[str] | None = None
        if images is None:
            assert connection is not None  # resolved whenever an image is the daemon's
            daemon = stack.enter_context(open_daemon(connection, log))
            try:
                ready(daemon)
                listed = daemon.list_images(filters or {})
            except DaemonError as exc:
                yield Fetched(exc)
                return
            images = [image.reference for image in listed]
            names = [image.name for image in listed]  # the view heads each with its first tag
        if counted is not None:
            counted(len(images))
        asked = (image for image in images if isinstance(image, ImageReference))
        inspections: Generator[Inspection, None, None] | None = None
        gone = False  # the daemon could not be asked: ask it nothing more
        for number, image in enumerate(images):
            if isinstance(image, ArchiveName):
                yield read_archive(image, with_history=with_history, platform=archive_platform)
                continue
            if gone:
                continue
            if inspections is None:
                if daemon is None:
                    assert connection is not None  # resolved whenever an image is the daemon's
                    daemon = stack.enter_context(open_daemon(connection, log))
                try:
                    ready(daemon)
                except DaemonError as exc:
                    yield Fetched(exc)
                    gone = True
                    continue
                inspections = stack.enter_context(
                    contextlib.closing(
                        daemon.inspect_many(
                            asked, platform=platform, manifests=manifests, with_history=with_history
                        )
                    )
                )
            inspection = next(inspections, None)
            if inspection is None:  # the daemon stopped answering: it is asked nothing more
                gone = True
                continue
            name = names[number] if names is not None else image.text
            document, history = inspection.document, inspection.history
            if daemon is None or not (isinstance(document, bytes) and isinstance(history, bytes)):
                yield Fetched(document, name, history)
                continue
            # Nothing else is in flight: with history, the daemon is asked one thing at a time.
            counts, lost = fetch_layer_counts(daemon, document, history)
            yield Fetched(document, name, history, layer_counts=counts)
            if lost is not None:
                yield Fetched(lost)
                gone = True


def open_daemon(connection: Connection, log: Callable[[str], None] | None) -> Daemon:
    from inspector.sources.daemon.client import (
        Daemon,  # requests is heavy: import it only when asking
    )

    return Daemon(connection, log)


def fetch_layer_counts(
    daemon: Daemon, inspect: bytes, history: bytes
) -> tuple[dict[str, int] | None, DaemonError | None]:
    """Where the history leaves open which step made a layer, ask for the step images it
    names (at most 32): their numbers of layers settle it. None when nothing was open; and
    the error when the daemon stopped answering.

    A step image that is missing or fails is no error: the view lists the possible steps.
    """
    from inspector.layers import image_ids_to_ask, layer_count
    from inspector.reference import parse_reference

    wanted = image_ids_to_ask(inspect, history)
    if not wanted:
        return None, None
    counts: dict[str, int] = {}
    for image_id in wanted:
        try:
            count = layer_count(daemon.inspect(parse_reference(image_id)))
        except ImginspectError as exc:  # pruned, an Id that is no reference, a 500: left out
            if isinstance(exc, DaemonError) and exc.fatal:
                return counts, exc
            continue
        if count is not None:
            counts[image_id] = count
    return counts, None


def read_archive(named: ArchiveName, *, with_history: bool, platform: str | None) -> Fetched:
    """Read one image from an archive, as if a daemon had answered."""
    from inspector.sources.archive.reader import (
        read_image,  # tarfile and the compressors: only to read
    )

    try:
        image = read_image(named, platform)
    except ImginspectError as exc:
        return Fetched(exc)
    if not with_history:
        return Fetched(image.inspect)
    return Fetched(image.inspect, named.text, image.history, image)


# -- streaming the output (issue 8) ---------------------------------------------------------
# Each image is printed as soon as it is answered, whole: memory does not grow with the number
# of images, and stdout never holds half an image or an unclosed JSON array, even when the run
# is interrupted (Ctrl-C: the images printed so far stay, the array is closed, exit 130) or the
# daemon stops answering.


class OutputForm:
    """How each image is printed, and how the output ends; this one prints nothing (-q)."""

    def image(self, fetched: Fetched, document: bytes, *, first: bool) -> bytes | None:
        """The bytes for one image (first: nothing was printed before), None for nothing;
        ImginspectError if the image cannot be shown."""
        return None

    def end(self, printed: int) -> bytes:
        """What ends a run that printed this many images (and ran to its end)."""
        return b""


class JSONForm(OutputForm):
    """--json and -f json: the daemon's bytes, re-spaced as docker prints them."""

    def __init__(self, *, compact: bool) -> None:
        from inspector.render import json as json_render

        if compact:
            self._element, self._end = json_render.compact_element, json_render.compact_end
        else:
            self._element, self._end = json_render.indented_element, json_render.indented_end

    def image(self, fetched: Fetched, document: bytes, *, first: bool) -> bytes:
        return self._element(document, first=first)

    def end(self, printed: int) -> bytes:
        return self._end(empty=not printed)


class FormatForm(OutputForm):
    """One line per image; an image the template fails on prints nothing and is an error.

    Raw, as docker prints it, for scripts; on a terminal, what could act on it (escape
    sequences, bidi overrides, ...) is shown escaped, newlines and tabs aside.
    """

    def __init__(self, template: Template, *, on_terminal: bool) -> None:
        from inspector.render.format import format_image, format_lines

        self._format_image, self._format_lines = format_image, format_lines
        self._template = template
        self._escape: Callable[[str], str] | None = None
        if on_terminal:  # its pattern takes a millisecond to compile: not for a script's pipe
            from inspector.terminal import escape_unsafe

            self._escape = lambda line: escape_unsafe(line, keep="\n\t")

    def image(self, fetched: Fetched, document: bytes, *, first: bool) -> bytes:
        line = self._format_image(self._template, document)
        return self._format_lines([self._escape(line) if self._escape else line])

    def end(self, printed: int) -> bytes:
        return b"" if printed else self._format_lines([])


class ViewForm(OutputForm):
    """The default output: a readable block for each image (rich is imported only here)."""

    def __init__(self, color: str) -> None:
        from datetime import UTC, datetime

        from inspector.render import view as table

        self._table = table
        self._width, self._color = view_settings(color)
        self._now = datetime.now(UTC)  # one "now" for every image of the run

    def image(self, fetched: Fetched, document: bytes, *, first: bool) -> bytes:
        from inspector.image import Image, Origin
        from inspector.sources.archive.names import parse_source

        history, archive = fetched.history, fetched.origin
        origin = None
        if archive is not None:  # the reader describes what it read as `<kind> <path>`
            path = parse_source(fetched.asked).path
            origin = Origin(archive.origin.removesuffix(f" {path}"), path, archive.stored_size)
        image = Image(
            fetched.asked,
            document,
            history=history if isinstance(history, bytes) else None,
            history_error=history if isinstance(history, ImginspectError) else None,
            origin=origin,
            layer_counts=fetched.layer_counts,
        )
        text = self._table.render_view([image], width=self._width, color=self._color, now=self._now)
        return (b"" if first else b"\n") + text.encode()  # as render_view parts its blocks


def stream(
    fetched: Generator[Fetched, None, None],
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

    def write(data: bytes) -> None:
        nonlocal unwritten
        if unwritten is None and data:
            progress.clear()
            try:
                write_output(data)
            except OutputError as exc:
                unwritten = exc

    ended = False
    with contextlib.closing(fetched):
        try:
            for image in fetched:
                progress.advance()
                result = image.result
                if isinstance(result, ImginspectError):
                    errors.append(result)
                    continue
                try:
                    chunk = form.image(image, result, first=not printed)
                except ImginspectError as exc:
                    errors.append(exc)
                else:
                    if chunk is not None:
                        write(chunk)
                        printed += 1
                if image.lost_daemon is not None:
                    errors.append(image.lost_daemon)
            ended = True
        finally:
            progress.clear()
            if ended or printed:  # interrupted before any image: nothing, as before
                write(form.end(printed))
    return unwritten


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


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # None (closed at start), or closed since
        return False


def view_settings(color: str) -> tuple[int, bool]:
    """The width and colour of the view (and of --diff's), from the terminal and environment."""
    from inspector.render import view as table

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
    images: Sequence[ImageReference | ArchiveName],
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


def compare_images(images: Sequence[ImageReference | ArchiveName], outcome: Outcome) -> Difference:
    from inspector.compare import compare
    from inspector.image import Image

    histories = [h if isinstance(h, bytes) else None for h in outcome.histories] or [None, None]
    a, b = (
        Image(
            image.text,
            document,
            history=history,
            layer_counts=outcome.layer_counts.get(index),
        )
        for index, (image, document, history) in enumerate(
            zip(images, outcome.documents, histories, strict=True)
        )
    )
    return compare(a, b)


def render_difference(difference: Difference, *, as_json: bool, color: str) -> bytes:
    if as_json:
        from inspector.render.diff_json import diff_document

        return diff_document(difference)
    from inspector.render.diff_view import render_diff

    width, use_color = view_settings(color)
    return render_diff(difference, width=width, color=use_color).encode()


def compile_format(template: str) -> Template:
    """Parse --format before anything is asked of the daemon: a syntax error is exit 2."""
    from inspector.template import compile_template

    return compile_template(template)


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
    from inspector.terminal import escape_unsafe

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
            terminal_width=help_width(),
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


def help_width() -> int:
    """The width click would give --help, found without the shutil it imports for it (2 ms).

    As click's HelpFormatter: the terminal's columns (shutil.get_terminal_size: COLUMNS, else
    the terminal on stdout, else 80), at most HELP_WIDTH, less 2, and at least 50.
    """
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        stdout = sys.__stdout__  # None when started with fd 1 closed
        try:
            columns = os.get_terminal_size(stdout.fileno()).columns if stdout else 0
        except (ValueError, OSError):
            columns = 0
    return max(min(columns or 80, HELP_WIDTH) - 2, 50)


def main() -> NoReturn:
    try:
        code = run()
    except KeyboardInterrupt:  # after run's own guard, before here
        code = ExitCode.INTERRUPTED
    # The work is done and said: a Ctrl-C now could only add a traceback, or kill the
    # interpreter as it flushes and exits. Paths that never loaded signal (--help, --version,
    # a usage error) have printed a few lines and end at once: they are spared its import
    # (0.8 ms of the 10 that --help adds to `import click`, issue 8).
    signal = sys.modules.get("signal")
    if signal is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
