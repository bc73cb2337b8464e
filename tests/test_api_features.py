"""Options the API gained after the test daemon's 1.41: --platform (1.49) and --manifests (1.48),
against fake daemons speaking newer versions, with docker CLI 28 as the oracle for what is sent.
"""

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence

import pytest

from inspector.reference import Platform, parse_platform
from tests.daemon_fixture import DockerDaemon
from tests.fake_daemon import FakeDaemon, Request, Response, json_response, ping
from tests.helpers import IMAGE_A, Run, cli_env, run_cli, the_error_line

RUN_TIMEOUT = 30.0
MANIFESTS = [
    {
        "ID": "sha256:" + "1" * 64,
        "Descriptor": {"platform": {"architecture": "amd64", "os": "linux"}},
        "Available": True,
        "Size": {"Total": 4096, "Content": 2048},
        "Kind": "image",
        "ImageData": {"Platform": {"architecture": "amd64", "os": "linux"}},
    },
    {
        "ID": "sha256:" + "2" * 64,
        "Descriptor": {"platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        "Available": False,
        "Size": {"Total": 0, "Content": 0},
        "Kind": "image",
    },
]


def answer_any_version(request: Request) -> Response:
    """Image `a` at any API version and with any query; the query is checked afterwards."""
    if request.path.split("?")[0].endswith("/images/a/json"):
        return json_response({**IMAGE_A, "Manifests": MANIFESTS})
    return json_response({"message": "page not found"}, status=404)


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeDaemon]:
    version = getattr(request, "param", "1.50")
    with FakeDaemon({"/_ping": ping(version)}, default=answer_any_version) as daemon:
        yield daemon


def run_docker(docker_cli: str, fake: FakeDaemon, args: Sequence[str]) -> Run:
    with tempfile.TemporaryDirectory(prefix="imgi-config-") as config_dir:
        done = subprocess.run(
            [docker_cli, "image", "inspect", *args],
            env=cli_env(fake.docker_host, {"DOCKER_CONFIG": config_dir}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    return Run(done.returncode, done.stdout, done.stderr.decode(errors="replace"))


def inspect_requests(fake: FakeDaemon) -> list[str]:
    """The paths asked for, pings left out; the list is then emptied."""
    paths = [path for path in fake.paths if path != "/_ping"]
    fake.requests.clear()
    return paths


PLATFORMS = [
    "linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "linux/arm", "linux/armhf",
    "linux/armel", "Linux/AMD64", "linux/x86_64", "linux/x86-64", "linux/amd64/v1",
    "linux/amd64/v3", "windows/amd64", "macos/arm64", "linux/386", "linux/i386",
    "linux/arm64/v9.0", "linux/arm64/8.2", "linux/arm64/9", "linux/aarch64", "linux/arm/8",
    "linux/arm/7", "linux/arm/5", "linux/ppc64le", "linux/riscv64", "linux/s390x", "foo/bar",
    "windows(10.0.17763)/amd64",
]  # fmt: skip


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_is_sent_exactly_as_docker_sends_it(
    docker_cli: str, fake: FakeDaemon, platform: str
) -> None:
    docker = run_docker(docker_cli, fake, ["--platform", platform, "a"])
    docker_paths = inspect_requests(fake)

    ours = run_cli("--json", "--platform", platform, "a", host=fake.docker_host)

    assert docker.code == 0, docker.stderr
    assert len(docker_paths) == 1 and "?platform=%7B%22architecture%22%3A%22" in docker_paths[0]
    assert inspect_requests(fake) == docker_paths
    assert (ours.code, ours.stderr) == (0, "")
    assert ours.stdout == docker.stdout


def test_an_empty_platform_is_no_platform_as_in_docker(docker_cli: str, fake: FakeDaemon) -> None:
    docker = run_docker(docker_cli, fake, ["--platform", "", "a"])
    docker_paths = inspect_requests(fake)

    ours = run_cli("--json", "--platform", "", "a", host=fake.docker_host)

    assert (docker.code, docker_paths) == (0, ["/v1.50/images/a/json"])
    assert (ours.code, inspect_requests(fake)) == (0, docker_paths)


@pytest.mark.parametrize(
    ("platform", "why"),
    [
        ("linux//amd64", "'' is not a platform name"),
        ("linux/a b", "'a b' is not a platform name"),
        ("*", "wildcards are not supported"),
        ("linux/arm64/v8/x", "expected os/arch or os/arch/variant"),
        ("lin ux/amd64", "'lin ux' is not an operating system"),
    ],
)
def test_a_bad_platform_exits_2_before_the_daemon_is_asked(
    docker_cli: str, fake: FakeDaemon, platform: str, why: str
) -> None:
    docker = run_docker(docker_cli, fake, ["--platform", platform, "a"])
    assert docker.code != 0 and inspect_requests(fake) == []
    connections = fake.connections  # docker pings before it parses --platform

    ours = run_cli("--json", "--platform", platform, "a", host=fake.docker_host)

    assert (ours.code, ours.stdout) == (2, b"")
    assert why in ours.stderr and "--platform" in ours.stderr
    assert (fake.connections, fake.requests) == (connections, [])


def test_a_platform_of_one_part_is_refused_where_docker_guesses_from_its_host() -> None:
    """docker turns `linux` into linux/<its own arch> and `arm64` into <its own OS>/arm64;
    imginspect asks for both parts instead of guessing from the machine it runs on."""
    for text in ("linux", "arm64"):
        with pytest.raises(Exception, match="expected os/arch"):
            parse_platform(text)


def test_platform_values_and_their_query_json() -> None:
    assert parse_platform("Linux/ARM64/v8") == Platform("linux", "arm64", "v8")
    assert str(parse_platform("linux/armhf")) == "linux/arm"
    assert parse_platform("windows(10.0.17763)/amd64").query_value == (
        '{"architecture":"amd64","os":"windows","os.version":"10.0.17763"}'
    )


# -- --manifests --------------------------------------------------------------------------------


def test_manifests_asks_for_them_and_prints_what_the_daemon_sends(fake: FakeDaemon) -> None:
    run = run_cli("--json", "--manifests", "a", host=fake.docker_host)

    assert (run.code, run.stderr) == (0, "")
    assert inspect_requests(fake) == ["/v1.50/images/a/json?manifests=1"]
    (image,) = json.loads(run.stdout)
    assert image["Manifests"] == MANIFESTS


def test_the_view_lists_each_manifests_platform_and_whether_it_is_here(fake: FakeDaemon) -> None:
    run = run_cli("--manifests", "a", host=fake.docker_host, env={"COLUMNS": "100"})

    assert (run.code, run.stderr) == (0, "")
    text = run.stdout.decode()
    section = text.split("\nManifests\n", 1)[1]
    assert re.search(r"linux/amd64 +available here, 2\.05 kB content, 4\.1 kB total", section)
    assert re.search(r"linux/arm64/v8 +not here", section)


def test_manifests_and_platform_together_in_dockers_query_order(fake: FakeDaemon) -> None:
    run = run_cli("--json", "--manifests", "--platform", "linux/arm64", "a", host=fake.docker_host)

    assert run.code == 0, run.stderr
    assert inspect_requests(fake) == [
        "/v1.50/images/a/json?manifests=1"
        "&platform=%7B%22architecture%22%3A%22arm64%22%2C%22os%22%3A%22linux%22%7D"
    ]


# -- gated by the API version -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fake", "args", "query"),
    [
        ("1.49", ["--platform", "linux/amd64"], "?platform="),
        ("1.48", ["--manifests"], "?manifests=1"),
        ("1.99", ["--manifests", "--platform", "linux/amd64"], "?manifests=1&platform="),
    ],
    indirect=["fake"],
)
def test_new_enough_daemons_get_the_new_parameters(
    fake: FakeDaemon, args: list[str], query: str
) -> None:
    run = run_cli("--json", *args, "a", host=fake.docker_host)

    assert (run.code, run.stderr) == (0, "")
    (path,) = inspect_requests(fake)
    assert query in path


@pytest.mark.parametrize(
    ("fake", "args", "message"),
    [
        (
            "1.41",
            ["--platform", "linux/amd64"],
            "--platform needs API 1.49, the daemon speaks 1.41",
        ),
        (
            "1.48",
            ["--platform", "linux/amd64"],
            "--platform needs API 1.49, the daemon speaks 1.48",
        ),
        ("1.47", ["--manifests"], "--manifests needs API 1.48, the daemon speaks 1.47"),
        (
            "1.41",
            ["--manifests", "--platform", "linux/amd64"],
            "--platform needs API 1.49, the daemon speaks 1.41",
        ),
    ],
    indirect=["fake"],
)
def test_an_older_daemon_exits_2_after_the_ping_and_before_any_image(
    fake: FakeDaemon, args: list[str], message: str
) -> None:
    run = run_cli("--json", *args, "a", "b", host=fake.docker_host)

    assert (run.code, run.stdout) == (2, b"")
    assert the_error_line(run) == f"Error: {message}"
    assert fake.paths == ["/_ping"]


def test_docker_refuses_the_same_way(docker_cli: str) -> None:
    with FakeDaemon({"/_ping": ping("1.41")}, default=answer_any_version) as fake:
        docker = run_docker(docker_cli, fake, ["--platform", "linux/amd64", "a"])
        assert docker.code != 0
        assert "requires API version 1.49, but the Docker daemon API version is 1.41" in (
            docker.stderr
        )
        assert inspect_requests(fake) == []


def test_a_pinned_api_version_gates_without_asking_the_daemon(fake: FakeDaemon) -> None:
    run = run_cli(
        "--platform", "linux/amd64", "a", host=fake.docker_host, env={"DOCKER_API_VERSION": "1.47"}
    )

    assert run.code == 2
    assert the_error_line(run) == "Error: --platform needs API 1.49, DOCKER_API_VERSION pins 1.47"
    assert fake.requests == []


def test_the_real_test_daemon_is_too_old_for_platform(docker_daemon: DockerDaemon) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "--platform", "linux/amd64", docker_daemon.images.tiny],
        env=docker_daemon.env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "Error: --platform needs API 1.49, the daemon speaks 1.41\n"
