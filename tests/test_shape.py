"""The answers built from an image's config read byte for byte as dockerd 28.5 (classic image
store) gives them, and at API 1.41 as dockerd 20.10 gives them: checked against their answers
about images whose configs exercise each rule, captured by `python -m tests.capture_shape`
(with `--docker-20.10` from 20.10) into tests/golden/shape/."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from inspector.sources.shape import answers
from inspector.sources.shape.answers import GraphDriver, ManifestFacts, RefusedConfig
from inspector.sources.shape.gojson import go_json
from tests.json_arrays import indented_array

GOLDEN = Path(__file__).resolve().parent / "golden" / "shape"
# docker 28.5's answers; at 1.41, docker 20.10's (OLD_DAEMON).
API_VERSIONS = ("1.51", "1.50", "1.49", "1.44", "1.43")
OLD_DAEMON = "20.10"
# Every captured image's one layer is the same 6-byte file.
LAYER_SIZE = 6

LOADED = sorted(path.name.removesuffix(".cli.txt") for path in GOLDEN.glob("*.cli.txt"))
REFUSED = sorted(
    path.name.removesuffix(".refused.txt")
    for path in GOLDEN.glob("*.refused.txt")
    if not path.name.endswith(f".{OLD_DAEMON}.refused.txt")
)
# docker 20.10 (built with a Go whose time.Parse takes any two-digit offset hour) loads a
# `created` of +99:00, which 28.5 refuses; imginspect refuses it at every API version.
LOADED_BY_OLD_ONLY = ("refused-created-offset",)
OLD_LOADED = sorted(
    path.name.removesuffix(f".{OLD_DAEMON}.json")
    for path in GOLDEN.glob(f"*.{OLD_DAEMON}.json")
    if path.name.removesuffix(f".{OLD_DAEMON}.json") not in LOADED_BY_OLD_ONLY
)
OLD_REFUSED = sorted(
    path.name.removesuffix(f".{OLD_DAEMON}.refused.txt")
    for path in GOLDEN.glob(f"*.{OLD_DAEMON}.refused.txt")
)


def config_of(case: str) -> bytes:
    return (GOLDEN / f"{case}.config.json").read_bytes()


def built_like(case: str, version: str, captured: str | None = None) -> bytes:
    """The builder's inspect object for a captured case, given what only the daemon knows
    (Size, GraphDriver, Metadata) as the daemon gave it in the capture (the version's own,
    unless named)."""
    config = config_of(case)
    daemon: dict[str, Any] = json.loads(
        (GOLDEN / f"{case}.{captured or version}.json").read_bytes()
    )
    return answers.inspect_object(
        config,
        image_id="sha256:" + hashlib.sha256(config).hexdigest(),
        repo_tags=[f"shape/{case}:1"],
        size=daemon["Size"],
        graph_driver=GraphDriver(daemon["GraphDriver"]["Name"], daemon["GraphDriver"]["Data"]),
        last_tag_time=daemon["Metadata"]["LastTagTime"],
        api_version=version,
    )


def test_the_captures_cover_loaded_and_refused_configs() -> None:
    assert len(LOADED) >= 30 and len(REFUSED) >= 10
    assert set(OLD_LOADED) == set(LOADED) and set(OLD_REFUSED) == set(REFUSED) - {
        *LOADED_BY_OLD_ONLY
    }


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize("case", LOADED)
def test_inspect_object_is_the_daemons_byte_for_byte(case: str, version: str) -> None:
    assert built_like(case, version) == (GOLDEN / f"{case}.{version}.json").read_bytes().rstrip(
        b"\n"
    )


@pytest.mark.parametrize("version", ["1.41", "1.40", "1.24"])
@pytest.mark.parametrize("case", OLD_LOADED)
def test_at_api_1_41_and_before_the_inspect_object_is_docker_20_10s_byte_for_byte(
    case: str, version: str
) -> None:
    assert built_like(case, version, captured=OLD_DAEMON) == (
        GOLDEN / f"{case}.{OLD_DAEMON}.json"
    ).read_bytes().rstrip(b"\n")


@pytest.mark.parametrize("case", LOADED)
def test_printed_it_is_what_docker_image_inspect_prints(case: str) -> None:
    assert indented_array([built_like(case, "1.51")]) == (GOLDEN / f"{case}.cli.txt").read_bytes()


@pytest.mark.parametrize("case", LOADED)
def test_history_is_the_daemons_byte_for_byte(case: str) -> None:
    config = config_of(case)
    layers = json.loads(config.decode(errors="replace"))["rootfs"]["diff_ids"]
    built = answers.history(
        config,
        image_id="sha256:" + hashlib.sha256(config).hexdigest(),
        repo_tags=[f"shape/{case}:1"],
        layer_sizes=[LAYER_SIZE] * len(layers),
    )
    assert built == (GOLDEN / f"{case}.history.json").read_bytes().rstrip(b"\n")


@pytest.mark.parametrize("version", ["1.51", "1.41"])
@pytest.mark.parametrize("case", REFUSED)
def test_a_config_docker_refuses_is_refused(case: str, version: str) -> None:
    with pytest.raises(RefusedConfig):
        answers.inspect_object(config_of(case), image_id="sha256:x", api_version=version)


# -- literal expectations ---------------------------------------------------------------------

MINIMAL = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


def test_what_only_a_daemon_knows_is_left_out_unless_given() -> None:
    built = json.loads(answers.inspect_object(MINIMAL, image_id="sha256:a", parent=None))
    assert list(built) == [
        "Id",
        "RepoTags",
        "RepoDigests",
        "Comment",
        "DockerVersion",
        "Author",
        "Architecture",
        "Os",
        "RootFS",
        "Config",
    ]


def test_a_pulled_image_has_its_repo_digests_and_an_empty_parent() -> None:
    built = json.loads(
        answers.inspect_object(
            MINIMAL,
            image_id="sha256:a",
            repo_tags=["registry.example:5000/app:1"],
            repo_digests=["registry.example:5000/app@sha256:b"],
        )
    )
    assert built["RepoTags"] == ["registry.example:5000/app:1"]
    assert built["RepoDigests"] == ["registry.example:5000/app@sha256:b"]
    assert built["Parent"] == ""


def test_history_can_mark_the_steps_that_made_no_layer_for_the_view() -> None:
    config = json.dumps(
        {
            "rootfs": {"type": "layers", "diff_ids": ["sha256:l"]},
            "history": [{"created_by": "COPY"}, {"created_by": "ENV", "empty_layer": True}],
        }
    ).encode()
    steps = json.loads(answers.history(config, image_id="sha256:a", mark_empty_layers=True))
    assert [step["empty_layer"] for step in steps] == [True, False]


@pytest.mark.parametrize(
    ("layer_sizes", "expected"), [([7], [0, 7]), ((), [0, 0]), (None, [None, None])]
)
def test_history_sizes_are_the_layers_or_null_when_they_are_unknown(
    layer_sizes: list[int] | None, expected: list[int | None]
) -> None:
    config = json.dumps(
        {
            "rootfs": {"type": "layers", "diff_ids": ["sha256:l"]},
            "history": [{"created_by": "COPY"}, {"created_by": "ENV", "empty_layer": True}],
        }
    ).encode()
    steps = json.loads(answers.history(config, image_id="sha256:a", layer_sizes=layer_sizes))
    assert [step["Size"] for step in steps] == expected


def test_no_history_is_an_empty_list_as_the_daemon_answers() -> None:
    assert answers.history(MINIMAL, image_id="sha256:a", layer_sizes=[5]) == b"[]"


@pytest.mark.parametrize(
    "config",
    [
        MINIMAL,
        b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":null},'
        b'"history":null}',
        b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}',
    ],
)
def test_no_layers_is_size_0_and_rootfs_of_its_type_alone(config: bytes) -> None:
    built = json.loads(answers.inspect_object(config, image_id="sha256:a", size=0))
    assert (built["Size"], built["RootFS"]) == (0, {"Type": "layers"})
    old = json.loads(
        answers.inspect_object(config, image_id="sha256:a", size=0, api_version="1.41")
    )
    assert (old["Size"], old["VirtualSize"], old["RootFS"]) == (0, 0, {"Type": "layers"})
    steps = answers.history(config, image_id="sha256:a", layer_sizes=[], mark_empty_layers=True)
    assert steps == b"[]"


@pytest.mark.parametrize("version", ["1.51", "1.41"])
def test_repo_digests_can_be_left_out(version: str) -> None:
    built = json.loads(
        answers.inspect_object(
            MINIMAL, image_id="sha256:a", repo_digests=None, parent=None, api_version=version
        )
    )
    assert "RepoDigests" not in built and "Parent" not in built


@pytest.mark.parametrize(
    ("value", "escape_html", "expected"),
    [
        ("<a>&b", True, b'"\\u003ca\\u003e\\u0026b"'),
        ("<a>&b", False, b'"<a>&b"'),
        ("\u2028\u2029", False, b'"\\u2028\\u2029"'),
        ("\x01\x08\x0c\n\x7f", True, b'"\\u0001\\b\\f\\n\x7f"'),
        ("\\b\x08\x0c", None, b'"\\\\b\\u0008\\u000c"'),
        ("\ud800", True, '"\ufffd"'.encode()),
        ("é☃", True, '"é☃"'.encode()),
    ],
)
def test_strings_are_written_as_go_writes_them(
    value: str, escape_html: bool | None, expected: bytes
) -> None:
    # None: as docker 20.10 writes them (its Go wrote backspace and form feed in full).
    if escape_html is None:
        assert go_json(value, escape_html=False, short_escapes=False) == expected
    else:
        assert go_json(value, escape_html=escape_html) == expected


@pytest.mark.parametrize("version", ["1", "v1.51", "1.x", ""])
def test_an_api_version_that_is_not_one_is_a_bug(version: str) -> None:
    with pytest.raises(ValueError, match="not an API version"):
        answers.inspect_object(MINIMAL, image_id="sha256:a", api_version=version)


# -- the Manifests list: from moby's api/types/image/manifest.go and the containerd store's
# image_list.go (the classic store gives none, so these are not captured) --------------------

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
AMD64 = "sha256:" + "a" * 64
ARM = "sha256:" + "b" * 64
ATTESTATION = "sha256:" + "c" * 64


def index_of(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()


def entry(digest: str, **extra: Any) -> dict[str, Any]:
    return {"mediaType": OCI_MANIFEST, "digest": digest, "size": 500, **extra}


def test_an_index_lists_its_platforms_and_attestations_as_the_daemon_does() -> None:
    index = index_of(
        entry(AMD64, platform={"os": "linux", "architecture": "amd64"}, extra="dropped"),
        entry(ARM, platform={"architecture": "arm", "os": "linux", "variant": "v7"}),
        entry(
            ATTESTATION,
            platform={"architecture": "unknown", "os": "unknown"},
            annotations={
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": AMD64,
            },
        ),
    )
    summaries = answers.manifest_summaries(
        index, {ARM: ManifestFacts(available=True, content_size=10, unpacked_size=30)}
    )
    assert go_json(summaries) == (
        b'[{"ID":"'
        + AMD64.encode()
        + b'","Descriptor":{"mediaType":"'
        + OCI_MANIFEST.encode()
        + b'","digest":"'
        + AMD64.encode()
        + b'","size":500,"platform":{"architecture":"amd64",'
        b'"os":"linux"}},"Available":false,"Size":{"Content":0,"Total":0},"Kind":"image",'
        b'"ImageData":{"Platform":{"architecture":"amd64","os":"linux"},"Size":{"Unpacked":0},'
        b'"Containers":null}},'
        b'{"ID":"'
        + ARM.encode()
        + b'","Descriptor":{"mediaType":"'
        + OCI_MANIFEST.encode()
        + b'","digest":"'
        + ARM.encode()
        + b'","size":500,"platform":{"architecture":"arm",'
        b'"os":"linux","variant":"v7"}},"Available":true,"Size":{"Content":10,"Total":40},'
        b'"Kind":"image","ImageData":{"Platform":{"architecture":"arm","os":"linux",'
        b'"variant":"v7"},"Size":{"Unpacked":30},"Containers":null}},'
        b'{"ID":"'
        + ATTESTATION.encode()
        + b'","Descriptor":{"mediaType":"'
        + OCI_MANIFEST.encode()
        + b'","digest":"'
        + ATTESTATION.encode()
        + b'","size":500,'
        b'"annotations":{"vnd.docker.reference.digest":"' + AMD64.encode() + b'",'
        b'"vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":'
        b'"unknown","os":"unknown"}},"Available":false,"Size":{"Content":0,"Total":0},'
        b'"Kind":"attestation","AttestationData":{"For":"' + AMD64.encode() + b'"}}]'
    )


@pytest.mark.parametrize(
    ("listed", "facts", "kind"),
    [
        # unknown/unknown without the attestation annotations: no image, and no attestation
        (entry(AMD64, platform={"architecture": "unknown", "os": "unknown"}), None, "unknown"),
        # an attestation that does not say what it is for
        (entry(AMD64, annotations={"vnd.docker.reference.type": "x"}), None, "unknown"),
        # an image manifest whose layers are no image layers (an artifact)
        (
            entry(AMD64),
            ManifestFacts(manifest=b'{"layers":[{"mediaType":"application/x-helm"}]}'),
            "unknown",
        ),
        # one whose layers are: an image, zstd or not
        (
            entry(AMD64),
            ManifestFacts(
                manifest=b'{"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd"}]}'
            ),
            "image",
        ),
        # no layers at all is still an image
        (entry(AMD64), ManifestFacts(manifest=b'{"layers":[]}'), "image"),
    ],
)
def test_the_kind_of_a_manifest_is_told_as_the_daemon_tells_it(
    listed: dict[str, Any], facts: ManifestFacts | None, kind: str
) -> None:
    summaries = answers.manifest_summaries(index_of(listed), {AMD64: facts} if facts else None)
    assert [summary["Kind"] for summary in summaries] == [kind]


def test_nested_indexes_are_walked_and_other_entries_skipped() -> None:
    inner = index_of(entry(ARM))
    inner_digest = "sha256:" + hashlib.sha256(inner).hexdigest()
    index = index_of(
        entry(AMD64),
        {"mediaType": OCI_INDEX, "digest": inner_digest, "size": len(inner)},
        {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ATTESTATION, "size": 1},
    )
    summaries = answers.manifest_summaries(index, nested={inner_digest: inner})
    assert [summary["ID"] for summary in summaries] == [AMD64, ARM]


def test_the_manifests_list_goes_after_metadata_from_api_1_48() -> None:
    summaries = answers.manifest_summaries(index_of(entry(AMD64)))
    for version, present in (("1.51", True), ("1.48", True), ("1.47", False)):
        built = json.loads(
            answers.inspect_object(
                MINIMAL,
                image_id="sha256:a",
                last_tag_time="0001-01-01T00:00:00Z",
                manifests=summaries,
                api_version=version,
            )
        )
        assert ("Manifests" in built) is present
        if present:
            assert list(built)[-3:] == ["Metadata", "Manifests", "Config"]


@pytest.mark.parametrize("index", [b"[]", b'{"manifests":{}}', b'{"manifests":[1]}', b"nope"])
def test_an_index_that_is_none_is_refused(index: bytes) -> None:
    with pytest.raises(RefusedConfig):
        answers.manifest_summaries(index)
