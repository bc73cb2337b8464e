"""The wheel ships the man page and the completion scripts where man and the shells look."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from inspector import __version__
from tests.daemon_fixture import skip_or_fail
from tests.shells import bash_at_terminal, fish_complete, shell, zsh_at_terminal

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATA = f"imginspect-{__version__}.data/data"
SHIPPED = {
    "share/man/man1/imginspect.1": REPO / "man" / "imginspect.1",
    "share/bash-completion/completions/imginspect": REPO / "completions" / "imginspect.bash",
    "share/zsh/site-functions/_imginspect": REPO / "completions" / "_imginspect",
    "share/fish/vendor_completions.d/imginspect.fish": REPO / "completions" / "imginspect.fish",
}
NOWHERE = "unix:///nonexistent/imginspect-test.sock"


def pip(*args: str) -> None:
    """Offline: nothing is fetched; the build backend (hatchling) is in the test extras."""
    argv = [sys.executable, "-m", "pip", "--quiet", "--no-input", *args, "--no-index"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from the checkout as `pip wheel` builds it, without the network."""
    out = tmp_path_factory.mktemp("wheel")
    pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(REPO))
    (built,) = out.glob("imginspect-*.whl")
    return built


@pytest.fixture(scope="module")
def prefix(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed, as `pip install .` installs it.

    A venv of its own: installing the wheel into a prefix seen by this interpreter would
    first uninstall the project's own (editable) installation.
    """
    root = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root)], timeout=120, check=True
    )
    pip("--python", str(root / "bin" / "python"), "install", "--no-deps", str(wheel))
    return root


def test_the_wheel_holds_the_package_the_page_and_the_scripts(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for target, source in SHIPPED.items():
            assert archive.read(f"{DATA}/{target}") == source.read_bytes(), target
        entry_points = archive.read(f"imginspect-{__version__}.dist-info/entry_points.txt")
    assert b"imginspect = inspector.__main__:main" in entry_points
    for module in (
        "inspector/cli/command.py",
        "inspector/sources/daemon/completion.py",
        "inspector/environment.py",
    ):
        assert module in names
    # What builds the files stays in the checkout.
    assert not [name for name in names if name.startswith(("tests/", "scripts/", "bench/"))]
    assert {name for name in names if name.startswith(f"{DATA}/")} == {
        f"{DATA}/{target}" for target in SHIPPED
    }


def test_man_finds_the_page_with_the_prefix_bin_on_path(prefix: Path) -> None:
    if shutil.which("man") is None:
        skip_or_fail("man is not installed (Debian package man-db)")
    # No MANPATH: man-db looks beside each bin directory of PATH, as after `pip install .`.
    env = {"PATH": f"{prefix / 'bin'}:/usr/bin:/bin", "MANPAGER": "cat", "MANWIDTH": "80"}
    env.update({"HOME": str(prefix), "LANG": "C.UTF-8"})
    where = subprocess.run(
        ["man", "-w", "imginspect"], env=env, capture_output=True, text=True, timeout=60
    )
    assert where.stdout.strip() == str(prefix / "share/man/man1/imginspect.1"), where.stderr
    page = subprocess.run(
        ["man", "imginspect"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert page.stdout.startswith("IMGINSPECT(1)")
    assert "EXIT STATUS" in page.stdout


def test_bash_completion_finds_the_installed_script(prefix: Path) -> None:
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "XDG_DATA_DIRS": f"{prefix / 'share'}:/usr/share",
        "DOCKER_HOST": NOWHERE,
    }
    loader = "/usr/share/bash-completion/bash_completion"
    if not Path(loader).is_file():
        skip_or_fail("bash-completion is not installed (Debian package bash-completion)")
    typed = bash_at_terminal("imginspect --jso", env, f"source {loader}")
    assert typed.line == "imginspect --json ", typed.screen


def test_zsh_finds_the_installed_script_in_site_functions(prefix: Path) -> None:
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "DOCKER_HOST": NOWHERE}
    setup = (
        f"fpath=({prefix / 'share/zsh/site-functions'} $fpath)\n"
        "autoload -Uz compinit && compinit -u -D"
    )
    typed = zsh_at_terminal("imginspect --jso", env, setup)
    assert typed.line == "imginspect --json ", typed.screen


def test_fish_finds_the_installed_script_in_vendor_completions(prefix: Path) -> None:
    shell("fish")
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "XDG_DATA_DIRS": f"{prefix / 'share'}:/usr/share",
        "DOCKER_HOST": NOWHERE,
        "HOME": str(prefix),
    }
    assert fish_complete("imginspect --jso", env, script=None) == (["--json"], "")
