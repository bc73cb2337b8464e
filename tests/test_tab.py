"""A TAB answered without click prints what click prints, for every shell, on the test daemon.

click's own path is the command run as `inspector.cli.main.main`, which the fast path never sees;
the fast path is inspector.cli.tab.answer, which the entry point calls first. Words that are not
plainly an IMAGE must get None from it, and the entry point must then print click's answer.
"""

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import click
import click.shell_completion
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.cli.command import imginspect
from inspector.cli.option_table import COMPLETE_VAR, FLAGS, VALUE_OPTIONS
from inspector.cli.tab import answer, split_arg_string
from tests.daemon_fixture import DockerDaemon
from tests.docker_config import write_context

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
NOWHERE = "unix:///nonexistent/imginspect-tab.sock"
HOST = "{host}"  # the test daemon's address, filled in when the test runs
SHELLS = ("bash", "zsh", "fish")
RUN_TIMEOUT = 60
CLICK_PATH = "from inspector.cli.main import main; main()"


class Tab(NamedTuple):
    """A TAB: the daemon DOCKER_HOST names, the words before the cursor, the word under it."""

    docker_host: str  # HOST or NOWHERE
    words: tuple[str, ...]
    fast: bool  # answered without click


def tab(docker_host: str, *words: str, fast: bool = True) -> Tab:
    return Tab(docker_host, words, fast)


TABS = {
    # Image names and IDs, from the daemon the line names.
    "a name": tab(HOST, "lab-"),
    "a name with a colon": tab(HOST, "lab-full:"),
    "every name": tab(HOST, ""),
    "an ID": tab(HOST, "{tiny_id}"),
    "a full ID": tab(HOST, "sha256:"),
    "a quoted word": tab(HOST, "'lab-t"),
    "after an image and flags": tab(HOST, "lab-tiny:1", "--diff", "-q", "lab-full:"),
    "after option values": tab(HOST, "--color", "never", "-f", "{{.Id}}", "lab-"),
    "after --opt=value": tab(HOST, "--color=never", "--platform=linux/amd64", "lab-"),
    "-H": tab(NOWHERE, "-H", HOST, "lab-"),
    "--host": tab(NOWHERE, "--host", HOST, "lab-"),
    "--host=": tab(NOWHERE, f"--host={HOST}", "lab-"),
    "the last --host": tab(HOST, "-H", NOWHERE, "--host", HOST, "lab-f"),
    "--context": tab(NOWHERE, "--context", "lab", "lab-"),
    "--context=": tab(NOWHERE, "--context=lab", "lab-"),
    "an empty --host=": tab(HOST, "--host=", "lab-"),
    # The transports, with the daemon's names beside them; none for a word past one.
    "a prefix of docker://": tab(HOST, "d"),
    "docker": tab(HOST, "docker"),
    "docker:": tab(HOST, "docker:"),
    "docker:/": tab(HOST, "docker:/"),
    "docker-": tab(HOST, "docker-a"),
    "a prefix of oci: and oci-archive:": tab(HOST, "oc"),
    "oci-archive": tab(HOST, "oci-archive"),
    "after images and options": tab(HOST, "lab-tiny:1", "--platform", "linux/amd64", "docker:/"),
    "a transport with no daemon": tab(NOWHERE, "docker"),
    "docker://": tab(HOST, "docker://"),
    "a registry name": tab(HOST, "docker://127.0.0.1:5000/lab"),
    "a path after oci:": tab(HOST, "oci:./lay"),
    "a path after docker-archive:": tab(HOST, "docker-archive:/tmp/"),
    # No daemon, or no way to choose one: nothing, as click prints it.
    "a daemon that is down": tab(HOST, "-H", NOWHERE, "lab-"),
    "the default is down": tab(NOWHERE, "lab-"),
    "a context that is down": tab(HOST, "--context", "gone", "lab-"),
    "a context that does not exist": tab(HOST, "--context", "missing", "lab-"),
    "--context and --host": tab(HOST, "--context", "lab", "-H", HOST, "lab-"),
    "a bad address": tab(HOST, "-H", "gopher://x", "lab-"),
    # click's: options, option values, and anything this module does not read as click does.
    "an option": tab(HOST, "--co", fast=False),
    "a dash": tab(HOST, "-", fast=False),
    "--": tab(HOST, "--", fast=False),
    "--color's values": tab(HOST, "--color", "", fast=False),
    "--color=": tab(HOST, "--color=a", fast=False),
    "--context's values": tab(HOST, "--context", "", fast=False),
    "-f's value": tab(HOST, "-f", "lab-", fast=False),
    "--platform's value": tab(HOST, "--platform", "", fast=False),
    "--filter's value": tab(HOST, "--filter", "lab-", fast=False),
    "--host's value": tab(HOST, "-H", "", fast=False),
    "after --": tab(HOST, "--", "lab-", fast=False),
    "an option after --": tab(HOST, "--", "-x", fast=False),
    "a value that looks like an option": tab(HOST, "-H", "--context", "lab-", fast=False),
    "clustered flags": tab(NOWHERE, "-qH", HOST, "lab-", fast=False),
    "a joined short value": tab(NOWHERE, f"-H{HOST}", "lab-", fast=False),
    "a flag given a value": tab(HOST, "--json=yes", "lab-", fast=False),
    "an unknown option": tab(HOST, "--no-such", "lab-", fast=False),
    "a word with =": tab(HOST, "=", fast=False),
}


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory, docker_daemon: DockerDaemon) -> Path:
    directory = tmp_path_factory.mktemp("docker-config")
    write_context(directory, "lab", docker_daemon.host)
    write_context(directory, "gone", NOWHERE)
    return directory


def completion_env(shell: str, words: Sequence[str]) -> dict[str, str]:
    """COMP_WORDS and COMP_CWORD as the scripts in completions/ set them (the last word: TAB)."""
    line = ["imginspect", *words]
    if shell == "fish":  # the line up to the cursor, and the word under it
        return {COMPLETE_VAR: "fish_complete", "COMP_WORDS": " ".join(line), "COMP_CWORD": line[-1]}
    joined = "\n".join(line) if shell == "bash" else " ".join(line)  # bash's IFS is a newline
    return {COMPLETE_VAR: f"{shell}_complete", "COMP_WORDS": joined, "COMP_CWORD": str(len(words))}


def run(code: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, *code],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        cwd=REPO,
        check=False,
    )


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", TABS)
def test_a_tab_gets_what_click_prints_and_only_image_names_skip_click(
    name: str, shell: str, docker_daemon: DockerDaemon, config_dir: Path
) -> None:
    chosen = TABS[name]
    fill = {"host": docker_daemon.host, "tiny_id": docker_daemon.images.tiny_id[7:11]}
    words = [word.replace("{host}", fill["host"]).format(**fill) for word in chosen.words]
    env = {
        **docker_daemon.env(),
        "DOCKER_HOST": chosen.docker_host.format(**fill),
        "DOCKER_CONFIG": str(config_dir),
        **completion_env(shell, words),
    }
    env.pop("DOCKER_CONTEXT", None)

    by_click = run(["-c", CLICK_PATH], env)
    fast = answer(env)

    assert by_click.returncode == 0, by_click.stderr.decode()
    if chosen.fast:
        assert fast == by_click.stdout
        assert by_click.stderr == b""
    else:
        assert fast is None
        by_entry_point = run(["-m", "inspector"], env)
        assert (by_entry_point.returncode, by_entry_point.stdout, by_entry_point.stderr) == (
            by_click.returncode,
            by_click.stdout,
            by_click.stderr,
        )


def test_zsh_is_given_names_with_escaped_colons_described_by_their_id(
    docker_daemon: DockerDaemon,
) -> None:
    """The table above is not vacuous: it has names with `:`, which zsh needs escaped."""
    short_id = docker_daemon.images.full_id.removeprefix("sha256:")[:12]
    escaped = [tag.replace(":", "\\:") for tag in sorted(docker_daemon.images.full_tags)]
    expected = "".join(f"plain\n{tag}\n{short_id}\n" for tag in escaped)
    assert answer({**docker_daemon.env(), **completion_env("zsh", ["lab-full:"])}) == (
        expected.encode()
    )


@pytest.mark.parametrize(
    "env",
    [
        {COMPLETE_VAR: "powershell_complete", "COMP_WORDS": "imginspect lab-", "COMP_CWORD": "1"},
        {COMPLETE_VAR: "bash_source"},
        {COMPLETE_VAR: "bash_complete", "COMP_WORDS": "imginspect lab-", "COMP_CWORD": "x"},
        {COMPLETE_VAR: "bash_complete", "COMP_WORDS": "imginspect lab-", "COMP_CWORD": "0"},
        {COMPLETE_VAR: "bash_complete", "COMP_CWORD": "1"},
        {COMPLETE_VAR: "fish_complete", "COMP_WORDS": "imginspect  ", "COMP_CWORD": " "},
        {COMPLETE_VAR: "", "COMP_WORDS": "imginspect lab-", "COMP_CWORD": "1"},
        {"COMP_WORDS": "imginspect lab-", "COMP_CWORD": "1"},
    ],
    ids=[
        "other shell",
        "source",
        "bad cword",
        "cword 0",
        "no words",
        "blank fish word",
        "",
        "unset",
    ],
)
def test_other_instructions_and_odd_values_are_left_to_click(env: Mapping[str, str]) -> None:
    assert answer({**env, "DOCKER_HOST": NOWHERE}) is None


def test_the_option_table_is_the_click_commands() -> None:
    """scripts/generate wrote it; this says so in terms of click's own parameters too."""
    ctx = click.Context(imginspect, info_name="imginspect", **imginspect.context_settings)
    options = [p for p in imginspect.get_params(ctx) if isinstance(p, click.Option)]

    # `--files[=PREFIX]` takes its value only attached: for a TAB, no word of its own.
    def flag(p: click.Option) -> bool:
        return p.is_flag or p.count or getattr(p, "attached_only", False)

    takes_value = {opt: p.name for p in options if not flag(p) and p.nargs == 1 for opt in p.opts}
    flags = {opt for p in options if flag(p) for opt in [*p.opts, *p.secondary_opts]}
    assert takes_value == VALUE_OPTIONS
    assert flags == set(FLAGS)
    assert len(takes_value) + len(flags) == sum(
        len(p.opts) + len(p.secondary_opts) for p in options
    )
    assert {"-H": "host", "--host": "host", "--context": "context"}.items() <= VALUE_OPTIONS.items()


def _command(*params: click.Parameter) -> click.Command:
    return click.Command("imginspect", params=[click.Argument(["images"], nargs=-1), *params])


@pytest.mark.parametrize(
    "command",
    [
        _command(click.Option(["--pair"], nargs=2)),
        _command(click.Option(["--host"], envvar="DOCKER_HOST")),
        _command(click.Argument(["more"])),
        click.Command("imginspect", params=[click.Argument(["image"])]),
        click.Command(
            "imginspect",
            params=[click.Argument(["images"], nargs=-1)],
            context_settings={"auto_envvar_prefix": "IMGINSPECT"},
        ),
    ],
    ids=["nargs 2", "envvar", "two arguments", "one image", "auto envvar"],
)
def test_the_generator_refuses_a_command_the_fast_path_cannot_read(command: click.Command) -> None:
    sys.path.insert(0, str(SCRIPTS))
    try:
        import shell_completion
    finally:
        sys.path.remove(str(SCRIPTS))
    with pytest.raises(ValueError, match=r"inspector/cli/tab\.py"):
        shell_completion.option_table(command)


@given(st.text(alphabet=" \t\r\n\x0b\xa0'\"\\:=-ab\u00e9"))
def test_words_are_split_as_click_splits_them(line: str) -> None:
    assert split_arg_string(line) == click.shell_completion.split_arg_string(line)


@pytest.mark.parametrize(
    ("shell", "word", "expected"),
    [
        ("bash", "docker", "nospace,docker://\nnospace,docker-archive:\n"),
        ("bash", "docker:", "nospace,docker://\n"),
        ("bash", "oci", "nospace,oci-archive:\nnospace,oci:\n"),
        ("zsh", "docker:/", "nospace\ndocker\\://\nan image in its registry\n"),
        ("fish", "docker-", "nospace,docker-archive:\tan archive docker save wrote\n"),
        ("bash", "docker://", ""),
        ("fish", "docker://registry.example.com/te", ""),
        ("bash", "oci:./layout", ""),
    ],
)
def test_transports_are_offered_with_no_space_after_them_and_no_daemon_asked(
    shell: str, word: str, expected: str
) -> None:
    """No daemon is there to ask (a name past `docker://` would reach no registry either): the
    transports the word begins come from the word alone, as `nospace` items."""
    env = {"DOCKER_HOST": NOWHERE, **completion_env(shell, [word])}
    assert answer(env) == (expected or "\n").encode()
