"""imginspect against `docker image inspect` (CLI 28) on the same real daemon, byte for byte."""

from collections.abc import Callable

import pytest

from tests.daemon_fixture import DockerDaemon, FixtureImages
from tests.helpers import imginspect

# Each case names the images of one call, chosen from the fixture images.
CASES: dict[str, Callable[[FixtureImages], list[str]]] = {
    "one tag": lambda i: [i.full_tags[0]],
    "all tags of one image": lambda i: list(i.full_tags),
    "full id": lambda i: [i.full_id],
    "bare hex id": lambda i: [i.full_id.removeprefix("sha256:")],
    "short id": lambda i: [i.full_id.removeprefix("sha256:")[:12]],
    "order is kept": lambda i: [i.tiny, i.full_tags[0], i.tiny],
    "untagged": lambda i: [i.untagged_id],
    "pushed, by tag": lambda i: [i.pushed_ref],
    "pushed, by digest": lambda i: [i.pushed_digest_ref],
    "hostile strings": lambda i: [i.hostile],
    "partly missing": lambda i: [i.full_tags[0], "lab-missing:1", i.tiny],
    "all missing": lambda i: ["lab-missing:1", "lab-missing:2"],
}


# (imginspect's flags, the docker flags that must give the same bytes)
FORMS = [(["--json"], []), (["-f", "json"], ["-f", "json"]), (["--format=json"], ["-f", "json"])]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("form", "docker_form"), FORMS)
def test_json_output_and_exit_status_match_docker(
    docker_daemon: DockerDaemon, case: str, form: list[str], docker_form: list[str]
) -> None:
    images = CASES[case](docker_daemon.images)
    expected = docker_daemon.docker("image", "inspect", *docker_form, *images, check=False)
    got = imginspect(docker_daemon, *form, *images)
    assert got.stdout == expected.stdout
    assert got.returncode == expected.returncode
    assert b"Traceback" not in got.stderr


def test_default_output_is_the_view_not_the_json(docker_daemon: DockerDaemon) -> None:
    images = docker_daemon.images
    plain = imginspect(docker_daemon, images.full_tags[0], images.tiny)
    assert plain.returncode == 0
    text = plain.stdout.decode()
    assert text.startswith(f"{images.full_tags[0]} ─")
    assert f"\n{images.tiny} ─" in text
    assert not text.startswith("[")


def test_missing_image_exits_1_prints_the_others_and_the_daemons_message(
    docker_daemon: DockerDaemon,
) -> None:
    images = docker_daemon.images
    docker = docker_daemon.docker("image", "inspect", "lab-missing:1", images.tiny, check=False)
    got = imginspect(docker_daemon, "lab-missing:1", images.tiny)
    assert got.returncode == 1
    assert images.tiny.encode() in got.stdout
    # docker prefixes the daemon's message with its own words; we show the message itself.
    message = docker.stderr.decode().strip().removeprefix("Error response from daemon: ")
    assert got.stderr.decode() == f"Error: {message}\n"


@pytest.mark.parametrize(
    ("case", "status"), [("all tags of one image", 0), ("partly missing", 1), ("all missing", 1)]
)
def test_quiet_prints_nothing_and_the_status_tells(
    docker_daemon: DockerDaemon, case: str, status: int
) -> None:
    got = imginspect(docker_daemon, "-q", *CASES[case](docker_daemon.images))
    assert (got.returncode, got.stdout, got.stderr) == (status, b"", b"")
