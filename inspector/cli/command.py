"""The command: parse the options, fetch the images from their sources, render each."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from inspector import DEFAULT_TIMEOUT, MAX_TIMEOUT, __version__
from inspector.cli.output import Progress, is_terminal, say_debug, say_warning
from inspector.cli.params import (
    AttachedValueOption,
    FilterType,
    ImageNameType,
    PathPrefixType,
    PlatformType,
    RegistryHostType,
    RuleValueType,
    TimeoutType,
    attach_bare,
    complete_context,
)

# Each way through the command imports what it needs, where it needs it: --help, --version,
# usage errors and TAB completion load none of the sources, --json neither the template engine
# nor rich. tests/test_imports.py checks each way.
if TYPE_CHECKING:
    from inspector.cli.ci import Gate
    from inspector.cli.forms import OutputForm
    from inspector.gate.rules import Rule
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
  imginspect --contents app:1.0             what is inside, and why it is big
  imginspect --files=usr/share ./app.tar    its files, as tar -tv lists them
  imginspect --ci app:1.0                   dive's CI rules on wasted space; exit 5 if broken

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
  5    --ci: an image broke a rule on its wasted space
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
    """The command, whose epilog ends with the environment table when --help shows it, and
    which reads a bare `--files` as taking no value (params.attach_bare)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, attach_bare(self, ctx, args))

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
    "--contents",
    is_flag=True,
    help="Show what is inside each image and why it is big: dive's efficiency and wasted "
    "bytes, the largest files, each layer's changes, the paths that waste most; with --json, "
    "every layer's entries.",
)
@click.option(
    "--files",
    cls=AttachedValueOption,
    type=PathPrefixType(),
    is_flag=False,
    flag_value="",
    metavar="PREFIX",
    help="List each image's final filesystem as GNU tar -tv does; only what is under PREFIX "
    "when given as --files=PREFIX.",
)
@click.option(
    "--ci",
    is_flag=True,
    help="Judge each image by dive's CI rules on wasted space; exit 5 if it breaks one. "
    "Alone, print dive's report.",
)
@click.option(
    "--ci-config",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Read the --ci rules from this YAML file, as dive does [default: .dive-ci, if there "
    "is one]; implies --ci.",
)
@click.option(
    "--lowest-efficiency",
    type=RuleValueType("lowestEfficiency"),
    metavar="RATIO",
    help="Fail an image whose efficiency is lower (0-1, or disabled) [default: 0.9]; implies --ci.",
)
@click.option(
    "--highest-wasted-bytes",
    type=RuleValueType("highestWastedBytes"),
    metavar="SIZE",
    help="Fail an image that wastes more bytes (20MB, 20MiB, or disabled) [default: disabled]; "
    "implies --ci.",
)
@click.option(
    "--highest-user-wasted-percent",
    type=RuleValueType("highestUserWastedPercent"),
    metavar="RATIO",
    help="Fail an image whose wasted bytes are more of its user size (0-1, or disabled) "
    "[default: 0.1]; implies --ci.",
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
    contents: bool,
    files: str | None,
    ci: bool,
    ci_config: str | None,
    lowest_efficiency: Rule | None,
    highest_wasted_bytes: Rule | None,
    highest_user_wasted_percent: Rule | None,
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
    rule_options = {
        "lowestEfficiency": lowest_efficiency,
        "highestWastedBytes": highest_wasted_bytes,
        "highestUserWastedPercent": highest_user_wasted_percent,
    }
    gated = ci or ci_config is not None or any(rule_options.values())
    check_contents(images, as_json, template, quiet, diff, manifests, contents, files, gated=gated)
    gate: Gate | None = None
    if gated:  # the file is read, and its values checked, before any image is asked
        from inspector.cli.ci import load_gate

        gate = load_gate(ci_config, rule_options)

    from inspector.sources.daemon import DaemonFlags
    from inspector.sources.fetch import fetch_images
    from inspector.sources.interface import Request

    view = not as_json and not template and not contents and files is None and gate is None
    log = say_debug if debug or os.environ.get("IMGINSPECT_DEBUG") == "1" else None
    progress = Progress(enabled=log is None and is_terminal(sys.stderr))
    fetched = fetch_images(
        None if all_images else images,
        Request(
            platform,
            manifests,
            with_history=(view or diff or (contents and not as_json)) and not quiet,
            contents=contents or files is not None or gate is not None,
        ),
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
    from inspector.cli.forms import print_images

    several = all_images or len(images) > 1
    form = choose_form(quiet, as_json, compiled, color, contents, files, gate, several=several)
    return print_images(fetched, form, progress, quiet=quiet)


def choose_form(
    quiet: bool,
    as_json: bool,
    compiled: Template | str | None,
    color: str,
    contents: bool,
    files: str | None,
    gate: Gate | None,
    *,
    several: bool,
) -> OutputForm:
    """The form the options ask for; with --ci, gated, or dive's report if nothing else was
    asked."""
    from inspector.cli.forms import output_form

    if not contents and files is None:
        if gate is not None and not (quiet or as_json or compiled is not None):
            from inspector.cli.contents import GateReportForm

            return GateReportForm(gate, headers=several)
        form = output_form(quiet=quiet, as_json=as_json, compiled=compiled, color=color)
        if gate is None:
            return form
        from inspector.cli.contents import Gated

        return Gated(form, gate)
    from inspector.cli import contents as forms
    from inspector.cli.output import stdout_is_terminal

    if files is not None:
        return forms.FilesForm(files, gate, headers=several, on_terminal=stdout_is_terminal())
    if as_json:
        return forms.ContentsJSONForm(gate)
    return forms.ContentsViewForm(color, gate)


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


def check_contents(
    images: tuple[ImageName, ...],
    as_json: bool,
    template: str | None,
    quiet: bool,
    diff: bool,
    manifests: bool,
    contents: bool,
    files: str | None,
    *,
    gated: bool,
) -> None:
    """--contents, --files and --ci with the options they make no sense with: exit 2."""
    listing = files is not None
    asked = [name for name, given in (("--contents", contents), ("--files", listing)) if given]
    if contents and listing:
        raise click.UsageError("use either --contents or --files, not both")
    if diff and (asked or gated):
        raise click.UsageError("--diff compares two images: not with --contents, --files or --ci")
    if asked and template:
        raise click.UsageError(f"{asked[0]} prints its own output, not --format")
    if listing and as_json:
        raise click.UsageError("--files prints tar -tv's lines, not --json (use --contents --json)")
    if asked and quiet:
        raise click.UsageError(f"{asked[0]} prints what -q would not: use one of them")
    if manifests and (asked or (gated and not as_json and not template)):
        raise click.UsageError(
            "--manifests shows in the view, --json and --format, "
            "not with --contents, --files or --ci's report"
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
