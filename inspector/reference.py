"""Image references and IDs, validated locally before any request is built."""

import re
from typing import NamedTuple

from inspector.errors import InvalidReference, UsageError

# The grammar of github.com/distribution/reference (regexp.go), spelled in ASCII classes:
# Python's \w and \d match far more than Go's.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?")
_ID = re.compile(r"(?:sha256:)?[a-f0-9]{1,64}")
# Every path this module hands out has this form; checked again as a last line of defence.
# (Patterns that only some paths need are compiled on first use, by re's cache: TAB completion
# validates tags with this module and builds no path, and waits for every pattern compiled.)
_SAFE_PATH = r"/images/[A-Za-z0-9._:@/+\-%]+/(?:json|history|get)"

NAME_MAX_LENGTH = 255


class ImageReference(NamedTuple):
    """What the user typed, once it is known to name an image and nothing else."""

    text: str

    @property
    def api_path(self) -> str:
        """The unversioned API path that inspects this image."""
        return self._path("json")

    @property
    def history_api_path(self) -> str:
        """The unversioned API path of this image's build history."""
        return self._path("history")

    @property
    def save_api_path(self) -> str:
        """The unversioned API path of this image's `docker save` (a tar)."""
        return self._path("get")

    def _path(self, leaf: str) -> str:
        from urllib.parse import quote

        path = f"/images/{quote(self.text, safe='/:@+')}/{leaf}"
        if not re.fullmatch(_SAFE_PATH, path) or "/../" in path or "/./" in path:
            raise InvalidReference(f"invalid reference format: {self.text!r}")
        return path


def parse_reference(text: str) -> ImageReference:
    """Accept an image reference (`name[:tag][@digest]`) or a full or short image ID."""
    if _ID.fullmatch(text):
        return ImageReference(text)
    split_reference(text)
    return ImageReference(text)


class ReferenceParts(NamedTuple):
    """A reference split as the grammar reads it: `name[:tag][@digest]`."""

    name: str
    tag: str | None
    digest: str | None


def split_reference(text: str) -> ReferenceParts:
    """The name, tag and digest of a reference (no image IDs); InvalidReference if it is none."""
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise InvalidReference(_explain(text))
    if len(match["name"]) > NAME_MAX_LENGTH:
        raise InvalidReference(
            f"invalid reference {text!r}: repository name must not be more than "
            f"{NAME_MAX_LENGTH} characters"
        )
    return ReferenceParts(match["name"], match["tag"], match["digest"])


def is_registry_host(text: str) -> bool:
    """`host[:port]` as a reference's first component spells a registry."""
    return re.fullmatch(_DOMAIN, text) is not None


def _explain(text: str) -> str:
    """Say what is wrong with a reference the grammar refused, as precisely as is cheap."""
    shown = repr(text)
    if not text:
        return "invalid reference: the image name is empty"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
        return f"invalid reference {shown}: it contains control characters"
    if any(c.isspace() for c in text):
        return f"invalid reference {shown}: it contains white space"
    lowered = _REFERENCE.fullmatch(text.lower())
    if lowered is not None and text.lower() != text:
        return f"invalid reference {shown}: repository name must be lowercase"
    return f"invalid reference format: {shown}"


# containerd's platform specifiers (github.com/containerd/platforms), which docker parses
# --platform with: each part is from this set, the OS may carry "(os version)".
_PLATFORM_PART = r"[A-Za-z0-9_.-]+"
_PLATFORM_OS = r"(?P<os>[A-Za-z0-9_.-]+)(?:\((?P<version>[A-Za-z0-9_.-]*)\))?"


class Platform(NamedTuple):
    """An image platform, normalized as docker normalizes `--platform`."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""

    @property
    def query_value(self) -> str:
        """What docker sends as `platform=`: Go's JSON of an OCI platform, in its field order."""
        fields = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            fields["os.version"] = self.os_version
        if self.variant:
            fields["variant"] = self.variant
        import json

        return json.dumps(fields, separators=(",", ":"))

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


def parse_platform(text: str) -> Platform:
    """`os/arch[/variant]`, as containerd's platforms.Parse reads it (docker's `--platform`)."""
    if "*" in text:
        raise UsageError(f"invalid platform {text!r}: wildcards are not supported")
    parts = text.split("/")
    if len(parts) not in (2, 3):
        raise UsageError(f"invalid platform {text!r}: expected os/arch or os/arch/variant")
    os_part = re.fullmatch(_PLATFORM_OS, parts[0])
    for part in parts[1:]:
        if not re.fullmatch(_PLATFORM_PART, part):
            raise UsageError(
                f"invalid platform {text!r}: {part!r} is not a platform name "
                "(letters, digits, '_', '.', '-')"
            )
    if os_part is None:
        raise UsageError(f"invalid platform {text!r}: {parts[0]!r} is not an operating system")
    os = os_part["os"].lower()
    os = "darwin" if os == "macos" else os
    if len(parts) == 2:
        architecture, variant = _normalize_architecture(parts[1], "")
        if architecture == "arm" and variant == "v7":
            variant = ""
    else:
        architecture, variant = _normalize_architecture(parts[1], parts[2])
        if architecture == "arm64" and not variant:
            variant = "v8"
    return Platform(os, architecture, variant, os_part["version"] or "")


def _normalize_architecture(architecture: str, variant: str) -> tuple[str, str]:
    """containerd's normalizeArch: the names an architecture and its variants go by."""
    architecture, variant = architecture.lower(), variant.lower()
    if architecture == "i386":
        return "386", ""
    if architecture in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if architecture in ("aarch64", "arm64"):
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
        return "arm64", variant
    if architecture == "armhf":
        return "arm", "v7"
    if architecture == "armel":
        return "arm", "v6"
    if architecture == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
    return architecture, variant
