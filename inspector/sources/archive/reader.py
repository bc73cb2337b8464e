"""Image archives and OCI layouts, read into what a daemon would answer: inspect and history JSON.

Sources: `docker save` tars (`manifest.json`), OCI image layouts (`index.json` and `blobs/`)
as a directory or as a tar (`oci-archive`), plain or compressed with gzip, bzip2 or xz.
A tar is read once, from start to end, as a stream: nothing is extracted, layers pass
through in chunks (hashed, their own tar headers read to learn their unpacked size), and
only small JSON members are kept in memory. Every digest that names a blob is checked, and
each layer's diff-ID too, so a corrupt archive is refused rather than misdescribed.

One job a module: stores.py reads the tar or the directory (streams.py the bytes of each
blob), layout.py lists the images, chooses one and checks its blobs, answers.py builds its
inspect object and history.
"""

from pathlib import Path

from inspector.image import Image, Origin
from inspector.sources.archive import answers
from inspector.sources.archive.layout import Layout, choose
from inspector.sources.archive.names import ArchiveName, check_source
from inspector.sources.archive.stores import DirectoryStore, scan


def read_image(
    name: ArchiveName,
    platform: str | None = None,
    *,
    with_history: bool = True,
    contents: bool = False,
) -> Image:
    """The one image of the archive the name names (platform: as platform_text writes it), with
    its history and its layers' entries when asked; ArchiveError, ArchiveChoiceNeeded or
    ImageNotFound if there is not exactly one, or the archive is not sound.

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
    image = layout.checked(choose(layout, name, platform), contents=contents)
    inspect = answers.inspect_object(image.config, image.id, image.repo_tags, image.size)
    history = None
    if with_history:
        steps = answers.image_history(image.config, image.id, image.repo_tags, image.layer_sizes)
        history = answers.go_json(steps)
    return Image(
        asked=name.text,
        inspect=answers.go_json(inspect),
        history=history,
        origin=Origin(kind, name.path, image.stored_size),
        contents=image.contents,
    )
