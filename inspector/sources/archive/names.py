"""Archives and layouts named on the command line: what the user wrote, checked, not read."""

import stat
from pathlib import Path
from typing import NamedTuple

from inspector.errors import ArchiveError, UsageError

# What a source may be prefixed with, as skopeo's transports spell it: `oci:PATH[:NAME]`.
PREFIXES = ("docker-archive", "oci-archive", "oci")
# Architecture names as containerd normalizes them (github.com/containerd/platforms).
_ARCHITECTURES = {
    "i386": ("386", ""),
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
}


class ArchiveName(NamedTuple):
    """An archive or layout named on the command line, and which image in it, if said."""

    text: str
    path: str
    kind: str | None = None  # one of PREFIXES if the user said so; None: read the contents
    selector: str | None = None  # a name or tag in the archive, or @N (its position)


def parse_source(text: str) -> ArchiveName:
    """`docker-archive:PATH[:NAME]`, `oci-archive:...`, `oci:...`, or a plain path."""
    prefix, colon, rest = text.partition(":")
    if colon and prefix in PREFIXES:
        # As skopeo splits them: the path ends at the first colon after the transport.
        path, colon, selector = rest.partition(":")
        if not path:
            raise UsageError(f"{text!r}: the path after {prefix}: is empty")
        if colon and not selector:
            raise UsageError(f"{text!r}: the image name after the path is empty")
        return ArchiveName(text, path, prefix, selector or None)
    return ArchiveName(text, text)


def has_prefix(text: str) -> bool:
    prefix, colon, _ = text.partition(":")
    return bool(colon) and prefix in PREFIXES


def is_layout_directory(path: str) -> bool:
    """A directory holding an OCI layout or an unpacked `docker save`."""
    return Path(path, "index.json").is_file() or Path(path, "manifest.json").is_file()


def check_source(source: ArchiveName) -> None:
    """Refuse a source that cannot be an archive before anything is read (stat only)."""
    try:
        mode = Path(source.path).stat().st_mode
    except OSError as exc:
        raise ArchiveError(f"{source.text!r}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(mode):
        if source.kind in ("docker-archive", "oci-archive"):
            raise ArchiveError(f"{source.text!r}: a {source.kind} is a file, not a directory")
        if not is_layout_directory(source.path):
            raise ArchiveError(
                f"{source.text!r} is a directory without index.json or manifest.json: "
                "not an OCI layout or an unpacked docker save"
            )
    elif source.kind == "oci":
        raise ArchiveError(f"{source.text!r}: an oci: layout is a directory (oci-archive: a tar)")


def platform_text(os_name: str, architecture: str, variant: str) -> str:
    """os/arch[/variant] with the names containerd gives them (`x86_64` is `amd64`): how an
    archive's platforms are listed and compared with `--platform`."""
    architecture, variant = architecture.lower(), variant.lower()
    if architecture in _ARCHITECTURES:
        architecture, implied = _ARCHITECTURES[architecture]
        variant = variant or implied
    if (architecture, variant) in (("arm64", "v8"), ("amd64", "v1")):
        variant = ""
    if architecture == "arm" and not variant:
        variant = "v7"
    return "/".join(part for part in (os_name.lower(), architecture, variant) if part)
