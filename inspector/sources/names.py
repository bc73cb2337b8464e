"""Which source a name on the command line is for: an image the daemon has, a file to read,
or an image in a registry (`docker://REF`).

Checked before any I/O but a stat: an invalid reference or an archive that cannot be one is a
usage error before anything is asked.
"""

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from inspector.errors import UsageError
from inspector.reference import ImageReference, parse_reference
from inspector.sources.archive import names as archive_names
from inspector.sources.archive.names import ArchiveName

if TYPE_CHECKING:  # loaded only for a run that names a registry's image
    from inspector.sources.registry.names import RegistryName

# What a name on the command line can be.
ImageName: TypeAlias = "ImageReference | ArchiveName | RegistryName"

# skopeo's transport name for a registry: what comes after it is docker's reference.
REGISTRY_PREFIX = "docker://"


def parse_name(text: str) -> ImageName:
    """The image a word names; UsageError (exit 2) if it is neither a reference nor a file."""
    if text.startswith(REGISTRY_PREFIX):
        from inspector.sources.registry.names import parse_registry_name

        return parse_registry_name(text)
    if not names_a_file(text):
        return parse_reference(text)
    named = archive_names.parse_source(text)
    archive_names.check_source(named)
    return named


def names_a_file(text: str) -> bool:
    """A path rather than an image name: docker-archive:, oci-archive: or oci: before it, an
    existing file or layout directory, or a `/` in something that is no image reference
    (`./app.tar`, `/tmp/app.tar`); anything else goes to the daemon."""
    if archive_names.has_prefix(text):
        return True
    if not text or "\x00" in text:  # no path holds a NUL; the reference check says why
        return False
    path = Path(text)
    try:
        if path.is_dir():  # a directory named like an image (`nginx/`): the image, unless a layout
            return archive_names.is_layout_directory(text) or not _is_reference(text)
        exists = path.exists()
    except OSError:  # a name too long, a directory we may not search: no file we can read
        exists = False
    return exists or ("/" in text and not _is_reference(text))


def _is_reference(text: str) -> bool:
    try:
        parse_reference(text)
    except UsageError:
        return False
    return True
