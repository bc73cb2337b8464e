"""The view of real images: the test dockerd's (what runs as whom, where and from what; the
WORKDIR layer and the step images; the time zone of TZ) and the podman service's."""

import json
import re

from tests.daemon_fixture import DockerDaemon
from tests.helpers import run_in_env, view_env
from tests.podman_fixture import PodmanService


def test_the_view_of_lab_full_answers_what_runs_as_whom_where_and_from_what(
    docker_daemon: DockerDaemon,
) -> None:
    env = view_env({"COLUMNS": "200", "TZ": "UTC"}, host=docker_daemon.host)
    result = run_in_env(docker_daemon.images.full_tags[0], env=env)
    text = result.stdout.decode()
    assert (result.code, result.stderr) == (0, "")
    for line in (
        "lab-full:2.4.1 ─",
        "  Tags            lab-full:2.4.1, lab-full:latest, lab-full:stable",
        "  Size            1.98 MB (1,982,303 bytes)",
        "  Platform        linux/",
        "  Command         /bin/busybox sh -c \"echo 'hello world'\"",
        "  User            1000:1000",
        "  Working dir     /srv/app",
        "  Shell           /bin/busybox sh -c",
        "  Stop signal     SIGINT",
        "  Healthcheck     /bin/busybox true",
        "                  every 30s, timeout 5s, start period 1m30s, 3 retries",
        "  On build        RUN echo built",
        "  LAB_EQ     a=b=c",
        "  53/udp  80/tcp  8443/tcp",
        "  /data",
        "  /var/log/lab",
        "  OCI org.opencontainers.image.title        Lab Full",
        "  Driver  vfs",
    ):
        assert f"\n{line}" in text or text.startswith(line), line
    assert re.search(
        r"\n  Created         \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \(.* ago\)\n", text
    )
    layers = re.findall(r"^  +(\d)  [0-9a-f]{12}  +\S+ \S+  [\d-]+ [\d:]+  (.*)$", text, re.M)
    assert [number for number, _ in layers] == ["1", "2", "3"]
    assert "COPY file:" in layers[0][1]
    assert layers[2][1] == "/bin/busybox mkdir -p /var/lib/lab"
    assert "Note:" not in text


def test_the_workdir_layer_is_shown_with_the_workdir_step(docker_daemon: DockerDaemon) -> None:
    """COPY, then WORKDIR /app (a layer of 0 bytes: it creates /app), then RUN mkdir -p /bin
    (no layer): the history cannot tell the last two apart; their step images can."""
    env = view_env({"COLUMNS": "200", "TZ": "UTC"}, host=docker_daemon.host)
    result = run_in_env("--debug", docker_daemon.images.workdir, env=env)
    text = result.stdout.decode()
    assert result.code == 0, result.stderr
    layers = re.findall(r"^  +(\d)  [0-9a-f]{12}  +\S+ \S+  [\d-]+ [\d:]+  (.*)$", text, re.M)
    assert layers[0][1].endswith(" in /bin/busybox")
    assert layers[1:] == [("2", "/bin/sh -c #(nop) WORKDIR /app")]
    assert "Note:" not in text and "mkdir" not in text
    step_ids = docker_daemon.docker("history", "-q", "--no-trunc", docker_daemon.images.workdir)
    run_step, workdir_step = (line.decode() for line in step_ids.stdout.split()[1:3])
    asked = re.findall(r"GET /v[\d.]+/images/(sha256:[0-9a-f]{64})/json ", result.stderr)
    assert asked == [workdir_step, run_step]  # the candidates, oldest first; nothing else


def test_only_the_view_asks_for_step_images(docker_daemon: DockerDaemon) -> None:
    env = view_env(host=docker_daemon.host)
    for args in (["--json"], ["-f", "{{.Id}}"], ["-q"]):
        result = run_in_env("--debug", *args, docker_daemon.images.workdir, env=env)
        assert result.code == 0
        assert "/images/sha256:" not in result.stderr


def test_the_created_time_is_in_the_time_zone_of_tz(docker_daemon: DockerDaemon) -> None:
    env = view_env({"TZ": "JST-9"}, host=docker_daemon.host)  # POSIX form: no tzdata needed
    text = run_in_env(docker_daemon.images.tiny, env=env).stdout.decode()
    assert re.search(r"\n  Created         \S+\+09:00 \(", text)


def test_the_view_of_a_podman_image(podman_service: PodmanService) -> None:
    image = podman_service.images.full
    result = run_in_env(image, env=view_env({"COLUMNS": "200"}, host=podman_service.host))
    text = result.stdout.decode()
    assert (result.code, result.stderr) == (0, "")
    for line in (
        f"{image} ─",
        f"  Tags            localhost/{image}",
        "  Command         /bin/busybox sh",
        "  User            1000:1000",
        "  53/udp  80/tcp",
    ):
        assert line in text, line
    assert re.search(r"^  OCI org\.opencontainers\.image\.title +Lab Pod$", text, re.MULTILINE)
    assert len(re.findall(r"^  +\d  [0-9a-f]{12}  ", text, re.MULTILINE)) == 1
    assert "Note:" not in text


def test_the_json_of_a_podman_image(podman_service: PodmanService) -> None:
    images = podman_service.images
    result = run_in_env("--json", images.full, env=view_env(host=podman_service.host))
    assert result.code == 0
    [document] = json.loads(result.stdout)
    assert document["Id"] == images.full_id
