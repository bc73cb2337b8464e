"""The command line itself: entry points, help, version, and usage errors before any I/O."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import __version__
from inspector.cli import main as cli
from inspector.errors import ExitCode
from inspector.sources import fetch

# A daemon address where nothing listens: a usage error must win before it is ever tried.
NOWHERE = {"DOCKER_HOST": "unix:///nonexistent/imginspect-test.sock", "PATH": "/usr/bin:/bin"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=NOWHERE if env is None else env,
    )


def help_text() -> str:
    result = run("--help")
    assert result.returncode == 0
    return result.stdout


def test_console_script_and_module_are_the_same_command() -> None:
    script = Path(sys.executable).parent / "imginspect"
    by_script = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    assert by_script.stdout == run("--version").stdout == f"imginspect, version {__version__}\n"


def test_short_and_long_help_options_print_the_same_help() -> None:
    assert run("-h").stdout == help_text()


def test_help_shows_examples_and_every_exit_status() -> None:
    text = help_text()
    assert "Examples:" in text
    for code in ExitCode:
        assert re.search(rf"^\s+{code.value}\s+\S", text, re.MULTILINE), code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Missing argument 'IMAGE...'"),
        (["--nope", "x"], "No such option"),
        (["--timeout", "0", "x"], "--timeout"),
        (["--timeout", "soon", "x"], "--timeout"),
        (["--timeout", "-1", "x"], "--timeout"),
        (["--timeout", "nan", "x"], "'nan' is not more than 0 and at most 3600 seconds"),
        (["--timeout", "inf", "x"], "'inf' is not more than 0 and at most 3600 seconds"),
        (["--timeout", "-inf", "x"], "--timeout"),
        (["--timeout", "1e400", "x"], "--timeout"),  # inf, spelled otherwise
        (["--timeout", "3600.5", "x"], "at most 3600 seconds"),
        (["--json", "-f", "json", "x"], "either --json or --format"),
        (["ok", "../etc"], "'../etc'"),
        (["a" * 300], "255 characters"),  # longer than a file name may be: not a path either
        (["." + "a" * 300], "invalid reference format"),
        (["-H", "ssh://me:secret@host", "x"], "plain-text password is not supported"),
    ],
)
def test_usage_errors_exit_2_before_the_daemon_is_asked(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1  # one line, ending in a newline
    assert message in result.stderr


def test_bad_docker_host_in_the_environment_is_a_usage_error() -> None:
    result = run("x", env={**NOWHERE, "DOCKER_HOST": "gopher://x"})
    assert result.returncode == ExitCode.USAGE
    assert "DOCKER_HOST" in result.stderr


def test_bad_docker_api_version_is_a_usage_error() -> None:
    result = run("x", env={**NOWHERE, "DOCKER_API_VERSION": "latest"})
    assert result.returncode == ExitCode.USAGE
    assert "DOCKER_API_VERSION" in result.stderr


def test_an_unexpected_exception_is_one_line_and_exit_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(fetch, "fetch_images", broken)
    monkeypatch.setenv("DOCKER_HOST", NOWHERE["DOCKER_HOST"])
    monkeypatch.delenv("IMGINSPECT_DEBUG", raising=False)
    assert cli.run(["x"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert err == "Error: internal error: ZeroDivisionError: a bug; please report it\n"

    monkeypatch.setenv("IMGINSPECT_DEBUG", "1")
    assert cli.run(["x"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.endswith("Error: internal error: ZeroDivisionError: a bug; please report it\n")


def test_a_template_syntax_error_exits_2_with_the_spot_marked_before_the_daemon_is_asked() -> None:
    result = run("-f", "{{.Id}} {{.Config.User", "x")
    assert result.returncode == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr == (
        "Error: template: :1:22: unclosed action\n{{.Id}} {{.Config.User\n                      ^\n"
    )


def test_ctrl_c_while_the_command_is_still_loading_exits_130(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Loading click and the rest takes a moment: a Ctrl-C then is exit 130, no traceback."""
    from inspector import __main__ as entry

    class Interrupted:
        def find_spec(self, name: str, path: object = None, target: object = None) -> None:
            if name == "inspector.cli.main":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "inspector.cli.main")
    monkeypatch.setattr(sys, "meta_path", [Interrupted(), *sys.meta_path])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == ExitCode.INTERRUPTED


def test_the_installed_command_enters_where_python_m_does() -> None:
    script = (Path(sys.executable).parent / "imginspect").read_text()
    assert "from inspector.__main__ import main" in script


def test_an_empty_format_is_the_default_output_as_in_docker(tmp_path: Path) -> None:
    """docker reads `-f ''` as no template at all; so does imginspect: the view."""
    example = Path(__file__).resolve().parent.parent / "examples" / "hello.tar"
    with_empty = run("-f", "", str(example))
    without = run(str(example))
    assert with_empty.returncode == 0, with_empty.stderr
    assert with_empty.stdout == without.stdout
    assert "Image" in with_empty.stdout
