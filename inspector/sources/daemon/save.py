"""An image's layers as the daemon's `docker save` of it holds them (GET /images/{name}/get),
read as the answer arrives and never written anywhere.

The answer is an archive, and is read as one: one pass over the tar (archive.stores), its
image chosen and checked (archive.layout: every digest, every diff-ID), each layer's entries
kept. dockerd 20.10 and Podman send a docker-archive (manifest.json, each layer a plain tar);
dockerd 25 and later an OCI layout with a manifest.json beside it, its layers compressed as
the containerd image store keeps them. The image is saved by the name it was inspected by, as
docker save names it (the containerd store saves no image by the ID of one platform's), and
must be the image inspected: a tag moved in between cannot swap it.
"""

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from inspector import untrusted
from inspector.contents.model import LayerContents
from inspector.errors import ArchiveChoiceNeeded, ArchiveError, DaemonBadResponse, ImageNotFound
from inspector.reference import ImageReference, Platform
from inspector.sources.archive.layout import Layout, choose
from inspector.sources.archive.names import ArchiveName, platform_text
from inspector.sources.archive.stores import read_tar
from inspector.sources.daemon.client import Daemon

_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")


def layer_contents(
    daemon: Daemon,
    reference: ImageReference,
    inspect: bytes,
    platform: Platform | None,
    *,
    shown: str,
) -> tuple[LayerContents, ...]:
    """Each layer's entries, bottom first, of the image the reference names, which the inspect
    answer describes (shown: the name the run shows it by, for messages). platform is
    --platform's, passed on as docker save passes it (API 1.48 and later; --platform needs
    newer)."""
    document = untrusted.parse(inspect)
    image_id = untrusted.plain(document.get("Id"))
    where = f"the daemon at {daemon.host}: the save of {shown}"
    if not _IMAGE_ID.fullmatch(image_id):
        raise DaemonBadResponse(f"{where}: its inspect answer has no image ID to check it by")
    path = f"/v{daemon.api_version}{reference.save_api_path}"
    if platform is not None:
        path += "?" + urlencode({"platform": platform.query_value})
    with daemon.stream(path) as body:
        try:
            store = read_tar(body, where, contents=True)
        except ArchiveError as exc:
            raise DaemonBadResponse(str(exc)) from exc
    try:
        layout = Layout(store, where, None)
        # Of the platforms a multi-platform save holds, the one the inspect answer describes.
        candidate = choose(layout, ArchiveName(where, where), _platform(document))
        image = layout.checked(candidate, contents=True)
    except ArchiveChoiceNeeded as exc:
        raise DaemonBadResponse(
            f"{where}: it holds {len(exc.choices)} images for that platform, not one"
        ) from exc
    except (ArchiveError, ImageNotFound) as exc:
        raise DaemonBadResponse(str(exc)) from exc
    # The classic store's ID is the config's digest; the containerd store's, the digest of
    # the manifest or index that names the config.
    if image_id not in (image.id, *candidate.digests):
        raise DaemonBadResponse(f"{where}: it holds {image.id}, not the image inspected")
    assert image.contents is not None
    inspected = untrusted.only_strings(untrusted.member(document, "RootFS").get("Layers"))
    saved = tuple(layer.diff_id for layer in image.contents)
    if saved != inspected:
        raise DaemonBadResponse(
            f"{where}: its layers ({len(saved)}) are not the ones the inspect answer lists "
            f"({len(inspected)})"
        )
    return image.contents


def _platform(document: Mapping[str, Any]) -> str | None:
    """The inspect answer's platform, as archive platforms are written; None if it has none."""
    os_name = untrusted.plain(document.get("Os"))
    architecture = untrusted.plain(document.get("Architecture"))
    if not os_name or not architecture:
        return None
    return platform_text(os_name, architecture, untrusted.plain(document.get("Variant")))
