"""Image-name completion: one quick GET /images/json, only valid names, silence on failure."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from inspector import __version__
from inspector.sources.daemon import completion
from inspector.sources.daemon.completion import complete_image, image_candidates
from tests.fake_daemon import CLOSE, HANG, FakeDaemon, Framing, Response, json_response
from tests.podman_fixture import PodmanService

NOWHERE = "unix:///nonexistent/imginspect-test.sock"
A = "a" * 64
AB = "ab" + "0" * 62
C0 = "c0" * 32
IMAGES: list[Any] = [
    {"Id": f"sha256:{A}", "RepoTags": ["app:1", "app:latest"]},
    {"Id": f"sha256:{AB}", "RepoTags": ["<none>:<none>"]},
    {"Id": f"sha256:{C0}", "RepoTags": None},
    {"Id": "not an id", "RepoTags": ["odd:1"]},
    {"Id": f"sha256:{'d' * 64}", "RepoTags": ["reg.example:5000/team/db:2", "Bad:1", "x\n:1", 7]},
    "not an object",
    {"Id": "not an id", "RepoTags": 7},
    {"Id": "not an id", "RepoTags": "app:9"},
]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # Every valid name, with its short ID; no IDs for an empty word.
        (
            "",
            [
                ("app:1", A[:12]),
                ("app:latest", A[:12]),
                ("odd:1", ""),
                ("reg.example:5000/team/db:2", "d" * 12),
            ],
        ),
        ("app:", [("app:1", A[:12]), ("app:latest", A[:12])]),
        ("reg.example:5000/", [("reg.example:5000/team/db:2", "d" * 12)]),
        # A word in hex: names that fit, and short IDs, described by their names.
        (
            "a",
            [
                ("app:1", A[:12]),
                ("app:latest", A[:12]),
                (A[:12], "app:1 app:latest"),
                (AB[:12], "untagged"),
            ],
        ),
        ("ab", [(AB[:12], "untagged")]),
        ("c0", [(C0[:12], "untagged")]),
        # Past a short ID's length, the full hex; after sha256:, the full ID.
        (C0[:13], [(C0, "untagged")]),
        ("sha256:c", [(f"sha256:{C0}", "untagged")]),
        (
            "sha256:",
            [
                (f"sha256:{A}", "app:1 app:latest"),
                (f"sha256:{AB}", "untagged"),
                (f"sha256:{C0}", "untagged"),
                (f"sha256:{'d' * 64}", "reg.example:5000/team/db:2"),
            ],
        ),
        # What the command would refuse is never offered.
        ("B", []),
        ("x", []),
        ("<", []),
        ("e", []),
    ],
)
def test_candidates_are_valid_names_and_ids_for_a_word_in_hex(
    word: str, expected: list[tuple[str, str]]
) -> None:
    assert image_candidates(IMAGES, word) == expected


@pytest.fixture
def daemon() -> Iterator[FakeDaemon]:
    with FakeDaemon({"/images/json": json_response(IMAGES)}, tcp=True) as fake:
        yield fake


def test_one_unversioned_request_over_a_unix_socket(daemon: FakeDaemon) -> None:
    assert complete_image(None, "app:l", {"DOCKER_HOST": daemon.docker_host}) == [
        ("app:latest", A[:12])
    ]
    assert daemon.paths == ["/images/json"]
    assert daemon.requests[0].header("User-Agent") == f"imginspect/{__version__}"


def test_the_host_flag_beats_docker_host_and_tcp_works(daemon: FakeDaemon) -> None:
    environ = {"DOCKER_HOST": NOWHERE}
    assert complete_image(daemon.tcp_host, "odd", environ) == [("odd:1", "")]
    assert daemon.requests[0].transport == "tcp"


def test_a_pinned_api_version_is_used_in_the_path(daemon: FakeDaemon) -> None:
    daemon.routes["/v1.41/images/json"] = json_response([])
    environ = {"DOCKER_HOST": daemon.docker_host, "DOCKER_API_VERSION": "1.41"}
    assert complete_image(None, "", environ) == []
    assert daemon.paths == ["/v1.41/images/json"]


@pytest.mark.parametrize(
    "environ",
    [
        {"DOCKER_HOST": NOWHERE},
        {"DOCKER_HOST": "gopher://x"},
        {"DOCKER_HOST": "tcp://127.0.0.1:1"},
        {"DOCKER_HOST": NOWHERE, "DOCKER_API_VERSION": "latest"},
    ],
)
def test_no_daemon_or_a_bad_setting_completes_nothing(environ: Mapping[str, str]) -> None:
    assert complete_image(None, "", environ) == []


@pytest.mark.parametrize(
    "answer",
    [
        json_response({"message": "boom"}, status=500),
        json_response({"not": "a list"}),
        Response(200, b"[{"),
        Response(200, b"\xff\xfe"),
        Response(200, b"[" * 100_000 + b"]" * 100_000),
        Response(301, b"", (("Location", "http://elsewhere/"),)),
        CLOSE,
    ],
    ids=["500", "object", "truncated", "not-utf8", "too-deep", "redirect", "closed"],
)
def test_a_strange_answer_completes_nothing(answer: Response) -> None:
    with FakeDaemon({"/images/json": answer}) as fake:
        assert complete_image(None, "", {"DOCKER_HOST": fake.docker_host}) == []


@pytest.mark.parametrize("framing", ["length", "close"])
def test_an_answer_ends_at_its_length_or_when_the_daemon_closes(framing: Framing) -> None:
    answer = Response(200, json.dumps(IMAGES).encode(), framing=framing)
    with FakeDaemon({"/images/json": answer}) as fake:
        start = time.monotonic()  # a kept-alive connection must not be read to its timeout
        assert complete_image(None, "odd", {"DOCKER_HOST": fake.docker_host}) == [("odd:1", "")]
        assert time.monotonic() - start < completion.COMPLETION_TIMEOUT / 2


def test_a_chunked_answer_which_http_1_0_does_not_allow_completes_nothing() -> None:
    answer = Response(200, json.dumps(IMAGES).encode(), framing="chunked")
    with FakeDaemon({"/images/json": answer}) as fake:
        assert complete_image(None, "", {"DOCKER_HOST": fake.docker_host}) == []


def test_podman_answers_the_same_request(podman_service: PodmanService) -> None:
    names = [name for name, _ in complete_image(None, "", {"DOCKER_HOST": podman_service.host})]
    assert f"localhost/{podman_service.images.full}" in names  # podman's own name for it


def test_a_daemon_that_does_not_answer_completes_nothing_within_the_timeout() -> None:
    with FakeDaemon({"/images/json": HANG}) as fake:
        start = time.monotonic()
        assert complete_image(None, "", {"DOCKER_HOST": fake.docker_host}) == []
        assert time.monotonic() - start < completion.COMPLETION_TIMEOUT + 1.0


def test_a_dribbling_answer_is_given_up_on_at_the_deadline() -> None:
    body = json.dumps(IMAGES).encode()
    slow = Response(200, body, pace=0.05)  # ~20 s in all
    with FakeDaemon({"/images/json": slow}) as fake:
        start = time.monotonic()
        assert complete_image(None, "", {"DOCKER_HOST": fake.docker_host}) == []
        assert time.monotonic() - start < completion.COMPLETION_TIMEOUT + 1.0


# -- the completion path, as the shell scripts run it -------------------------------------------


def complete_in_process(words: str, cword: int, host: str) -> subprocess.CompletedProcess[str]:
    env = {
        "_IMGINSPECT_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
        "DOCKER_HOST": host,
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "inspector"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_command_prints_candidates_for_the_shell(daemon: FakeDaemon) -> None:
    result = complete_in_process("imginspect app", 1, daemon.docker_host)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "plain,app:1\nplain,app:latest\n",
        "",
    )


@pytest.mark.parametrize("host", [NOWHERE, "gopher://x", "tcp://127.0.0.1:1"])
def test_the_command_prints_nothing_but_an_empty_answer_without_a_daemon(host: str) -> None:
    result = complete_in_process("imginspect app", 1, host)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "", "")


def test_context_names_complete_from_docker_config(tmp_path: Path) -> None:
    from inspector.sources.daemon.completion import complete_context

    for directory, name in (("a", "ctx-one"), ("b", "ctx-two"), ("c", "other"), ("d", "\x1bbad")):
        meta = tmp_path / "contexts" / "meta" / directory / "meta.json"
        meta.parent.mkdir(parents=True)
        meta.write_text(json.dumps({"Name": name, "Endpoints": {}}))
    (tmp_path / "contexts" / "meta" / "e").mkdir()  # no meta.json: skipped
    environ = {"DOCKER_CONFIG": str(tmp_path)}
    assert complete_context("ctx", environ) == ["ctx-one", "ctx-two"]
    assert complete_context("", environ) == ["ctx-one", "ctx-two", "default", "other"]
    assert complete_context("", {"DOCKER_CONFIG": str(tmp_path / "none")}) == ["default"]
