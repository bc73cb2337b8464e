"""Text from a daemon or an image never acts on a terminal: one set of characters is shown
escaped on stderr, in the view, and in `--format` output when stdout is a terminal."""

import json
import re

import pytest

from inspector.image import Image
from inspector.terminal import UNSAFE, escape_char, escape_unsafe
from tests.daemon_fixture import HOSTILE_ENV_VALUE, HOSTILE_LABELS, DockerDaemon
from tests.fake_daemon import FakeDaemon, inspect_path, json_response, ping
from tests.helpers import (
    SGR,
    Run,
    real,
    run_cli,
    run_in_env,
    run_on_terminal,
    the_error_line,
    view,
    view_env,
)

# One of each kind of character that can move the cursor, recolour, reorder or hide text.
HOSTILE_CHARACTERS = [
    pytest.param("\x1b", "\\x1b", id="ESC"),
    pytest.param("\x07", "\\x07", id="BEL"),
    pytest.param("\r", "\\r", id="CR"),
    pytest.param("\n", "\\n", id="LF"),
    pytest.param("\t", "\\t", id="TAB"),
    pytest.param("\x7f", "\\x7f", id="DEL"),
    pytest.param("\x9b", "\\x9b", id="CSI"),
    pytest.param("\u00ad", "\\xad", id="soft-hyphen"),
    pytest.param("\u061c", "\\u061c", id="arabic-letter-mark"),
    pytest.param("\u200b", "\\u200b", id="zero-width-space"),
    pytest.param("\u200d", "\\u200d", id="zero-width-joiner"),
    pytest.param("\u200e", "\\u200e", id="LRM"),
    pytest.param("\u2028", "\\u2028", id="line-separator"),
    pytest.param("\u2029", "\\u2029", id="paragraph-separator"),
    pytest.param("\u202e", "\\u202e", id="RLO"),
    pytest.param("\u2060", "\\u2060", id="word-joiner"),
    pytest.param("\u2065", "\\u2065", id="invisible-2065"),
    pytest.param("\u2067", "\\u2067", id="RLI"),
    pytest.param("\ufeff", "\\ufeff", id="BOM"),
    pytest.param("\ud800", "\\ud800", id="lone-surrogate"),
    pytest.param("\U000e0041", "\\U000e0041", id="tag-A"),
]


@pytest.mark.parametrize(("char", "shown"), HOSTILE_CHARACTERS)
def test_one_escape_for_each_character_that_could_act_on_a_terminal(char: str, shown: str) -> None:
    assert UNSAFE.fullmatch(char)
    assert escape_char(char) == shown
    assert escape_unsafe(f"a{char}b") == f"a{shown}b"


@pytest.mark.parametrize("text", ["plain", "héllo ☃ 漢字", "[link=x]y[/link]", "a\u00a0b", ""])
def test_printable_text_is_left_alone(text: str) -> None:
    assert escape_unsafe(text) == text


def test_kept_characters_are_left_alone_and_the_others_escaped() -> None:
    assert escape_unsafe("a\tb\nc\x1b[31m\u202e", keep="\n\t") == "a\tb\nc\\x1b[31m\\u202e"


@pytest.mark.parametrize(("char", "shown"), HOSTILE_CHARACTERS)
def test_the_view_and_the_error_lines_escape_the_same_characters_the_same_way(
    char: str, shown: str
) -> None:
    inspect, history = real("lab-tiny")
    document = json.loads(inspect)
    document["Comment"] = f"<{char}>"
    text = SGR.sub("", view(Image("x", json.dumps(document).encode(), history=history), width=200))
    assert f"<{shown}>" in text

    message = f"no such image <{char}>"
    with FakeDaemon(
        {"/_ping": ping(), inspect_path("a"): json_response({"message": message}, 500)}
    ) as fake:
        run = run_cli("--json", "a", host=fake.docker_host)
    assert run.code == 3
    assert the_error_line(run) == f"Error: no such image <{shown}>"


# -- end to end, on a terminal and piped, with the hostile fixture image --------------------

# Every label as key=value on a line, then every env entry followed by a tab.
HOSTILE_TEMPLATE = (
    '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{"\\n"}}{{end}}'
    '{{range .Config.Env}}{{.}}{{"\\t"}}{{end}}'
)
FORMS = {
    "view": [],
    "json": ["--json"],
    "format-json": ["-f", "json"],
    "format": ["-f", HOSTILE_TEMPLATE],
}
# What an image's strings must never put on a terminal raw (colour, the view's own, aside).
RAW = ("\x1b]", "\x1b[31m", "\x07", "\u2028", "\u202e")


def _both_ways(docker_daemon: DockerDaemon, form: str) -> tuple[Run, Run]:
    env = view_env({"COLUMNS": "200", "TERM": "xterm"}, host=docker_daemon.host)
    args = [*FORMS[form], docker_daemon.images.hostile]
    on_terminal, piped = run_on_terminal(*args, env=env), run_in_env(*args, env=env)
    assert (on_terminal.code, on_terminal.stderr) == (0, "")
    assert (piped.code, piped.stderr) == (0, "")
    return on_terminal, piped


def test_format_prints_values_raw_for_scripts_and_escaped_on_a_terminal(
    docker_daemon: DockerDaemon,
) -> None:
    on_terminal, piped = _both_ways(docker_daemon, "format")
    raw, shown = piped.stdout.decode(), on_terminal.stdout.decode()

    for label, value in HOSTILE_LABELS.items():
        assert f"{label}={value}\n" in raw  # as docker prints it
    assert f"HOSTILE={HOSTILE_ENV_VALUE}\t" in raw
    assert shown == escape_unsafe(raw, keep="\n\t")
    for sequence in RAW:
        assert sequence not in shown
    assert "evil.esc=\\x1b]0;pwned\\x07\n" in shown
    assert "evil.unicode=héllo ☃ 漢字 \\u2028 \\u202e\n" in shown
    assert "evil.markup=[link=http://evil]x[/link]\n" in shown
    assert "HOSTILE=\\x1b[31mred\t" in shown


@pytest.mark.parametrize("form", ["json", "format-json"])
def test_json_keeps_the_daemons_escaping_on_a_terminal_too(
    docker_daemon: DockerDaemon, form: str
) -> None:
    on_terminal, piped = _both_ways(docker_daemon, form)

    assert on_terminal.stdout == piped.stdout
    assert b"\\u001b]0;pwned\\u0007" in piped.stdout
    assert b"\\u001b[31mred" in piped.stdout
    assert b"\x1b" not in piped.stdout


def test_the_view_on_a_terminal_shows_the_hostile_strings_escaped(
    docker_daemon: DockerDaemon,
) -> None:
    on_terminal, _ = _both_ways(docker_daemon, "view")
    coloured = on_terminal.stdout.decode()
    text = SGR.sub("", coloured)

    assert SGR.search(coloured)  # a terminal: colour, the view's only escape sequences
    assert UNSAFE.search(text.replace("\n", "")) is None
    flat = re.sub(r"\s+", "", text)
    for shown in ("\\x1b]0;pwned\\x07", "[link=http://evil]x[/link]", "\\u2028\\u202e"):
        assert shown in flat


# -- every field a daemon may fill, on a terminal, from a fake daemon -----------------------

OSC8_LINK = "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
HOSTILE_STRINGS = [OSC8_LINK, "\x1b[2J\x1b[H", "\u202eevil\u202c", "[bold red]markup[/]", "a\rb"]
HOSTILE_DOCUMENT = {
    "Id": "sha256:" + "e" * 64,
    "RepoTags": [f"tag{index}:{text}" for index, text in enumerate(HOSTILE_STRINGS)],
    "Comment": OSC8_LINK,
    "Config": {
        "Cmd": HOSTILE_STRINGS,
        "Entrypoint": ["/bin/sh", "-c", OSC8_LINK],
        "Env": [f"E{index}={text}" for index, text in enumerate(HOSTILE_STRINGS)],
        "Labels": {f"l{index}": text for index, text in enumerate(HOSTILE_STRINGS)},
        "WorkingDir": "\x1b]0;title\x07",
    },
}
HOSTILE_TEMPLATES = [
    "{{.}}",
    "{{.RepoTags}} {{.Comment}}",
    "{{range .Config.Cmd}}{{.}}{{end}} {{.Config.Entrypoint}}",
    "{{.Config.Env}} {{.Config.Labels}} {{.Config.WorkingDir}}",
]


@pytest.mark.parametrize(
    "args",
    [[], ["--color", "never"], *(["-f", template] for template in HOSTILE_TEMPLATES)],
    ids=["view", "view-plain", *(f"format-{index}" for index in range(len(HOSTILE_TEMPLATES)))],
)
def test_no_field_of_an_answer_can_act_on_the_terminal(args: list[str]) -> None:
    message = f"No such image: {OSC8_LINK}"
    routes = {
        "/_ping": ping(),
        inspect_path("a"): json_response(HOSTILE_DOCUMENT),
        "/v1.50/images/a/history": json_response([]),
        inspect_path("b"): json_response({"message": message}, 404),
    }
    with FakeDaemon(routes) as fake:
        env = view_env({"COLUMNS": "120", "TERM": "xterm"}, host=fake.docker_host)
        run = run_on_terminal(*args, "a", "b", env=env)

    shown = SGR.sub("", run.stdout.decode())
    assert run.code == 1
    assert UNSAFE.search(shown.replace("\n", "").replace("\t", "")) is None
    assert re.sub(r"\s+", "", escape_unsafe(OSC8_LINK)) in re.sub(r"\s+", "", shown)
    assert run.stderr == f"Error: No such image: {escape_unsafe(OSC8_LINK)}\n"
