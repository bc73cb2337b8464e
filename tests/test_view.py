"""The view, the default output: what it shows, that daemon strings cannot act on a terminal,
the terminal conventions, its faults, and that no answer from a daemon can break it.

The renderer is called directly with the clock and time zone pinned; the command runs in a
subprocess against a fake daemon (faults, terminals), the test dockerd and the podman service.
"""

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from inspector.image import Image
from inspector.layers import MAX_WORK
from inspector.render.parts import command_line, go_duration, human_duration, si_size
from inspector.render.view import output_width, render_view, want_color
from inspector.template.gotime import DURATION, duration_string
from inspector.template.values import Value
from tests.daemon_fixture import HOSTILE_ENV_VALUE, HOSTILE_LABELS, DockerDaemon
from tests.fake_daemon import (
    HANG,
    FakeDaemon,
    Response,
    history_path,
    inspect_path,
    json_response,
    ping,
)
from tests.helpers import (
    INPUTS,
    NOW,
    RUN_TIMEOUT,
    SGR,
    Run,
    real,
    run_in_env,
    run_on_terminal,
    the_error_line,
    view,
    view_env,
)
from tests.podman_fixture import PodmanService

# Nothing from the daemon may put these on the terminal (newlines are the view's own).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def header_width(stdout: bytes) -> int:
    """The width of the first line (the header rule), colour codes aside."""
    return cell_len(SGR.sub("", stdout.decode().splitlines()[0]))


# -- the pieces of the view ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (47, "47 B"),
        (999, "999 B"),
        (1000, "1 kB"),
        (1499, "1.5 kB"),
        (999_499, "999 kB"),
        (999_500, "1 MB"),  # docker's %.3g prints 1e+03kB here
        (999_999, "1 MB"),
        (1_982_303, "1.98 MB"),
        (123_456_789_012, "123 GB"),
        (2**63 - 1, "9.22 EB"),
    ],
)
def test_sizes_are_si_with_three_digits_and_never_e_notation(size: int, shown: str) -> None:
    assert si_size(size) == shown


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (1_982_303, "1.98 MB (1,982,303 bytes)"),
        (47, "47 B"),
        (-1, "-1"),
        ("big", "big"),
        (1.5, "1.5"),
        (10**40, str(10**40)),
    ],
)
def test_the_image_size_shows_the_exact_bytes_or_what_the_daemon_sent(
    size: object, shown: str
) -> None:
    text = view(Image("x", json.dumps({"Id": "x", "Size": size}).encode(), history=b"[]"))
    assert f"  Size            {shown}\n" in text


@pytest.mark.parametrize(
    ("nanoseconds", "shown"),
    [
        (30_000_000_000, "30s"),
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (5_430_000_000_000, "1h30m30s"),
        (1_500_000_000, "1.5s"),
        (500_000_000, "500ms"),
        (1_000, "1µs"),
        (999, "999ns"),
        (-30_000_000_000, "-30s"),
        (0, None),  # not set: the daemon's default applies
        ("soon", "soon"),
    ],
)
def test_durations_read_as_go_prints_them(nanoseconds: object, shown: str | None) -> None:
    assert go_duration(nanoseconds) == shown


@given(st.integers(-(2**63), 2**63 - 1).filter(bool))
def test_the_view_prints_a_duration_as_the_templates_do(nanoseconds: int) -> None:
    assert go_duration(nanoseconds) == duration_string(Value(DURATION, nanoseconds))


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "about a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "about an hour"),
        (5400, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (14 * 86400, "2 weeks"),
        (60 * 86400, "2 months"),
        (729 * 86400, "24 months"),
        (730 * 86400, "2 years"),
    ],
)
def test_ages_read_as_docker_says_them(seconds: int, shown: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == shown


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["/bin/busybox"], "/bin/busybox"),
        (["sh", "-c", "echo 'hello world'"], "sh -c \"echo 'hello world'\""),
        (["echo", "a b"], "echo 'a b'"),
        (["x", ""], "x ''"),
        (["echo", "it's $HOME"], "echo 'it'\"'\"'s $HOME'"),
        (["printf", "a\x1bb"], "printf 'a\\x1bb'"),
    ],
)
def test_commands_are_shown_as_the_shell_line_they_make(args: list[str], shown: str) -> None:
    assert command_line(args).plain == shown


def test_the_created_time_is_local_iso_with_its_age() -> None:
    document = json.dumps({"Id": "x", "Created": "2026-11-28T10:00:00.123456789Z"}).encode()
    tokyo = timezone(timedelta(hours=9))
    text = render_view(
        [Image("x", document, history=b"[]")], width=80, color=False, now=NOW, tz=tokyo
    )
    assert "  Created         2026-11-28T19:00:00+09:00 (3 days ago)\n" in text


def test_a_created_time_in_the_future_says_so() -> None:
    document = json.dumps({"Id": "x", "Created": "2026-12-01T12:05:00Z"}).encode()
    assert "(5 minutes from now)" in view(Image("x", document, history=b"[]"))


# -- layers ---------------------------------------------------------------------------------


def test_a_layer_the_history_leaves_open_shows_what_its_possible_steps_agree_on() -> None:
    inspect = json.dumps({"Id": "x", "RootFS": {"Layers": ["sha256:" + "a" * 64] * 2}}).encode()
    history = [
        {"CreatedBy": "RUN true", "Size": 0, "Created": 1_700_000_000},
        {"CreatedBy": "COPY a /", "Size": 5_000, "Created": 1_700_000_000},
        {"CreatedBy": "RUN mkdir /x", "Size": 0, "Created": 1_700_000_060},
    ]
    text = view(Image("x", inspect, history=json.dumps(history[::-1]).encode()))
    assert "Note: the history does not say which steps made layers 1 and 2;" in text
    # Layer 1: RUN true (0 B) or COPY (5 kB), made at the same minute; layer 2: COPY or RUN.
    assert re.search(r"^  1  aaaaaaaaaaaa     -  2023-11-14 22:13$", text, re.M)
    assert re.search(r"^  2  aaaaaaaaaaaa     -  -$", text, re.M)
    assert text.count("one of these steps:") == 2


def test_a_layer_with_many_possible_steps_lists_ten_and_counts_the_rest() -> None:
    inspect = json.dumps({"Id": "x", "RootFS": {"Layers": ["sha256:" + "a" * 64]}}).encode()
    history = json.dumps([{"CreatedBy": f"RUN step {n}", "Size": 0} for n in range(14)][::-1])
    text = view(Image("x", inspect, history=history.encode()))
    assert [f"     - RUN step {n}" for n in range(10)] == re.findall(r"^     - .*$", text, re.M)
    assert "\n       and 4 more steps\n" in text


def test_a_history_too_long_to_pair_shows_the_layer_ids_with_a_note() -> None:
    inspect, _ = real("lab-tiny")
    history = json.dumps([{"CreatedBy": "RUN x", "Size": 0}] * (MAX_WORK // 2 + 1)).encode()
    text = view(Image("lab-tiny:1", inspect, history=history))
    assert (
        f"Note: the history ({MAX_WORK // 2 + 1} steps) is too long to pair with the 1 layer"
        in text
    )


def test_a_history_that_does_not_match_shows_the_layer_ids_with_a_note() -> None:
    inspect, _ = real("lab-full")
    text = view(Image("lab-full:2.4.1", inspect, history=b'[{"CreatedBy": "COPY x y", "Size": 1}]'))
    assert "Note: the history (1 step) does not match the 3 layers" in text
    assert re.findall(r"^  ([123])  [0-9a-f]{12}$", text, re.MULTILINE) == ["1", "2", "3"]


def test_layer_commands_are_wrapped_never_cut() -> None:
    long_command = "/bin/sh -c " + " && ".join(f"step-{n:03d}-{'x' * n}" for n in range(40))
    history = json.dumps([{"CreatedBy": long_command, "Size": 10, "Created": 1}]).encode()
    inspect = json.dumps({"Id": "x", "RootFS": {"Layers": ["sha256:" + "a" * 64]}}).encode()
    for width in (60, 80, 200):
        text = view(Image("x", inspect, history=history), width=width)
        assert "…" not in text
        assert re.sub(r"\s+", "", long_command) in re.sub(r"\s+", "", text)


# -- safe on a terminal ---------------------------------------------------------------------


def shown_label(value: str, *, color: bool = False) -> str:
    """How the view shows one label value, on one line (colours taken off)."""
    inspect = json.dumps({"Id": "x", "Config": {"Labels": {"k": value}}}).encode()
    text = SGR.sub("", view(Image("x", inspect, history=b"[]"), width=1000, color=color))
    [line] = [line for line in text.splitlines() if line.startswith("  k  ")]
    return line.removeprefix("  k  ")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a\\tb", "a\\\\tb"),  # a backslash and a t: not a tab
        ("a\tb", "a\\tb"),
        ("a\\nb \\x1b \\u202e \\U0001f600", "a\\\\nb \\\\x1b \\\\u202e \\\\U0001f600"),
        ("a\nb \x1b \u202e", "a\\nb \\x1b \\u202e"),
        ("\\\\", "\\\\\\"),  # the first backslash could start `\\`, the last cannot
        ("\\\x07", "\\\\\\x07"),  # a backslash, then BEL
        ("C:\\Program Files\\app", "C:\\Program Files\\app"),  # nothing to misread
        ("sed 's/\\s\\+$//'", "sed 's/\\s\\+$//'"),
        ("end\\\\", "end\\\\\\"),
    ],
)
def test_escapes_cannot_be_mistaken_for_the_daemons_backslashes(value: str, shown: str) -> None:
    assert shown_label(value) == shown_label(value, color=True) == shown


_ESCAPE = re.compile(r"\\(\\|n|r|t|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")
_UNESCAPED = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def unescape(shown: str) -> str:
    """What the view's escapes stand for; a backslash that starts none is itself."""
    return _ESCAPE.sub(
        lambda m: _UNESCAPED.get(m[1]) or chr(int(m[1][1:], 16)),
        shown,
    )


@given(st.text(alphabet=st.sampled_from("ab \\ntxuU0123456789f\t\n\x1b\u202e\x85é")))
def test_what_the_view_shows_stands_for_exactly_one_value(value: str) -> None:
    assert unescape(shown_label(value + ".")) == value + "."


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("width", [60, 80, 200])
def test_hostile_strings_are_shown_escaped_and_never_as_markup(color: bool, width: int) -> None:
    inspect, history = real("lab-hostile")
    text = view(Image("lab-hostile:1", inspect, history=history), width=width, color=color)
    plain = SGR.sub("", text)
    assert "\x1b" not in plain
    assert UNSAFE.search(plain) is None
    for shown in ("\\x1b]0;pwned\\x07", "[link=http://evil]x[/link]", "\\x1b[31mred", "héllo"):
        assert shown in plain
    assert "\\u2028 \\u202e" in plain
    assert "\x1b]8;" not in text  # no hyperlink was made of the markup


def test_colour_changes_only_the_look() -> None:
    inspect, history = real("lab-full")
    image = Image("lab-full:2.4.1", inspect, history=history)
    for width in (60, 80, 200):
        colored = view(image, width=width, color=True)
        assert SGR.search(colored)
        assert SGR.sub("", colored) == view(image, width=width)


# Every field the view reads, and values that a daemon that is not to be trusted could send.
FIELDS = (
    ("Id",),
    ("RepoTags",),
    ("RepoDigests",),
    ("Parent",),
    ("Comment",),
    ("Created",),
    ("DockerVersion",),
    ("Author",),
    ("Architecture",),
    ("Variant",),
    ("Os",),
    ("OsVersion",),
    ("Size",),
    ("Config",),
    ("Config", "User"),
    ("Config", "Env"),
    ("Config", "Cmd"),
    ("Config", "Entrypoint"),
    ("Config", "ExposedPorts"),
    ("Config", "Volumes"),
    ("Config", "WorkingDir"),
    ("Config", "Labels"),
    ("Config", "StopSignal"),
    ("Config", "Shell"),
    ("Config", "OnBuild"),
    ("Config", "Healthcheck"),
    ("Config", "Healthcheck", "Test"),
    ("Config", "Healthcheck", "Interval"),
    ("Config", "Healthcheck", "Retries"),
    ("GraphDriver",),
    ("GraphDriver", "Data"),
    ("RootFS",),
    ("RootFS", "Layers"),
)
ODD_VALUES: tuple[object, ...] = (
    None,
    True,
    0,
    -7,
    1.5,
    float("nan"),
    10**30,
    "",
    "\x1b]0;x\x07\u202e\ud800",
    [],
    [None, 1, {"a": "\x9b"}],
    {},
    {"k": [1, "\x1b"]},
)


def _set(document: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(document))
    target = changed
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target.get(key), dict) else {}
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("path", FIELDS, ids=".".join)
def test_no_value_of_any_field_breaks_the_view(path: tuple[str, ...]) -> None:
    inspect, history = real("lab-full")
    document = json.loads(inspect)
    for value in ODD_VALUES:
        changed = json.dumps(_set(document, path, value)).encode()
        text = view(Image("lab-full:2.4.1", changed, history=history), width=60)
        assert UNSAFE.search(text) is None, (path, value)
        text.encode()  # a lone surrogate would fail here
        assert text.startswith("lab-full:2.4.1 ─")


@pytest.mark.parametrize(
    "history",
    [
        b"[]",
        b"{}",
        b"null",
        b"not json",
        b'[1, null, "x", []]',
        json.dumps([{"Created": v, "CreatedBy": v, "Size": v} for v in ODD_VALUES]).encode(),
    ],
)
def test_no_history_answer_breaks_the_view(history: bytes) -> None:
    inspect, _ = real("lab-full")
    text = view(Image("lab-full:2.4.1", inspect, history=history))
    assert UNSAFE.search(text) is None
    assert "Layers\n" in text


@pytest.mark.parametrize("document", [b"{}", b"null", b"[]", b'"x"', b"{", b""])
def test_a_document_with_nothing_usable_still_gets_its_block(document: bytes) -> None:
    text = view(Image("app:1", document, history=b"[]"))
    assert text.startswith("app:1 ─")
    assert "  User            root (no user set)\n" in text


# -- terminal conventions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "environ", "terminal", "expected"),
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"NO_COLOR": ""}, True, True),  # only a non-empty NO_COLOR counts
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "0"}, False, True),  # force-color.org: any non-empty value
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
        ("auto", {"TERM": "dumb"}, True, False),
        ("auto", {"TERM": "dumb", "FORCE_COLOR": "1"}, False, True),
        ("always", {"NO_COLOR": "1"}, False, True),  # the flag beats the environment
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_follows_the_flag_then_the_environment_then_the_terminal(
    choice: str, environ: dict[str, str], terminal: bool, expected: bool
) -> None:
    assert want_color(choice, environ, terminal) is expected


@pytest.mark.parametrize(
    ("environ", "terminal_columns", "expected"),
    [
        ({}, None, 80),
        ({}, 120, 120),
        ({"COLUMNS": "60"}, 120, 60),
        ({"COLUMNS": "200"}, None, 200),
        ({"COLUMNS": "wide"}, 100, 100),
        ({"COLUMNS": "0"}, None, 80),
        ({"COLUMNS": "10"}, None, 40),  # narrower than anything can line up in
    ],
)
def test_the_width_is_columns_then_the_terminal_then_80(
    environ: dict[str, str], terminal_columns: int | None, expected: int
) -> None:
    assert output_width(environ, terminal_columns) == expected


@pytest.fixture
def fake_image() -> Iterator[FakeDaemon]:
    """A daemon that knows `a` (lab-full's captured answers) and nothing else."""
    inspect, history = real("lab-full")
    with FakeDaemon({"/_ping": ping("1.50"), **step_images("lab-full")}) as fake:
        fake.routes[inspect_path("a")] = Response(200, inspect)
        fake.routes[history_path("a")] = Response(200, history)
        yield fake


def step_images(case: str) -> dict[str, Response]:
    """The step images a captured case's history leaves open, with as many layers as the
    test dockerd gave them (`<case>.layers.json`)."""
    counts: dict[str, int] = json.loads((INPUTS / f"{case}.layers.json").read_text())
    return {
        inspect_path(image_id): json_response(
            {"Id": image_id, "RootFS": {"Layers": [f"sha256:{n:064x}" for n in range(count)]}}
        )
        for image_id, count in counts.items()
    }


TERMINAL_CASES = [
    pytest.param([], {"TERM": "xterm-256color"}, True, id="terminal"),
    pytest.param([], {"TERM": "xterm", "NO_COLOR": "1"}, False, id="NO_COLOR"),
    pytest.param([], {"TERM": "dumb"}, False, id="TERM=dumb"),
    pytest.param(["--color", "never"], {"TERM": "xterm"}, False, id="never"),
    pytest.param(["--color=always"], {"TERM": "xterm", "NO_COLOR": "1"}, True, id="always"),
]


@pytest.mark.parametrize(("args", "environ", "colored"), TERMINAL_CASES)
def test_on_a_terminal_the_view_is_coloured_unless_told_not_to(
    fake_image: FakeDaemon, args: list[str], environ: dict[str, str], colored: bool
) -> None:
    result = run_on_terminal(*args, "a", env=view_env(environ, host=fake_image.docker_host))
    assert (result.code, result.stderr) == (0, "")
    assert bool(SGR.search(result.stdout.decode())) is colored
    assert header_width(result.stdout) == 100


PIPE_CASES = [
    pytest.param([], {}, False, id="piped"),
    pytest.param([], {"FORCE_COLOR": "1"}, True, id="FORCE_COLOR"),
    pytest.param(["--color", "always"], {}, True, id="always"),
    pytest.param(["--color", "auto"], {"TERM": "xterm-256color"}, False, id="auto"),
]


@pytest.mark.parametrize(("args", "environ", "colored"), PIPE_CASES)
def test_piped_the_view_is_plain_text_unless_told_otherwise(
    fake_image: FakeDaemon, args: list[str], environ: dict[str, str], colored: bool
) -> None:
    result = run_in_env(*args, "a", env=view_env(environ, host=fake_image.docker_host))
    assert (result.code, result.stderr) == (0, "")
    assert (b"\x1b" in result.stdout) is colored
    assert header_width(result.stdout) == 80


@pytest.mark.parametrize(
    ("runner", "environ", "width"),
    [
        (run_on_terminal, {"TERM": "xterm"}, 100),
        (run_on_terminal, {"TERM": "xterm", "COLUMNS": "60"}, 60),
        (run_in_env, {}, 80),
        (run_in_env, {"COLUMNS": "200"}, 200),
    ],
    ids=["terminal", "terminal+COLUMNS", "piped", "piped+COLUMNS"],
)
def test_the_width_is_the_terminals_or_columns(
    fake_image: FakeDaemon, runner: Callable[..., Run], environ: dict[str, str], width: int
) -> None:
    result = runner("a", env=view_env(environ, host=fake_image.docker_host))
    assert header_width(result.stdout) == width
    lines = SGR.sub("", result.stdout.decode()).splitlines()
    assert max(cell_len(line) for line in lines) <= width


# -- what is asked, and faults --------------------------------------------------------------


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


# -- against the test daemons ---------------------------------------------------------------


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


# The fixture's hostile values (tests/daemon_fixture.py) as the view must show them.
HOSTILE_SHOWN = {
    "evil.esc": "\\x1b]0;pwned\\x07",
    "evil.markup": "[link=http://evil]x[/link]",
    "evil.unicode": "héllo ☃ 漢字 \\u2028 \\u202e",
    "evil.quote": '"q" \\ back',
    "evil.html": "<script>&amp;</script>",
}
HOSTILE_ENV_SHOWN = "\\x1b[31mred"


def test_the_hostile_fixture_has_the_values_the_view_test_expects() -> None:
    assert set(HOSTILE_SHOWN) == set(HOSTILE_LABELS)
    assert HOSTILE_ENV_VALUE == "\x1b[31mred"


@pytest.mark.parametrize("color", ["never", "always"])
@pytest.mark.parametrize("columns", ["60", "80", "200"])
def test_hostile_labels_and_env_cannot_act_on_the_terminal(
    docker_daemon: DockerDaemon, color: str, columns: str
) -> None:
    env = view_env({"COLUMNS": columns}, host=docker_daemon.host)
    result = run_in_env("--color", color, docker_daemon.images.hostile, env=env)
    assert (result.code, result.stderr) == (0, "")
    raw = result.stdout.decode()
    text = SGR.sub("", raw)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert UNSAFE.search(text) is None
    flat = re.sub(r"\s+", "", text)
    for shown in (*HOSTILE_SHOWN.values(), HOSTILE_ENV_SHOWN):
        assert re.sub(r"\s+", "", shown) in flat, shown
    assert (SGR.search(raw) is not None) is (color == "always")


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


MANIFESTS = [
    {
        "ID": "sha256:" + "a1" * 32,
        "Descriptor": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + "a1" * 32,
            "size": 1234,
            "platform": {"architecture": "amd64", "os": "linux"},
        },
        "Available": True,
        "Size": {"Total": 2_345_678, "Content": 1_234_567},
        "Kind": "image",
        "ImageData": {
            "Platform": {"architecture": "amd64", "os": "linux"},
            "Containers": [],
            "Size": {"Unpacked": 5_678_901},
        },
    },
    {
        "ID": "sha256:" + "b2" * 32,
        "Descriptor": {"digest": "sha256:" + "b2" * 32, "size": 99},
        "Available": False,
        "Size": {"Total": 0, "Content": 0},
        "Kind": "image",
        "ImageData": {"Platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    },
    {"ID": "sha256:" + "c3" * 32, "Available": True, "Kind": "attestation", "Size": "odd"},
    "not an object",
]


def test_manifests_list_each_platform_whether_it_is_here_and_its_sizes() -> None:
    inspect, history = real("lab-full")
    document = json.loads(inspect)
    document["Manifests"] = MANIFESTS
    text = view(Image("lab-full:2.4.1", json.dumps(document).encode(), history=history), width=120)
    section = text.split("\nManifests\n", 1)[1].split("\n\n", 1)[0]
    lines = section.splitlines()
    assert lines[0].split() == [
        "linux/amd64",
        "available",
        "here,",
        "1.23",
        "MB",
        "content,",
        "2.35",
        "MB",
        "total,",
        "5.68",
        "MB",
        "unpacked,",
        "a1a1a1a1a1a1",
    ]
    assert lines[1].split()[:4] == ["linux/arm64/v8", "not", "here,", "0"]
    assert lines[2].split()[:4] == ["attestation", "attestation,", "available", "here,"]
    assert lines[3].split()[0] == "?"


def test_no_manifests_no_section() -> None:
    inspect, history = real("lab-full")
    assert "\nManifests\n" not in view(Image("lab-full:2.4.1", inspect, history=history))
