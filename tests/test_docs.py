"""The examples in README.md and docs/*.md run as documented, and use only options that exist.

Commands are the lines of `sh` blocks and the `$ ` lines of `console` blocks; a console block
shows a command's output (standard output, then standard error) on the lines after it. A
command exits 0 unless a trailing `# exits N` says otherwise.

- A command that needs no daemon (`--help`, `--version`, or images that are all files of the
  repository, such as examples/hello.tar) runs for real, from the repository's root: its exit
  status and any output shown must be what the document says.
- Every other command runs with no daemon to reach and no network needed, in an empty
  directory where the sample archive stands in for each archive it names (`./app.tar`,
  `oci:./layout`): it must get past parsing, that is exit with anything but 2 (usage error)
  or 70 (a bug), unless it is documented to exit 2, when it must, and show what is shown.
- Every option a command uses is one that `--help` lists, with a value where it takes one.

Then the README's own rules, and that no file of the repository cites an issue by its number.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from tests.helpers import help_text

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCUMENTS = (README, *sorted((REPO / "docs").glob("*.md")))
LINKED = (*DOCUMENTS, REPO / "CONTRIBUTING.md")
SAMPLE = REPO / "examples" / "hello.tar"
# A daemon address where nothing listens.
NOWHERE = "unix:///nonexistent/imginspect-docs.sock"
TRANSPORTS = ("docker-archive:", "oci-archive:", "oci:")
COMMAND_BLOCKS = {"sh": "sh", "shell": "sh", "bash": "sh", "console": "console"}
FENCE = re.compile(r"^```(\S*)\s*$")
DOCUMENTED_STATUS = re.compile(r"#\s*exits (\d+)\s*$")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# `--files[=PREFIX]`: a value only ever attached, so the option takes no word of its own.
HELP_OPTION = re.compile(r"^  (?:(-\w), )?(--[\w-]+)(?:\[=[^\]]+\])?(?: (\S+))?(?: {2,}|$)")
NO_DAEMON_NEEDED = {"--help", "-h", "--version"}


@dataclass(frozen=True)
class Example:
    """One imginspect command of a document, as written there."""

    document: str  # relative to the repository
    line: int
    text: str
    argv: tuple[str, ...]  # imginspect's arguments
    env: Mapping[str, str]  # the assignments written before the command
    status: int = 0
    output: str | None = None  # what a console block shows after the command
    alone: bool = True  # not part of a pipeline or a list, and not redirected

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"


@dataclass
class Block:
    kind: str
    first_line: int
    lines: list[str] = field(default_factory=list)


def code_blocks(path: Path) -> Iterator[Block]:
    block: Block | None = None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if block is None:
            if fence:
                block = Block(fence[1], number + 1)
        elif fence and not fence[1]:
            yield block
            block = None
        else:
            block.lines.append(line)
    assert block is None, f"{path.name}: a code block is not closed"


def commands_of(text: str) -> list[tuple[tuple[str, ...], dict[str, str], bool]]:
    """The imginspect commands of one shell line: arguments, assignments, and whether alone."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token in ("|", "||", "&&", ";", "&"):
            segments.append([])
        else:
            segments[-1].append(token)
    found = []
    for segment in segments:
        env: dict[str, str] = {}
        words = list(segment)
        while words and ASSIGNMENT.match(words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        if not words or not (words[0] == "imginspect" or words[0].endswith("/imginspect")):
            continue
        args = words[1:]
        redirected = next((i for i, w in enumerate(args) if w and set(w) <= set("<>&")), None)
        if redirected is not None:
            args = args[:redirected]
        alone = len(segments) == 1 and redirected is None
        found.append((tuple(args), env, alone))
    return found


def examples_of(path: Path) -> Iterator[Example]:
    document = str(path.relative_to(REPO))
    for block in code_blocks(path):
        kind = COMMAND_BLOCKS.get(block.kind)
        if kind is None:
            continue
        for offset, line in enumerate(block.lines):
            if kind == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
                printed = []
                for after in block.lines[offset + 1 :]:
                    if after.startswith("$ "):
                        break
                    printed.append(after + "\n")
                output: str | None = "".join(printed) if printed else None
            else:
                output = None
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            status = DOCUMENTED_STATUS.search(line)
            for argv, env, alone in commands_of(line):
                yield Example(
                    document,
                    block.first_line + offset,
                    line,
                    argv,
                    env,
                    int(status[1]) if status else 0,
                    output,
                    alone,
                )


EXAMPLES = [example for path in DOCUMENTS for example in examples_of(path)]


@cache
def help_options() -> Mapping[str, bool]:
    """Every option --help lists, and whether it takes a value."""
    section = help_text(columns=100).split("\nOptions:\n", 1)[1].split("\n\n", 1)[0]
    options: dict[str, bool] = {}
    for line in section.splitlines():
        if match := HELP_OPTION.match(line):
            short, long, metavar = match.groups()
            for name in (short, long):
                if name:
                    options[name] = metavar is not None
    return options


def split_arguments(argv: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The options used (as named) and the image arguments."""
    takes_value = help_options()
    options: list[str] = []
    images: list[str] = []
    words = iter(argv)
    for word in words:
        if word == "--":
            images.extend(words)
        elif word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            options.append(name)
            if takes_value.get(name) and "=" not in word:
                next(words, None)
        else:
            images.append(word)
    return options, images


def transport_and_path(image: str) -> tuple[str, str]:
    for transport in TRANSPORTS:
        if image.startswith(transport):
            return transport, image[len(transport) :].split(":", 1)[0]
    return "", image


def in_repository(image: str) -> bool:
    _, path = transport_and_path(image)
    if not path or Path(path).is_absolute():
        return False
    found = REPO / path
    return (
        found.is_file() or (found / "index.json").is_file() or (found / "manifest.json").is_file()
    )


def needs_a_daemon(example: Example) -> bool:
    _, images = split_arguments(example.argv)
    if NO_DAEMON_NEEDED & set(example.argv):
        return False
    if "--all" in example.argv or not images:
        return True
    return not all(in_repository(image) for image in images)


def option_values(argv: tuple[str, ...], *names: str) -> list[str]:
    values = []
    for position, word in enumerate(argv):
        name, equals, value = word.partition("=")
        if name in names:
            if equals:
                values.append(value)
            elif position + 1 < len(argv):
                values.append(argv[position + 1])
    return values


def base_environment(home: Path) -> dict[str, str]:
    return {
        "PATH": str(home / "bin"),  # empty: no ssh or docker for an example to run
        "HOME": str(home),
        "DOCKER_CONFIG": str(home / "docker-config"),
        "DOCKER_HOST": NOWHERE,
        "TZ": "UTC",
        "LC_ALL": "C.UTF-8",
    }


def unreachable(address: str) -> str:
    """A unix socket that exists on this machine is replaced: no example asks a real daemon."""
    if address.startswith("unix://") and Path(address.removeprefix("unix://")).exists():
        return NOWHERE
    return address


def make_contexts(config: Path, names: list[str]) -> None:
    """Each context the example names, as `docker context create` stores it, leading nowhere."""
    for name in names:
        if name in ("", "default"):
            continue
        meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
        meta.mkdir(parents=True, exist_ok=True)
        document = {"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": NOWHERE}}}
        (meta / "meta.json").write_text(json.dumps(document))


def stand_in_archives(images: list[str], cwd: Path) -> None:
    """The sample archive, where the example names an archive of the reader's own."""
    for image in images:
        transport, path = transport_and_path(image)
        if not (transport or path.startswith(("./", "../"))) or Path(path).is_absolute():
            continue
        target = cwd / path
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if transport == "oci:":
            with tarfile.open(SAMPLE) as archive:
                archive.extractall(target, filter="data")
        else:
            shutil.copyfile(SAMPLE, target)


def shown(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# -- the examples -------------------------------------------------------------------------------


def test_the_documents_have_examples_of_both_kinds() -> None:
    assert any(not needs_a_daemon(example) for example in EXAMPLES)
    assert any(needs_a_daemon(example) for example in EXAMPLES)
    assert {example.document for example in EXAMPLES} >= {"README.md", "docs/archives.md"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_an_example_uses_only_options_that_help_lists(example: Example) -> None:
    options, _ = split_arguments(example.argv)
    unknown = [option for option in options if option not in help_options()]
    assert not unknown, f"{example.text}: imginspect --help lists no {', '.join(unknown)}"
    for position, word in enumerate(example.argv):
        if help_options().get(word):
            assert position + 1 < len(example.argv), f"{example.text}: {word} needs a value"


@pytest.mark.parametrize(
    "example",
    [example for example in EXAMPLES if not needs_a_daemon(example)],
    ids=lambda example: example.name,
)
def test_an_example_that_needs_no_daemon_runs_as_documented(
    example: Example, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "inspector", *example.argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
        env={**base_environment(tmp_path), **example.env},
    )
    assert result.returncode == example.status, f"{example.text}\n{result.stderr}"
    if example.output is not None:
        assert example.alone, f"{example.text}: output is shown for a command alone on its line"
        assert shown(result) == example.output


@pytest.mark.parametrize(
    "example",
    [example for example in EXAMPLES if needs_a_daemon(example)],
    ids=lambda example: example.name,
)
def test_an_example_for_a_daemon_gets_past_parsing(example: Example, tmp_path: Path) -> None:
    env = base_environment(tmp_path)
    env.update({name: unreachable(value) for name, value in example.env.items()})
    if "DOCKER_CONTEXT" in example.env and "DOCKER_HOST" not in example.env:
        del env["DOCKER_HOST"]  # it would win over the example's context
    argv = [
        unreachable(word) if previous in ("-H", "--host") else word
        for previous, word in zip(("", *example.argv), example.argv, strict=False)
    ]
    make_contexts(
        Path(env["DOCKER_CONFIG"]),
        [*option_values(example.argv, "--context"), example.env.get("DOCKER_CONTEXT", "")],
    )
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    if example.status != 2:
        stand_in_archives(split_arguments(example.argv)[1], cwd)
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "--timeout", "5", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env=env,
    )
    if example.status == 2:
        assert result.returncode == 2, f"{example.text}\n{result.stderr}"
        if example.output is not None:
            assert shown(result) == example.output
    else:
        assert result.returncode not in (2, 70), f"{example.text}\n{result.stderr}"


def inline_commands() -> list[tuple[str, str]]:
    """`imginspect ...` in the running text (outside code blocks), by document."""
    found = []
    for path in DOCUMENTS:
        text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)
        for span in re.findall(r"`(imginspect [^`]+)`", text):
            found.append((path.name, " ".join(span.split())))
    return found


@pytest.mark.parametrize(("document", "command"), inline_commands())
def test_a_command_in_the_text_uses_only_options_that_help_lists(
    document: str, command: str
) -> None:
    for argv, _, _ in commands_of(command):
        options, _ = split_arguments(argv)
        unknown = [option for option in options if option not in help_options()]
        assert not unknown, f"{document}: {command}: imginspect --help lists no {unknown}"


def test_only_sh_and_console_blocks_hold_commands() -> None:
    """A command in a block of another kind would escape the tests above."""
    for path in DOCUMENTS:
        for block in code_blocks(path):
            if block.kind in COMMAND_BLOCKS:
                continue
            for line in block.lines:
                synopsis = "[OPTIONS]" in line
                command = line.startswith(("$ ", "imginspect ")) and not synopsis
                assert not command, f"{path.name}: {line!r} is in a {block.kind or 'plain'} block"


# -- the README -----------------------------------------------------------------------------


def test_the_readme_is_at_most_200_lines() -> None:
    assert len(README.read_text().splitlines()) <= 200


def test_the_readme_gives_the_exit_statuses_as_help_does() -> None:
    epilog = help_text(columns=100).split("Exit status:\n", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^ {4}(\d+) +(.+)$", epilog, re.MULTILINE)
    note = " ".join(
        line.strip()
        for line in epilog.splitlines()
        if line.startswith("  ") and not line.startswith("    ")
    )
    readme = README.read_text()
    section = readme.split("\n## Exit status\n", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| (\d+) \| (.+) \|$", section, re.MULTILINE)
    assert table == rows
    assert note in " ".join(section.split())


# What `grep -rn "issue N"` finds: a citation of an issue by its number.
ISSUE_NUMBER = re.compile(r"\bissue [0-9]")


@pytest.mark.parametrize(
    ("text", "cites"),
    [
        ("# The limit is issue {number}'s target.", True),
        ("see issue {number}3 for the layout", True),
        ("an issue with the daemon", False),
        ("tissue {number}", False),
    ],
)
def test_a_citation_of_an_issue_number_is_found(text: str, cites: bool) -> None:
    # The table fills the number in: written out, it would cite one itself.
    assert bool(ISSUE_NUMBER.search(text.format(number=8))) is cites


def test_no_file_of_the_repository_cites_an_issue_number() -> None:
    """Comments and documents say why for a reader who has never seen the issues."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=30
    )
    citing = [
        name
        for name in listed.stdout.decode().split("\0")
        if name
        and (REPO / name).is_file()
        and ISSUE_NUMBER.search((REPO / name).read_bytes().decode(errors="replace"))
    ]
    assert citing == []


def test_contributing_gives_the_fuzz_command_the_makefile_runs() -> None:
    recipe = re.search(r"^fuzz:.*\n\t(.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    contributing = (REPO / "CONTRIBUTING.md").read_text()
    documented = re.search(r"^ *make fuzz +# (.+)$", contributing, re.MULTILINE)
    assert recipe is not None and documented is not None
    assert recipe[1].replace("$(BIN)", ".venv/bin") == documented[1]


# -- links ------------------------------------------------------------------------------------


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a document's headings."""
    headings = re.findall(
        r"^#+ (.+)$", re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S), re.M
    )
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def links() -> list[tuple[str, str]]:
    found = []
    for path in LINKED:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if not re.match(r"[a-z]+://", target):
                found.append((str(path.relative_to(REPO)), target))
    return found


@pytest.mark.parametrize(("document", "target"), links())
def test_a_link_between_the_documents_leads_somewhere(document: str, target: str) -> None:
    file, _, anchor = target.partition("#")
    path = ((REPO / document).parent / file).resolve() if file else REPO / document
    assert path.exists(), f"{document}: {target}"
    if anchor:
        assert anchor in anchors(path), f"{document}: {target}"
