"""TAB in real bash, zsh and fish completes options, --color's values and local image names."""

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.cli.command import imginspect
from tests.daemon_fixture import DockerDaemon, skip_or_fail
from tests.shells import (
    COMPLETIONS,
    bash_at_terminal,
    bash_complete,
    fish_complete,
    zsh_at_terminal,
)

BIN = Path(sys.executable).parent
NOWHERE = "unix:///nonexistent/imginspect-test.sock"
# Every long option of the command, as click declares them (help and version included).
LONG_OPTIONS = [
    option
    for param in imginspect.get_params(imginspect.make_context("imginspect", ["x"]))
    for option in (*param.opts, *param.secondary_opts)
    if option.startswith("--")
]
LAB_FULL = ["lab-full:2.4.1", "lab-full:latest", "lab-full:stable"]
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")


@pytest.fixture(scope="module")
def env(docker_daemon: DockerDaemon) -> dict[str, str]:
    """The test daemon's environment, with the project's imginspect first on PATH."""
    return {**docker_daemon.env(), "PATH": f"{BIN}:/usr/bin:/bin"}


@pytest.fixture(scope="module")
def unreachable() -> dict[str, str]:
    return {"DOCKER_HOST": NOWHERE, "PATH": f"{BIN}:/usr/bin:/bin", "HOME": "/nonexistent"}


# -- bash ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Readline replaces only the text after the last ':', so these finish lab-full:2.4.1.
        ("imginspect lab-full:2", ["2.4.1"]),
        ("imginspect lab-full:", ["2.4.1", "latest", "stable"]),
        ("imginspect -q lab-full:s", ["stable"]),
        ("imginspect lab-t", ["lab-tiny:1"]),
        ("imginspect --co", ["--contents", "--color", "--context"]),
        ("imginspect --color ", ["auto", "always", "never"]),
        ("imginspect --color=", ["auto", "always", "never"]),
        ("imginspect --color=al", ["always"]),
        ("imginspect --json lab-full:latest lab-h", ["lab-hostile:1"]),
    ],
)
def test_bash_completes_options_values_and_image_names_with_colons(
    env: dict[str, str], line: str, expected: list[str]
) -> None:
    assert bash_complete(line, env) == (expected, "")


def test_bash_completes_whole_names_when_colon_is_not_a_word_break(env: dict[str, str]) -> None:
    assert bash_complete("imginspect lab-full:2", env, breaks="=") == (["lab-full:2.4.1"], "")
    assert bash_complete("imginspect --color=al", env, breaks="=") == (["always"], "")


def test_bash_completes_a_registry_reference_after_its_last_colon(
    env: dict[str, str], docker_daemon: DockerDaemon
) -> None:
    pushed = docker_daemon.images.pushed_ref  # 127.0.0.1:<port>/lab/pushed:1
    assert bash_complete(f"imginspect {pushed[:-1]}", env) == (["1"], "")
    assert bash_complete(f"imginspect {pushed[:12]}", env).candidates == [pushed[10:]]


def test_bash_completes_ids_for_a_word_in_hex(
    env: dict[str, str], docker_daemon: DockerDaemon
) -> None:
    full = docker_daemon.images.full_id.removeprefix("sha256:")
    assert bash_complete(f"imginspect {full[:6]}", env) == ([full[:12]], "")
    assert bash_complete(f"imginspect {full[:16]}", env) == ([full], "")


def test_bash_asks_the_daemon_that_host_names(env: dict[str, str]) -> None:
    elsewhere = {**env, "DOCKER_HOST": NOWHERE}
    assert bash_complete("imginspect lab-t", elsewhere) == ([], "")
    host = env["DOCKER_HOST"]
    assert bash_complete(f"imginspect -H {host} lab-t", elsewhere) == (["lab-tiny:1"], "")


def test_bash_offers_no_image_and_prints_nothing_when_the_daemon_is_unreachable(
    unreachable: dict[str, str],
) -> None:
    assert bash_complete("imginspect lab", unreachable) == ([], "")
    assert bash_complete("imginspect --js", unreachable) == (["--json"], "")


def test_tab_in_bash_turns_lab_full_2_into_lab_full_2_4_1(env: dict[str, str]) -> None:
    script = COMPLETIONS / "imginspect.bash"
    typed = bash_at_terminal("imginspect lab-full:2", env, f"source {script}")
    assert typed.line == "imginspect lab-full:2.4.1 ", typed.screen


def test_tab_in_bash_completes_an_option_value_after_an_equals_sign(env: dict[str, str]) -> None:
    script = COMPLETIONS / "imginspect.bash"
    typed = bash_at_terminal("imginspect --color=al", env, f"source {script}")
    assert typed.line == "imginspect --color=always ", typed.screen


@pytest.fixture
def bash_completion_dir(tmp_path: Path) -> Iterator[Path]:
    """A user completions directory, where bash-completion's loader finds `imginspect`."""
    if not BASH_COMPLETION.is_file():
        skip_or_fail("bash-completion is not installed (Debian package bash-completion)")
    (tmp_path / "completions").mkdir()
    shutil.copyfile(COMPLETIONS / "imginspect.bash", tmp_path / "completions" / "imginspect")
    yield tmp_path


def test_bash_completion_loads_the_script_on_demand_and_it_still_completes(
    env: dict[str, str], bash_completion_dir: Path
) -> None:
    loader_env = {**env, "BASH_COMPLETION_USER_DIR": str(bash_completion_dir)}
    typed = bash_at_terminal("imginspect lab-full:2", loader_env, f"source {BASH_COMPLETION}")
    assert typed.line == "imginspect lab-full:2.4.1 ", typed.screen


# -- zsh ----------------------------------------------------------------------------------------

ZSH_SETUPS = {
    "fpath": f"fpath=({COMPLETIONS} $fpath)\nautoload -Uz compinit && compinit -u -D",
    "source": f"autoload -Uz compinit && compinit -u -D\nsource {COMPLETIONS / '_imginspect'}",
}


@pytest.mark.parametrize("setup", ZSH_SETUPS)
def test_tab_in_zsh_completes_an_image_name_with_a_colon(env: dict[str, str], setup: str) -> None:
    typed = zsh_at_terminal("imginspect lab-full:2", env, ZSH_SETUPS[setup])
    assert typed.line == "imginspect lab-full:2.4.1 ", typed.screen
    assert typed.candidates == ["lab-full:2.4.1"]


@pytest.mark.parametrize(
    ("line", "candidates", "after"),
    [
        ("imginspect lab-f", LAB_FULL, "imginspect lab-full:"),
        ("imginspect --", LONG_OPTIONS, "imginspect --"),
        ("imginspect --color ", ["auto", "always", "never"], None),
        ("imginspect --color=al", ["always"], "imginspect --color=always "),
        ("imginspect -H tcp://127.0.0.1:1 lab", [], "imginspect -H tcp://127.0.0.1:1 lab"),
    ],
)
def test_zsh_is_given_the_options_values_and_images_that_fit(
    env: dict[str, str], line: str, candidates: list[str], after: str | None
) -> None:
    typed = zsh_at_terminal(line, env, ZSH_SETUPS["fpath"])
    assert sorted(typed.candidates) == sorted(candidates), typed.screen
    if after is not None:
        assert typed.line == after, typed.screen


def test_zsh_offers_no_image_and_prints_nothing_when_the_daemon_is_unreachable(
    unreachable: dict[str, str],
) -> None:
    typed = zsh_at_terminal("imginspect lab", unreachable, ZSH_SETUPS["fpath"])
    assert (typed.line, typed.candidates) == ("imginspect lab", [])
    assert "Error" not in typed.screen
    assert "Traceback" not in typed.screen


# -- fish ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("imginspect lab-full:2", ["lab-full:2.4.1"]),
        ("imginspect lab-full", LAB_FULL),
        ("imginspect --col", ["--color"]),
        ("imginspect --color ", ["always", "auto", "never"]),
        ("imginspect --color=al", ["--color=always"]),
    ],
)
def test_fish_completes_options_values_and_image_names(
    env: dict[str, str], line: str, expected: list[str]
) -> None:
    assert fish_complete(line, env) == (expected, "")


def test_fish_describes_a_name_by_its_id_and_an_id_by_its_names(
    env: dict[str, str], docker_daemon: DockerDaemon
) -> None:
    images = docker_daemon.images
    tiny_id = images.tiny_id.removeprefix("sha256:")
    assert fish_complete("imginspect lab-t", env, described=True) == (
        [f"lab-tiny:1\t{tiny_id[:12]}"],
        "",
    )
    assert fish_complete(f"imginspect {tiny_id[:8]}", env, described=True) == (
        [f"{tiny_id[:12]}\t{images.pushed_ref} {images.tiny}"],
        "",
    )
    assert fish_complete("imginspect --js", env, described=True).candidates == [
        "--json\tPrint the daemon's JSON, exactly as docker does."
    ]


def test_fish_offers_no_image_and_prints_nothing_when_the_daemon_is_unreachable(
    unreachable: dict[str, str],
) -> None:
    assert fish_complete("imginspect lab", unreachable) == ([], "")
