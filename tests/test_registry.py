"""docker:// images read from real registries on loopback: Debian's docker-registry, plain and
with TLS (on ::1, which docker does not treat as insecure), holding images pushed over its API
in the shapes docker, buildx and skopeo push (Docker v2, OCI, indexes with attestations)."""

import contextlib
import json
import shutil
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from inspector.sources.registry.platforms import this_machine
from tests.daemon_fixture import DockerDaemon, skip_or_fail
from tests.helpers import Run, run_cli, the_error_line
from tests.registry_pusher import OCI_MANIFEST, Pushed, Pusher, digest_of, layer_tar
from tests.registry_server import ServerTLS, start_registry
from tests.tls_certs import CertSet, make_cert_set, openssl_path

NO_DAEMON = "unix:///nonexistent/imginspect-test.sock"
CONFIG: dict[str, Any] = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-05-06T07:08:09.123456789Z",
    "author": "lab <lab@example.com>",
    "docker_version": "20.10.24",
    "config": {
        "User": "1000:1000",
        "Env": ["PATH=/bin", "AMP=a<b>&c"],
        "Cmd": ["/bin/app", "--serve"],
        "ExposedPorts": {"8080/tcp": {}},
        "Labels": {"org.opencontainers.image.title": "Lab"},
        "WorkingDir": "/srv",
    },
}
HISTORY: list[dict[str, Any]] = [
    {"created": "2024-05-06T07:08:09Z", "created_by": "COPY app /bin/app"},
    {"created": "2024-05-06T07:08:09Z", "created_by": "ENV AMP=a<b>&c", "empty_layer": True},
    {"created": "2024-05-06T07:08:09Z", "created_by": "COPY srv /srv"},
]


@dataclass(frozen=True)
class Lab:
    """A registry and what was pushed to it."""

    address: str
    docker: Pushed  # lab/docker:1, Docker v2 media types
    oci: Pushed  # lab/oci:1
    multi: Pushed  # lab/multi:1, an OCI index: amd64, arm64/v8, and their attestations
    multi_amd64: Pushed
    multi_arm64: Pushed
    listed: Pushed  # lab/list:1, a Docker manifest list: amd64 and arm/v7

    def ref(self, rest: str) -> str:
        return f"docker://{self.address}/{rest}"


def push_lab(pusher: Pusher) -> Lab:
    layers = [layer_tar({"bin/app": b"app"}), layer_tar({"srv/index": b"hi"})]
    docker = pusher.image("lab/docker", "1", config=CONFIG, layers=layers, history=HISTORY)
    pusher.manifest("lab/docker", "2", docker.body, docker.media_type)
    oci = pusher.image("lab/oci", "1", config=CONFIG, layers=layers, oci=True, history=HISTORY)

    def platform_image(repository: str, arch: str, variant: str = "", oci: bool = True) -> Pushed:
        config = {**CONFIG, "architecture": arch, **({"variant": variant} if variant else {})}
        files = layer_tar({"arch": arch.encode()})
        return pusher.image(repository, None, config=config, layers=[files], oci=oci)

    amd64 = platform_image("lab/multi", "amd64")
    arm64 = platform_image("lab/multi", "arm64", "v8")
    multi = pusher.index("lab/multi", "1", [amd64, arm64], attestations=True)
    listed = pusher.index(
        "lab/list",
        "1",
        [
            platform_image("lab/list", "amd64", oci=False),
            platform_image("lab/list", "arm", "v7", oci=False),
        ],
        oci=False,
    )
    return Lab(pusher.address, docker, oci, multi, amd64, arm64, listed)


def registry_binary() -> str:
    found = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    if not Path(found).exists():
        skip_or_fail("docker-registry not installed (Debian package docker-registry)")
    return found


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with contextlib.ExitStack() as stack:
        root = tmp_path_factory.mktemp("registry")
        address = start_registry(registry_binary(), root, stack).address
        yield push_lab(Pusher(address))


def run(*args: str, env: dict[str, str] | None = None) -> Run:
    return run_cli(*args, host=NO_DAEMON, env=env)


# -- what an image reads as ------------------------------------------------------------------


def test_a_docker_v2_image_reads_as_docker_shows_it_after_a_pull(lab: Lab) -> None:
    done = run("--json", lab.ref("lab/docker:1"))
    assert done.code == 0, done.stderr
    [inspect] = done.json
    # Docker 28's keys and order; no Size, GraphDriver or Metadata: only a pull tells them.
    assert list(inspect) == [
        "Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion",
        "Author", "Architecture", "Os", "RootFS", "Config",
    ]  # fmt: skip
    assert inspect["Id"] == lab.docker.config_digest
    assert inspect["RepoTags"] == [f"{lab.address}/lab/docker:1"]
    assert inspect["RepoDigests"] == [f"{lab.address}/lab/docker@{lab.docker.digest}"]
    assert inspect["Created"] == CONFIG["created"]
    # Through a map, as the daemon writes it: keys sorted, the fields it always has with them.
    unset = {"Entrypoint": None, "OnBuild": None, "Volumes": None}
    assert list(inspect["Config"]) == sorted(inspect["Config"])
    assert inspect["Config"] == {**CONFIG["config"], **unset}
    assert inspect["RootFS"]["Type"] == "layers" and len(inspect["RootFS"]["Layers"]) == 2
    # Go's escapes, as docker writes them.
    assert b"a\\u003cb\\u003e\\u0026c" in done.stdout


def test_an_oci_manifest_reads_the_same_way(lab: Lab) -> None:
    docker, oci = run("--json", lab.ref("lab/docker:1")), run("--json", lab.ref("lab/oci:1"))
    assert oci.code == 0, oci.stderr
    [a], [b] = docker.json, oci.json
    for key in ("RepoTags", "RepoDigests", "Id"):
        a.pop(key), b.pop(key)
    assert a == b


def test_an_index_gives_this_machines_image_and_records_the_index_digest(lab: Lab) -> None:
    done = run("-f", "{{.Id}} {{.Architecture}} {{json .RepoDigests}}", lab.ref("lab/multi:1"))
    assert this_machine().architecture == "amd64", "the lab pushes amd64 and arm64 images"
    assert done.code == 0, done.stderr
    digests = json.dumps([f"{lab.address}/lab/multi@{lab.multi.digest}"])
    assert done.stdout.decode() == f"{lab.multi_amd64.config_digest} amd64 {digests}\n"


@pytest.mark.parametrize(
    ("ref", "platform", "expected"),
    [
        ("lab/multi:1", "linux/arm64", "arm64/v8"),
        ("lab/multi:1", "linux/arm64/v8", "arm64/v8"),
        ("lab/multi:1", "linux/amd64", "amd64/"),
        ("lab/list:1", "linux/arm/v7", "arm/v7"),
        ("lab/list:1", "linux/arm", "arm/v7"),
        ("lab/list:1", "linux/x86_64", "amd64/"),
    ],
)
def test_platform_chooses_the_entry_of_an_index(
    lab: Lab, ref: str, platform: str, expected: str
) -> None:
    done = run("--platform", platform, "-f", "{{.Architecture}}/{{.Variant}}", lab.ref(ref))
    assert done.code == 0, done.stderr
    assert done.stdout.decode() == f"{expected}\n"


def test_an_index_without_the_platform_exits_1_and_lists_what_it_has(lab: Lab) -> None:
    done = run("--platform", "linux/s390x", "--json", lab.ref("lab/multi:1"))
    assert done.code == 1
    assert done.stdout == b"[]\n"
    line = the_error_line(done)
    assert "no image for linux/s390x" in line
    assert line.endswith("it has linux/amd64, linux/arm64/v8")  # no attestation


def test_platform_of_a_lone_manifest_must_match(lab: Lab) -> None:
    done = run("--platform", "linux/arm64", "--json", lab.ref("lab/docker:1"))
    assert done.code == 1
    assert "for linux/amd64, not linux/arm64" in the_error_line(done)


def test_manifests_lists_every_entry_attestations_too(lab: Lab) -> None:
    done = run("--manifests", "--json", lab.ref("lab/multi:1"))
    assert done.code == 0, done.stderr
    [inspect] = done.json
    manifests = inspect["Manifests"]
    assert [entry["Kind"] for entry in manifests] == [
        "image",
        "image",
        "attestation",
        "attestation",
    ]
    assert [entry["ID"] for entry in manifests[:2]] == [
        lab.multi_amd64.digest,
        lab.multi_arm64.digest,
    ]
    assert manifests[2]["AttestationData"] == {"For": lab.multi_amd64.digest}
    assert manifests[1]["ImageData"]["Platform"] == {
        "architecture": "arm64",
        "os": "linux",
        "variant": "v8",
    }
    assert all(entry["Size"]["Content"] > entry["Descriptor"]["size"] for entry in manifests)
    view = run("--manifests", lab.ref("lab/multi:1"), env={"COLUMNS": "100"})
    assert "linux/arm64/v8" in view.stdout.decode() and "attestation" in view.stdout.decode()


def test_by_digest_there_is_no_tag(lab: Lab) -> None:
    done = run(
        "-f", "{{json .RepoTags}} {{json .RepoDigests}}", lab.ref(f"lab/multi@{lab.multi.digest}")
    )
    assert done.code == 0, done.stderr
    digests = json.dumps([f"{lab.address}/lab/multi@{lab.multi.digest}"])
    assert done.stdout.decode() == f"[] {digests}\n"


def test_missing_tag_and_repository_exit_1_and_the_others_are_printed(lab: Lab) -> None:
    done = run(
        "-f",
        "{{index .RepoTags 0}}",
        lab.ref("lab/docker:1"),
        lab.ref("lab/docker:nope"),
        lab.ref("lab/nope:1"),
        lab.ref("lab/docker:2"),
    )
    assert done.code == 1
    assert done.stdout.decode() == f"{lab.address}/lab/docker:1\n{lab.address}/lab/docker:2\n"
    errors = done.stderr.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"Error: {lab.ref('lab/docker:nope')}: not found in registry")
    assert errors[1].startswith(f"Error: {lab.ref('lab/nope:1')}: not found in registry")


def test_many_images_in_one_call_print_in_the_order_given(lab: Lab) -> None:
    refs = ["lab/docker:1", "lab/oci:1", "lab/multi:1", "lab/list:1", "lab/docker:2"] * 8
    done = run("-f", "{{.Id}}", *(lab.ref(ref) for ref in refs))
    assert done.code == 0, done.stderr
    ids = {
        "lab/docker:1": lab.docker.config_digest,
        "lab/docker:2": lab.docker.config_digest,
        "lab/oci:1": lab.oci.config_digest,
        "lab/multi:1": lab.multi_amd64.config_digest,
    }
    lines = done.stdout.decode().splitlines()
    assert len(lines) == len(refs)
    assert all(lines[i] == ids[ref] for i, ref in enumerate(refs) if ref in ids)


def test_the_view_says_what_a_registry_cannot_know(lab: Lab) -> None:
    done = run(lab.ref("lab/docker:1"), env={"COLUMNS": "100", "TZ": "UTC", "NO_COLOR": "1"})
    assert done.code == 0, done.stderr
    view = done.stdout.decode()
    assert f"registry {lab.address}/lab/docker" in view
    assert "unknown until pulled" in view
    assert "In registry" in view and "of layers, as stored" in view
    layers = view.split("Layers")[1].split("\n\n")[0]
    assert "COPY srv /srv" in layers and "ENV AMP" not in layers
    # A layer's size unpacked is unknown too: a dash, where 0 B would say it is empty.
    sizes = [line.split()[2] for line in layers.splitlines() if line.split()[:1] in (["1"], ["2"])]
    assert sizes == ["-", "-"]


def test_quiet_says_by_its_status_alone(lab: Lab) -> None:
    assert run("-q", lab.ref("lab/docker:1")).code == 0
    missing = run("-q", lab.ref("lab/docker:1"), lab.ref("lab/nope:1"))
    assert (missing.code, missing.stdout) == (1, b"")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("artifact", "is not a container image"),
        ("nested", "names another index"),
    ],
)
def test_what_is_no_image_is_a_registry_problem(lab: Lab, setup: str, message: str) -> None:
    pusher = Pusher(lab.address)
    if setup == "artifact":
        config = b'{"chart": 1}'
        pusher.blob("lab/odd", config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.cncf.helm.config.v1+json",
                "digest": digest_of(config),
                "size": len(config),
            },
            "layers": [],
        }
        pusher.manifest("lab/odd", setup, json.dumps(manifest).encode(), OCI_MANIFEST)
    else:  # an index whose entry for this platform is another index
        image = pusher.image("lab/odd", None, config=CONFIG)
        inner = pusher.index("lab/odd", "inner", [image])
        amd64 = {"os": "linux", "architecture": "amd64"}
        pusher.index("lab/odd", setup, [replace(inner, platform=amd64)])
    done = run("--json", lab.ref(f"lab/odd:{setup}"))
    assert done.code == 3
    assert message in the_error_line(done)


def test_a_config_docker_would_refuse_is_a_registry_problem(lab: Lab) -> None:
    config = {**CONFIG, "created": "yesterday"}
    Pusher(lab.address).image("lab/refused", "1", config=config)
    done = run("--json", lab.ref("lab/refused:1"))
    assert (done.code, done.stdout) == (3, b"[]\n")
    line = the_error_line(done)
    assert line.startswith(f"Error: registry {lab.address}: {lab.address}/lab/refused:1: ")
    assert "docker would refuse its config" in line


def test_templates_work_without_the_fields_only_a_pull_tells(lab: Lab) -> None:
    done = run("-f", "{{.Id}} {{.Os}} {{json .RepoTags}}", lab.ref("lab/docker:1"))
    assert (done.code, done.stderr) == (0, "")
    tags = json.dumps([f"{lab.address}/lab/docker:1"])
    assert done.stdout.decode() == f"{lab.docker.config_digest} linux {tags}\n"
    # docker -f runs a template on its Go struct first, where an absent Size is 0.
    size = run("-f", "{{.Size}}", lab.ref("lab/docker:1"))
    assert (size.code, size.stdout) == (0, b"0\n")


@pytest.mark.parametrize(
    ("version", "keys"),
    [
        ("", {"Config"}),
        ("1.51", {"Config"}),
        ("1.44", {"Config", "ContainerConfig"}),
        ("1.41", {"Config", "ContainerConfig"}),
    ],
)
def test_docker_api_version_gives_that_versions_shape(
    lab: Lab, version: str, keys: set[str]
) -> None:
    done = run("--json", lab.ref("lab/docker:1"), env={"DOCKER_API_VERSION": version})
    assert done.code == 0, done.stderr
    [inspect] = done.json
    assert {key for key in inspect if "Config" in key} == keys
    assert ("Hostname" in inspect["Config"]) == (version not in ("", "1.51"))


@pytest.mark.parametrize(
    ("args", "version", "says"),
    [
        ((), "one", "invalid DOCKER_API_VERSION 'one'"),
        (("--manifests",), "1.47", "--manifests needs API 1.48, DOCKER_API_VERSION pins 1.47"),
    ],
)
def test_an_api_version_that_cannot_be_honoured_is_a_usage_error(
    lab: Lab, args: tuple[str, ...], version: str, says: str
) -> None:
    done = run(*args, "--json", lab.ref("lab/docker:1"), env={"DOCKER_API_VERSION": version})
    assert done.code == 2
    assert says in the_error_line(done)


# -- TLS: certs.d, and insecure registries -------------------------------------------------


@dataclass(frozen=True)
class TLSLab:
    address: str  # [::1]:PORT
    certs: CertSet


@pytest.fixture(scope="module")
def tls_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSLab]:
    if openssl_path() is None:
        skip_or_fail("openssl is needed for the TLS registry")
    with contextlib.ExitStack() as stack:
        root = tmp_path_factory.mktemp("tls-registry")
        certs = make_cert_set(root / "certs")
        server = certs.issue("registry", client=False, names="IP:::1,DNS:localhost")
        address = start_registry(
            registry_binary(),
            root / "registry",
            stack,
            host="::1",
            tls=ServerTLS(server.cert, server.key),
        ).address
        context = ssl.create_default_context(cafile=str(certs.ca.cert))
        Pusher(address, context).image("lab/tls", "1", config=CONFIG)
        yield TLSLab(address, certs)


def certs_d(tmp_path: Path, lab: TLSLab) -> dict[str, str]:
    directory = tmp_path / "certs.d" / lab.address
    directory.mkdir(parents=True)
    shutil.copy(lab.certs.ca.cert, directory / "ca.crt")
    return {"IMGINSPECT_CERTS_D": str(tmp_path / "certs.d")}


def test_tls_is_verified_with_the_ca_in_certs_d(tls_lab: TLSLab, tmp_path: Path) -> None:
    done = run(
        "-f", "{{.Os}}", f"docker://{tls_lab.address}/lab/tls:1", env=certs_d(tmp_path, tls_lab)
    )
    assert (done.code, done.stdout, done.stderr) == (0, b"linux\n", "")


def test_tls_without_the_ca_is_a_registry_problem(tls_lab: TLSLab, tmp_path: Path) -> None:
    done = run(
        "-q", f"docker://{tls_lab.address}/lab/tls:1", env={"IMGINSPECT_CERTS_D": str(tmp_path)}
    )
    assert done.code == 3
    line = the_error_line(done)
    assert line.startswith(f"Error: registry {tls_lab.address}: TLS failed:")
    assert "certificate" in line


def test_an_insecure_registry_is_reached_without_verification(
    tls_lab: TLSLab, tmp_path: Path
) -> None:
    done = run(
        "--insecure-registry", tls_lab.address, "-q", f"docker://{tls_lab.address}/lab/tls:1",
        env={"IMGINSPECT_CERTS_D": str(tmp_path)},
    )  # fmt: skip
    assert (done.code, done.stderr) == (0, "")


def test_an_unusable_certs_d_file_names_itself(tls_lab: TLSLab, tmp_path: Path) -> None:
    env = certs_d(tmp_path, tls_lab)
    (tmp_path / "certs.d" / tls_lab.address / "client.key").write_text("not a key")
    done = run("-q", f"docker://{tls_lab.address}/lab/tls:1", env=env)
    assert done.code == 3
    assert "client.key has no client.cert beside it" in the_error_line(done)


# -- against the suite's daemon (the comparison with `docker pull` is in
# test_registry_differential.py) ----------------------------------------------------------


def test_the_image_docker_pushed_reads_as_the_daemon_has_it(docker_daemon: DockerDaemon) -> None:
    images = docker_daemon.images
    # The suite's dockerd is 20.10: its API's shape.
    done = run("--json", f"docker://{images.pushed_ref}", env={"DOCKER_API_VERSION": "1.41"})
    assert done.code == 0, done.stderr
    [ours] = done.json
    [theirs] = json.loads(docker_daemon.docker("image", "inspect", images.pushed_ref).stdout)
    assert ours["Id"] == theirs["Id"] == images.tiny_id
    assert ours["RepoDigests"] == [images.pushed_digest_ref]
    for key in ("Created", "RootFS", "Architecture", "Os", "Author", "DockerVersion"):
        assert ours[key] == theirs[key], key
    # 20.10 keeps the config's `Image`, which docker 28 no longer reads (see
    # test_registry_differential.py).
    assert {**ours["Config"], "Image": None} == {**theirs["Config"], "Image": None}


def test_diff_across_sources_says_the_local_image_is_the_one_in_the_registry(
    docker_daemon: DockerDaemon,
) -> None:
    images = docker_daemon.images
    done = run_cli(
        "--diff", "--json", images.tiny, f"docker://{images.pushed_ref}", host=docker_daemon.host
    )
    assert done.json["changes"] == [], done.stderr
    assert (done.code, done.json["same"]) == (0, True)
