"""Image archives and OCI layouts, read into what a daemon would answer: inspect and history JSON.

Sources: `docker save` tars (`manifest.json`), OCI image layouts (`index.json` and `blobs/`)
as a directory or as a tar (`oci-archive`), plain or compressed with gzip, bzip2 or xz.
A tar is read once, from start to end, as a stream: nothing is extracted, layers pass
through in chunks (hashed, their own tar headers read to learn their unpacked size), and
only small JSON members are kept in memory. Every digest that names a blob is checked, and
each layer's diff-ID too, so a corrupt archive is refused rather than misdescribed.

One job a module: stores.py reads the tar or the directory (streams.py the bytes of each
blob), layout.py lists the images, chooses one and checks its blobs, and the shape builder
(sources/shape) makes its inspect object and history from its config, as `docker image
inspect` prints them after `docker load` at the API version asked for.

What only the daemon that loaded the image would know is left out, never invented:
`RepoDigests` (a load records none, but the daemon may have others for the same image),
`Parent`, `GraphDriver` and `Metadata`. `Size` is the layers' unpacked sizes added up, as
docker counts them (left out if a layer could not be unpacked), and so is `VirtualSize`, its
copy, at the API versions that have it.
"""

from pathlib import Path

from inspector.errors import ArchiveError
from inspector.image import Image, Origin
from inspector.sources.archive.layout import CheckedImage, Layout, choose
from inspector.sources.archive.names import ArchiveName, check_source
from inspector.sources.archive.stores import DirectoryStore, scan


def read_image(
    name: ArchiveName,
    platform: str | None = None,
    *,
    with_history: bool = True,
    contents: bool = False,
    api_version: str | None = None,
) -> Image:
    """The one image of the archive the name names (platform: as platform_text writes it), with
    its history and its layers' entries when asked; ArchiveError, ArchiveChoiceNeeded or
    ImageNotFound if there is not exactly one, or the archive is not sound. Its answers are
    shaped as at api_version (None: the newest the shape builder knows).

    With contents, a tar keeps every layer's entries as it passes, the chosen image's and the
    others': it is read once, before the choice."""
    check_source(name)
    where = name.text
    directory = Path(name.path).is_dir()
    store = (
        DirectoryStore(Path(name.path), where, contents)
        if directory
        else scan(name.path, where, contents=contents)
    )
    layout = Layout(store, where, name.kind)
    if layout.uses_index:
        kind = "OCI layout" if directory else "oci-archive"
    else:
        kind = "docker save directory" if directory else "docker-archive"
    candidate = choose(layout, name, platform)
    image = layout.checked(candidate, contents=contents)
    config, _ = layout.config(candidate)  # its bytes, as checked against its digest
    inspect, history = _answers(config, image, where, with_history, api_version)
    return Image(
        asked=name.text,
        inspect=inspect,
        history=history,
        origin=Origin(kind, name.path, image.stored_size),
        contents=image.contents,
    )


def _answers(
    config: bytes, image: CheckedImage, where: str, with_history: bool, api_version: str | None
) -> tuple[bytes, bytes | None]:
    """The inspect object and (with_history) the history, as compact JSON; an ArchiveError
    for a config `docker load` refuses."""
    from inspector.sources.shape import answers  # the Go decoder and encoder

    version = api_version or answers.DEFAULT_API_VERSION
    try:
        inspect = answers.inspect_object(
            config,
            image_id=image.id,
            repo_tags=image.repo_tags,
            repo_digests=None,
            size=image.size,
            parent=None,
            api_version=version,
        )
        history = None
        if with_history:
            history = answers.history(
                config,
                image_id=image.id,
                repo_tags=image.repo_tags,
                layer_sizes=image.layer_sizes,
                mark_empty_layers=True,  # the view pairs steps with layers by it
            )
    except answers.RefusedConfig as exc:
        raise ArchiveError(f"{where}: docker would refuse the config of {image.id}: {exc}") from exc
    return inspect, history
