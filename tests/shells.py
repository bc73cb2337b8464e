"""Real bash, zsh and fish, driven as a person at a terminal would drive them, for the tests.

bash is asked directly (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT set as bash sets them,
then the completion function called and COMPREPLY printed) and through a pseudo-terminal,
where TAB goes through readline and the line it leaves is what counts. zsh can only complete
inside its line editor, so it always runs in a pseudo-terminal: a wrapper around `compadd`
records the candidates and a key bound to a widget records the line. fish answers
`complete -C` without a terminal.
"""

import contextlib
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tests.daemon_fixture import skip_or_fail

REPO = Path(__file__).resolve().parent.parent
COMPLETIONS = REPO / "completions"
SHELL_TIMEOUT = 30.0
PROMPT = "READY> "


def shell(name: str) -> str:
    """The path of a shell, or skip (fail in CI) when its Debian package is missing."""
    found = shutil.which(name) or next(
        (p for p in (f"/usr/bin/{name}", f"/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        skip_or_fail(f"{name} is not installed (Debian package {name})")
    return found


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class Completed(NamedTuple):
    candidates: list[str]
    stderr: str


def bash_words(line: str, breaks: str = ":=") -> list[str]:
    """COMP_WORDS as bash makes them: split at blanks, and at these COMP_WORDBREAKS."""
    if not breaks:
        words = line.split()
    else:
        words = re.findall(rf"[{re.escape(breaks)}]|[^\s{re.escape(breaks)}]+", line)
    return [*words, ""] if line.endswith(" ") else words


def bash_complete(line: str, env: Mapping[str, str], breaks: str = ":=") -> Completed:
    """COMPREPLY for the line, the cursor at its end, as bash's TAB would set it.

    breaks: the characters of COMP_WORDBREAKS that can occur in the line; some people take
    ':' out of it (bash-completion's FAQ suggests it), and the script must work either way.
    """
    script = COMPLETIONS / "imginspect.bash"
    words = " ".join(_quote(word) for word in bash_words(line, breaks))
    removed = "".join(
        f"COMP_WORDBREAKS=${{COMP_WORDBREAKS//{c}}}; " for c in ":=" if c not in breaks
    )
    program = f"""
source {_quote(str(script))}
{removed}
COMP_WORDS=({words})
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
COMP_LINE={_quote(line)}
COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
_imginspect_completion imginspect "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\0' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(
        [shell("bash"), "--norc", "--noprofile", "-c", program],
        env=dict(env),
        capture_output=True,
        timeout=SHELL_TIMEOUT,
        check=True,
    )
    return Completed(_split0(result.stdout.decode()), result.stderr.decode())


def _split0(text: str) -> list[str]:
    return [item for item in text.split("\0") if item]


def fish_complete(
    line: str,
    env: Mapping[str, str],
    *,
    described: bool = False,
    script: Path | None = COMPLETIONS / "imginspect.fish",
) -> Completed:
    """What `complete -C` offers for the line: candidates, and their descriptions if asked.

    Without a script, fish starts with its configuration and finds one by itself, in the
    vendor_completions.d directories of XDG_DATA_DIRS (env should give it a HOME of its own).
    """
    command = f"complete -C {_quote(line)}"
    argv = [shell("fish"), "-c", command]
    if script is not None:
        argv = [shell("fish"), "--no-config", "-c", f"source {_quote(str(script))}; {command}"]
    result = subprocess.run(
        argv, env=dict(env), capture_output=True, timeout=SHELL_TIMEOUT, check=True
    )
    lines = result.stdout.decode().splitlines()
    candidates = lines if described else [entry.split("\t", 1)[0] for entry in lines]
    return Completed(candidates, result.stderr.decode())


@dataclass(frozen=True)
class Typed:
    """What a TAB did at a terminal: the line it left, and the candidates zsh was given."""

    line: str
    candidates: list[str]
    screen: str


def bash_at_terminal(typed: str, env: Mapping[str, str], setup: str) -> Typed:
    """Type the text and TAB into an interactive bash; setup makes the completion known."""
    with tempfile.TemporaryDirectory(prefix="imginspect-bash-") as directory:
        log = Path(directory, "line")
        rc = Path(directory, "bashrc")
        rc.write_text(
            f"PS1={_quote(PROMPT)}\n{setup}\n"
            f'_imginspect_test_dump() {{ printf "%s" "$READLINE_LINE" > {_quote(str(log))}.new\n'
            f"mv {_quote(str(log))}.new {_quote(str(log))}; }}\n"
            "bind -x '\"\\C-x\": _imginspect_test_dump'\n"
        )
        argv = [shell("bash"), "--noprofile", "--rcfile", str(rc), "-i"]
        screen = _drive(argv, {**env, "HOME": directory}, typed, log)
        return Typed(log.read_text() if log.exists() else "", [], screen)


def zsh_at_terminal(typed: str, env: Mapping[str, str], setup: str) -> Typed:
    """Type the text and TAB into an interactive zsh; setup makes the completion known."""
    with tempfile.TemporaryDirectory(prefix="imginspect-zsh-") as directory:
        log = Path(directory, "line")
        offered = Path(directory, "offered")
        Path(directory, ".zshrc").write_text(
            f"PS1={_quote(PROMPT)}\n{setup}\n"
            # Every candidate the completion hands to zsh, as zsh would add it.
            "compadd() {\n"
            "    local -a _offered\n"
            '    builtin compadd -O _offered "$@"\n'
            f'    (( $#_offered )) && print -rl -- "${{_offered[@]}}" >> {_quote(str(offered))}\n'
            '    builtin compadd "$@"\n'
            "}\n"
            f'_imginspect_test_dump() {{ print -rn -- "$BUFFER" > {_quote(str(log))}.new\n'
            f"mv {_quote(str(log))}.new {_quote(str(log))}; }}\n"
            "zle -N _imginspect_test_dump\n"
            "bindkey '^X' _imginspect_test_dump\n"
        )
        argv = [shell("zsh"), "-d", "-i"]
        screen = _drive(argv, {**env, "HOME": directory, "ZDOTDIR": directory}, typed, log)
        candidates = offered.read_text().splitlines() if offered.exists() else []
        # _describe hands each candidate over more than once: keep the first of each.
        unique = list(dict.fromkeys(candidates))
        return Typed(log.read_text() if log.exists() else "", unique, screen)


def _drive(argv: Sequence[str], env: Mapping[str, str], typed: str, log: Path) -> str:
    """Wait for the prompt, type, press TAB, then ^X (which writes the line to log)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the shell
        os.execve(argv[0], list(argv), {**env, "TERM": "dumb"})
    screen = bytearray()
    try:
        with _reaped(pid):
            _read_until(fd, screen, lambda: PROMPT.encode() in screen)
            # TAB completes before readline or zle reads the ^X typed behind it.
            os.write(fd, typed.encode() + b"\t\x18")
            _read_until(fd, screen, log.exists)
            os.write(fd, b"\x15exit\r")
            _read_until(fd, screen, lambda: False, timeout=5.0)
    finally:
        os.close(fd)
    return screen.decode(errors="replace")


def _read_until(
    fd: int, screen: bytearray, done: Callable[[], bool], timeout: float = SHELL_TIMEOUT
) -> None:
    """Collect the terminal's output until done() or the shell hangs up or time runs out."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the shell has gone
                return
            if not chunk:
                return
            screen += chunk


@contextlib.contextmanager
def _reaped(pid: int) -> Iterator[None]:
    try:
        yield
    finally:
        _reap(pid)


def _reap(pid: int) -> None:
    """Wait a little for the shell to exit, then kill it: no shell outlives its test."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
