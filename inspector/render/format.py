"""`--format`: a Go template run as `docker image inspect -f` runs it, typed first, then raw."""

import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from inspector.errors import DaemonBadResponse, TemplateExecError, TemplateLimitError
from inspector.template import Template
from inspector.template.schema import DecodeError, decode_inspect
from inspector.template.values import from_json, json_number_hooks

_T = TypeVar("_T")


def format_image(template: Template, document: bytes) -> str:
    """One image's line (without its newline), or TemplateExecError as docker words it.

    docker runs the template on its Go struct for the image; when that fails for any reason
    it drops the partial output and runs the whole template again on the raw JSON, with
    numbers as json.Number and missing map keys an error (cli/command/inspect/inspector.go).
    A TemplateLimitError of the typed run is raised as it is.
    """
    value = _nested_guard(lambda: json.loads(document, **json_number_hooks()))
    try:
        typed = _nested_guard(lambda: decode_inspect(value))
    except DecodeError:
        typed = None  # docker would refuse the image; the raw run can still answer
    if typed is not None:
        try:
            return template.execute(typed)
        except TemplateLimitError:
            raise  # a bound of imginspect's, not a value docker's struct lacks: no second run
        except TemplateExecError:
            pass
    # Only now: most templates succeed on the typed struct and never need the raw values.
    raw = _nested_guard(lambda: from_json(value))
    return template.execute(raw, missingkey_error=True)


def _nested_guard(build: Callable[[], _T]) -> _T:
    """build(), with JSON too deep for Python's recursion as the daemon problem it is."""
    try:
        return build()
    except RecursionError as exc:
        raise DaemonBadResponse("the daemon's answer is nested too deeply to format") from exc


def format_lines(lines: Sequence[str]) -> bytes:
    """All the images' lines; with none at all, docker prints one empty line."""
    if not lines:
        return b"\n"
    return "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape")
