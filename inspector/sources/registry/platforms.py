"""Which manifest of an index (a manifest list) a pull takes: the one for `--platform`, else
for this machine, as docker's classic image store chooses it (containerd's platform matcher,
`platforms.Only`: the platform itself first, then those it can also run)."""

import platform as host_platform
from collections.abc import Mapping, Sequence
from typing import Any

from inspector.errors import UsageError
from inspector.reference import Platform, parse_platform

# containerd's names for what platform.machine() says (its normalizeArch, and runtime.GOARCH).
_MACHINES = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv8l": ("arm", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armv5l": ("arm", "v5"),
    "i386": ("386", ""),
    "i686": ("386", ""),
}
# The annotation that marks an attestation (a provenance or SBOM manifest) in docker's indexes.
REFERENCE_TYPE = "vnd.docker.reference.type"
ATTESTATION = "attestation-manifest"
REFERENCE_DIGEST = "vnd.docker.reference.digest"


def this_machine() -> Platform:
    """linux and this machine's architecture, as docker pull assumes without --platform."""
    machine = host_platform.machine().lower()
    architecture, variant = _MACHINES.get(machine, (machine, ""))
    return Platform("linux", architecture, variant)


# The variant an architecture has when an image names none.
_BASE_VARIANT = {"amd64": "v1", "arm64": "v8", "arm": "v7"}


def acceptable(wanted: Platform) -> list[tuple[str, str]]:
    """The (architecture, variant) pairs that can run on wanted, best first, as containerd's
    platformVector orders them."""
    architecture, variant = wanted.architecture, _variant(wanted)
    level = int(variant[1:]) if variant[1:].isdigit() else 0
    if architecture == "amd64":
        return [("amd64", f"v{n}") for n in range(max(level, 1), 0, -1)] + [("386", "")]
    if architecture == "arm64" and level <= 8:
        return [("arm64", "v8"), *[("arm", f"v{n}") for n in (8, 7, 6, 5)]]
    if architecture == "arm":
        return [("arm", f"v{n}") for n in range(max(level, 5), 4, -1)]
    return [(architecture, variant)]


def _variant(platform: Platform) -> str:
    return platform.variant or _BASE_VARIANT.get(platform.architecture, "")


def entry_platform(entry: Mapping[str, Any]) -> Platform | None:
    """An index entry's platform, normalized as containerd normalizes it; None if it has none."""
    value = entry.get("platform")
    if not isinstance(value, dict):
        return None
    os_name, architecture = value.get("os"), value.get("architecture")
    if not isinstance(os_name, str) or not isinstance(architecture, str):
        return None
    variant = value.get("variant") if isinstance(value.get("variant"), str) else ""
    os_version = value.get("os.version") if isinstance(value.get("os.version"), str) else ""
    try:
        normal = parse_platform(f"{os_name}/{architecture}" + (f"/{variant}" if variant else ""))
    except UsageError:
        return Platform(os_name, architecture, variant or "", os_version or "")
    return normal._replace(os_version=os_version or "")


def is_attestation(entry: Mapping[str, Any]) -> bool:
    annotations = entry.get("annotations")
    return isinstance(annotations, dict) and annotations.get(REFERENCE_TYPE) == ATTESTATION


def choose(entries: Sequence[Mapping[str, Any]], wanted: Platform) -> Mapping[str, Any] | None:
    """The entry a pull for wanted takes: the best match by containerd's order, then the first
    entry with no platform at all (docker's filterManifests keeps those, last); never an
    attestation."""
    order = acceptable(wanted)
    best: tuple[int, int] | None = None
    chosen: Mapping[str, Any] | None = None
    for position, entry in enumerate(entries):
        if is_attestation(entry):
            continue
        found = entry_platform(entry)
        rank = len(order) if found is None else _rank(order, found, wanted.os)
        if rank is None:
            continue
        if best is None or (rank, position) < best:
            best, chosen = (rank, position), entry
    return chosen


def _rank(order: list[tuple[str, str]], found: Platform, os_name: str) -> int | None:
    if found.os != os_name:
        return None
    try:
        return order.index((found.architecture, _variant(found)))
    except ValueError:
        return None


def listed(entries: Sequence[Mapping[str, Any]]) -> str:
    """The platforms an index has, for the message that none of them is the one wanted."""
    names = []
    for entry in entries:
        if is_attestation(entry):
            continue
        found = entry_platform(entry)
        names.append(str(found) if found is not None else "(no platform)")
    return ", ".join(dict.fromkeys(names)) or "none"


def config_platform(document: Mapping[str, Any]) -> Platform | None:
    """The platform an image's config says it is for."""
    return entry_platform({"platform": document})


def matches(document: Mapping[str, Any], wanted: Platform) -> bool:
    """Whether the config's platform is the one wanted (as docker checks a lone manifest's
    image against --platform: the same OS, architecture and variant)."""
    found = config_platform(document)
    return (
        found is not None
        and found.os == wanted.os
        and found.architecture == wanted.architecture
        and _variant(found) == _variant(wanted)
    )
