"""TLS against the real test dockerd on tcp://127.0.0.1:<port> (--tlsverify, certificates made
by openssl for this session), with docker CLI 28 as the oracle; and against a fake daemon for
the faults of a daemon's own certificate (expired, another name).
"""

import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inspector.sources.daemon.tls import certificate_validity
from tests.daemon_fixture import DockerDaemon, TLSListener, skip_or_fail
from tests.fake_daemon import FakeDaemon, Response, inspect_path, json_response, ping
from tests.helpers import (
    IMAGE_A,
    STARTUP_ALLOWANCE,
    Run,
    cli_env,
    the_error_line,
)
from tests.tls_certs import CertSet, KeyPair, make_ca, make_cert_set, openssl_path

RUN_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def tls_daemon(docker_daemon: DockerDaemon) -> TLSListener:
    if docker_daemon.tls is None:
        skip_or_fail("the test daemon has no TLS listener (needs a private dockerd and openssl)")
    return docker_daemon.tls


@dataclass(frozen=True)
class Material:
    """Certificates that are wrong in one way each, next to the daemon's good ones."""

    good: CertSet
    other_ca: KeyPair
    foreign_client: KeyPair  # signed by other_ca, which the daemon does not trust
    expired_client: KeyPair  # signed by the daemon's CA, expired
    garbage: Path
    only_ca: Path  # a DOCKER_CERT_PATH with ca.pem and nothing else
    wrong_ca_dir: Path  # a DOCKER_CERT_PATH: the good client pair, another CA's ca.pem


@pytest.fixture(scope="session")
def material(tls_daemon: TLSListener, tmp_path_factory: pytest.TempPathFactory) -> Material:
    root = tmp_path_factory.mktemp("tls-material")
    good = tls_daemon.certs
    other_ca = make_ca(root / "other", "ca")
    foreign = make_cert_set(root / "foreign").client
    foreign_client = KeyPair(foreign.cert, foreign.key)
    expired_client = good.issue("expired-client", days=-1)
    garbage = root / "garbage.pem"
    garbage.write_text("this is not a certificate\n")
    only_ca = root / "only-ca"
    only_ca.mkdir()
    shutil.copyfile(good.ca.cert, only_ca / "ca.pem")
    wrong_ca_dir = root / "wrong-ca"
    wrong_ca_dir.mkdir()
    shutil.copyfile(other_ca.cert, wrong_ca_dir / "ca.pem")
    shutil.copyfile(good.client.cert, wrong_ca_dir / "cert.pem")
    shutil.copyfile(good.client.key, wrong_ca_dir / "key.pem")
    return Material(good, other_ca, foreign_client, expired_client, garbage, only_ca, wrong_ca_dir)


def run_both(
    docker_daemon: DockerDaemon,
    args: Sequence[str],
    env: Mapping[str, str],
    images: Sequence[str],
    config_dir: Path,
) -> tuple[Run, Run]:
    """docker CLI 28 and imginspect with the same flags, environment and DOCKER_CONFIG."""
    environ = cli_env(None, {"DOCKER_CONFIG": str(config_dir), **env})
    runs = []
    for argv in (
        [docker_daemon.cli, *args, "image", "inspect", *images],
        [sys.executable, "-m", "inspector", "--json", *args, *images],
    ):
        done = subprocess.run(
            argv,
            env=environ,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        runs.append(Run(done.returncode, done.stdout, done.stderr.decode(errors="replace")))
    return runs[0], runs[1]


def flags(host: str, ca: Path, cert: Path | None = None, key: Path | None = None) -> list[str]:
    args = ["--tlsverify", "-H", host, "--tlscacert", str(ca)]
    if cert is not None:
        args += ["--tlscert", str(cert)]
    if key is not None:
        args += ["--tlskey", str(key)]
    return args


# -- the daemon is reached, and answers as over its unix socket --------------------------------


def test_verified_tls_gives_the_same_json_bytes_as_the_unix_socket_and_as_docker(
    docker_daemon: DockerDaemon, tls_daemon: TLSListener, tmp_path: Path
) -> None:
    images = docker_daemon.images
    names = [*images.full_tags, images.tiny, images.hostile, images.untagged_id, "lab-missing:1"]
    certs = tls_daemon.certs
    args = flags(tls_daemon.host, certs.ca.cert, certs.client.cert, certs.client.key)

    docker, ours = run_both(docker_daemon, args, {}, names, tmp_path)
    over_unix = subprocess.run(
        [sys.executable, "-m", "inspector", "--json", *names],
        env=docker_daemon.env(),
        capture_output=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )

    assert docker.code == 1, docker.stderr  # lab-missing:1
    assert (ours.code, ours.stdout) == (1, docker.stdout)
    assert ours.stdout == over_unix.stdout
    assert images.full_id.encode() in ours.stdout
    assert ours.stderr == over_unix.stderr.decode()
    assert ours.stderr.count("\n") == 1 and "lab-missing:1" in ours.stderr


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(
            lambda host, certs: ([], {"DOCKER_HOST": host, "DOCKER_TLS_VERIFY": "1"}),
            id="DOCKER_TLS_VERIFY+DOCKER_CERT_PATH",
        ),
        pytest.param(
            lambda host, certs: (["-H", host], {"DOCKER_TLS_VERIFY": "0"}),
            id="DOCKER_TLS_VERIFY=0-still-verifies",
        ),
        pytest.param(
            lambda host, certs: (["--tlsverify", "-H", host], {}),
            id="--tlsverify+DOCKER_CERT_PATH",
        ),
    ],
)
def test_the_environment_and_docker_cert_path_set_tls_up_as_for_docker(
    docker_daemon: DockerDaemon,
    tls_daemon: TLSListener,
    tmp_path: Path,
    settings: Callable[[str, CertSet], tuple[list[str], dict[str, str]]],
) -> None:
    args, env = settings(tls_daemon.host, tls_daemon.certs)
    env["DOCKER_CERT_PATH"] = str(tls_daemon.certs.directory)
    image = docker_daemon.images.tiny

    docker, ours = run_both(docker_daemon, args, env, [image], tmp_path)

    assert docker.code == 0, docker.stderr
    assert (ours.code, ours.stdout, ours.stderr) == (0, docker.stdout, "")


def test_tls_without_verify_accepts_a_daemon_the_ca_file_does_not_vouch_for(
    docker_daemon: DockerDaemon, tls_daemon: TLSListener, material: Material, tmp_path: Path
) -> None:
    env = {"DOCKER_TLS": "1", "DOCKER_CERT_PATH": str(material.wrong_ca_dir)}

    docker, ours = run_both(
        docker_daemon, ["-H", tls_daemon.host], env, [docker_daemon.images.tiny], tmp_path
    )

    assert docker.code == 0, docker.stderr
    assert (ours.code, ours.stdout, ours.stderr) == (0, docker.stdout, "")


def test_a_context_with_tls_material_made_by_docker_context_create(
    docker_daemon: DockerDaemon, tls_daemon: TLSListener, tmp_path: Path
) -> None:
    certs = tls_daemon.certs
    docker_config = tmp_path / "docker-config"
    endpoint = (
        f"host={tls_daemon.host},ca={certs.ca.cert},cert={certs.client.cert},key={certs.client.key}"
    )
    created = subprocess.run(
        [docker_daemon.cli, "context", "create", "secure", "--docker", endpoint],
        env=cli_env(None, {"DOCKER_CONFIG": str(docker_config)}),
        capture_output=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    image = docker_daemon.images.full_tags[0]

    docker, ours = run_both(docker_daemon, [], {"DOCKER_CONTEXT": "secure"}, [image], docker_config)

    assert docker.code == 0, docker.stderr
    assert (ours.code, ours.stdout, ours.stderr) == (0, docker.stdout, "")


# -- and when it cannot be, one line says which file or which check ---------------------------

# Each case: (flags, environment) from the listener and the material; what the line must say.
Case = Callable[[TLSListener, Material], tuple[list[str], dict[str, str]]]
FAILURES: list[tuple[str, Case, list[str]]] = [
    (
        "wrong-ca",
        lambda d, m: (flags(d.host, m.other_ca.cert, m.good.client.cert, m.good.client.key), {}),
        ["is not signed by the CA in {other_ca}", "(unable to get local issuer certificate)"],
    ),
    (
        "no-client-certificate",
        lambda d, m: (flags(d.host, m.good.ca.cert), {}),
        ["requires a client certificate and none was given", "--tlscert and --tlskey"],
    ),
    (
        "expired-client-certificate",
        lambda d, m: (
            flags(d.host, m.good.ca.cert, m.expired_client.cert, m.expired_client.key),
            {},
        ),
        ["refused the client certificate {expired_client}: it expired on "],
    ),
    (
        "client-certificate-of-another-ca",
        lambda d, m: (
            flags(d.host, m.good.ca.cert, m.foreign_client.cert, m.foreign_client.key),
            {},
        ),
        ["refused the client certificate {foreign_client}: is it signed by a CA the daemon"],
    ),
    (
        "no-ca-file-in-cert-path",
        lambda d, m: (
            [],
            {"DOCKER_HOST": d.host, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(m.garbage)},
        ),
        ["cannot read the CA certificate {garbage}/ca.pem: Not a directory"],
    ),
    (
        "ca-file-missing",
        lambda d, m: (flags(d.host, m.garbage.with_name("nowhere.pem")), {}),
        ["cannot read the CA certificate {nowhere}: No such file or directory"],
    ),
    (
        "ca-file-not-a-certificate",
        lambda d, m: (flags(d.host, m.garbage), {}),
        ["the CA file {garbage} holds no usable certificate"],
    ),
    (
        "key-of-another-certificate",
        lambda d, m: (flags(d.host, m.good.ca.cert, m.good.client.cert, m.expired_client.key), {}),
        ["the client key {expired_client_key} does not belong to the certificate {client}"],
    ),
    (
        "certificate-file-not-pem",
        lambda d, m: (flags(d.host, m.good.ca.cert, m.garbage, m.good.client.key), {}),
        ["the client certificate {garbage} is not a PEM certificate"],
    ),
    (
        "key-file-missing",
        lambda d, m: (
            flags(d.host, m.good.ca.cert, m.good.client.cert, m.garbage.with_name("no-key.pem")),
            {},
        ),
        ["cannot read the client key {no_key}: No such file or directory"],
    ),
    (
        "plain-http-to-the-tls-port",
        lambda d, m: (["-H", d.host], {}),
        ["the daemon at {host} speaks TLS: use --tlsverify"],
    ),
]


@pytest.mark.parametrize(
    ("case", "expected"), [(c, e) for _, c, e in FAILURES], ids=[i for i, _, _ in FAILURES]
)
def test_a_tls_failure_exits_3_with_one_line_naming_the_file_or_the_check(
    docker_daemon: DockerDaemon,
    tls_daemon: TLSListener,
    material: Material,
    tmp_path: Path,
    case: Case,
    expected: list[str],
) -> None:
    args, env = case(tls_daemon, material)
    names = {
        "other_ca": material.other_ca.cert,
        "expired_client": material.expired_client.cert,
        "expired_client_key": material.expired_client.key,
        "foreign_client": material.foreign_client.cert,
        "client": material.good.client.cert,
        "garbage": material.garbage,
        "nowhere": material.garbage.with_name("nowhere.pem"),
        "no_key": material.garbage.with_name("no-key.pem"),
        "host": tls_daemon.host,
    }

    docker, ours = run_both(docker_daemon, args, env, [docker_daemon.images.tiny], tmp_path)

    assert docker.code != 0, "docker CLI 28 succeeded where imginspect is expected to fail"
    assert ours.code == 3
    line = the_error_line(ours)
    assert line.startswith("Error: TLS: ") or "speaks TLS" in line
    for text in expected:
        assert text.format(**{k: str(v) for k, v in names.items()}) in line
    # `[]` after a failed handshake, nothing when a file cannot be used: as docker.
    assert ours.stdout == docker.stdout


# -- a daemon's own certificate, from a fake daemon serving TLS -------------------------------


@pytest.fixture(scope="module")
def fake_certs(tmp_path_factory: pytest.TempPathFactory) -> CertSet:
    if openssl_path() is None:
        skip_or_fail("openssl is needed to make test certificates (Debian package openssl)")
    return make_cert_set(tmp_path_factory.mktemp("fake-tls"))


@pytest.fixture
def tls_fake(request: pytest.FixtureRequest, fake_certs: CertSet) -> Iterator[FakeDaemon]:
    """A fake daemon serving TLS with the daemon certificate named by the test's parameter."""
    kind: str = request.param
    server = {
        "good": fake_certs.server,
        "expired": fake_certs.issue("expired-server", client=False, days=-1),
        "other-name": fake_certs.issue("other-server", client=False, names="DNS:elsewhere.example"),
    }[kind]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server.cert, server.key)
    routes = {"/_ping": ping("1.50"), inspect_path("a"): json_response(IMAGE_A)}
    with FakeDaemon(routes, tls=context) as fake:
        yield fake


@pytest.mark.parametrize(
    ("tls_fake", "expected"),
    [
        (
            "expired",
            "the certificate of the daemon at {host} has expired (certificate has expired)",
        ),
        ("other-name", "the certificate of the daemon at {host} is not issued for 127.0.0.1"),
    ],
    indirect=["tls_fake"],
)
def test_a_daemon_certificate_that_fails_a_check_exits_3_naming_the_check(
    tls_fake: FakeDaemon, fake_certs: CertSet, expected: str
) -> None:
    run = run_cli_tls(["--tlsverify", "--tlscacert", str(fake_certs.ca.cert)], tls_fake)

    assert run.code == 3
    assert expected.format(host=tls_fake.tcp_host) in the_error_line(run)
    assert run.stdout == b"[]\n"
    assert tls_fake.paths == []


@pytest.mark.parametrize("tls_fake", ["expired", "other-name"], indirect=True)
def test_tls_without_verify_does_not_check_the_daemons_certificate(
    tls_fake: FakeDaemon, fake_certs: CertSet
) -> None:
    run = run_cli_tls(["--tls", "--tlscacert", str(fake_certs.ca.cert)], tls_fake)

    assert (run.code, run.stderr) == (0, "")
    assert tls_fake.paths == ["/_ping", inspect_path("a")]


@pytest.mark.parametrize("tls_fake", ["good"], indirect=True)
def test_one_tls_connection_serves_every_image(tls_fake: FakeDaemon, fake_certs: CertSet) -> None:
    run = run_cli_tls(["--tlsverify", "--tlscacert", str(fake_certs.ca.cert)], tls_fake, "a", "a")

    assert (run.code, run.stderr) == (0, "")
    assert tls_fake.connections == 1
    assert {request.transport for request in tls_fake.requests} == {"tcp"}


def test_headers_dribbled_over_tls_are_cut_off_by_the_timeout(fake_certs: CertSet) -> None:
    """One deadline for the handshake, the headers and the body, as on the other transports."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(fake_certs.server.cert, fake_certs.server.key)
    answer = Response(200, json_response(IMAGE_A).body, header_pace=0.1)
    with FakeDaemon({"/_ping": ping("1.50"), inspect_path("a"): answer}, tls=context) as fake:
        started = time.monotonic()
        run = run_cli_tls(
            ["--tlsverify", "--tlscacert", str(fake_certs.ca.cert), "--timeout", "1"], fake
        )
        elapsed = time.monotonic() - started

    assert run.code == 3
    assert "did not answer within 1s" in the_error_line(run)
    assert run.stdout == b"[]\n"
    assert elapsed < 1 + STARTUP_ALLOWANCE


def test_tls_to_a_daemon_that_speaks_plain_http_says_so(fake_certs: CertSet) -> None:
    with FakeDaemon({"/_ping": ping()}, tcp=True) as plain:
        run = run_cli_tls(["--tlsverify", "--tlscacert", str(fake_certs.ca.cert)], plain)

    assert run.code == 3
    assert f"TLS: the daemon at {plain.tcp_host} does not speak TLS" in the_error_line(run)


# -- the same failure, whichever client meets it first -------------------------------------

# /_ping through requests, or (the API version pinned: no /_ping) the pipelined inspect: both
# take their socket from the one connector, TLS handshake included.
FIRST_REQUEST = {
    "requests": ({}, "debug: GET /_ping -> no answer after "),
    "pipeline": ({"DOCKER_API_VERSION": "1.41"}, "debug: GET /v1.41/images/a/json -> no answer"),
}


def the_error_both_ways(args: Sequence[str], host: str) -> str:
    """The one error line of a run whose first request fails, the same from either client."""
    errors = {}
    for way, (env, first) in FIRST_REQUEST.items():
        done = subprocess.run(
            [sys.executable, "-m", "inspector", "--json", "--debug", "-H", host, *args, "a"],
            env=cli_env(None, {"DOCKER_CONFIG": "/nonexistent", **env}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        lines = done.stderr.decode(errors="replace").splitlines()
        assert (done.returncode, done.stdout) == (3, b"[]\n"), (way, lines)
        assert any(line.startswith(first) for line in lines), (way, lines)
        errors[way] = [line for line in lines if not line.startswith("debug: ")]
    assert errors["requests"] == errors["pipeline"]
    [line] = errors["requests"]
    return line


@pytest.mark.parametrize(
    ("tls_fake", "expected"),
    [
        ("expired", "Error: TLS: the certificate of the daemon at {host} has expired"),
        ("other-name", "Error: TLS: the certificate of the daemon at {host} is not issued for"),
    ],
    indirect=["tls_fake"],
)
def test_a_daemon_certificate_that_fails_reads_the_same_from_requests_and_the_pipeline(
    tls_fake: FakeDaemon, fake_certs: CertSet, expected: str
) -> None:
    line = the_error_both_ways(
        ["--tlsverify", "--tlscacert", str(fake_certs.ca.cert)], tls_fake.tcp_host
    )

    assert line.startswith(expected.format(host=tls_fake.tcp_host))
    assert tls_fake.paths == []


def test_a_refused_client_certificate_reads_the_same_from_requests_and_the_pipeline(
    tls_daemon: TLSListener, material: Material
) -> None:
    line = the_error_both_ways(
        ["--tlsverify", "--tlscacert", str(material.good.ca.cert)], tls_daemon.host
    )

    assert line.startswith(
        f"Error: TLS: the daemon at {tls_daemon.host} requires a client certificate and none "
        "was given"
    )


def test_tls_to_a_plain_http_port_reads_the_same_from_requests_and_the_pipeline(
    fake_certs: CertSet,
) -> None:
    with FakeDaemon({"/_ping": ping()}, tcp=True) as plain:
        line = the_error_both_ways(
            ["--tlsverify", "--tlscacert", str(fake_certs.ca.cert)], plain.tcp_host
        )

    assert line.startswith(f"Error: TLS: the daemon at {plain.tcp_host} does not speak TLS")


def run_cli_tls(args: Sequence[str], fake: FakeDaemon, *images: str) -> Run:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "--json",
            "-H",
            fake.tcp_host,
            *args,
            *(images or ["a"]),
        ],
        env=cli_env(None, {"DOCKER_CONFIG": "/nonexistent"}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr.decode(errors="replace"))


# -- reading a certificate's dates --------------------------------------------------------------


@pytest.mark.parametrize("days", [-1, 30])
def test_certificate_validity_reads_the_dates_openssl_wrote(fake_certs: CertSet, days: int) -> None:
    pair = fake_certs.issue(f"dates-{days}", days=days)
    printed = subprocess.run(
        ["openssl", "x509", "-in", str(pair.cert), "-noout", "-startdate", "-enddate"],
        capture_output=True,
        text=True,
        check=True,
        timeout=RUN_TIMEOUT,
    ).stdout
    start, end = (
        datetime.strptime(line.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)
        for line in printed.splitlines()
    )

    assert certificate_validity(pair.cert.read_bytes()) == (start, end)


@pytest.mark.parametrize(
    "pem",
    [b"", b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n", b"x" * 100],
)
def test_certificate_validity_of_garbage_is_none(pem: bytes) -> None:
    assert certificate_validity(pem) is None
