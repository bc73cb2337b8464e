"""Archives and layouts as a source: each file read in its turn, as a daemon would answer."""

import os
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from inspector.errors import ImginspectError
from inspector.image import Image
from inspector.sources.api_version import shaped_api_version
from inspector.sources.archive.names import ArchiveName, platform_text
from inspector.sources.interface import Request

if TYPE_CHECKING:
    from inspector.sources.names import ImageName


class ArchiveSource:
    """Reads each archive named, once, as a stream; nothing is extracted or written."""

    def __init__(self, request: Request) -> None:
        self._request = request
        # Each image is described as a daemon speaking this version would describe it after
        # `docker load`; an invalid DOCKER_API_VERSION is a usage error before any archive is
        # read.
        self._api_version = shaped_api_version(os.environ)
        # Archives name their platforms as containerd does; the daemon gets docker's query.
        platform = request.platform
        self._platform = (
            platform_text(platform.os, platform.architecture, platform.variant)
            if platform
            else None
        )

    def images(self, names: Iterator["ImageName"]) -> Generator[Image, None, None]:
        for name in names:
            if isinstance(name, ArchiveName):
                yield self._read(name)

    def close(self) -> None:
        """Nothing stays open between two archives."""

    def _read(self, name: ArchiveName) -> Image:
        from inspector.sources.archive.reader import read_image  # the tar reader, the codecs

        try:
            return read_image(
                name,
                self._platform,
                with_history=self._request.with_history,
                contents=self._request.contents,
                api_version=self._api_version,
            )
        except ImginspectError as exc:
            return Image(name.text, error=exc)
