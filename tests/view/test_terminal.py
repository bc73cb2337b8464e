"""The terminal conventions: colour from --color, then NO_COLOR, FORCE_COLOR and TERM, then
whether stdout is a terminal; the width from COLUMNS, then the terminal, then 80. Decided
directly, then shown at a pseudo-terminal and through a pipe."""

from collections.abc import Callable

import pytest
from rich.cells import cell_len

from inspector.render.view import output_width, want_color
from tests.fake_daemon import FakeDaemon
from tests.helpers import SGR, Run, run_in_env, run_on_terminal, view_env


def header_width(stdout: bytes) -> int:
    """The width of the first line (the header rule), colour codes aside."""
    return cell_len(SGR.sub("", stdout.decode().splitlines()[0]))


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
