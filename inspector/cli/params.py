"""The command's parameter types: every value is checked before anything is asked of a source."""

import math
import os
from typing import TYPE_CHECKING, Any, cast

import click

from inspector import MAX_TIMEOUT
from inspector.errors import UsageError

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from inspector.reference import Platform
    from inspector.sources.names import ImageName

if TYPE_CHECKING:  # click >= 8.5 types ParamType as a generic; older clicks cannot subscript it
    _NameBase = click.ParamType[ImageName, Any]
    _PlatformBase = click.ParamType[Platform | None, Any]
    _TimeoutBase = click.ParamType[float, Any]
    _FilterBase = click.ParamType[tuple[str, str] | None, Any]
    _HostBase = click.ParamType[str, Any]
else:
    _NameBase = _PlatformBase = _TimeoutBase = _FilterBase = _HostBase = click.ParamType


class ImageNameType(_NameBase):
    """An image for the daemon (a reference or ID), an archive or layout to read, or an image
    in a registry (docker://REF)."""

    name = "image"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> "ImageName":
        from inspector.sources.names import parse_name

        if isinstance(value, tuple):  # already one: every kind of name is a NamedTuple
            return cast("ImageName", value)
        try:
            return parse_name(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list["CompletionItem"]:
        """Local image names, and IDs for a word in hex, from the daemon the command would ask,
        and the transports (`docker://`...) the word begins, with no space after them (paths
        are the shell's to complete)."""
        from click.shell_completion import CompletionItem

        from inspector.sources.daemon.completion import complete_name  # the stdlib only

        host, context = ctx.params.get("host"), ctx.params.get("context")
        return [
            CompletionItem(value, type=kind, help=description)
            for value, description, kind in complete_name(
                host if isinstance(host, str) else None,
                incomplete,
                os.environ,
                context if isinstance(context, str) else None,
            )
        ]


def complete_context(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The names of docker's contexts that start with the word."""
    from inspector.sources.daemon.completion import complete_context as contexts

    return contexts(incomplete, os.environ)


class PlatformType(_PlatformBase):
    """os/arch[/variant], normalized as docker does; empty means none, as in docker."""

    name = "platform"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> "Platform | None":
        from inspector.reference import Platform, parse_platform

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


class RegistryHostType(_HostBase):
    """HOST[:PORT] of a registry, as docker's --insecure-registry takes one: no scheme, no path."""

    name = "registry"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from inspector.reference import is_registry_host

        text = str(value)
        if not is_registry_host(text):
            self.fail(
                f"{text!r} is not a registry: expected HOST[:PORT], e.g. registry.lan:5000",
                param,
                ctx,
            )
        return text


if TYPE_CHECKING:
    from inspector.gate.rules import Rule

    _RuleBase = click.ParamType[Rule, Any]
    _PrefixBase = click.ParamType[str, Any]
else:
    _RuleBase = _PrefixBase = click.ParamType


class RuleValueType(_RuleBase):
    """A --ci rule's value as dive takes it (`disabled` too): refused with dive's words."""

    name = "rule"

    def __init__(self, key: str) -> None:
        self.key = key

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> "Rule":
        from inspector.gate.rules import Rule, RuleValueError, make_rule

        if isinstance(value, Rule):
            return value
        try:
            return make_rule(self.key, str(value))
        except RuleValueError as exc:
            self.fail(str(exc), param, ctx)


class PathPrefixType(_PrefixBase):
    """--files=PREFIX: a path in the image, absolute or not (`/usr/share/`, `usr/share`), made
    clean as a layer's paths are: no leading `/` or `./`, no trailing `/`; `..` is refused."""

    name = "prefix"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        parts = [part for part in str(value).split("/") if part not in ("", ".")]
        if ".." in parts:
            self.fail(f"{str(value)!r}: a path in the image has no `..`", param, ctx)
        return "/".join(parts)


class AttachedValueOption(click.Option):
    """An option whose value is optional and, as getopt's optional arguments, only ever
    attached: `--files=usr/share`. A bare `--files` takes nothing (the command rewrites it
    as `--files=` before click parses), so the next word stays an image name."""

    attached_only = True

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        names = ", ".join(sorted(self.opts, key=len))
        return f"{names}[={self.metavar}]", record[1]


def attach_bare(command: click.Command, ctx: click.Context, args: list[str]) -> list[str]:
    """args with each bare AttachedValueOption (before a `--`) given an empty value; the word
    after an option that takes a value is that value, never rewritten."""
    attached: set[str] = set()
    takes_value: set[str] = set()
    for param in command.get_params(ctx):
        if isinstance(param, AttachedValueOption):
            attached.update(param.opts)
        elif isinstance(param, click.Option) and not param.is_flag and not param.count:
            takes_value.update(param.opts, param.secondary_opts)
    rewritten: list[str] = []
    words = iter(args)
    for word in words:
        if word == "--":
            rewritten += [word, *words]
            break
        if word in attached:
            rewritten.append(f"{word}=")
            continue
        rewritten.append(word)
        if word in takes_value or _ends_in_value_option(word, takes_value):
            value = next(words, None)
            if value is not None:
                rewritten.append(value)
    return rewritten


def _ends_in_value_option(word: str, takes_value: set[str]) -> bool:
    """`-qf`: short flags, then one that takes the next word as its value."""
    if not word.startswith("-") or word.startswith("--") or len(word) < 3:
        return False
    return f"-{word[-1]}" in takes_value and all(f"-{c}" not in takes_value for c in word[1:-1])
