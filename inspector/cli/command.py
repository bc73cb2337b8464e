"""The command: parse the options, fetch the images from their sources, render each."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from inspector import DEFAULT_TIMEOUT, MAX_TIMEOUT, __version__
from inspector.cli.output import Progress, is_terminal, say_debug, say_warning
from inspector.cli.params import (
    FilterType,
    ImageNameType,
    PlatformType,
    RegistryHostType,
    TimeoutType,
    complete_context,
)

# Each way through the command imports what it needs, where it needs it: --help, --version,
# usage errors and TAB completion load none of the sources, --json neither the template engine
# nor rich. tests/test_imports.py checks each way.
if TYPE_CHECKING:
    from inspector.reference import Platform
    from inspector.sources.names import ImageName
    from inspector.template import Template

EPILOG = (
    """\b
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
  imginspect docker://nginx:1.27            an image in its registry, without pulling it
  imginspect --diff app:1.0 docker://registry.example.com/team/app:1.0

\b
Exit status:
  0    every image was found and printed
  1    at least one image was not found (the others are still printed)
  2    usage error: bad option, image name or archive, template syntax error
"""
    # One row a line, as the README's table has it: too long for one line of source.
    "  3    source problem: daemon or registry unreachable, denied, TLS failure, timeout, "
    "error or bad answer\n"
    """  4    a template could not be evaluated for an image
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
)
HELP_WIDTH = 100  # the widest --help, on a wide terminal


class Command(click.Command):
    """The command, whose epilog ends with the environment table when --help shows it."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # One table for --help and the man page (scripts/generate), so the two cannot
        # disagree; loaded only for --help, which alone needs it.
        from inspector.environment import help_section

        self.epilog = EPILOG + help_section() + "\n"
        super().format_epilog(ctx, formatter)


@click.command(
    cls=Command,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": HELP_WIDTH},
    epilog=EPILOG,
)
@click.argument("images", nargs=-1, type=ImageNameType(), metavar="IMAGE...")
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
    shell_complete=complete_context,
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
    "--insecure-registry",
    "insecure_registries",
    type=RegistryHostType(),
    multiple=True,
    metavar="HOST[:PORT]",
    help="Reach this registry as docker reaches an insecure one: HTTPS without verifying its "
    "certificate, then plain HTTP; repeatable (localhost and 127.0.0.0/8 always are).",
)
@click.option(
    "--timeout",
    type=TimeoutType(),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up on a request to the daemon, or on an image's requests to a registry, that "
    f"takes longer (at most {MAX_TIMEOUT:g}).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Say on stderr which daemon is used and why, the API version, and each request.",
)
@click.version_option(__version__, "--version", prog_name="imginspect")
def imginspect(
    images: tuple[ImageName, ...],
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
    insecure_registries: tuple[str, ...],
    timeout: float,
    debug: bool,
) -> int:
    """Inspect container images through the Docker (or Podman) daemon, in archives, or in
    registries.

    Without --json or --format, each image is shown as a readable summary: what runs, as
    whom, on which ports, from which layers, how big and how old.

    IMAGE is a name (nginx, nginx:1.27, registry.example.com:5000/team/app:1.0),
    a digest reference (app@sha256:...), or a full or short image ID; or a path to an
    image archive (docker save, podman save, oci-archive; also gzipped) or an OCI layout
    directory, read without a daemon: ./app.tar, docker-archive:PATH[:NAME],
    oci-archive:PATH[:NAME], oci:DIR[:NAME]; or docker://REF, an image read from its
    registry without a daemon (REF as docker pull takes it: docker://nginx:1.27).
    """
    check_combination(images, all_images, filters, as_json, template, diff)
    compiled = compile_format(template)  # a syntax error is exit 2, before any image is asked

    from inspector.sources.daemon import DaemonFlags
    from inspector.sources.fetch import fetch_images
    from inspector.sources.interface import Request

    view = not as_json and not template
    log = say_debug if debug or os.environ.get("IMGINSPECT_DEBUG") == "1" else None
    progress = Progress(enabled=log is None and is_terminal(sys.stderr))
    fetched = fetch_images(
        None if all_images else images,
        Request(platform, manifests, with_history=(view or diff) and not quiet),
        daemon=DaemonFlags(host, context, tls, tlsverify, tlscacert, tlscert, tlskey, timeout),
        insecure_registries=insecure_registries,
        filters=filter_values(filters),
        log=log,
        warn=say_warning,
        counted=progress.expect,
    )

    if diff:
        from inspector.cli.difference import show_difference

        return show_difference(fetched, as_json=as_json, quiet=quiet, color=color)
    from inspector.cli.forms import output_form, print_images

    form = output_form(quiet=quiet, as_json=as_json, compiled=compiled, color=color)
    return print_images(fetched, form, progress, quiet=quiet)


def check_combination(
    images: tuple[ImageName, ...],
    all_images: bool,
    filters: tuple[tuple[str, str] | None, ...],
    as_json: bool,
    template: str | None,
    diff: bool,
) -> None:
    """Options that each make sense, but not together: a usage error before any I/O."""
    if as_json and template:
        raise click.UsageError("use either --json or --format, not both")
    if all_images and images:
        raise click.UsageError("use either --all or IMAGE arguments, not both")
    if not all_images and not images:
        raise click.UsageError("Missing argument 'IMAGE...' (or --all).")
    if any(filters) and not all_images:
        raise click.UsageError("--filter works with --all only")
    if diff and (template or len(images) != 2):
        raise click.UsageError(
            "--diff compares two images: give exactly two, and no --format"
            if len(images) != 2
            else "--diff prints a view or --json, not --format"
        )


def compile_format(template: str | None) -> Template | str | None:
    """A --format template compiled; `json` (one compact array) as it is; None for no --format
    (or an empty one, as docker reads `-f ''`: the default output)."""
    if not template:
        return None
    if template == "json":
        return template
    from inspector.template import compile_template

    return compile_template(template)


def filter_values(filters: tuple[tuple[str, str] | None, ...]) -> dict[str, list[str]]:
    """--filter NAME=VALUE options as docker sends them: each name with all its values."""
    wanted: dict[str, list[str]] = {}
    for name, value in filter(None, filters):
        wanted.setdefault(name, []).append(value)
    return wanted
