"""Image references and IDs, validated locally before any request is built."""

import re
from dataclasses import dataclass
from urllib.parse import quote

from inspector.errors import InvalidReference

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
_SAFE_PATH = re.compile(r"/images/[A-Za-z0-9._:@/+\-%]+/(?:json|history)")

NAME_MAX_LENGTH = 255


@dataclass(frozen=True, slots=True)
class ImageReference:
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

    def _path(self, leaf: str) -> str:
        path = f"/images/{quote(self.text, safe='/:@+')}/{leaf}"
        if not _SAFE_PATH.fullmatch(path) or "/../" in path or "/./" in path:
            raise InvalidReference(f"invalid reference format: {self.text!r}")
        return path


def parse_reference(text: str) -> ImageReference:
    """Accept an image reference (`name[:tag][@digest]`) or a full or short image ID."""
    if _ID.fullmatch(text):
        return ImageReference(text)
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise InvalidReference(_explain(text))
    if len(match["name"]) > NAME_MAX_LENGTH:
        raise InvalidReference(
            f"invalid reference {text!r}: repository name must not be more than "
            f"{NAME_MAX_LENGTH} characters"
        )
    return ImageReference(text)


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
