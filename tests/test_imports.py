"""Start-up cost: each path of the command imports what it needs, and none of the
heavy modules it does not. The real command runs against the test daemon; the modules loaded
when it exits are read from sys.modules."""

import subprocess
import sys
from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon_fixture import DockerDaemon

REPO = Path(__file__).resolve().parent.parent
ARCHIVE = str(REPO / "examples" / "hello.tar")
RUN_TIMEOUT = 60

# Runs the command as the `imginspect` script does and writes sys.modules out as it exits
# (click ends a TAB's completion with sys.exit, so an atexit hook sees every path's end).
PROBE = """\
import atexit, os, sys

def dump():
    with open(os.environ["IMGINSPECT_TEST_MODULES"], "w") as out:
        out.write("\\n".join(sys.modules))

atexit.register(dump)
from inspector.__main__ import main
main()
"""

# What each group of heavy modules is for.
CLIENT = {"requests", "urllib3", "http.client", "ssl", "email"}
DAEMON = {
    "inspector.sources.daemon.endpoint",
    "inspector.sources.daemon.connector",
    "inspector.sources.daemon.deadline",
    "inspector.sources.daemon.adapter",
    "inspector.sources.daemon.client",
}
# The ways in that only a TLS or ssh daemon needs: no path here loads them.
WAYS_IN = {"inspector.sources.daemon.tls", "inspector.sources.daemon.ssh"}
VIEW = {"rich", "inspector.render.view", "inspector.render.sections", "inspector.render.parts"}
PARSER = {"inspector.template.lexer", "inspector.template.parser"}
ENGINE = PARSER | {
    "inspector.template.evaluate",
    "inspector.template.schema",
    "inspector.template.gotime",
    "inspector.render.format",
}
FUNCTIONS = {"inspector.template.functions"}
ARCHIVES = {
    "inspector.sources.archive.reader",
    "inspector.sources.archive.stores",
    "inspector.sources.archive.streams",
    "inspector.sources.archive.layout",
    "inspector.contents.tarstream",
}
# What a run that neither asks the daemon nor reads an archive has no use for.
LOCAL = {
    "inspector.sources.daemon.completion",
    "inspector.sources.archive.names",
    "inspector.reference",
    "socket",
    "json",
    "pathlib",
    "urllib.parse",
    "hashlib",
    "shutil",
    "subprocess",
}
REGISTRY = {
    "inspector.sources.registry",
    "inspector.sources.registry.names",
    "inspector.sources.registry.source",
    "inspector.sources.registry.client",
    "inspector.sources.registry.transport",
    "inspector.sources.registry.auth",
    "inspector.sources.registry.memo",
    "inspector.sources.registry.platforms",
    "inspector.sources.registry.answers",
}
# The daemon's answers built from a config, for the sources that have no daemon to ask.
SHAPE = {
    "inspector.sources.shape.answers",
    "inspector.sources.shape.goconfig",
    "inspector.sources.shape.gojson",
    "inspector.sources.shape.manifests",
}
# What a registry asks only once one challenges: docker's credentials, and where they are.
CREDENTIALS = {"inspector.sources.registry.credentials", "subprocess"}
# What only --contents, --files and --ci load: their forms, the gate, their renderers.
CONTENTS = {
    "inspector.cli.contents",
    "inspector.cli.ci",
    "inspector.gate.rules",
    "inspector.gate.config",
    "inspector.render.contents_view",
    "inspector.render.contents_json",
    "inspector.render.gate_report",
    "inspector.contents.listing",
}
EVERYTHING = (
    CLIENT | DAEMON | WAYS_IN | VIEW | ENGINE | FUNCTIONS | ARCHIVES | LOCAL | REGISTRY | CONTENTS
)


@dataclass(frozen=True)
class Way:
    """A way through the command: its arguments, its exit status, what it must load and not."""

    args: tuple[str, ...]
    code: int
    needed: frozenset[str]
    unwanted: frozenset[str]
    env: Mapping[str, str]
    stdout: bytes | None  # None: anything but nothing (or nothing, for -q)


def way(
    *args: str,
    code: int = 0,
    needed: Set[str] = frozenset(),
    unwanted: Set[str] = frozenset(),
    env: Mapping[str, str] | None = None,
    stdout: bytes | None = None,
) -> Way:
    assert not needed & unwanted
    if not needed & REGISTRY:  # no path but a registry's loads anything of the registry's
        unwanted = unwanted | REGISTRY | {"inspector.sources.registry.credentials"}
    return Way(args, code, frozenset(needed), frozenset(unwanted), env or {}, stdout)


def completing(words: str, shell: str = "bash") -> dict[str, str]:
    if shell == "fish":
        return {"_IMGINSPECT_COMPLETE": "fish_complete", "COMP_WORDS": words, "COMP_CWORD": ""}
    return {
        "_IMGINSPECT_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }


# What a TAB on an image name loads (inspector/cli/tab.py answers it): a plain socket, no click.
IMAGE_TAB_NEEDS = {
    "inspector.cli.tab",
    "inspector.sources.daemon.completion",
    "inspector.sources.daemon.connector",
    "inspector.sources.daemon.endpoint",
    "inspector.reference",
    "_socket",
    "json",
}
IMAGE_TAB_SKIPS = (
    CLIENT
    | (DAEMON - {"inspector.sources.daemon.endpoint", "inspector.sources.daemon.connector"})
    | WAYS_IN
    | VIEW
    | ENGINE
    | FUNCTIONS
    | ARCHIVES
    | {"click", "inspector.cli.command", "inspector.environment"}
    | {"socket", "shlex", "pathlib", "urllib.parse", "hashlib", "shutil", "subprocess"}
)


TINY = "lab-tiny:1"  # tests/daemon_fixture.py's FixtureImages.tiny
PUSHED = "docker://{pushed_ref}"  # FixtureImages.pushed_ref, in the suite's registry
PATHS = {
    "--help": way("--help", needed={"inspector.environment"}, unwanted=EVERYTHING),
    "--version": way("--version", unwanted=EVERYTHING | {"inspector.environment"}),
    "usage error": way(
        "--no-such-option",
        TINY,
        code=2,
        needed={"inspector.terminal"},
        unwanted=EVERYTHING | {"inspector.environment"},
    ),
    "invalid reference": way(
        "Not-A:valid:reference",
        code=2,
        needed={"inspector.reference"},
        unwanted=CLIENT | DAEMON | VIEW | ENGINE | FUNCTIONS | ARCHIVES,
    ),
    "template syntax error": way(
        "-f",
        "{{.Id",
        TINY,
        code=2,
        needed=PARSER,
        unwanted=CLIENT | DAEMON | VIEW | (ENGINE - PARSER) | FUNCTIONS | ARCHIVES,
    ),
    "TAB on an option": way(
        env=completing("imginspect --ver"),
        stdout=b"plain,--version\n",
        needed={"click", "inspector.cli.command"},
        unwanted=EVERYTHING | {"inspector.environment"},
    ),
    "TAB on an option's value": way(
        env=completing("imginspect --color n"),
        stdout=b"plain,never\n",
        needed={"click", "inspector.cli.command"},
        unwanted=EVERYTHING | {"inspector.environment"},
    ),
    "TAB on an image name": way(
        env=completing("imginspect lab-t"),
        stdout=f"plain,{TINY}\n".encode(),
        needed=IMAGE_TAB_NEEDS,
        unwanted=IMAGE_TAB_SKIPS,
    ),
    "TAB on an image name after options, zsh": way(
        env=completing("imginspect --json -f x lab-t", "zsh"),
        needed=IMAGE_TAB_NEEDS,
        unwanted=IMAGE_TAB_SKIPS,
    ),
    "TAB on an image name, fish": way(
        env=completing("imginspect lab-tiny:1 ", "fish"),
        needed=IMAGE_TAB_NEEDS,
        unwanted=IMAGE_TAB_SKIPS,
    ),
    "--json": way(
        "--json",
        TINY,
        needed=CLIENT | DAEMON | {"inspector.render.json"},
        unwanted=WAYS_IN
        | SHAPE
        | VIEW
        | ENGINE
        | FUNCTIONS
        | ARCHIVES
        | CONTENTS
        | {"inspector.template", "inspector.terminal", "inspector.contents.analysis"},
    ),
    "-f json": way(
        "-f",
        "json",
        TINY,
        needed=CLIENT | DAEMON | {"inspector.render.json"},
        unwanted=WAYS_IN | VIEW | ENGINE | FUNCTIONS | ARCHIVES | {"inspector.template"},
    ),
    "-q": way(
        "-q",
        TINY,
        needed=CLIENT | DAEMON,
        unwanted=WAYS_IN
        | VIEW
        | ENGINE
        | FUNCTIONS
        | ARCHIVES
        | CONTENTS
        | {"inspector.render.json"},
    ),
    "-f '{{.Id}}'": way(
        "-f",
        "{{.Id}}",
        TINY,
        needed=CLIENT | DAEMON | ENGINE,
        unwanted=WAYS_IN | VIEW | FUNCTIONS | ARCHIVES | {"inspector.terminal"},
    ),
    "-f with a function": way(
        "-f",
        "{{json .Config.Env}}",
        TINY,
        needed=CLIENT | DAEMON | ENGINE | FUNCTIONS,
        unwanted=WAYS_IN | VIEW | ARCHIVES,
    ),
    "the view": way(
        TINY,
        needed=CLIENT | DAEMON | VIEW | {"inspector.template.gotime"},
        unwanted=WAYS_IN
        | (ENGINE - {"inspector.template.gotime"})
        | FUNCTIONS
        | ARCHIVES
        | CONTENTS
        | {"inspector.contents.analysis"},
    ),
    "a --ci rule's bad value": way(
        "--lowest-efficiency",
        "2",
        TINY,
        code=2,
        needed={"inspector.gate.rules"},
        unwanted=CLIENT
        | DAEMON
        | VIEW
        | ENGINE
        | ARCHIVES
        | (CONTENTS - {"inspector.gate.rules"})
        | {"inspector.contents.analysis"},
    ),
    "a registry, --json": way(
        "--json",
        PUSHED,
        needed=CLIENT | REGISTRY | SHAPE | {"inspector.render.json"},
        unwanted=DAEMON
        | WAYS_IN
        | VIEW
        | ENGINE
        | FUNCTIONS
        | ARCHIVES
        | CREDENTIALS
        | {"inspector.template", "inspector.terminal"},
    ),
    "an archive, --json": way(
        "--json",
        ARCHIVE,
        needed=ARCHIVES | SHAPE | {"inspector.render.json"},
        # The tars are read with the project's own reader, which never buffers a member.
        unwanted=CLIENT | DAEMON | VIEW | ENGINE | FUNCTIONS | {"tarfile"},
    ),
}


def loaded_modules(
    args: tuple[str, ...], env: Mapping[str, str], tmp_path: Path
) -> tuple[subprocess.CompletedProcess[bytes], set[str]]:
    listing = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env={**env, "IMGINSPECT_TEST_MODULES": str(listing)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        cwd=REPO,
        check=False,
    )
    return done, set(listing.read_text().split("\n"))


@pytest.mark.parametrize("name", PATHS)
def test_each_path_imports_only_the_heavy_modules_it_needs(
    name: str, docker_daemon: DockerDaemon, docker_env: dict[str, str], tmp_path: Path
) -> None:
    chosen = PATHS[name]
    assert docker_daemon.images.tiny == TINY
    env = {**docker_env, **chosen.env}
    for variable in ("PYTHONPROFILEIMPORTTIME", "IMGINSPECT_DEBUG"):
        env.pop(variable, None)

    args = tuple(
        arg.replace("{pushed_ref}", docker_daemon.images.pushed_ref) for arg in chosen.args
    )
    done, loaded = loaded_modules(args, env, tmp_path)

    assert done.returncode == chosen.code, done.stderr.decode()
    if chosen.code == 0:  # the path really ran, and printed what it is for
        assert done.stderr == b""
        if chosen.stdout is not None:
            assert done.stdout == chosen.stdout
        else:
            assert bool(done.stdout) != (chosen.args[:1] == ("-q",))
    # Both ways can fail: a module the path needs (the listing is read right), one it does not.
    missing = chosen.needed - loaded
    assert not missing, f"{name} no longer loads {sorted(missing)}: is the test still right?"
    assert not chosen.unwanted & loaded, f"{name} loads {sorted(chosen.unwanted & loaded)}"
