"""What an archive holds: its table of contents (manifest.json, index.json) read into the
images it lists, the one the name and --platform choose, and that image's blobs checked.

docker save writes manifest.json (docker 25+ an OCI index.json too), podman and skopeo either;
indexes may nest, list platforms whose blobs were left out, and list attestations that are
not images. Every digest that names a blob is checked, and each layer's diff-ID too, so a
corrupt archive is refused rather than misdescribed.
"""

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspector import untrusted
from inspector.contents.model import LayerContents
from inspector.errors import ArchiveChoiceNeeded, ArchiveError, ImageNotFound
from inspector.sources.archive.names import ArchiveName, platform_text
from inspector.sources.archive.stores import Store, member_path

# Indexes may nest (an index.json pointing at a multi-platform index); deeper is an attack.
MAX_INDEX_DEPTH = 4

_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_MANIFEST_TYPES = frozenset([_DOCKER_MANIFEST, _OCI_MANIFEST])
# An image's config; a manifest with another config (or an artifactType) is an artifact.
_CONFIG_TYPES = frozenset(
    ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"]
)
_INDEX_TYPES = frozenset([_DOCKER_LIST, _OCI_INDEX])
_REF_NAME = "org.opencontainers.image.ref.name"
_CONTAINERD_NAME = "io.containerd.image.name"
# BuildKit stores provenance and SBOMs as manifests of the index; they are not images.
_REFERENCE_TYPE = "vnd.docker.reference.type"

_DIGEST = re.compile(r"(?P<algorithm>sha256|sha512):(?P<hex>[0-9a-f]+)")
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
# How `docker save` and `podman save` name blobs in manifest.json: blobs/sha256/<hex>
# (docker 25+), <hex>.json and <hex>.tar (podman); docker's older <id>/layer.tar names none.
_NAMED_BY_DIGEST = re.compile(r"(?:blobs/(?P<algorithm>sha256|sha512)/)?(?P<hex>[0-9a-f]{64,128})")
_NAMED_FILE = re.compile(r"(?P<hex>[0-9a-f]{64})\.(?:json|tar)")


@dataclass(frozen=True, slots=True)
class _LayerRef:
    path: str
    digest: str | None  # the digest the archive names the blob by, if it does
    size: int | None  # the size a descriptor promises, if one does


@dataclass(frozen=True, slots=True)
class Candidate:
    """An image the archive lists, before its blobs are read."""

    position: int
    names: tuple[str, ...]  # every name the archive gives it: tags, annotations
    repo_tags: tuple[str, ...]
    config_path: str
    config_digest: str | None
    config_size: int | None
    layers: tuple[_LayerRef, ...]
    platform: str | None = None  # from the index's descriptor, if it says
    present: bool = True  # False: listed by an index, but its blobs are not in the archive
    # The digests of its manifest and of the indexes above it, for an index's image: what a
    # containerd image store names the image by.
    digests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckedImage:
    """The chosen image, its blobs checked: what its inspect object and history are made of."""

    id: str
    config: Mapping[str, Any]
    repo_tags: tuple[str, ...]
    # Each layer's size as docker counts it (the sizes in its tar headers); None: not unpacked.
    layer_sizes: tuple[int | None, ...]
    stored_size: int  # the layer blobs' bytes as the archive holds them, compressed or not
    # Each layer's entries, bottom first, when asked for.
    contents: tuple[LayerContents, ...] | None = None

    @property
    def size(self) -> int | None:
        """docker's Size of the image: its layers' together; None if one could not be unpacked."""
        sizes = self.layer_sizes
        return None if None in sizes else sum(size for size in sizes if size is not None)


class Layout:
    """The archive's table of contents (manifest.json or index.json), and blob access."""

    def __init__(self, store: Store, where: str, kind: str | None) -> None:
        self.store = store
        self.where = where
        has_index, has_manifest = store.has("index.json"), store.has("manifest.json")
        if kind == "docker-archive" and not has_manifest:
            raise ArchiveError(f"{where}: no manifest.json: not a docker-archive (docker save)")
        if kind in ("oci", "oci-archive") and not has_index:
            raise ArchiveError(f"{where}: no index.json: not an OCI layout")
        if not has_index and not has_manifest:
            raise ArchiveError(
                f"{where}: neither manifest.json nor index.json: not a docker save or OCI archive"
            )
        # docker 25+ writes both; the index knows every platform, manifest.json the tags.
        self.uses_index = has_index and kind != "docker-archive"
        self.kind = kind or ("oci-archive" if self.uses_index else "docker-archive")
        self._configs: dict[str, tuple[bytes, Mapping[str, Any]]] = {}
        docker = self._docker_candidates() if has_manifest else []
        if self.uses_index:
            tags_by_config: dict[str, tuple[str, ...]] = {}
            for candidate in docker:
                if candidate.config_digest:
                    tags_by_config[candidate.config_digest] = candidate.repo_tags
            self.candidates = self._index_candidates(tags_by_config)
        else:
            self.candidates = docker
        if self.uses_index and not self.candidates and docker:
            # docker 25+ saves an untagged image with `"manifests": null` in index.json and
            # the image in manifest.json, which is what docker load reads.
            self.candidates = docker

    # -- manifest.json ----------------------------------------------------------------------

    def _docker_candidates(self) -> list[Candidate]:
        manifest = self.json("manifest.json", "manifest.json")
        if not isinstance(manifest, list):
            raise ArchiveError(f"{self.where}: manifest.json is not a list")
        candidates = []
        for position, entry in enumerate(manifest):
            if not isinstance(entry, dict):
                raise ArchiveError(f"{self.where}: manifest.json entry {position} is not an object")
            config = _string(entry.get("Config"), self.where, f"entry {position}'s Config")
            layer_paths = entry.get("Layers") or []
            if not isinstance(layer_paths, list):
                raise ArchiveError(f"{self.where}: manifest.json entry {position}'s Layers")
            tags = untrusted.only_strings(entry.get("RepoTags"))
            candidates.append(
                Candidate(
                    position=position,
                    names=tags,
                    repo_tags=_repo_tags(tags),
                    config_path=_clean(config, self.where),
                    config_digest=_digest_in_name(config),
                    config_size=None,
                    layers=tuple(
                        _LayerRef(
                            _clean(_string(path, self.where, "a layer path"), self.where),
                            _digest_in_name(path),
                            None,
                        )
                        for path in layer_paths
                    ),
                )
            )
        return candidates

    # -- index.json -------------------------------------------------------------------------

    def _index_candidates(self, tags_by_config: Mapping[str, tuple[str, ...]]) -> list[Candidate]:
        found: list[Candidate] = []
        index = self.json("index.json", "index.json")
        self._walk(index, "index.json", (), found, tags_by_config, depth=0)
        # docker 25 lists an image once for each tag it was saved with: one image, all names.
        merged: dict[tuple[str, str | None], Candidate] = {}
        for candidate in found:
            key = (candidate.digests[-1] if candidate.digests else "", candidate.platform)
            if candidate.present and key in merged:
                first = merged[key]
                merged[key] = dataclasses.replace(
                    first,
                    names=tuple(dict.fromkeys(first.names + candidate.names)),
                    digests=tuple(dict.fromkeys(first.digests + candidate.digests)),
                    repo_tags=_repo_tags([*first.repo_tags, *candidate.repo_tags]),
                )
            else:
                merged[key if candidate.present else ("", str(candidate.position))] = candidate
        return [
            dataclasses.replace(candidate, position=position)
            for position, candidate in enumerate(merged.values())
        ]

    def _walk(
        self,
        index: object,
        what: str,
        names: tuple[str, ...],
        found: list[Candidate],
        tags_by_config: Mapping[str, tuple[str, ...]],
        depth: int,
        via: tuple[str, ...] = (),
    ) -> None:
        if depth > MAX_INDEX_DEPTH:
            raise ArchiveError(f"{self.where}: indexes nested more than {MAX_INDEX_DEPTH} deep")
        manifests = index.get("manifests") if isinstance(index, dict) else None
        if manifests is None and isinstance(index, dict) and "manifests" in index:
            manifests = []  # docker 25+ writes null for an untagged image (see __init__)
        if not isinstance(manifests, list):
            raise ArchiveError(f"{self.where}: {what} has no list of manifests")
        for descriptor in manifests:
            if not isinstance(descriptor, dict):
                raise ArchiveError(f"{self.where}: {what} lists a manifest that is not an object")
            annotations = descriptor.get("annotations")
            annotations = annotations if isinstance(annotations, dict) else {}
            if annotations.get(_REFERENCE_TYPE) or descriptor.get("artifactType"):
                continue  # an attestation or another artifact, not an image
            own_names = tuple(
                value
                for key in (_CONTAINERD_NAME, _REF_NAME)
                if isinstance(value := annotations.get(key), str) and value
            )
            digest, path, size = self._descriptor(descriptor, what)
            media_type = descriptor.get("mediaType")
            platform = _descriptor_platform(descriptor.get("platform"))
            if platform == "unknown/unknown":
                continue
            if not self.store.has(path):
                if media_type in _INDEX_TYPES:
                    continue
                # A multi-platform save keeps only some platforms' blobs: list the others.
                found.append(
                    Candidate(
                        len(found),
                        names + own_names,
                        (),
                        "",
                        None,
                        None,
                        (),
                        platform,
                        present=False,
                        digests=(*via, digest),
                    )
                )
                continue
            blob = self.verified(path, digest, size, f"the manifest {digest}")
            document = self.parse(blob, f"the manifest {digest}")
            if isinstance(document, dict) and document.get("artifactType"):
                continue  # an artifact (or an index of them), not an image
            if media_type in _INDEX_TYPES or (
                isinstance(document, dict) and "manifests" in document and "layers" not in document
            ):
                self._walk(
                    document,
                    f"the index {digest}",
                    names + own_names,
                    found,
                    tags_by_config,
                    depth + 1,
                    (*via, digest),
                )
                continue
            if media_type not in _MANIFEST_TYPES | {None} or not _is_image(document):
                continue  # an artifact of some other kind
            candidate = self._manifest_candidate(
                document, digest, names + own_names, platform, len(found), tags_by_config
            )
            found.append(dataclasses.replace(candidate, digests=(*via, digest)))

    def _descriptor(self, descriptor: Mapping[str, Any], what: str) -> tuple[str, str, int | None]:
        digest = descriptor.get("digest")
        match = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
        if match is None or len(match["hex"]) != _HEX_LENGTH[match["algorithm"]]:
            raise ArchiveError(
                f"{self.where}: {what} has a descriptor with a bad digest {digest!r}"
            )
        size = descriptor.get("size")
        promised = size if isinstance(size, int) and not isinstance(size, bool) else None
        return match[0], f"blobs/{match['algorithm']}/{match['hex']}", promised

    def _manifest_candidate(
        self,
        manifest: object,
        digest: str,
        names: tuple[str, ...],
        platform: str | None,
        position: int,
        tags_by_config: Mapping[str, tuple[str, ...]],
    ) -> Candidate:
        what = f"the manifest {digest}"
        if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict):
            raise ArchiveError(f"{self.where}: {what} has no config descriptor")
        config_digest, config_path, config_size = self._descriptor(manifest["config"], what)
        layers = manifest.get("layers") or []
        if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
            raise ArchiveError(f"{self.where}: {what} has a bad list of layers")
        refs = []
        for layer in layers:
            layer_digest, layer_path, layer_size = self._descriptor(layer, what)
            refs.append(_LayerRef(layer_path, layer_digest, layer_size))
        tagged = [name for name in names if _is_tagged_reference(name)]
        return Candidate(
            position=position,
            names=names + tags_by_config.get(config_digest, ()),
            repo_tags=_repo_tags([*tagged, *tags_by_config.get(config_digest, ())]),
            config_path=config_path,
            config_digest=config_digest,
            config_size=config_size,
            layers=tuple(refs),
            platform=platform,
        )

    # -- blobs ------------------------------------------------------------------------------

    def json(self, path: str, what: str) -> Any:
        return self.parse(self.store.small(path, what), what)

    def parse(self, data: bytes, what: str) -> Any:
        try:
            return json.loads(data, parse_constant=_no_constants)
        except (ValueError, RecursionError) as exc:
            raise ArchiveError(f"{self.where}: {what} is not valid JSON ({exc})") from exc

    def verified(self, path: str, digest: str | None, size: int | None, what: str) -> bytes:
        data = self.store.small(path, what)
        if digest is not None:
            algorithm = digest.partition(":")[0]
            actual = f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
            if actual != digest:
                raise ArchiveError(
                    f"{self.where}: {what} does not match its digest (it is {actual})"
                )
        if size is not None and size != len(data):
            raise ArchiveError(
                f"{self.where}: {what} is {len(data)} bytes, not the {size} its descriptor says"
            )
        return data

    def config(self, candidate: Candidate) -> tuple[bytes, Mapping[str, Any]]:
        """The config blob, checked against its digest, and what it says."""
        if candidate.config_path not in self._configs:
            what = f"the config {candidate.config_path}"
            data = self.verified(
                candidate.config_path, candidate.config_digest, candidate.config_size, what
            )
            config = self.parse(data, what)
            if not isinstance(config, dict):
                raise ArchiveError(f"{self.where}: {what} is not a JSON object")
            self._configs[candidate.config_path] = (data, config)
        return self._configs[candidate.config_path]

    def platform(self, candidate: Candidate) -> str:
        if not candidate.present:
            return candidate.platform or "?"
        _, config = self.config(candidate)
        return platform_text(
            untrusted.plain(config.get("os")),
            untrusted.plain(config.get("architecture")),
            untrusted.plain(config.get("variant")),
        )

    # -- the chosen image -------------------------------------------------------------------

    def checked(self, candidate: Candidate, *, contents: bool = False) -> CheckedImage:
        """The image with its config and every layer checked against what names them: digests,
        sizes, diff-IDs; with contents, each layer's entries (the store must keep them)."""
        data, config = self.config(candidate)
        image_id = candidate.config_digest or f"sha256:{hashlib.sha256(data).hexdigest()}"
        rootfs = config.get("rootfs")
        if not isinstance(rootfs, dict):
            # As docker load refuses it: "invalid image JSON, no RootFS key".
            raise ArchiveError(f"{self.where}: the config of {image_id} has no rootfs")
        # null or absent: no layers, as BuildKit writes a scratch image's config.
        diff_ids = rootfs.get("diff_ids") or []
        if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
            raise ArchiveError(f"{self.where}: the config of {image_id} has no list of diff_ids")
        if len(diff_ids) != len(candidate.layers):
            raise ArchiveError(
                f"{self.where}: the config of {image_id} lists {len(diff_ids)} layers, "
                f"its manifest {len(candidate.layers)}"
            )
        sizes: list[int | None] = []
        layers: list[LayerContents] = []
        stored = 0
        for number, (ref, diff_id) in enumerate(zip(candidate.layers, diff_ids, strict=True), 1):
            what = f"layer {number} ({ref.path})"
            facts = self.store.layer(ref.path)
            if ref.digest is not None and facts.digest != ref.digest:
                raise ArchiveError(
                    f"{self.where}: {what} does not match its digest (it is {facts.digest})"
                )
            if ref.size is not None and facts.stored_size != ref.size:
                raise ArchiveError(
                    f"{self.where}: {what} is {facts.stored_size} bytes, "
                    f"not the {ref.size} its descriptor says"
                )
            if facts.problem is not None:
                raise ArchiveError(f"{self.where}: {what} is {facts.problem}")
            if facts.diff_id is not None and facts.diff_id != diff_id:
                raise ArchiveError(
                    f"{self.where}: {what} does not match the config's diff-ID {diff_id} "
                    f"(it is {facts.diff_id})"
                )
            sizes.append(facts.unpacked_size)
            stored += facts.stored_size
            if contents:
                if facts.contents is None:
                    raise ArchiveError(f"{self.where}: {what} could not be read for its files")
                # The digest the archive names the blob by, if any; the diff-ID just checked.
                layers.append(
                    dataclasses.replace(facts.contents, digest=ref.digest, diff_id=diff_id)
                )
        return CheckedImage(
            image_id,
            config,
            candidate.repo_tags,
            tuple(sizes),
            stored,
            tuple(layers) if contents else None,
        )


def choose(layout: Layout, source: ArchiveName, platform: str | None) -> Candidate:
    """The one image the source and --platform pick, or why there is not exactly one."""
    candidates = layout.candidates
    if not candidates:
        raise ArchiveError(f"{layout.where}: the archive holds no images")
    chosen = list(candidates)
    wanted: list[str] = []
    if source.selector is not None:
        wanted.append(source.selector)
        chosen = [c for c in chosen if _selected(c, source.selector)]
    if platform is not None:
        wanted.append(platform)
        chosen = [c for c in chosen if _platform_matches(layout.platform(c), platform)]
    present = [c for c in chosen if c.present]
    if len(present) == 1:
        return present[0]
    listing = tuple(_describe(layout, c) for c in candidates)
    prefix = layout.kind if source.kind is None else source.kind
    if not present:
        if chosen:  # listed, but a multi-platform save left its blobs out
            if wanted:
                what, verb = " and ".join(wanted), "is"
            else:
                what = "; ".join(_entry_name(c) for c in chosen)
                verb = "is" if len(chosen) == 1 else "are"
            whose = "its" if verb == "is" else "their"
            raise ArchiveError(
                f"{layout.where}: {what} {verb} listed, but {whose} blobs are not in the archive"
            )
        raise ImageNotFound(
            f"{layout.where}: no image matches {' and '.join(wanted)}; it holds: "
            + "; ".join(line.strip() for line in listing)
        )
    # The listing is every image the archive lists; the count says how many can be read.
    holds = f"holds {len(listing)} images"
    if len(present) < len(listing):
        holds = f"lists {len(listing)} images, {len(present)} of them with their blobs"
    raise ArchiveChoiceNeeded(
        f"{layout.where} {holds}; choose one with "
        f"{prefix}:{source.path}:NAME, {prefix}:{source.path}:@N or --platform:",
        choices=listing,
    )


def _entry_name(candidate: Candidate) -> str:
    """An entry as its index names it: its names (ref name annotations), else the digest of
    its manifest; and its platform, if the index gives one."""
    name = ", ".join(candidate.names) or (candidate.digests[-1] if candidate.digests else "?")
    return f"{name} for {candidate.platform}" if candidate.platform else name


def _describe(layout: Layout, candidate: Candidate) -> str:
    names = ", ".join(candidate.repo_tags or candidate.names) or "(no name)"
    platform = layout.platform(candidate)
    if not candidate.present:
        return f"@{candidate.position}  {names}  {platform}  (blobs not in the archive)"
    short = (candidate.config_digest or "").partition(":")[2][:12]
    return f"@{candidate.position}  {names}  {platform}  {short}".rstrip()


def _selected(candidate: Candidate, selector: str) -> bool:
    if selector.startswith("@") and selector[1:].isdigit():
        return candidate.position == int(selector[1:])
    wanted = _normalized(selector)
    return any(name == selector or _normalized(name) == wanted for name in candidate.names)


def _platform_matches(actual: str, wanted: str) -> bool:
    a_os, a_arch, a_variant = [*actual.split("/"), "", ""][:3]
    w_os, w_arch, w_variant = [*wanted.split("/"), "", ""][:3]
    return (a_os, a_arch) == (w_os, w_arch) and (not w_variant or a_variant == w_variant)


def _is_image(manifest: object) -> bool:
    """A manifest whose config (if it says its type) is an image's."""
    config = manifest.get("config") if isinstance(manifest, dict) else None
    media_type = config.get("mediaType") if isinstance(config, dict) else None
    return media_type is None or media_type in _CONFIG_TYPES


def _descriptor_platform(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    return platform_text(
        untrusted.plain(value.get("os")),
        untrusted.plain(value.get("architecture")),
        untrusted.plain(value.get("variant")),
    )


# -- names ----------------------------------------------------------------------------------


def _repo_tags(names: Sequence[str]) -> tuple[str, ...]:
    """As the daemon lists them: each once, sorted by the full name, shown in the familiar."""
    by_full_name = {_normalized(name): _familiar(name) for name in names}
    return tuple(by_full_name[full] for full in sorted(by_full_name))


def _familiar(name: str) -> str:
    """`docker.io/library/x:1` as docker shows it: `x:1`."""
    for prefix in (
        "docker.io/library/",
        "index.docker.io/library/",
        "docker.io/",
        "index.docker.io/",
    ):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if prefix.endswith("library/") and "/" in rest.split(":")[0]:
                continue
            return rest
    return name


def _normalized(name: str) -> str:
    """The full form of a reference, for matching: `x` is `docker.io/library/x:latest`."""
    if "@" in name:
        return name
    repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    first = repository.split("/", 1)[0]
    if "/" not in repository:
        repository = f"docker.io/library/{repository}"
    elif "." not in first and ":" not in first and first != "localhost":
        repository = f"docker.io/{repository}"
    return f"{repository}:{tag or 'latest'}"


def _is_tagged_reference(name: str) -> bool:
    """A full reference with a tag (`localhost/app:1`), not a bare OCI tag name (`1.0`)."""
    last = name.rsplit("/", 1)[-1]
    return "/" in name and ":" in last and "@" not in name


def _digest_in_name(path: object) -> str | None:
    if not isinstance(path, str):
        return None
    match = _NAMED_BY_DIGEST.fullmatch(path) or _NAMED_FILE.fullmatch(path)
    if match is None:
        return None
    algorithm = match.groupdict().get("algorithm") or "sha256"
    if len(match["hex"]) != _HEX_LENGTH[algorithm]:
        return None
    return f"{algorithm}:{match['hex']}"


def _clean(path: str, where: str) -> str:
    name = member_path(path, where)
    if name is None:
        raise ArchiveError(f"{where}: manifest.json names an empty path")
    return name


def _string(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ArchiveError(f"{where}: manifest.json has no {what}")
    return value


def _no_constants(name: str) -> None:
    """For json.loads: NaN and Infinity are not JSON, and the archive is refused for them."""
    raise ValueError(f"{name} is not JSON")
