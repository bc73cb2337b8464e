"""What the view asks the daemon (the history and the step images, which no other output
asks for), and what it shows when one of those answers fails or never comes; a missing image,
a full device and a reader that stops early."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_daemon import (
    HANG,
    FakeDaemon,
    Response,
    history_path,
    inspect_path,
    json_response,
    ping,
)
from tests.helpers import RUN_TIMEOUT, real, run_in_env, step_images, the_error_line, view_env


@pytest.mark.parametrize(
    ("args", "asks_history"),
    [([], True), (["--json"], False), (["-f", "json"], False), (["-q"], False)],
)
def test_only_the_view_asks_for_the_history(
    fake_image: FakeDaemon, args: list[str], asks_history: bool
) -> None:
    result = run_in_env(*args, "a", env=view_env(host=fake_image.docker_host))
    assert result.code == 0
    # lab-full's history leaves layer 3 open: the view asks for the two step images too.
    expected = ["/_ping", inspect_path("a")]
    if asks_history:
        expected += [history_path("a"), *step_images("lab-full")]
    assert fake_image.paths == expected


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (json_response({"message": "history is on fire"}, 500), "history is on fire"),
        (json_response({"message": "No such image: a:latest"}, 404), "No such image: a:latest"),
        (json_response({"Id": "x"}), "JSON but not a list"),
        (Response(200, b"[{"), "not valid JSON"),
    ],
    ids=["500", "404", "object", "broken-json"],
)
def test_an_image_whose_history_fails_is_shown_with_a_note_and_exit_0(
    fake_image: FakeDaemon, answer: Response, reason: str
) -> None:
    fake_image.routes[history_path("a")] = answer
    result = run_in_env("a", env=view_env({"COLUMNS": "200"}, host=fake_image.docker_host))
    text = result.stdout.decode()
    assert (result.code, result.stderr) == (0, "")
    assert "Note: the layer history could not be read (" in text
    assert reason in text
    assert "showing the layer IDs only" in text
    assert "  User            1000:1000\n" in text
    assert len(re.findall(r"^  +[123]  [0-9a-f]{12}$", text, re.MULTILINE)) == 3


def test_a_history_that_never_comes_keeps_the_image_and_exits_3() -> None:
    inspect, _ = real("lab-full")
    with FakeDaemon({"/_ping": ping("1.50")}) as fake:
        fake.routes[inspect_path("a")] = Response(200, inspect)
        fake.routes[history_path("a")] = HANG
        fake.routes[inspect_path("b")] = Response(200, inspect)
        result = run_in_env("--timeout", "0.5", "a", "b", env=view_env(host=fake.docker_host))
        paths = fake.paths
    text = result.stdout.decode()
    assert result.code == 3
    assert "did not answer within 0.5s" in the_error_line(result)
    assert text.startswith("a ─")
    assert "Note: the layer history could not be read (the daemon at" in text
    assert paths == ["/_ping", inspect_path("a"), history_path("a")]  # b: the daemon is gone


@pytest.mark.parametrize(
    "answer",
    [
        json_response({"message": "No such image: sha256:..."}, 404),
        json_response({"message": "on fire"}, 500),
        json_response({"Id": "x", "RootFS": None}),
        Response(200, b"{"),
    ],
    ids=["404", "500", "no-layers", "broken-json"],
)
def test_step_images_that_cannot_be_read_leave_the_layer_open_and_exit_0(
    fake_image: FakeDaemon, answer: Response
) -> None:
    for path in step_images("lab-full"):
        fake_image.routes[path] = answer
    result = run_in_env("a", env=view_env({"COLUMNS": "200"}, host=fake_image.docker_host))
    text = result.stdout.decode()
    assert (result.code, result.stderr) == (0, "")
    assert "Note: the history does not say which step made layer 3;" in text
    assert re.search(r"^  3  [0-9a-f]{12}  +0 B  [\d-]+ [\d:]+  one of these steps:$", text, re.M)
    assert "- /bin/busybox mkdir -p /var/lib/lab\n" in text
    assert "- /bin/busybox sh -c #(nop) WORKDIR /srv/app\n" in text


def test_a_step_image_that_never_comes_keeps_the_image_and_exits_3() -> None:
    inspect, history = real("lab-full")
    stuck = next(iter(step_images("lab-full")))
    with FakeDaemon({"/_ping": ping("1.50"), stuck: HANG}) as fake:
        fake.routes[inspect_path("a")] = Response(200, inspect)
        fake.routes[history_path("a")] = Response(200, history)
        fake.routes[inspect_path("b")] = Response(200, inspect)
        result = run_in_env("--timeout", "0.5", "a", "b", env=view_env(host=fake.docker_host))
        paths = fake.paths
    text = result.stdout.decode()
    assert result.code == 3
    assert "did not answer within 0.5s" in the_error_line(result)
    assert text.startswith("a ─") and "\nb ─" not in text
    assert "Note: the history does not say which step made layer 3;" in text
    assert paths == ["/_ping", inspect_path("a"), history_path("a"), stuck]  # b: gone


def test_a_missing_image_exits_1_and_the_others_are_shown_in_order(
    fake_image: FakeDaemon,
) -> None:
    fake_image.routes[inspect_path("b")] = json_response({"message": "No such image: b"}, 404)
    result = run_in_env("a", "b", "a", env=view_env(host=fake_image.docker_host))
    text = result.stdout.decode()
    assert result.code == 1
    assert result.stderr == "Error: No such image: b\n"
    assert [line for line in text.splitlines() if " ─" in line] == [
        "a " + "─" * 78,
        "a " + "─" * 78,
    ]


def test_the_view_to_a_full_device_exits_74(fake_image: FakeDaemon) -> None:
    with Path("/dev/full").open("wb") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "inspector", "a"],
            env=view_env(host=fake_image.docker_host),
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    assert completed.returncode == 74
    assert "No space left on device" in completed.stderr.decode()


def test_a_reader_that_stops_early_is_not_an_error_for_the_view(fake_image: FakeDaemon) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", *["a"] * 50],
        env=view_env(host=fake_image.docker_host),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    first = process.stdout.read(1)
    process.stdout.close()
    _, stderr = process.communicate(timeout=RUN_TIMEOUT)
    assert (first, process.returncode, stderr) == (b"a", 0, b"")
