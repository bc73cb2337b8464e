"""Registries on loopback for the registry source: Debian's docker-registry (distribution 2.8)
in four set-ups, and fixture images pushed into them, for one test session.

- `plain`: HTTP, anonymous;
- `tls`: HTTPS with a test CA, anonymous;
- `basic`: HTTPS with htpasswd basic auth;
- `token`: HTTPS with `auth: token`, its realm a token server of the tests' own
  (tests/token_server.py) on plain HTTP, which lets anyone pull `public/*`.

One CA signs every server certificate (for 127.0.0.1). Each HTTPS registry has a certs.d-style
directory of its own (`certs_d/127.0.0.1:PORT/ca.crt`), and as root the CA is also installed
where dockerd and docker look, /etc/docker/certs.d/127.0.0.1:PORT/ca.crt, until the session
ends. Each registry has a docker config directory whose config.json holds its credentials as
`docker login` writes them.

The images (`RegistryImages`) are in every registry under the same names with the same digests:
pushed by `docker push` from the suite's dockerd, by `skopeo copy` (OCI media types, zstd
layers), and a multi-platform OCI index with an attestation manifest written by the tests.
They are pushed to `plain` and copied from there with `skopeo copy --all --preserve-digests`.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests import archive_builder as builder
from tests.daemon_fixture import DockerDaemon, _which, skip_or_fail
from tests.registry_server import ServerTLS, start_registry
from tests.tls_certs import CertSet, make_cert_set, openssl_path
from tests.token_server import SigningKey, TokenServer, make_signing_key

COMMAND_TIMEOUT = 300.0
DOCKER_CERTS_D = Path("/etc/docker/certs.d")

BASIC_USER, BASIC_PASSWORD = "imginspect", "basic-secret"
TOKEN_USER, TOKEN_PASSWORD = "imginspect", "token-secret"
TOKEN_SERVICE = "imginspect-registry"
TOKEN_ISSUER = "imginspect-token-issuer"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
# Every manifest type the registry source reads, as `Accept`.
MANIFEST_TYPES = (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, builder.OCI_MANIFEST, builder.OCI_INDEX)

# The images, by name in every registry.
DOCKER_FULL = "lab/full:2.4.1"
DOCKER_TINY = "lab/tiny:1"
PUBLIC_TINY = "public/tiny:1"
OCI_FULL = "lab/full-oci:2.4.1"
ZSTD_FULL = "lab/full-zstd:2.4.1"
MULTI = "lab/multi:1"
MULTI_DOCKER = "lab/multi-docker:1"


@dataclasses.dataclass(frozen=True)
class RegistryServer:
    """One docker-registry on 127.0.0.1."""

    name: str  # "plain", "tls", "basic", "token"
    host: str  # "127.0.0.1:PORT", as in image references
    scheme: str  # "http" or "https"
    # The CA that signed the server's certificate, and a certs.d-style directory holding
    # `<host>/ca.crt` (both None for plain HTTP).
    ca_file: Path | None
    certs_d: Path | None
    username: str | None
    password: str | None
    # A DOCKER_CONFIG directory: config.json with {"auths": {host: {"auth": ...}}}.
    docker_config: Path
    token_server: TokenServer | None
    log: Path

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def cert_dir(self) -> Path | None:
        """The directory docker reads for this registry: `<certs_d>/<host>`."""
        return None if self.certs_d is None else self.certs_d / self.host

    def ref(self, name: str) -> str:
        """A reference to name ("lab/tiny:1", "lab/tiny@sha256:...") in this registry."""
        return f"{self.host}/{name}"

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file is not None:
            context.load_verify_locations(self.ca_file)
        return context

    def basic_authorization(self) -> str:
        if self.username is None or self.password is None:
            raise ValueError(f"the {self.name} registry takes no credentials")
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def skopeo_args(self, side: str) -> list[str]:
        """skopeo's options to reach this registry as `src` or `dest`."""
        args = [f"--{side}-tls-verify={'true' if self.scheme == 'https' else 'false'}"]
        if self.cert_dir is not None:
            args += [f"--{side}-cert-dir", str(self.cert_dir)]
        if self.username is not None and self.password is not None:
            args += [f"--{side}-creds", f"{self.username}:{self.password}"]
        else:
            args.append(f"--{side}-no-creds")
        return args


@dataclasses.dataclass(frozen=True)
class RegistryServers:
    plain: RegistryServer
    tls: RegistryServer
    basic: RegistryServer
    token: RegistryServer
    # The CA of every HTTPS registry (ca.pem), with its key to issue more certificates.
    certs: CertSet

    def all(self) -> tuple[RegistryServer, ...]:
        return (self.plain, self.tls, self.basic, self.token)


@dataclasses.dataclass(frozen=True)
class RegistryImage:
    """An image in every registry: what was pushed, and what the registry must answer."""

    name: str  # "lab/full:2.4.1"
    how: str  # how it got there: "docker push", "skopeo copy ... oci: docker://"
    media_type: str  # of the manifest or index the tag names
    digest: str  # of that manifest or index
    # For a single manifest: its config and its layers' media types.
    config_digest: str | None
    layer_media_types: tuple[str, ...]
    # For an index: each platform ("linux/arm64/v8") and its manifest's digest, and each
    # attestation manifest's digest with the digest of the manifest it describes.
    platforms: tuple[tuple[str, str], ...] = ()
    attestations: tuple[tuple[str, str], ...] = ()
    # The suite dockerd's image it was made from ("lab-full:2.4.1"), if any.
    local: str | None = None

    @property
    def repository(self) -> str:
        return self.name.rpartition(":")[0]

    @property
    def tag(self) -> str:
        return self.name.rpartition(":")[2]

    def ref(self, server: RegistryServer) -> str:
        return server.ref(self.name)

    def digest_ref(self, server: RegistryServer) -> str:
        return server.ref(f"{self.repository}@{self.digest}")


@dataclasses.dataclass(frozen=True)
class RegistryImages:
    servers: RegistryServers
    images: Mapping[str, RegistryImage]

    def __getitem__(self, name: str) -> RegistryImage:
        return self.images[name]


# --- HTTP ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    # Lower-cased names: Go spells the challenge `Www-Authenticate`.
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def http_get(server: RegistryServer, path: str, headers: Mapping[str, str] | None = None) -> Answer:
    """GET path on the registry with the standard library (not the code under test)."""
    request = urllib.request.Request(server.url + path, headers=dict(headers or {}))
    context = server.ssl_context() if server.scheme == "https" else None
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return Answer(response.status, _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, _lower(error.headers.items()), error.read())


def bearer_token(server: RegistryServer, scope: str, *, anonymous: bool = False) -> str:
    """A token for scope from the registry's token server (with its credentials unless
    anonymous)."""
    assert server.token_server is not None, f"the {server.name} registry has no token server"
    query = urllib.parse.urlencode({"service": TOKEN_SERVICE, "scope": scope})
    headers = {} if anonymous else {"Authorization": server.basic_authorization()}
    request = urllib.request.Request(f"{server.token_server.realm}?{query}", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        token: str = json.loads(response.read())["token"]
    return token


def authorization(server: RegistryServer, repository: str) -> dict[str, str]:
    """The Authorization header that lets a test pull repository from server."""
    if server.token_server is not None:
        return {"Authorization": "Bearer " + bearer_token(server, f"repository:{repository}:pull")}
    if server.username is not None:
        return {"Authorization": server.basic_authorization()}
    return {}


def get_manifest(server: RegistryServer, repository: str, reference: str) -> Answer:
    headers = {"Accept": ", ".join(MANIFEST_TYPES), **authorization(server, repository)}
    return http_get(server, f"/v2/{repository}/manifests/{reference}", headers)


# --- the servers ---------------------------------------------------------------------------


def _write_docker_config(
    directory: Path, host: str, user: str | None, password: str | None
) -> None:
    directory.mkdir(parents=True)
    auths: dict[str, object] = {}
    if user is not None and password is not None:
        auths[host] = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    (directory / "config.json").write_text(json.dumps({"auths": auths}, indent="\t"))


def _remove_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rmdir()


def _install_ca(certs: CertSet, certs_d: Path, host: str, stack: contextlib.ExitStack) -> None:
    """ca.crt in the registry's own certs.d, and as root in docker's for the session."""
    (certs_d / host).mkdir(parents=True)
    shutil.copyfile(certs.ca.cert, certs_d / host / "ca.crt")
    if os.geteuid() != 0:
        return
    if not DOCKER_CERTS_D.exists():
        # Made here, so removed here at the end (when empty), after each registry's directory.
        stack.callback(_remove_if_empty, DOCKER_CERTS_D)
    system = DOCKER_CERTS_D / host
    system.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(certs.ca.cert, system / "ca.crt")
    stack.callback(shutil.rmtree, system, ignore_errors=True)


def _server(
    name: str,
    registry_bin: str,
    root: Path,
    stack: contextlib.ExitStack,
    *,
    certs: CertSet | None = None,
    auth: Mapping[str, Mapping[str, str]] | None = None,
    credentials: tuple[str, str] | None = None,
    token_server: TokenServer | None = None,
) -> RegistryServer:
    directory = root / name
    tls = None if certs is None else ServerTLS(certs.server.cert, certs.server.key)
    running = start_registry(registry_bin, directory, stack, tls=tls, auth=auth)
    host = running.address
    certs_d = None
    if certs is not None:
        certs_d = directory / "certs.d"
        _install_ca(certs, certs_d, host, stack)
    user, password = credentials if credentials is not None else (None, None)
    _write_docker_config(directory / "docker-config", host, user, password)
    return RegistryServer(
        name=name,
        host=host,
        scheme="https" if certs is not None else "http",
        ca_file=certs.ca.cert if certs is not None else None,
        certs_d=certs_d,
        username=user,
        password=password,
        docker_config=directory / "docker-config",
        token_server=token_server,
        log=running.log,
    )


def _htpasswd(path: Path, user: str, password: str) -> None:
    htpasswd = _which("htpasswd", "/usr/bin/htpasswd")
    if htpasswd is None:
        skip_or_fail("htpasswd is needed for the basic-auth registry (apache2-utils)")
    line = subprocess.run(
        [htpasswd, "-Bbn", user, password],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
        check=True,
    ).stdout
    path.write_bytes(line.strip() + b"\n")


@contextlib.contextmanager
def registry_servers_session() -> Iterator[RegistryServers]:
    """The four registries (and the token server); all stopped and removed on exit."""
    registry_bin = _which("docker-registry", "/usr/bin/docker-registry")
    if registry_bin is None:
        skip_or_fail("docker-registry not installed (Debian package docker-registry)")
    if openssl_path() is None:
        skip_or_fail("openssl is needed for the registries' certificates")
    with contextlib.ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="imgi-registries-", dir="/tmp"))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        certs = make_cert_set(root / "ca")
        plain = _server("plain", registry_bin, root, stack)
        tls = _server("tls", registry_bin, root, stack, certs=certs)

        htpasswd = root / "htpasswd"
        _htpasswd(htpasswd, BASIC_USER, BASIC_PASSWORD)
        basic = _server(
            "basic",
            registry_bin,
            root,
            stack,
            certs=certs,
            auth={"htpasswd": {"realm": "imginspect-basic", "path": str(htpasswd)}},
            credentials=(BASIC_USER, BASIC_PASSWORD),
        )

        key: SigningKey = make_signing_key(root / "token-key")
        token_server = stack.enter_context(
            TokenServer(
                key, service=TOKEN_SERVICE, issuer=TOKEN_ISSUER, users={TOKEN_USER: TOKEN_PASSWORD}
            ).running()
        )
        token = _server(
            "token",
            registry_bin,
            root,
            stack,
            certs=certs,
            auth={
                "token": {
                    "realm": token_server.realm,
                    "service": TOKEN_SERVICE,
                    "issuer": TOKEN_ISSUER,
                    "rootcertbundle": str(key.cert),
                }
            },
            credentials=(TOKEN_USER, TOKEN_PASSWORD),
            token_server=token_server,
        )
        yield RegistryServers(plain, tls, basic, token, certs)


# --- the images ----------------------------------------------------------------------------


def _skopeo() -> str:
    skopeo = _which("skopeo", "/usr/bin/skopeo")
    if skopeo is None:
        skip_or_fail("skopeo is needed to push the registry fixture images (Debian skopeo)")
    return skopeo


def _run(argv: Sequence[str]) -> None:
    proc = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=COMMAND_TIMEOUT, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited with {proc.returncode}:\n"
            f"{proc.stderr.decode(errors='replace')[-4000:]}"
        )


def _skopeo_copy(skopeo: str, source: str, dest: str, *options: str) -> None:
    # No signature policy or registries.conf of the machine's: an explicit, private copy.
    _run([skopeo, "--insecure-policy", "copy", "--quiet", *options, source, dest])


def _multi_platform_images() -> tuple[builder.Image, ...]:
    """Two FROM-scratch platforms, each with one small gzipped layer of its own."""
    return (
        builder.make_image(
            ({"platform.txt": b"linux/amd64\n"},), tags=(), architecture="amd64", gzipped=True
        ),
        builder.make_image(
            ({"platform.txt": b"linux/arm64/v8\n"},),
            tags=(),
            architecture="arm64",
            variant="v8",
            gzipped=True,
        ),
    )


def _describe(server: RegistryServer, name: str, how: str, local: str | None) -> RegistryImage:
    """What the registry holds under name, read back from it."""
    repository, _, tag = name.rpartition(":")
    answer = get_manifest(server, repository, tag)
    if answer.status != 200:
        raise AssertionError(f"{server.ref(name)}: {answer.status} {answer.body[:500]!r}")
    media_type = answer.header("Content-Type")
    digest = builder.sha256(answer.body)
    if media_type is None or answer.header("Docker-Content-Digest") != digest:
        raise AssertionError(f"{server.ref(name)}: {answer.headers} for {digest}")
    document = answer.json()
    if media_type in (builder.OCI_INDEX, DOCKER_MANIFEST_LIST):
        platforms, attestations = [], []
        for entry in document["manifests"]:
            annotations = entry.get("annotations") or {}
            if annotations.get(builder.ATTESTATION_TYPE_KEY) == builder.ATTESTATION_TYPE:
                subject = annotations[builder.ATTESTATION_DIGEST_KEY]
                attestations.append((entry["digest"], subject))
                continue
            platform = entry["platform"]
            keys = ("os", "architecture", "variant")
            spelled = "/".join(platform[key] for key in keys if platform.get(key))
            platforms.append((spelled, entry["digest"]))
        return RegistryImage(
            name, how, media_type, digest, None, (), tuple(platforms), tuple(attestations), local
        )
    layers = tuple(layer["mediaType"] for layer in document["layers"])
    return RegistryImage(
        name, how, media_type, digest, document["config"]["digest"], layers, local=local
    )


def push_registry_images(
    servers: RegistryServers, daemon: DockerDaemon, workdir: Path
) -> RegistryImages:
    """Every fixture image into `plain`, then copied to the others with the same digests."""
    skopeo = _skopeo()
    plain = servers.plain
    # docker push: Docker v2 schema 2 manifests and gzipped layers.
    pushed = ((daemon.images.full_tags[0], DOCKER_FULL), (daemon.images.tiny, DOCKER_TINY))
    for local, name in (*pushed, (daemon.images.tiny, PUBLIC_TINY)):
        daemon.docker("tag", local, plain.ref(name))
        daemon.docker("push", plain.ref(name))
        daemon.docker("rmi", plain.ref(name))

    # skopeo from `docker save`'s archive, which needs no daemon: its layers are uncompressed,
    # so skopeo compresses them, with zstd when asked. Each goes through an OCI layout first:
    # pushed straight to the registry, skopeo would reuse the blobs its cache knows there
    # (gzip for zstd, or the other way round) and rewrite the manifest to name them.
    archive = workdir / "full.tar"
    daemon.docker("save", "-o", str(archive), daemon.images.full_tags[0])
    dest = plain.skopeo_args("dest")
    source = f"docker-archive:{archive}"
    for name, options in ((OCI_FULL, ()), (ZSTD_FULL, ("--dest-compress-format", "zstd"))):
        layout_ref = f"oci:{workdir / 'layouts'}:{name.replace('/', '-')}"
        _skopeo_copy(skopeo, source, layout_ref, *options)
        as_is = ("--preserve-digests", *dest)
        _skopeo_copy(skopeo, layout_ref, f"docker://{plain.ref(name)}", *as_is)

    # The multi-platform index, from an OCI layout written here; its digests are ours.
    layout = builder.multi_platform_layout(_multi_platform_images(), ref_name="multi")
    layout_dir = builder.write_dir(layout.files, workdir / "multi-layout")
    all_as_is = ("--all", "--preserve-digests", *dest)
    _skopeo_copy(skopeo, f"oci:{layout_dir}:multi", f"docker://{plain.ref(MULTI)}", *all_as_is)
    # The same platforms as a Docker manifest list (no attestation: docker's list has none).
    docker_layout = builder.multi_platform_layout(
        _multi_platform_images(), ref_name="multi", attest=()
    )
    docker_dir = builder.write_dir(docker_layout.files, workdir / "multi-docker-layout")
    as_docker = ("--all", "--format", "v2s2", *dest)
    _skopeo_copy(
        skopeo, f"oci:{docker_dir}:multi", f"docker://{plain.ref(MULTI_DOCKER)}", *as_docker
    )

    hows = {
        DOCKER_FULL: ("docker push", daemon.images.full_tags[0]),
        DOCKER_TINY: ("docker push", daemon.images.tiny),
        PUBLIC_TINY: ("docker push", daemon.images.tiny),
        OCI_FULL: ("skopeo copy docker-archive: oci: docker://", daemon.images.full_tags[0]),
        ZSTD_FULL: (
            "skopeo copy --dest-compress-format zstd docker-archive: oci: docker://",
            daemon.images.full_tags[0],
        ),
        MULTI: ("skopeo copy --all --preserve-digests oci: docker://", None),
        MULTI_DOCKER: ("skopeo copy --all --format v2s2 oci: docker://", None),
    }
    images = {name: _describe(plain, name, how, local) for name, (how, local) in hows.items()}
    multi = images[MULTI]
    if (
        multi.digest != layout.index_digest
        or multi.platforms != layout.manifests
        or multi.attestations != layout.attestations
    ):
        raise AssertionError(
            f"{plain.ref(MULTI)} is not the index written: {multi} "
            f"{layout.index_digest} {layout.manifests} {layout.attestations}"
        )

    # Copies keep every manifest byte for byte: the same digests in every registry.
    source_args = plain.skopeo_args("src")
    copies = [
        (f"docker://{plain.ref(name)}", f"docker://{server.ref(name)}", server)
        for server in servers.all()[1:]
        for name in images
    ]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(
                _skopeo_copy,
                skopeo,
                src,
                dst,
                "--all",
                "--preserve-digests",
                *source_args,
                *server.skopeo_args("dest"),
            )
            for src, dst, server in copies
        ]
        for future in futures:
            future.result()
    if servers.token.token_server is not None:
        servers.token.token_server.reset()
    return RegistryImages(servers, images)
