"""docker:// through the four real registries of registry_fixture (plain, TLS, basic auth, token
auth): every image kind through each; TLS trusted through certs.d, refused without it and
accepted as insecure; credentials from docker's config and from a credential helper; one token
per scope, and a new one when it expires; platforms of an index; --diff across sources; and
no secret in anything printed."""

import contextlib
import json
import os
import select
import shutil
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.sources.registry.platforms import this_machine
from tests.daemon_fixture import DockerDaemon
from tests.helpers import Run, run_cli, the_error_line
from tests.registry_fixture import (
    DOCKER_FULL,
    DOCKER_TINY,
    MULTI,
    MULTI_DOCKER,
    OCI_FULL,
    PUBLIC_TINY,
    ZSTD_FULL,
    RegistryImages,
    RegistryServer,
    RegistryServers,
)

NO_DAEMON = "unix:///nonexistent/imginspect-test.sock"
SERVERS = ("plain", "tls", "basic", "token")
ARM64 = "linux/arm64/v8"


def server_named(servers: RegistryServers, name: str) -> RegistryServer:
    found: RegistryServer = getattr(servers, name)
    return found


def reach(server: RegistryServer, *, credentials: bool = True) -> dict[str, str]:
    """The environment that trusts the server's CA (its certs.d) and, if asked, holds its
    credentials (its DOCKER_CONFIG); an empty DOCKER_CONFIG otherwise."""
    env = {"DOCKER_CONFIG": str(server.docker_config if credentials else _empty_config())}
    if server.certs_d is not None:
        env["IMGINSPECT_CERTS_D"] = str(server.certs_d)
    return env


def _empty_config() -> Path:
    directory = Path("/tmp/imgi-registry-servers-empty-config")
    directory.mkdir(exist_ok=True)
    return directory


def run(*args: str, env: dict[str, str] | None = None) -> Run:
    return run_cli(*args, host=NO_DAEMON, env=env)


def docker_ref(server: RegistryServer, name: str) -> str:
    return "docker://" + server.ref(name)


def assert_no_secret(done: Run, server: RegistryServer) -> None:
    """Neither the password, nor its base64 in docker's config, nor a token (a JWT: `eyJ`)."""
    said = done.stdout.decode("utf-8", "replace") + done.stderr
    config = json.loads((server.docker_config / "config.json").read_text())
    secrets = [entry["auth"] for entry in config["auths"].values()]
    if server.password is not None:
        secrets.append(server.password)
    for secret in secrets:
        assert secret not in said
    assert "eyJ" not in said


# -- every image through every set-up ----------------------------------------------------------


@pytest.mark.parametrize("name", SERVERS)
def test_every_image_kind_reads_through_each_registry(
    name: str, registry_images: RegistryImages
) -> None:
    server = server_named(registry_images.servers, name)
    images = [registry_images[image] for image in registry_images.images]
    refs = [docker_ref(server, image.name) for image in images]
    by_digest = ["docker://" + image.digest_ref(server) for image in images if image.config_digest]
    done = run("-f", "{{.Id}} {{.Os}}/{{.Architecture}}", *refs, *by_digest, env=reach(server))
    assert done.code == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    singles = [image for image in images if image.config_digest]
    expected_singles = {f"{image.config_digest} linux/amd64" for image in singles}
    machine = this_machine()
    for image, line in zip(images, lines, strict=False):
        if image.config_digest:
            assert line == f"{image.config_digest} linux/amd64", image.name
        else:  # an index: this machine's platform, as docker pull chooses it
            assert line.endswith(f" linux/{machine.architecture}"), (image.name, line)
    assert set(lines[len(images) :]) == expected_singles
    assert len(lines) == len(images) + len(by_digest)


def test_zstd_layers_read_as_their_gzip_twins(registry_images: RegistryImages) -> None:
    """Only the config is read: the zstd image is the gzip one's config, with its layers' sizes
    as the registry stores them."""
    server = registry_images.servers.plain
    template = "{{.Id}} {{json .RootFS.Layers}}"
    done = run("-f", template, docker_ref(server, ZSTD_FULL), docker_ref(server, OCI_FULL))
    assert done.code == 0, done.stderr
    zstd, gzip = done.stdout.decode().splitlines()
    assert zstd == gzip
    assert zstd.startswith(str(registry_images[ZSTD_FULL].config_digest))


# -- TLS ---------------------------------------------------------------------------------------


class Forwarder:
    """A TCP relay on loopback to a registry on 127.0.0.1: [::1]:PORT is a name docker verifies
    TLS for (127.0.0.0/8 it does not); `delay` holds each answer back, for a run that lasts."""

    def __init__(self, target: str, *, listen: str = "::1", delay: float = 0.0) -> None:
        self._target = ("127.0.0.1", int(target.rpartition(":")[2]))
        self._delay = delay
        family = socket.AF_INET6 if ":" in listen else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.bind((listen, 0))
        self._listener.listen(16)
        port = self._listener.getsockname()[1]
        self.host = f"[{listen}]:{port}" if family == socket.AF_INET6 else f"{listen}:{port}"
        self._stopped = threading.Event()

    @contextlib.contextmanager
    def running(self) -> Iterator["Forwarder"]:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stopped.set()
            self._listener.close()
            thread.join(5)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):  # a reset by either end ends the relay, no more
            self._pump(client)

    def _pump(self, client: socket.socket) -> None:
        with client, socket.create_connection(self._target, timeout=30) as server:
            asked = False  # the client has spoken since the last answer was held back
            while not self._stopped.is_set():
                ready, _, _ = select.select([client, server], [], [], 0.5)
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    if end is client:
                        asked = True
                        server.sendall(data)
                    else:
                        if asked and self._delay:
                            time.sleep(self._delay)
                        asked = False
                        client.sendall(data)


@pytest.fixture
def tls_on_ipv6(tls_registry: RegistryServer) -> Iterator[str]:
    """The TLS registry, reached as [::1]:PORT."""
    with Forwarder(tls_registry.host).running() as forwarder:
        yield forwarder.host


def certs_d_for(tmp_path: Path, host: str, ca: Path | None) -> Path:
    directory = tmp_path / "certs.d"
    (directory / host).mkdir(parents=True)
    if ca is not None:
        shutil.copyfile(ca, directory / host / "ca.crt")
    return directory


def test_tls_is_trusted_through_certs_d(
    tls_on_ipv6: str, tls_registry: RegistryServer, registry_images: RegistryImages, tmp_path: Path
) -> None:
    certs_d = certs_d_for(tmp_path, tls_on_ipv6, tls_registry.ca_file)
    done = run(
        "-f",
        "{{.Id}}",
        f"docker://{tls_on_ipv6}/{DOCKER_TINY}",
        env={"IMGINSPECT_CERTS_D": str(certs_d)},
    )
    assert (done.code, done.stdout.decode()) == (
        0,
        f"{registry_images[DOCKER_TINY].config_digest}\n",
    ), done.stderr


def test_tls_without_the_ca_is_one_line_naming_the_registry_and_exit_3(
    tls_on_ipv6: str, tmp_path: Path
) -> None:
    certs_d = certs_d_for(tmp_path, tls_on_ipv6, None)
    done = run(f"docker://{tls_on_ipv6}/{DOCKER_TINY}", env={"IMGINSPECT_CERTS_D": str(certs_d)})
    assert done.code == 3
    line = the_error_line(done)
    assert tls_on_ipv6 in line and "certificate" in line.lower(), line


def test_tls_without_the_ca_is_accepted_as_an_insecure_registry(
    tls_on_ipv6: str, tmp_path: Path
) -> None:
    certs_d = certs_d_for(tmp_path, tls_on_ipv6, None)
    done = run(
        "-q",
        "--insecure-registry",
        tls_on_ipv6,
        f"docker://{tls_on_ipv6}/{DOCKER_TINY}",
        env={"IMGINSPECT_CERTS_D": str(certs_d)},
    )
    assert (done.code, done.stdout, done.stderr) == (0, b"", "")


def test_tls_on_127_0_0_1_is_not_verified_as_docker_does_not(
    tls_registry: RegistryServer, tmp_path: Path
) -> None:
    """docker treats 127.0.0.0/8 as an insecure registry: HTTPS without verification."""
    certs_d = certs_d_for(tmp_path, tls_registry.host, None)
    done = run(
        "-q", docker_ref(tls_registry, DOCKER_TINY), env={"IMGINSPECT_CERTS_D": str(certs_d)}
    )
    assert (done.code, done.stderr) == (0, "")


# -- basic auth --------------------------------------------------------------------------------


def test_basic_auth_with_docker_config_shows_no_secret(basic_registry: RegistryServer) -> None:
    done = run(
        "--debug", "--json", docker_ref(basic_registry, DOCKER_TINY), env=reach(basic_registry)
    )
    assert done.code == 0, done.stderr
    assert "debug: GET https://" in done.stderr
    assert_no_secret(done, basic_registry)


def test_basic_auth_with_a_wrong_password_is_denied_exit_3(
    basic_registry: RegistryServer, tmp_path: Path
) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {basic_registry.host: {"auth": "aW1naW5zcGVjdDp3cm9uZw=="}}})
    )
    env = {**reach(basic_registry), "DOCKER_CONFIG": str(tmp_path)}
    done = run("--debug", docker_ref(basic_registry, DOCKER_TINY), env=env)
    assert done.code == 3
    last = done.stderr.splitlines()[-1]
    assert basic_registry.host in last and "denied" in last and "authentication required" in last
    assert "aW1naW5zcGVjdDp3cm9uZw==" not in done.stderr and ":wrong" not in done.stderr


def test_basic_auth_without_credentials_is_exit_3(basic_registry: RegistryServer) -> None:
    done = run(
        docker_ref(basic_registry, DOCKER_TINY), env=reach(basic_registry, credentials=False)
    )
    assert done.code == 3
    assert "denied" in the_error_line(done)


# -- token auth --------------------------------------------------------------------------------


def test_a_public_repository_is_pulled_anonymously(token_registry: RegistryServer) -> None:
    done = run(
        "-q", docker_ref(token_registry, PUBLIC_TINY), env=reach(token_registry, credentials=False)
    )
    assert (done.code, done.stderr) == (0, "")


def test_a_private_repository_needs_the_credentials(
    token_registry: RegistryServer, registry_images: RegistryImages
) -> None:
    ref = docker_ref(token_registry, DOCKER_TINY)
    anonymous = run(ref, env=reach(token_registry, credentials=False))
    assert anonymous.code == 3
    assert "the token service" in the_error_line(anonymous) or "denied" in anonymous.stderr
    done = run("--debug", "-f", "{{.Id}}", ref, env=reach(token_registry))
    assert done.code == 0, done.stderr
    assert done.stdout.decode() == f"{registry_images[DOCKER_TINY].config_digest}\n"
    assert_no_secret(done, token_registry)


def test_many_images_of_one_repository_fetch_one_token(
    token_registry: RegistryServer, registry_images: RegistryImages
) -> None:
    assert token_registry.token_server is not None
    full = registry_images[DOCKER_FULL]
    refs = [docker_ref(token_registry, DOCKER_FULL), "docker://" + full.digest_ref(token_registry)]
    token_registry.token_server.reset()
    done = run("-f", "{{.Id}}", *refs * 10, env=reach(token_registry))
    assert (done.code, done.stdout.decode()) == (0, f"{full.config_digest}\n" * 20), done.stderr
    assert token_registry.token_server.count() == 1
    assert token_registry.token_server.count("repository:lab/full:pull") == 1


def test_several_repositories_fetch_one_token_each(
    token_registry: RegistryServer, registry_images: RegistryImages
) -> None:
    assert token_registry.token_server is not None
    names = (DOCKER_FULL, DOCKER_TINY, OCI_FULL, ZSTD_FULL, MULTI, MULTI_DOCKER, PUBLIC_TINY)
    refs = [docker_ref(token_registry, name) for name in names]
    token_registry.token_server.reset()
    done = run("-q", *refs * 3, env=reach(token_registry))
    assert (done.code, done.stderr) == (0, "")
    for name in names:
        scope = f"repository:{registry_images[name].repository}:pull"
        assert token_registry.token_server.count(scope) == 1, scope
    assert token_registry.token_server.count() == len(names)


def test_a_token_that_expires_during_the_run_is_fetched_again(
    token_registry: RegistryServer,
) -> None:
    """Tokens of a second, and a registry that takes more than a second to answer each request:
    the config is asked after the manifest's token has expired, with a new one."""
    server = token_registry.token_server
    assert server is not None
    with Forwarder(token_registry.host, listen="127.0.0.1", delay=1.2).running() as slow:
        server.reset()
        server.lifetime = 1
        try:
            done = run(
                "-f",
                "{{.Os}}",
                f"docker://{slow.host}/{PUBLIC_TINY}",
                env=reach(token_registry, credentials=False),
            )
        finally:
            server.lifetime = 300
    assert (done.code, done.stdout) == (0, b"linux\n"), done.stderr
    assert server.count("repository:public/tiny:pull") == 2


# -- credential helpers ------------------------------------------------------------------------

# A helper that fails as a locked keychain does: a message on stdout, status 1.
FAILING_HELPER = "#!/bin/sh\necho 'error: the keychain is locked'\nexit 1\n"


def helper_env(
    tmp_path: Path, server: RegistryServer, config: dict[str, object], script: str | None
) -> dict[str, str]:
    """DOCKER_CONFIG with config, and docker-credential-test on PATH running script."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if script is not None:
        helper = bin_dir / "docker-credential-test"
        helper.write_text(script)
        helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    return {
        **reach(server),
        "DOCKER_CONFIG": str(tmp_path),
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }


@pytest.mark.parametrize(
    ("config", "script"),
    [
        ({"credsStore": "test"}, FAILING_HELPER),
        ({"credsStore": "test"}, None),  # not installed
        ({"credsStore": "test"}, "#!/bin/sh\necho not json\n"),
        ({"credHelpers": {"{host}": "test"}}, FAILING_HELPER),
    ],
    ids=["credsStore fails", "not installed", "not JSON", "credHelpers fails"],
)
def test_a_failing_helper_means_anonymous_as_docker_pull_goes_on(
    token_registry: RegistryServer, tmp_path: Path, config: dict[str, object], script: str | None
) -> None:
    """docker pull ignores a helper's failure (ResolveAuthConfig drops GetAuthConfig's error)
    and pulls anonymously: a public repository works, a private one is denied."""
    config = json.loads(json.dumps(config).replace("{host}", token_registry.host))
    env = helper_env(tmp_path, token_registry, config, script)
    public = run("--debug", "-q", docker_ref(token_registry, PUBLIC_TINY), env=env)
    assert public.code == 0, public.stderr
    assert "docker-credential-test" in public.stderr and "without credentials" in public.stderr
    private = run("-q", docker_ref(token_registry, DOCKER_TINY), env=env)
    assert private.code == 3
    assert "docker-credential-test" not in the_error_line(private)


def test_a_helper_that_answers_gives_the_credentials(
    token_registry: RegistryServer, tmp_path: Path
) -> None:
    answer = json.dumps(
        {"ServerURL": token_registry.host, "Username": "imginspect", "Secret": "token-secret"}
    )
    script = f"#!/bin/sh\nread server\necho '{answer}'\n"
    env = helper_env(tmp_path, token_registry, {"credsStore": "test"}, script)
    done = run("--debug", "-q", docker_ref(token_registry, DOCKER_TINY), env=env)
    assert done.code == 0, done.stderr
    assert "token-secret" not in done.stderr and "eyJ" not in done.stderr


# -- platforms ---------------------------------------------------------------------------------


def test_an_index_gives_the_platform_asked_or_this_machines(
    registry_images: RegistryImages,
) -> None:
    server = registry_images.servers.plain
    ref = docker_ref(server, MULTI)
    template = "{{.Os}}/{{.Architecture}}/{{.Variant}} {{index .RepoDigests 0}}"
    arm = run("--platform", "linux/arm64", "-f", template, ref)
    assert arm.code == 0, arm.stderr
    multi = registry_images[MULTI]
    assert arm.stdout.decode() == f"linux/arm64/v8 {server.host}/lab/multi@{multi.digest}\n"
    default = run("-f", "{{.Architecture}}", ref)
    assert (default.code, default.stdout.decode()) == (0, f"{this_machine().architecture}\n")


def test_manifests_lists_every_platform_and_the_attestation(
    registry_images: RegistryImages,
) -> None:
    server = registry_images.servers.plain
    multi = registry_images[MULTI]
    done = run("--manifests", "-f", "{{json .Manifests}}", docker_ref(server, MULTI))
    assert done.code == 0, done.stderr
    [listed] = [json.loads(line) for line in done.stdout.decode().splitlines()]
    ids = [entry["ID"] for entry in listed]
    expected = [digest for _, digest in multi.platforms] + [d for d, _ in multi.attestations]
    assert sorted(ids) == sorted(expected)
    kinds = {entry["ID"]: entry["Kind"] for entry in listed}
    for digest, _ in multi.attestations:
        assert kinds[digest] == "attestation"
    for _, digest in multi.platforms:
        assert kinds[digest] == "image"
    view = run("--manifests", "--color", "never", docker_ref(server, MULTI), env={"COLUMNS": "100"})
    assert view.code == 0, view.stderr
    assert "linux/arm64" in view.stdout.decode() and "attestation" in view.stdout.decode()


def test_an_absent_platform_is_exit_1_listing_the_platforms(
    registry_images: RegistryImages,
) -> None:
    server = registry_images.servers.plain
    done = run("--platform", "linux/s390x", docker_ref(server, MULTI))
    assert done.code == 1
    line = the_error_line(done)
    assert "linux/amd64" in line and "linux/arm64" in line, line


# -- output forms and --diff -------------------------------------------------------------------


def test_format_view_and_quiet_work_on_a_registry_image(registry_images: RegistryImages) -> None:
    server = registry_images.servers.plain
    ref = docker_ref(server, DOCKER_FULL)
    formatted = run("-f", "{{.Config.User}}|{{json .RepoTags}}", ref)
    assert formatted.code == 0, formatted.stderr
    assert formatted.stdout.decode().endswith(f'|["{server.host}/lab/full:2.4.1"]\n')
    view = run("--color", "never", ref, env={"COLUMNS": "100"})
    assert view.code == 0, view.stderr
    assert f"{server.host}/lab/full:2.4.1" in view.stdout.decode()
    quiet = run("-q", ref, docker_ref(server, "lab/full:no-such-tag"))
    assert (quiet.code, quiet.stdout) == (1, b"")


def test_diff_of_a_local_image_and_its_pushed_copy_is_the_same(
    registry_images: RegistryImages, docker_daemon: DockerDaemon
) -> None:
    full = registry_images[DOCKER_FULL]
    assert full.local is not None
    pushed = docker_ref(registry_images.servers.plain, DOCKER_FULL)
    done = run_cli("--diff", full.local, pushed, host=docker_daemon.host)
    assert done.code == 0, (done.stdout.decode(), done.stderr)
    other = run_cli(
        "--diff", full.local, docker_ref(registry_images.servers.plain, DOCKER_TINY),
        host=docker_daemon.host,
    )  # fmt: skip
    assert other.code == 1, other.stderr
