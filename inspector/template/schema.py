"""docker CLI 28's Go struct for an inspected image, and the daemon's JSON decoded into it.

`docker image inspect -f` first runs the template on this struct (image.InspectResponse);
the field list, JSON keys, `omitempty` and type names below were read off docker CLI 28.2
(`{{.}}`, `{{json .}}` and `{{printf "%T" ...}}` of real images), so that `{{.Config}}`,
`{{json .}}` and `printf "%T"` agree with it.
"""

from collections.abc import Mapping
from typing import Any

from inspector.template.gotime import DURATION, TIME, GoTime, parse_rfc3339
from inspector.template.values import (
    BOOL,
    EMPTY_STRUCT,
    INT,
    INT64,
    STRING,
    Field,
    GoType,
    JsonNumber,
    Kind,
    Value,
    json_text,
    map_of,
    pointer_to,
    slice_of,
    zero,
)


class DecodeError(Exception):
    """The daemon's JSON does not fit docker's struct (docker itself would refuse the image)."""


def parse_time(text: str) -> GoTime:
    """A time.Time from the RFC 3339 text encoding/json gives it; DecodeError if Go refuses."""
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise DecodeError(str(exc)) from None


# -- the struct table -----------------------------------------------------------------------

STRINGS = slice_of(STRING)
STRSLICE = GoType("strslice.StrSlice", Kind.SLICE, elem=STRING)
STRING_SET = map_of(STRING, EMPTY_STRUCT)
PORT = GoType("nat.Port", Kind.STRING)
PORT_SET = GoType("nat.PortSet", Kind.MAP, elem=EMPTY_STRUCT, key=PORT)
STRING_MAP = map_of(STRING, STRING)
INT_POINTER = pointer_to(INT)


def _struct(name: str, *fields: Field) -> GoType:
    return GoType(name, Kind.STRUCT, fields=fields)


def _f(name: str, type_: GoType, json_name: str | None = "", omitempty: bool = False) -> Field:
    """A field whose JSON key is its Go name unless given (None: not marshalled)."""
    return Field(name, type_, name if json_name == "" else json_name, omitempty)


HEALTHCHECK = _struct(
    "v1.HealthcheckConfig",
    _f("Test", STRINGS, omitempty=True),
    _f("Interval", DURATION, omitempty=True),
    _f("Timeout", DURATION, omitempty=True),
    _f("StartPeriod", DURATION, omitempty=True),
    _f("StartInterval", DURATION, omitempty=True),
    _f("Retries", INT, omitempty=True),
)
CONTAINER_HEALTHCHECK = HEALTHCHECK  # container.HealthConfig is an alias of it in docker 28

OCI_IMAGE_CONFIG = _struct(
    "v1.ImageConfig",
    _f("User", STRING, omitempty=True),
    _f("ExposedPorts", STRING_SET, omitempty=True),
    _f("Env", STRINGS, omitempty=True),
    _f("Entrypoint", STRINGS, omitempty=True),
    _f("Cmd", STRINGS, omitempty=True),
    _f("Volumes", STRING_SET, omitempty=True),
    _f("WorkingDir", STRING, omitempty=True),
    _f("Labels", STRING_MAP, omitempty=True),
    _f("StopSignal", STRING, omitempty=True),
    _f("ArgsEscaped", BOOL, omitempty=True),
)
DOCKER_CONFIG_EXT = _struct(
    "v1.DockerOCIImageConfigExt",
    _f("Healthcheck", pointer_to(HEALTHCHECK), omitempty=True),
    _f("OnBuild", STRINGS, omitempty=True),
    _f("Shell", STRINGS, omitempty=True),
)
DOCKER_IMAGE_CONFIG = GoType(
    "v1.DockerOCIImageConfig",
    Kind.STRUCT,
    fields=(
        Field("ImageConfig", OCI_IMAGE_CONFIG, None, embedded=True),
        Field("DockerOCIImageConfigExt", DOCKER_CONFIG_EXT, None, embedded=True),
    ),
)

CONTAINER_CONFIG = _struct(
    "container.Config",
    _f("Hostname", STRING),
    _f("Domainname", STRING),
    _f("User", STRING),
    _f("AttachStdin", BOOL),
    _f("AttachStdout", BOOL),
    _f("AttachStderr", BOOL),
    _f("ExposedPorts", PORT_SET, omitempty=True),
    _f("Tty", BOOL),
    _f("OpenStdin", BOOL),
    _f("StdinOnce", BOOL),
    _f("Env", STRINGS),
    _f("Cmd", STRSLICE),
    _f("Healthcheck", pointer_to(CONTAINER_HEALTHCHECK), omitempty=True),
    _f("ArgsEscaped", BOOL, omitempty=True),
    _f("Image", STRING),
    _f("Volumes", STRING_SET),
    _f("WorkingDir", STRING),
    _f("Entrypoint", STRSLICE),
    _f("NetworkDisabled", BOOL, omitempty=True),
    _f("MacAddress", STRING, omitempty=True),
    _f("OnBuild", STRINGS),
    _f("Labels", STRING_MAP),
    _f("StopSignal", STRING, omitempty=True),
    _f("StopTimeout", INT_POINTER, omitempty=True),
    _f("Shell", STRSLICE, omitempty=True),
)

PLATFORM = _struct(
    "v1.Platform",
    _f("Architecture", STRING, "architecture"),
    _f("OS", STRING, "os"),
    _f("OSVersion", STRING, "os.version", omitempty=True),
    _f("OSFeatures", STRINGS, "os.features", omitempty=True),
    _f("Variant", STRING, "variant", omitempty=True),
)
DIGEST = GoType("digest.Digest", Kind.STRING)
DESCRIPTOR = _struct(
    "v1.Descriptor",
    _f("MediaType", STRING, "mediaType"),
    _f("Digest", DIGEST, "digest"),
    _f("Size", INT64, "size"),
    _f("URLs", STRINGS, "urls", omitempty=True),
    _f("Annotations", STRING_MAP, "annotations", omitempty=True),
    _f("Platform", pointer_to(PLATFORM), "platform", omitempty=True),
    _f("ArtifactType", STRING, "artifactType", omitempty=True),
)
MANIFEST_SIZE = GoType(
    'struct { Total int64 "json:\\"Total\\""; Content int64 "json:\\"Content\\"" }',
    Kind.STRUCT,
    fields=(_f("Total", INT64), _f("Content", INT64)),
)
MANIFEST_IMAGE_DATA = _struct(
    "image.ImageProperties",
    _f("Platform", PLATFORM),
    _f("Size", _struct("image.ImageSize", _f("Unpacked", INT64))),
    _f("Containers", STRINGS),
)
MANIFEST_ATTESTATION_DATA = _struct("image.AttestationProperties", _f("For", DIGEST))
MANIFEST_SUMMARY = _struct(
    "image.ManifestSummary",
    _f("ID", STRING),
    _f("Descriptor", DESCRIPTOR),
    _f("Available", BOOL),
    _f("Size", MANIFEST_SIZE),
    _f("Kind", GoType("image.ManifestKind", Kind.STRING)),
    _f("ImageData", pointer_to(MANIFEST_IMAGE_DATA), omitempty=True),
    _f("AttestationData", pointer_to(MANIFEST_ATTESTATION_DATA), omitempty=True),
)

GRAPH_DRIVER = _struct("storage.DriverData", _f("Data", STRING_MAP), _f("Name", STRING))
ROOT_FS = _struct(
    "image.RootFS", _f("Type", STRING, omitempty=True), _f("Layers", STRINGS, omitempty=True)
)
METADATA = _struct("image.Metadata", _f("LastTagTime", TIME, omitempty=True))

INSPECT_RESPONSE = _struct(
    "image.InspectResponse",
    _f("ID", STRING, "Id"),
    _f("RepoTags", STRINGS),
    _f("RepoDigests", STRINGS),
    _f("Parent", STRING),
    _f("Comment", STRING),
    _f("Created", STRING, omitempty=True),
    _f("Container", STRING, omitempty=True),
    _f("ContainerConfig", pointer_to(CONTAINER_CONFIG), omitempty=True),
    _f("DockerVersion", STRING),
    _f("Author", STRING),
    _f("Config", pointer_to(DOCKER_IMAGE_CONFIG)),
    _f("Architecture", STRING),
    _f("Variant", STRING, omitempty=True),
    _f("Os", STRING),
    _f("OsVersion", STRING, omitempty=True),
    _f("Size", INT64),
    _f("VirtualSize", INT64, omitempty=True),
    _f("GraphDriver", GRAPH_DRIVER),
    _f("RootFS", ROOT_FS),
    _f("Metadata", METADATA),
    _f("Descriptor", pointer_to(DESCRIPTOR), omitempty=True),
    _f("Manifests", slice_of(MANIFEST_SUMMARY), omitempty=True),
)


# -- decoding, as encoding/json fills a struct ----------------------------------------------


def decode_inspect(document: Mapping[str, Any]) -> Value:
    """The daemon's object as docker's typed struct; JSON numbers must be `JsonNumber`s."""
    return decode(document, INSPECT_RESPONSE)


_INT64_RANGE = range(-(2**63), 2**63)


def decode(raw: Any, type_: GoType) -> Value:
    """encoding/json's Unmarshal of raw (already parsed) into a value of type_."""
    if raw is None:  # JSON null leaves the zero value (and nils pointers, slices and maps)
        return zero(type_)
    if type_ is TIME:
        if not isinstance(raw, str):
            raise DecodeError("time is not a string")
        return Value(TIME, parse_time(raw))
    kind = type_.kind
    if kind is Kind.STRUCT:
        if not isinstance(raw, dict):
            raise DecodeError(f"cannot decode {_json_kind(raw)} into {type_.name}")
        return _decode_struct(raw, type_)
    if kind is Kind.POINTER:
        assert type_.elem is not None
        return Value(type_, decode(raw, type_.elem))
    if kind is Kind.SLICE:
        if not isinstance(raw, list):
            raise DecodeError(f"cannot decode {_json_kind(raw)} into {type_.name}")
        assert type_.elem is not None
        return Value(type_, [decode(item, type_.elem) for item in raw])
    if kind is Kind.MAP:
        if not isinstance(raw, dict):
            raise DecodeError(f"cannot decode {_json_kind(raw)} into {type_.name}")
        assert type_.elem is not None
        return Value(type_, {json_text(key): decode(item, type_.elem) for key, item in raw.items()})
    if kind is Kind.STRING:
        if isinstance(raw, str) and not isinstance(raw, JsonNumber):
            return Value(type_, json_text(raw))
    elif kind is Kind.BOOL:
        if isinstance(raw, bool):
            return Value(type_, raw)
    elif kind in (Kind.INT, Kind.UINT) and isinstance(raw, JsonNumber):
        try:
            number = int(raw)
        except ValueError:
            number = None
        if number is not None and number in _INT64_RANGE:
            return Value(type_, number)
    raise DecodeError(f"cannot decode {_json_kind(raw)} into {type_.name}")


def _decode_struct(raw: Mapping[str, Any], type_: GoType) -> Value:
    keys = {key.lower(): key for key in reversed(list(raw))}  # Go takes the first on a clash
    return Value(type_, tuple(_decode_field(raw, keys, f) for f in type_.fields))


def _decode_field(raw: Mapping[str, Any], keys: Mapping[str, str], field: Field) -> Value:
    if field.embedded:  # promoted fields live in the same JSON object
        return _decode_struct(raw, field.type)
    if field.json_name is None:
        return zero(field.type)
    # encoding/json prefers the exact key, then any key equal to it but for case.
    key = field.json_name if field.json_name in raw else keys.get(field.json_name.lower())
    return decode(raw[key], field.type) if key is not None else zero(field.type)


def _json_kind(raw: Any) -> str:
    if isinstance(raw, bool):
        return "bool"
    if isinstance(raw, JsonNumber):
        return "number"
    if isinstance(raw, str):
        return "string"
    if isinstance(raw, list):
        return "array"
    return "object" if isinstance(raw, dict) else type(raw).__name__
