"""--all and --filter: every image the daemon lists, inspected by ID in its order; filters
sent as docker sends them; a list that is not a list of images; usage errors before any
request; and, against the test dockerd, byte for byte what docker prints."""

import json
import subprocess
import sys
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.daemon_fixture import DockerDaemon
from tests.fake_daemon import FakeDaemon, Request, Response, inspect_path, json_response, not_found
from tests.helpers import (
    A_ID,
    B_ID,
    C_ID,
    EMPTY_ARRAY,
    IMAGE_A,
    IMAGE_B,
    IMAGE_C,
    Run,
    body,
    run_cli,
    the_error_line,
)
from tests.json_arrays import indented_array

LIST_PATH = "/v1.50/images/json"


def _listing(*entries: tuple[str, list[str]]) -> Response:
    return json_response([{"Id": image_id, "RepoTags": tags} for image_id, tags in entries])


def test_all_inspects_every_listed_image_by_id_in_the_daemons_order(fake: FakeDaemon) -> None:
    fake.routes[LIST_PATH] = _listing((C_ID, ["c:1"]), (A_ID, ["a:1"]), (B_ID, []))
    for image in (IMAGE_A, IMAGE_B, IMAGE_C):
        fake.routes[inspect_path(str(image["Id"]))] = json_response(image)

    run = run_cli("--all", "--json", host=fake.docker_host)

    assert (run.code, run.stderr) == (0, "")
    assert run.stdout == indented_array([body(IMAGE_C), body(IMAGE_A), body(IMAGE_B)])
    assert fake.paths == ["/_ping", LIST_PATH, *(inspect_path(i) for i in (C_ID, A_ID, B_ID))]


def test_all_in_the_view_heads_each_image_with_its_first_tag_or_its_id(fake: FakeDaemon) -> None:
    fake.routes[LIST_PATH] = _listing((A_ID, ["a:1", "a:2"]), (B_ID, ["<none>:<none>"]))
    for image in (IMAGE_A, IMAGE_B):
        fake.routes[inspect_path(str(image["Id"]))] = json_response(image)
        fake.routes[f"/v1.50/images/{image['Id']}/history"] = json_response([])

    run = run_cli("--all", host=fake.docker_host, env={"COLUMNS": "200"})

    assert (run.code, run.stderr) == (0, "")
    headers = [line for line in run.stdout.decode().splitlines() if line.endswith("─")]
    assert [header.split(" ")[0] for header in headers] == ["a:1", B_ID]


@pytest.mark.parametrize(
    ("filters", "sent"),
    [
        (["dangling=true"], {"dangling": {"true": True}}),
        (
            ["label=a=b", " LABEL = c ", "reference=lab-*"],
            {"label": {"a=b": True, "c": True}, "reference": {"lab-*": True}},
        ),
        ([""], None),  # empty: no filter, as in docker
    ],
)
def test_filters_go_to_the_daemon_as_docker_sends_them(
    fake: FakeDaemon, filters: list[str], sent: Mapping[str, object] | None
) -> None:
    asked: list[Request] = []

    def listing(request: Request) -> Response:
        asked.append(request)
        return json_response([])

    fake.routes[LIST_PATH] = listing
    fake.default = listing  # the path carries the query

    run = run_cli("--all", *(f"--filter={value}" for value in filters), host=fake.docker_host)

    assert (run.code, run.stdout, run.stderr) == (0, b"", "")  # the view of nothing is nothing
    [request] = asked
    url = urlsplit(request.path)
    assert url.path == LIST_PATH
    query = parse_qs(url.query)
    assert (json.loads(query["filters"][0]) if query else None) == sent


def test_all_with_quiet_says_by_its_status_whether_every_listed_image_is_there(
    fake: FakeDaemon,
) -> None:
    fake.routes[LIST_PATH] = _listing((A_ID, ["a:1"]), (B_ID, ["b:1"]))
    fake.routes[inspect_path(A_ID)] = json_response(IMAGE_A)
    fake.routes[inspect_path(B_ID)] = json_response(IMAGE_B)
    assert run_cli("--all", "-q", host=fake.docker_host) == Run(0, b"", "")

    fake.routes[inspect_path(B_ID)] = not_found(B_ID)
    assert run_cli("--all", "-q", host=fake.docker_host) == Run(1, b"", "")


@pytest.mark.parametrize("quiet", [[], ["-q"]], ids=["json", "quiet"])
def test_a_list_the_daemon_answers_with_404_is_said_even_with_quiet(
    fake: FakeDaemon, quiet: list[str]
) -> None:
    """-q keeps quiet about images that are not there, never about the list itself."""
    fake.routes[LIST_PATH] = json_response({"message": "page not found"}, 404)

    run = run_cli("--all", "--json", *quiet, host=fake.docker_host)

    assert run.code == 1
    assert the_error_line(run) == "Error: page not found"


def test_an_empty_list_prints_what_docker_prints_for_no_image(fake: FakeDaemon) -> None:
    fake.routes[LIST_PATH] = json_response([])
    assert run_cli("--all", "--json", host=fake.docker_host).stdout == EMPTY_ARRAY
    assert run_cli("--all", "-f", "{{.Id}}", host=fake.docker_host).stdout == b"\n"


def test_a_filter_the_daemon_refuses_is_a_usage_error_with_its_message(fake: FakeDaemon) -> None:
    fake.default = json_response({"message": "Invalid filter 'colour'"}, 400)

    run = run_cli("--all", "--json", "--filter", "colour=red", host=fake.docker_host)

    assert (run.code, run.stdout) == (2, b"")
    assert the_error_line(run) == "Error: Invalid filter 'colour'"


def test_an_image_removed_after_the_list_is_not_found(fake: FakeDaemon) -> None:
    fake.routes[LIST_PATH] = _listing((A_ID, ["a:1"]), (B_ID, ["b:1"]))
    fake.routes[inspect_path(A_ID)] = not_found(A_ID)
    fake.routes[inspect_path(B_ID)] = json_response(IMAGE_B)

    run = run_cli("--all", "-f", "{{.Id}}", host=fake.docker_host)

    assert (run.code, run.stdout) == (1, f"{B_ID}\n".encode())
    assert the_error_line(run) == f"Error: No such image: {A_ID}"


@pytest.mark.parametrize(
    ("listing", "said"),
    [
        ([{"Id": "../../etc"}], "without a usable ID"),
        ([{"Id": "nginx", "RepoTags": ["nginx:1"]}], "without a usable ID"),
        ([{"Id": 5}], "without a usable ID"),
        (["sha256:" + "a" * 64], "without a usable ID"),
        ({"Id": A_ID}, "is JSON but not a list"),
    ],
)
def test_a_list_that_is_not_a_list_of_images_is_a_daemon_problem(
    fake: FakeDaemon, listing: object, said: str
) -> None:
    fake.routes[LIST_PATH] = json_response(listing)

    run = run_cli("--all", "--json", host=fake.docker_host)

    assert (run.code, run.stdout) == (3, EMPTY_ARRAY)
    assert said in the_error_line(run)
    assert fake.paths == ["/_ping", LIST_PATH]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "a"], "either --all or IMAGE arguments"),
        (["--filter", "dangling=true", "a"], "--filter works with --all only"),
        (["--all", "--filter", "dangling"], "bad format of filter 'dangling'"),
    ],
)
def test_all_and_filter_usage_errors_exit_2_before_any_request(
    fake: FakeDaemon, args: list[str], message: str
) -> None:
    run = run_cli(*args, host=fake.docker_host)

    assert (run.code, run.stdout) == (2, b"")
    assert message in run.stderr
    assert fake.requests == []


@pytest.mark.parametrize(
    "filters",
    [[], ["reference=lab-full"], ["dangling=true"], ["label=org.opencontainers.image.version"]],
    ids=["no filter", "reference", "dangling", "label"],
)
@pytest.mark.parametrize(
    ("form", "docker_form"),
    [(["--json"], []), (["-f", "json"], ["-f", "json"]), (["-f", "{{.Id}} {{.RepoTags}}"],) * 2],
    ids=["json", "compact", "format"],
)
def test_all_prints_what_docker_prints_for_every_image_it_lists(
    docker_daemon: DockerDaemon, filters: list[str], form: list[str], docker_form: list[str]
) -> None:
    flags = [f"--filter={value}" for value in filters]
    listed = docker_daemon.docker("image", "ls", "-q", "--no-trunc", *flags).stdout.split()
    unique = {image.decode() for image in listed}  # docker lists an image once per tag

    def imginspect(*args: str) -> bytes:
        done = subprocess.run(
            [sys.executable, "-m", "inspector", "--all", *flags, *args],
            env=docker_daemon.env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, b"")
        return done.stdout

    got = imginspect(*form)
    # The daemon's order (it breaks ties of Created differently each time), read from the output.
    if "{{" in form[-1]:
        order = [line.split()[0] for line in got.decode().splitlines() if line]
    else:
        order = [image["Id"] for image in json.loads(got)]
    assert sorted(order) == sorted(unique)
    assert unique or filters == ["dangling=true"]
    if order:
        expected = docker_daemon.docker("image", "inspect", *docker_form, *order).stdout
    else:
        expected = b"\n" if "{{" in form[-1] else b"[]\n"
    assert got == expected


def test_all_json_is_docker_image_inspect_of_docker_image_ls_q(
    docker_daemon: DockerDaemon,
) -> None:
    """bench/run's case 5, byte for byte: `docker image inspect $(docker image ls -q)`."""
    short = docker_daemon.docker("image", "ls", "-q").stdout.decode().split()
    unique = list(dict.fromkeys(short))  # docker lists an image once per tag
    got = subprocess.run(
        [sys.executable, "-m", "inspector", "--all", "--json"],
        env=docker_daemon.env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (got.returncode, got.stderr) == (0, b"")
    ids = [str(image["Id"]) for image in json.loads(got.stdout)]
    # The same images; the order is the daemon's, which breaks ties of Created differently
    # from one list to the next, so docker is asked in the order imginspect printed.
    order = [image_id.removeprefix("sha256:")[:12] for image_id in ids]
    assert sorted(order) == sorted(unique)

    expected = docker_daemon.docker("image", "inspect", *order)

    assert got.stdout == expected.stdout


def test_a_long_run_of_images_matches_docker(docker_daemon: DockerDaemon) -> None:
    images = docker_daemon.images
    names = [images.full_tags[0], images.tiny, "lab-missing:1", images.hostile] * 60
    expected = docker_daemon.docker("image", "inspect", *names, check=False)

    got = subprocess.run(
        [sys.executable, "-m", "inspector", "--json", *names],
        env=docker_daemon.env(),
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert (got.returncode, got.stdout) == (expected.returncode, expected.stdout)
    assert got.stderr.decode().count("\n") == 60
