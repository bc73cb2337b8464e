"""--diff: what compare finds, the two ways it is printed, and diff(1)'s exit statuses.

compare and the renderers are called directly on crafted answers; the command runs on
archives built here and on a fake daemon (test_archive_daemons.py diffs real images).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inspector import terminal
from inspector.compare import FIELDS, Change, compare, total
from inspector.errors import ExitCode
from inspector.image import Image
from inspector.render.diff_json import diff_document
from inspector.render.diff_view import render_diff
from inspector.render.view import render_view
from tests.archive_builder import docker_archive, make_image, tar_of, write
from tests.fake_daemon import FakeDaemon, json_response, ping
from tests.helpers import run_bare

BASE: dict[str, Any] = {
    "Id": "sha256:" + "a" * 64,
    "RepoTags": ["app:1"],
    "Created": "2024-01-01T00:00:00Z",
    "Os": "linux",
    "Architecture": "amd64",
    "Size": 1000,
    "Config": {
        "User": "app",
        "WorkingDir": "/srv",
        "Entrypoint": ["/bin/app"],
        "Cmd": ["--serve"],
        "Env": ["PATH=/bin", "MODE=prod"],
        "Labels": {"team": "core", "tier": "web"},
        "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
        "Volumes": {"/data": {}},
        "Healthcheck": {"Test": ["CMD", "/bin/check"], "Interval": 30000000000},
    },
    "RootFS": {"Type": "layers", "Layers": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]},
}
HISTORY = [
    {"Id": "x", "Created": 2, "CreatedBy": "COPY app /", "Size": 600, "Tags": None, "Comment": ""},
    {"Id": "y", "Created": 1, "CreatedBy": "COPY base /", "Size": 400, "Tags": None, "Comment": ""},
]
# Nothing from an image may put these on the terminal (newlines are the view's own).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def image(name: str = "a", history: list[dict[str, Any]] | None = None, **changes: Any) -> Image:
    document = json.loads(json.dumps(BASE))
    config = changes.pop("Config", {})
    document.update(changes)
    for key, value in config.items():
        if value is None:
            document["Config"].pop(key, None)
        else:
            document["Config"][key] = value
    steps = HISTORY if history is None else history
    return Image(name, json.dumps(document).encode(), history=json.dumps(steps).encode())


def changes_of(a: Image, b: Image) -> list[Change]:
    return list(compare(a, b).changes)


# -- what compare finds ---------------------------------------------------------------------


def test_the_same_image_is_the_same_and_shares_every_layer() -> None:
    difference = compare(image("a"), image("b"))
    assert difference.same
    assert difference.changes == ()
    assert [(layer.diff_id[-1], layer.size) for layer in difference.shared] == [
        ("1", 400),
        ("2", 600),
    ]
    assert (difference.only_a, difference.only_b) == ((), ())


A_ID, B_ID = BASE["Id"], "sha256:" + "b" * 64
CHECK = BASE["Config"]["Healthcheck"]
T0, T1 = "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Id": B_ID}, [Change("id", "changed", None, A_ID, B_ID)]),
        (
            {"Architecture": "arm64", "Variant": "v8"},
            [Change("platform", "changed", None, "linux/amd64", "linux/arm64/v8")],
        ),
        ({"Size": 1500}, [Change("size", "changed", None, 1000, 1500)]),
        ({"Created": T1}, [Change("created", "changed", None, T0, T1)]),
        ({"Config": {"User": None}}, [Change("user", "removed", None, "app", None)]),
        ({"Config": {"User": ""}}, [Change("user", "removed", None, "app", None)]),
        ({"Config": {"WorkingDir": "/app"}}, [Change("workdir", "changed", None, "/srv", "/app")]),
        ({"Config": {"Entrypoint": None}}, [Change("entrypoint", "removed", None, ["/bin/app"])]),
        ({"Config": {"Cmd": ["-d"]}}, [Change("cmd", "changed", None, ["--serve"], ["-d"])]),
        (
            {"Config": {"Env": ["PATH=/usr/bin", "MODE=prod", "NEW=1"]}},
            [
                Change("env", "added", "NEW", None, "1"),
                Change("env", "changed", "PATH", "/bin", "/usr/bin"),
            ],
        ),
        ({"Config": {"Env": ["PATH=/bin"]}}, [Change("env", "removed", "MODE", "prod", None)]),
        (
            {"Config": {"Env": ["PATH=/bin", "MODE=prod", "MODE=dev"]}},  # the last one wins
            [Change("env", "changed", "MODE", "prod", "dev")],
        ),
        (
            {"Config": {"Labels": {"team": "edge", "owner": "me"}}},
            [
                Change("labels", "added", "owner", None, "me"),
                Change("labels", "changed", "team", "core", "edge"),
                Change("labels", "removed", "tier", "web", None),
            ],
        ),
        (
            {"Config": {"ExposedPorts": {"80/tcp": {}, "8080/tcp": {}}}},
            [Change("ports", "removed", "443/tcp"), Change("ports", "added", "8080/tcp")],
        ),
        ({"Config": {"Volumes": None}}, [Change("volumes", "removed", "/data")]),
        (
            {"Config": {"Healthcheck": {"Test": ["NONE"]}}},
            [Change("healthcheck", "changed", None, CHECK, {"Test": ["NONE"]})],
        ),
    ],
)
def test_each_field_reports_what_was_added_removed_or_changed(
    changes: dict[str, Any], expected: list[Change]
) -> None:
    assert changes_of(image(), image(**changes)) == expected


def test_unset_and_empty_are_the_same() -> None:
    a = image(Config={"User": "", "Env": [], "Labels": {}, "Volumes": {}, "Cmd": []})
    b = image(Config={"User": None, "Env": None, "Labels": None, "Volumes": None, "Cmd": None})
    assert compare(a, b).same


def test_layers_are_shared_or_unique_by_diff_id_with_sizes() -> None:
    other = image(
        RootFS={"Type": "layers", "Layers": ["sha256:" + "1" * 64, "sha256:" + "3" * 64]},
        history=[
            {"Created": 3, "CreatedBy": "COPY other /", "Size": 70},
            {"Created": 1, "CreatedBy": "COPY base /", "Size": 400},
        ],
    )
    difference = compare(image(), other)
    assert not difference.same
    assert [(layer.diff_id[-1], layer.size) for layer in difference.shared] == [("1", 400)]
    assert [(layer.diff_id[-1], layer.size) for layer in difference.only_a] == [("2", 600)]
    assert [(layer.diff_id[-1], layer.size) for layer in difference.only_b] == [("3", 70)]
    assert total(difference.only_b) == 70


def test_layer_sizes_are_unknown_when_the_history_does_not_match() -> None:
    difference = compare(image(), image(history=[{"CreatedBy": "one step", "Size": 5}]))
    assert difference.same  # sizes are not what makes two images differ
    assert [layer.size for layer in difference.shared] == [400, 600]  # A's are known
    lonely = compare(image(history=[]), image(history=[]))
    assert [layer.size for layer in lonely.shared] == [None, None]
    assert total(lonely.shared) is None


def test_answers_of_the_wrong_shape_are_compared_without_failing() -> None:
    odd = Image("odd", b'{"Id": 5, "Config": {"Env": "PATH=/x", "Labels": [1], "User": 7}}')
    broken = Image("broken", b"not json")
    for a, b in ((odd, broken), (broken, odd), (broken, broken)):
        difference = compare(a, b)
        diff_document(difference)
        render_diff(difference, width=80, color=False)


# -- --json -----------------------------------------------------------------------------------


def test_the_json_document_has_the_documented_shape() -> None:
    other = image("b", Size=900, Config={"Env": ["PATH=/bin"], "ExposedPorts": {"80/tcp": {}}})
    document = json.loads(diff_document(compare(image("a"), other)))
    assert list(document) == ["same", "a", "b", "changes", "layers"]
    assert document["same"] is False
    assert document["a"] == {
        "image": "a",
        "id": BASE["Id"],
        "tags": ["app:1"],
        "platform": "linux/amd64",
        "size": 1000,
        "created": "2024-01-01T00:00:00Z",
    }
    assert document["changes"] == [
        {"field": "size", "change": "changed", "key": None, "a": 1000, "b": 900, "delta": -100},
        {"field": "env", "change": "removed", "key": "MODE", "a": "prod", "b": None},
        {"field": "ports", "change": "removed", "key": "443/tcp", "a": None, "b": None},
    ]
    assert document["layers"] == {
        "shared": [
            {"diff_id": "sha256:" + "1" * 64, "size": 400},
            {"diff_id": "sha256:" + "2" * 64, "size": 600},
        ],
        "only_a": [],
        "only_b": [],
        "shared_size": 1000,
        "only_a_size": 0,
        "only_b_size": 0,
    }


HOSTILE = {"evil.esc": "\x1b]0;pwned\x07", "evil.markup": "[link=http://evil]x[/link]"}
HOSTILE |= {"evil.bidi": "a\u202eb\u2028c", "evil.surrogate": "\ud800"}


def test_json_escapes_what_could_act_on_a_terminal_and_stays_valid() -> None:
    hostile = image("b", Config={"Labels": HOSTILE, "User": "\x1b[31mred"})
    output = diff_document(compare(image("a"), hostile))
    text = output.decode()
    assert not UNSAFE.search(text)
    assert "\\u202e" in text and "\\u2028" in text and "\\u001b" in text
    document = json.loads(output)
    user = next(c for c in document["changes"] if c["field"] == "user")
    assert user["b"] == "\x1b[31mred"


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x1b", "\n", "\x7f", "\x9b", "\u00ad", "\u202e", "\ufeff", "\ud800", "\U000e0041"],
)
def test_json_writes_the_characters_the_view_escapes_as_json_escapes(char: str) -> None:
    hostile = image("b", Config={"Labels": {f"k{char}": f"v{char}"}})
    text = diff_document(compare(image("a"), hostile)).decode()
    assert terminal.UNSAFE.search(text.replace("\n", "")) is None
    document = json.loads(text)
    added = next(change for change in document["changes"] if change["field"] == "labels")
    expected = "\ufffd" if char == "\ud800" else char  # UTF-8 cannot carry a lone surrogate
    assert (added["key"], added["b"]) == (f"k{expected}", f"v{expected}")


# -- the view ---------------------------------------------------------------------------------


@pytest.mark.parametrize("color", [False, True])
def test_the_view_escapes_image_strings_and_never_reads_them_as_markup(color: bool) -> None:
    hostile = image("b\x1b[2J", Config={"Labels": HOSTILE, "Env": ["X=\x1b[31mred"]})
    text = render_diff(compare(image("a"), hostile), width=80, color=color)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert not UNSAFE.search(plain)
    assert "\\x1b]0;pwned\\x07" in plain
    assert "[link=http://evil]x[/link]" in plain
    assert "a\\u202eb\\u2028c" in plain
    assert "b\\x1b[2J" in plain.splitlines()[0]
    assert all(line == line.rstrip() for line in plain.splitlines())


def test_the_view_marks_each_change_and_sums_the_layers() -> None:
    other = image(
        "b",
        Size=1500,
        Config={"User": None, "Env": ["PATH=/usr/bin", "MODE=prod", "NEW=1"]},
        RootFS={"Type": "layers", "Layers": ["sha256:" + "1" * 64, "sha256:" + "3" * 64]},
        history=[
            {"CreatedBy": "COPY x /", "Size": 1100},
            {"CreatedBy": "COPY base /", "Size": 400},
        ],
    )
    text = render_diff(compare(image("a"), other), width=100, color=False)
    lines = text.splitlines()
    assert lines[0].startswith("a → b ───")
    assert "  Size            ~ 1 kB → 1.5 kB (+500 B)" in lines
    assert "  User            - app" in lines
    assert "  + NEW   1" in lines
    assert "  ~ PATH  /bin → /usr/bin" in lines
    assert "  shared  111111111111   400 B" in lines
    assert "  only A  222222222222   600 B" in lines
    assert "  only B  333333333333  1.1 kB" in lines
    assert lines[-1] == "  1 shared (400 B); 1 only in A (600 B); 1 only in B (1.1 kB)"


def test_the_view_of_the_same_image_says_so() -> None:
    text = render_diff(compare(image("a"), image("b")), width=80, color=False)
    assert "No differences: the same image." in text
    assert "only in A" not in text.split("Layers")[0]


# -- each value as the view shows it ----------------------------------------------------------

# Each compared field: where the inspect object holds it, and the row (or section) of the view
# and of --diff that shows it; the view's Command is the Entrypoint and the Cmd together.
SHOWN_IN: dict[str, tuple[tuple[str, ...], str, str]] = {
    "id": (("Id",), "ID", "ID"),
    "platform": (("Os",), "Platform", "Platform"),
    "size": (("Size",), "Size", "Size"),
    "created": (("Created",), "Created", "Created"),
    "user": (("Config", "User"), "User", "User"),
    "workdir": (("Config", "WorkingDir"), "Working dir", "Working dir"),
    "entrypoint": (("Config", "Entrypoint"), "Command", "Entrypoint"),
    "cmd": (("Config", "Cmd"), "Command", "Cmd"),
    "healthcheck": (("Config", "Healthcheck"), "Healthcheck", "Healthcheck"),
    "env": (("Config", "Env"), "Environment", "Environment"),
    "labels": (("Config", "Labels"), "Labels", "Labels"),
    "ports": (("Config", "ExposedPorts"), "Ports", "Ports"),
    "volumes": (("Config", "Volumes"), "Volumes", "Volumes"),
}
# What the view says for a setting that is not there.
VIEW_UNSET = {"root (no user set)", "none set"}
ODD_VALUES = [
    pytest.param(None, id="null"),
    pytest.param(5, id="number"),
    pytest.param(-5, id="negative"),
    pytest.param(1.5, id="fraction"),
    pytest.param(15.0, id="whole-float"),
    pytest.param(10**30, id="huge-int"),
    pytest.param(True, id="bool"),
    pytest.param("A=1", id="string"),
    pytest.param("", id="empty-string"),
    pytest.param({"b": 1, "a": "é"}, id="object"),
    pytest.param({"k": None, "n": 5, "l": [1, "é"], "o": {"b": 1}}, id="object-of-odd-values"),
    pytest.param({"Test": [1, "é"], "Interval": 1.5, "Retries": "3"}, id="odd-healthcheck"),
    pytest.param({}, id="empty-object"),
    pytest.param(["x", "é y"], id="list"),
    pytest.param([], id="empty-list"),
    pytest.param([["a", "b"]], id="nested-list"),
    pytest.param([1, None, True, {"k": "é"}, "A=b"], id="non-string-items"),
]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _shown(output: str, title: str, *, marked: bool) -> list[str] | None:
    """The lines of the row titled so (a label, then its value) or of the section titled so,
    without their indent and label and, for --diff, without the mark (`+`) of each entry."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line == title:  # a section
            body = [entry[2:] for entry in lines[index + 1 :] if entry.startswith("  ")]
            body = body[: next((n for n, e in enumerate(body) if not e), len(body))]
            return [re.sub(r"^\+ ", "", entry) if marked else entry for entry in body]
        if line.startswith(f"  {title}  "):  # a row: its value starts at column 18
            rows = [line[18:]]
            rows += [more[18:] for more in _continued(lines[index + 1 :])]
            if marked:
                rows[0] = rows[0].removeprefix("+ ")
            return None if rows[0] in VIEW_UNSET else rows
    return None


def _continued(lines: list[str]) -> list[str]:
    continued = []
    for line in lines:
        if not line.startswith(" " * 18):
            break
        continued.append(line)
    return continued


def _entries(field: str, lines: list[str] | None) -> object:
    """What a row or section says, whatever order and layout each output gives it."""
    if lines is None:
        return None
    if field in ("env", "labels"):
        return sorted(tuple(re.split(" {2,}", line, maxsplit=1)) for line in lines)
    if field in ("ports", "volumes"):
        return sorted(word for line in lines for word in re.split(" {2,}", line))
    return lines


def test_every_compared_field_is_in_the_table() -> None:
    assert set(SHOWN_IN) == set(FIELDS)


@pytest.mark.parametrize("value", ODD_VALUES)
@pytest.mark.parametrize("field", SHOWN_IN)
def test_the_diff_shows_a_value_of_any_type_as_the_view_does(field: str, value: object) -> None:
    path, view_title, diff_title = SHOWN_IN[field]
    document: dict[str, Any] = {"Config": {}}
    (document["Config"] if len(path) > 1 else document)[path[-1]] = value
    inspect = json.dumps(document).encode()
    view = render_view([Image("b", inspect, history=b"[]")], width=200, color=False, now=NOW)
    difference = compare(Image("a", b'{"Config": {}}'), Image("b", inspect))
    diff = render_diff(difference, width=200, color=False)

    in_view = _entries(field, _shown(view, view_title, marked=False))
    in_diff = _entries(field, _shown(diff, diff_title, marked=True))
    assert in_view == in_diff
    assert (in_diff is None) == difference.same  # a change exactly when the view shows one


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def archives(tmp_path: Path) -> dict[str, str]:
    one = make_image([{"a": b"base"}, {"b": b"app"}])
    two = make_image(
        [{"a": b"base"}, {"c": b"other app"}],
        config={"Env": ["PATH=/usr/bin:/bin"], "User": "root"},
    )
    return {
        "one": str(write(tmp_path / "one.tar", tar_of(docker_archive([one])))),
        "one-gz": str(write(tmp_path / "one.tgz", tar_of(docker_archive([one]), compress="gzip"))),
        "two": str(write(tmp_path / "two.tar", tar_of(docker_archive([two])))),
        "both": str(write(tmp_path / "both.tar", tar_of(docker_archive([one, two])))),
    }


def test_diff_of_the_same_image_exits_0(archives: dict[str, str]) -> None:
    result = run_bare("--diff", archives["one"], archives["one-gz"])
    assert result.code == ExitCode.OK, result.stderr
    assert "No differences: the same image." in result.stdout.decode()


def test_diff_of_different_images_exits_1_and_json_says_why(archives: dict[str, str]) -> None:
    result = run_bare("--diff", "--json", archives["one"], archives["two"])
    assert result.code == ExitCode.DIFFERENT, result.stderr
    document = result.json
    fields = [(c["field"], c["change"], c["key"]) for c in document["changes"]]
    assert ("env", "removed", "MODE") in fields
    assert ("user", "changed", None) in fields
    assert ("ports", "removed", "8080/tcp") in fields
    assert len(document["layers"]["shared"]) == 1
    assert len(document["layers"]["only_a"]) == len(document["layers"]["only_b"]) == 1


def test_quiet_diff_only_sets_the_status(archives: dict[str, str]) -> None:
    same = run_bare("-q", "--diff", archives["one"], archives["one"])
    different = run_bare("-q", "--diff", archives["one"], archives["two"])
    assert (same.code, same.stdout, same.stderr) == (0, b"", "")
    assert (different.code, different.stdout, different.stderr) == (1, b"", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--diff", "a"], "--diff compares two images"),
        (["--diff", "a", "b", "c"], "--diff compares two images"),
        (["--diff", "-f", "{{.Id}}", "a", "b"], "not --format"),
    ],
)
def test_diff_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run_bare(*args)
    assert result.code == ExitCode.USAGE
    assert message in result.stderr


@pytest.mark.parametrize(
    ("second", "code"),
    [
        ("docker-archive:{both}:nope:1", ExitCode.USAGE),  # not found: 2 here, as diff(1) says
        ("{both}", ExitCode.USAGE),  # holds two images: choose one
        ("daemon-image:1", ExitCode.SOURCE),  # no daemon here: 3
    ],
)
def test_diff_trouble_is_2_or_more_and_prints_no_diff(
    archives: dict[str, str], second: str, code: int
) -> None:
    result = run_bare("--diff", archives["one"], second.format(**archives))
    assert result.code == code, result.stderr
    assert result.stdout == b""
    assert result.stderr.startswith("Error: ")


def test_diff_with_an_image_the_daemon_does_not_have_exits_2(archives: dict[str, str]) -> None:
    routes = {
        "/_ping": ping(),
        "/v1.50/images/gone:1/json": json_response({"message": "No such image: gone:1"}, 404),
    }
    with FakeDaemon(routes) as fake:
        result = run_bare(
            "--diff", "gone:1", archives["one"], env={"DOCKER_HOST": fake.docker_host}
        )
    assert result.code == ExitCode.USAGE
    assert result.stderr == "Error: No such image: gone:1\n"


def test_diff_of_a_daemon_image_and_an_archive(archives: dict[str, str]) -> None:
    document = json.loads(run_bare("--json", archives["one"]).stdout)[0]
    history = json.loads(
        json.dumps(
            [
                {"Id": document["Id"], "Created": 0, "CreatedBy": "COPY layer1 /", "Size": 3},
                {"Id": "<missing>", "Created": 0, "CreatedBy": "COPY layer0 /", "Size": 4},
            ]
        )
    )
    routes = {
        "/_ping": ping(),
        "/v1.50/images/app:1/json": json_response(document | {"GraphDriver": {"Name": "vfs"}}),
        "/v1.50/images/app:1/history": json_response(history),
    }
    with FakeDaemon(routes) as fake:
        result = run_bare("--diff", "app:1", archives["one"], env={"DOCKER_HOST": fake.docker_host})
    assert result.code == ExitCode.OK, result.stderr
    assert "2 shared (7 B); 0 only in A (0 B); 0 only in B (0 B)" in result.stdout.decode()


def test_a_layer_size_the_history_leaves_open_is_unknown_until_step_images_settle_it() -> None:
    # RUN (0 B) or COPY (5 kB) made layer 1, COPY or WORKDIR (0 B) layer 2: the history alone
    # cannot say; the RUN's step image, with no layer, says the COPY made layer 1.
    steps = [
        {"CreatedBy": "/bin/sh -c #(nop) WORKDIR /app", "Size": 0, "Id": "sha256:w"},
        {"CreatedBy": "/bin/sh -c #(nop) COPY file:a in / ", "Size": 5000, "Id": "sha256:c"},
        {"CreatedBy": "/bin/sh -c mkdir -p /x", "Size": 0, "Id": "sha256:r"},
    ]
    document = json.dumps({"Id": "sha256:x", "RootFS": {"Layers": ["sha256:1", "sha256:2"]}})
    other = Image("b", b'{"Id": "sha256:y", "RootFS": {"Layers": []}}')
    history = json.dumps(steps).encode()
    open_layers = compare(Image("a", document.encode(), history=history), other)
    assert [layer.size for layer in open_layers.only_a] == [None, None]
    counts = {"sha256:r": 0}
    settled = compare(Image("a", document.encode(), history=history, layer_counts=counts), other)
    assert [layer.size for layer in settled.only_a] == [5000, 0]
