"""An image's config read as the daemon reads it: into Go structs, keys matched
case-insensitively, the last of a repeated key winning, unknown keys dropped, invalid UTF-8 as
U+FFFD, and a value of the wrong type refusing the whole image (as `docker load` and
`docker pull` do)."""

import base64
import binascii
import codecs
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from inspector.gregorian import days_from_civil, days_in


class RefusedConfig(ValueError):
    """A config the daemon refuses to load or pull (wrong JSON types, a bad time, not JSON),
    or a history it refuses to answer. Each source translates it into its own error."""


@dataclasses.dataclass(frozen=True, slots=True)
class Time:
    """A time.Time from the config: as Go writes it again (RFC 3339 with nanoseconds, trailing
    zeros dropped, a zero offset as Z), and its Unix seconds."""

    text: str
    unix: int


# docker reads `created` with Go's time.Parse(time.RFC3339, ...), which is laxer than RFC 3339:
# a one-digit hour, a comma before the fraction, any number of fraction digits (cut to nine),
# and an offset up to 24:60 (written again normalized: +05:60 is +06:00).
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def _go_time(value: str) -> Time:
    """Parse as docker does; the wall clock and the offset are kept."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise RefusedConfig(f"cannot parse {value!r} as a time")
    year, month, day, hour, minute, second = (int(match[n]) for n in range(1, 7))
    sign, off_hour, off_minute = match[8], int(match[9] or 0), int(match[10] or 0)
    if not (
        1 <= month <= 12
        and 1 <= day <= days_in(month, year)
        and hour < 24
        and minute < 60
        and second < 60
        and off_hour <= 24
        and off_minute <= 60
    ):
        raise RefusedConfig(f"time out of range: {value!r}")
    fraction = (match[7] or "")[:9].rstrip("0")
    offset = (off_hour * 60 + off_minute) * (-1 if sign == "-" else 1)  # minutes
    zone = "Z" if offset == 0 else f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    text = (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
        f"{'.' + fraction if fraction else ''}{zone}"
    )
    days = days_from_civil(year, month, day)
    unix = days * 86400 + hour * 3600 + minute * 60 + second - offset * 60
    return Time(text, unix)


class _GoNumber(str):
    """A JSON number that Python would read as a float: kept as its text, since Go reads
    `1e3` or `1.0` into an integer field as an error, not a number."""


def _loads(data: bytes) -> object:
    """JSON as Go's decoder reads it: each byte of invalid UTF-8, and each lone surrogate
    escape, becomes U+FFFD; objects keep their keys in order, repeats included."""
    try:
        text = data.decode("utf-8", errors="imginspect-go-utf8")
        return json.loads(
            text, object_pairs_hook=_Pairs, parse_float=_GoNumber, parse_constant=_no_constant
        )
    except (ValueError, RecursionError) as exc:
        raise RefusedConfig(f"not JSON: {exc}") from exc


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _replace_each_byte(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\ufffd" * (error.end - error.start), error.end


codecs.register_error("imginspect-go-utf8", _replace_each_byte)

_SURROGATES = re.compile("[\ud800-\udfff]")


class _Pairs(list[tuple[str, object]]):
    """A JSON object as its key-value pairs, in order."""


# A field's type, as a decoder: (previous value, JSON value) -> new value. Go leaves a field
# as it was for a null unless the field is a pointer, slice or map, which null sets to nil.
_Decoder = Callable[[object, object], object]


def _string(previous: object, value: object) -> object:
    if value is None:
        return previous
    if not isinstance(value, str):
        raise RefusedConfig(f"expected a string, got {_kind(value)}")
    return _SURROGATES.sub("\ufffd", value)


def _boolean(previous: object, value: object) -> object:
    if value is None:
        return previous
    if not isinstance(value, bool):
        raise RefusedConfig(f"expected true or false, got {_kind(value)}")
    return value


def _integer(previous: object, value: object) -> object:
    if value is None:
        return previous
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise RefusedConfig(f"expected an integer, got {_kind(value)}")
    return value


def _strings(previous: object, value: object) -> object:
    if value is None:
        return None
    if not isinstance(value, list) or isinstance(value, _Pairs):
        raise RefusedConfig(f"expected a list of strings, got {_kind(value)}")
    return [_string("", item) if item is not None else "" for item in value]


def _command(previous: object, value: object) -> object:
    """docker's StrSlice: a list of strings, or one string as a list of one."""
    if isinstance(value, str):
        return [_string("", value)]
    return _strings(previous, value)


def _map_of(element: _Decoder, zero: object) -> _Decoder:
    def decode(previous: object, value: object) -> object:
        if value is None:
            return None
        # Go fills a map that is already there, rather than starting a new one.
        result = dict(previous) if isinstance(previous, dict) else {}
        for key, item in _pairs_of_checked(value, "an object"):
            result[_string("", key)] = element(zero, item)
        return result

    return decode


def _empty_struct(previous: object, value: object) -> object:
    if value is not None and not isinstance(value, _Pairs | Mapping):
        raise RefusedConfig(f"expected an object, got {_kind(value)}")
    return {}


def _struct(fields: Mapping[str, _Decoder], pointer: bool = True) -> _Decoder:
    def decode(previous: object, value: object) -> object:
        if value is None:
            return None if pointer else previous
        # Go decodes into the struct that is already there: a repeated key merges.
        start = dict(previous) if isinstance(previous, dict) else {}
        return _decode(fields, _pairs_of_checked(value, "an object"), start)

    return decode


def _list_of(element: _Decoder) -> _Decoder:
    def decode(previous: object, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, list) or isinstance(value, _Pairs):
            raise RefusedConfig(f"expected a list, got {_kind(value)}")
        return [element(None, item) for item in value]

    return decode


def _bytes(previous: object, value: object) -> object:
    """A []byte: base64 text, written again as Go writes it."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RefusedConfig(f"expected base64 text, got {_kind(value)}")
    try:
        return base64.b64encode(
            base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
        ).decode()
    except (binascii.Error, ValueError) as exc:
        raise RefusedConfig("invalid base64 data") from exc


def _pairs_of_checked(value: object, what: str) -> list[tuple[str, object]]:
    """An object's pairs: from the JSON read here, or from a dict a caller gives."""
    if isinstance(value, _Pairs):
        return value
    if isinstance(value, Mapping):
        return list(value.items())
    raise RefusedConfig(f"expected {what}, got {_kind(value)}")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | _GoNumber):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, _Pairs | Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _fold(name: str) -> str:
    """A key as Go folds it to match a field: ASCII upper-cased, any other character to the
    smallest of its case forms (so the Kelvin sign matches k)."""
    out = []
    for char in name:
        while True:
            forms = [form for form in (char, char.upper(), char.lower()) if len(form) == 1]
            smallest = min(forms)
            if smallest == char:
                break
            char = smallest
        out.append(char.upper() if char.isascii() else char)
    return "".join(out)


def _decode(
    fields: Mapping[str, _Decoder], pairs: Iterable[tuple[str, object]], start: dict[str, Any]
) -> dict[str, Any]:
    """A Go struct from a JSON object: each key that names a field (case-insensitively) sets
    it, in order, so the last one wins; other keys are dropped."""
    folded = {_fold(name): name for name in fields}
    result = start
    for key, value in pairs:
        name = folded.get(_fold(key))
        if name is None:
            continue
        result[name] = fields[name](result.get(name), value)
    return result


HEALTHCHECK_FIELDS: Mapping[str, _Decoder] = {
    "Test": _strings,
    "Interval": _integer,
    "Timeout": _integer,
    "StartPeriod": _integer,
    "StartInterval": _integer,
    "Retries": _integer,
}
# docker's container.Config, in its field order (which ContainerConfig is written in).
CONTAINER_CONFIG_FIELDS: Mapping[str, _Decoder] = {
    "Hostname": _string,
    "Domainname": _string,
    "User": _string,
    "AttachStdin": _boolean,
    "AttachStdout": _boolean,
    "AttachStderr": _boolean,
    "ExposedPorts": _map_of(_empty_struct, {}),
    "Tty": _boolean,
    "OpenStdin": _boolean,
    "StdinOnce": _boolean,
    "Env": _strings,
    "Cmd": _command,
    "Healthcheck": _struct(HEALTHCHECK_FIELDS),
    "ArgsEscaped": _boolean,
    "Image": _string,
    "Volumes": _map_of(_empty_struct, {}),
    "WorkingDir": _string,
    "Entrypoint": _command,
    "NetworkDisabled": _boolean,
    "MacAddress": _string,
    "OnBuild": _strings,
    "Labels": _map_of(_string, ""),
    "StopSignal": _string,
    "StopTimeout": _integer,
    "Shell": _command,
}
# Fields of container.Config written even when empty, with what empty is.
CONTAINER_CONFIG_ALWAYS: Mapping[str, object] = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "Labels": None,
}


def _time(previous: object, value: object) -> object:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RefusedConfig(f"expected a time, got {_kind(value)}")
    return _go_time(value)


_HISTORY_STEP: Mapping[str, _Decoder] = {
    "created": _time,
    "created_by": _string,
    "author": _string,
    "comment": _string,
    "empty_layer": _boolean,
}
# docker's image.Image (with its V1Image), the keys as its JSON tags spell them.
_IMAGE: Mapping[str, _Decoder] = {
    "id": _string,
    "parent": _string,
    "comment": _string,
    "created": _time,
    "container": _string,
    "container_config": _struct(CONTAINER_CONFIG_FIELDS, pointer=False),
    "docker_version": _string,
    "author": _string,
    "config": _struct(CONTAINER_CONFIG_FIELDS),
    "architecture": _string,
    "variant": _string,
    "os": _string,
    "Size": _integer,
    "rootfs": _struct({"type": _string, "diff_ids": _strings}),
    "history": _list_of(_struct(_HISTORY_STEP, pointer=False)),
    "os.version": _string,
    "os.features": _strings,
}
_DESCRIPTOR: Mapping[str, _Decoder] = {
    "mediaType": _string,
    "digest": _string,
    "size": _integer,
    "urls": _strings,
    "annotations": _map_of(_string, ""),
    "data": _bytes,
    "platform": _struct(
        {
            "architecture": _string,
            "os": _string,
            "os.version": _string,
            "os.features": _strings,
            "variant": _string,
        }
    ),
    "artifactType": _string,
}
_INDEX = {"manifests": _list_of(_struct(_DESCRIPTOR, pointer=False))}
_MANIFEST: Mapping[str, _Decoder] = {
    "layers": _list_of(_struct({"mediaType": _string}, pointer=False))
}


def decode_image(config: bytes) -> dict[str, Any]:
    document = _loads(config)
    if not isinstance(document, _Pairs):
        raise RefusedConfig(f"the config is {_kind(document)}, not an object")
    image = _decode(_IMAGE, document, {})
    # A null step is a step like any other: one that made a layer.
    image["history"] = [step or {} for step in image.get("history") or ()]
    layers = len((image.get("rootfs") or {}).get("diff_ids") or ())
    if sum(not step.get("empty_layer") for step in image["history"]) > layers:
        raise RefusedConfig("too many non-empty layers in History section")
    return image


def decode_descriptor(value: object) -> dict[str, Any]:
    """An OCI descriptor (a dict, or an object read here) as its Go type holds it."""
    return _decode(_DESCRIPTOR, _pairs_of_checked(value, "a descriptor"), {})


def decode_index(index: bytes) -> list[dict[str, Any]]:
    """The descriptors an OCI index or a docker manifest list holds."""
    document = _loads(index)
    if not isinstance(document, _Pairs):
        raise RefusedConfig("the index is not an object")
    return list(_decode(_INDEX, document, {}).get("manifests") or ())


def layer_media_types(manifest: bytes) -> list[str]:
    """The media types of a manifest's layers."""
    document = _pairs_of_checked(_loads(manifest), "a manifest")
    return [
        layer.get("mediaType", "") for layer in _decode(_MANIFEST, document, {}).get("layers") or ()
    ]
