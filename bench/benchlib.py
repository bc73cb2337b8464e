"""What bench/run and bench/registry measure with: the bench images, the daemon, the lean
interpreter, the runner process, the shuffled rounds and the table.

Each bench is a case list: imginspect's command, the peer's (another tool's, or imginspect's
own on another source) beside it, and the ratio of imginspect's median wall time to a reference
(the peer, or another case's imginspect, e.g. a floor: Python starting and importing its
libraries) with the limit it should stay within.

Peak RSS comes from wait4() in a small runner process: Linux carries a parent's peak over
exec(), so the measuring process must stay small (its own ~9 MiB is the lowest figure it can
report). Wall and CPU time come from the same process, around posix_spawn and wait4.
"""

import argparse
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
# Settings that change the interpreter's work, and imginspect's output.
INTERPRETER_SETTINGS = ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONUNBUFFERED")
OUTPUT_SETTINGS = ("NO_COLOR", "FORCE_COLOR", "COLUMNS")
# Settings that would change what a tool does, or how the interpreter starts; a bench unsets
# these and any of its own (clean_env).
UNSET = (
    "DOCKER_CONTEXT",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "DOCKER_API_VERSION",
    "IMGINSPECT_DEBUG",
    *OUTPUT_SETTINGS,
    *INTERPRETER_SETTINGS,
    "PYTHONPATH",
)

# Runs one command per line of stdin and answers with its wall time, CPU time, peak RSS and
# exit status: posix_spawn + wait4 in a process that imports nothing it does not need (see the
# module's docstring).
RUNNER = r"""
import json, os, sys, time
WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
for line in sys.stdin:
    argv, env, stdout, stderr = json.loads(line)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout, WRITE, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, stderr, WRITE, 0o600),
    ]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    answer = [seconds, cpu, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)]
    print(json.dumps(answer), flush=True)
"""

CommandKey = tuple[tuple[str, ...], str, tuple[tuple[str, str], ...]]


@dataclasses.dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    env: Mapping[str, str]
    stdout: str = os.devnull

    @property
    def key(self) -> CommandKey:
        """The same command in two cases is measured once."""
        return self.argv, self.stdout, tuple(sorted(self.env.items()))


@dataclasses.dataclass
class Samples:
    seconds: list[float] = dataclasses.field(default_factory=list)
    cpu: list[float] = dataclasses.field(default_factory=list)  # user + system
    rss: list[int] = dataclasses.field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    def describe(self, wall_width: int) -> str:
        """Wall time median [interquartile range], CPU time median, peak RSS median."""
        if len(self.seconds) < 2:
            return "n/a"
        q1, _, q3 = statistics.quantiles(self.seconds, n=4)
        wall = f"{self.median * 1000:.1f} [{q1 * 1000:.0f}-{q3 * 1000:.0f}]"
        rss = statistics.median(self.rss) / MIB
        return f"{wall:>{wall_width}} {self.median_cpu * 1000:6.1f} {rss:3.0f}M"


@dataclasses.dataclass(frozen=True)
class Case:
    key: str  # "1", ...; "F1", ... for a floor
    title: str
    ours: Command
    peer: Command | None
    peer_name: str  # the peer as the ratio names it
    # The ratio's reference: "peer", the key of another case (its imginspect command), or ""
    # for a row that is only a reference.
    against: str
    limit: float

    @property
    def versus(self) -> str:
        """The reference as the table names it: the peer's name, "floor 1" or "case 1"."""
        if self.against == "peer":
            return self.peer_name
        if self.against.startswith("F"):
            return f"floor {self.against[1:]}"
        return f"case {self.against}"


@dataclasses.dataclass(frozen=True)
class Table:
    """What differs between the benches' tables: the peer column's heading and the widths."""

    peer: str
    title_width: int
    wall_width: int


class Runner:
    """The small measuring process (see RUNNER)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", RUNNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, command: Command, stderr: str) -> tuple[float, float, int, int]:
        assert self._process.stdin is not None and self._process.stdout is not None
        job = [list(command.argv), dict(command.env), command.stdout, stderr]
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.flush()
        seconds, cpu, rss, status = json.loads(self._process.stdout.readline())
        return float(seconds), float(cpu), int(rss), int(status)

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait()


# -- the command line -----------------------------------------------------------------------


def arguments(doc: str, *, images: int, runs: int, warmup: int, cases: str) -> argparse.Namespace:
    """The options both benches take, with each one's defaults and help for --cases."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--images", type=int, default=images, metavar="N")
    parser.add_argument("--runs", type=int, default=runs, metavar="N")
    parser.add_argument("--warmup", type=int, default=warmup, metavar="N")
    parser.add_argument("--python", metavar="PATH", help="an installed environment's python")
    parser.add_argument("--cases", metavar="LIST", help=cases)
    args = parser.parse_args()
    if args.images < 1 or args.runs < 2 or args.warmup < 0:
        parser.error("--images must be at least 1, --runs at least 2, --warmup at least 0")
    return args


# -- the images -----------------------------------------------------------------------------

LAYER_FILES = {"etc/bench.conf": b"imginspect bench\n"}


def layer() -> bytes:
    """The one layer every bench image has."""
    from tests.registry_pusher import layer_tar

    return layer_tar(LAYER_FILES)


def image_config(number: int) -> dict[str, object]:
    """The config of bench image number, without its rootfs and history."""
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-05-01T12:00:00Z",
        "author": "imginspect bench",
        "config": {
            "User": "1000",
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", f"BENCH_NUMBER={number}"],
            "Entrypoint": ["/bin/bench"],
            "Cmd": ["--serve", "--port", "8080"],
            "WorkingDir": "/srv",
            "ExposedPorts": {"8080/tcp": {}},
            "Labels": {
                "org.opencontainers.image.title": "imginspect bench",
                "org.opencontainers.image.version": f"1.0.{number}",
            },
        },
    }


def history(number: int) -> list[dict[str, object]]:
    return [
        {"created": "2024-05-01T12:00:00Z", "created_by": "COPY bench.conf /etc/"},
        {
            "created": "2024-05-01T12:00:00Z",
            "created_by": f'LABEL org.opencontainers.image.version="1.0.{number}"',
            "empty_layer": True,
        },
    ]


def image_archive(tags: Sequence[str]) -> bytes:
    """A `docker save` archive in which tags[i] is bench image i: the images differ only in
    their config."""

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    shared = layer()
    diff_id = "sha256:" + hashlib.sha256(shared).hexdigest()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        add(tar, "layer.tar", shared)
        manifest = []
        for number, tag in enumerate(tags):
            config = {
                **image_config(number),
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": history(number),
            }
            data = json.dumps(config).encode()
            name = hashlib.sha256(data).hexdigest() + ".json"
            add(tar, name, data)
            manifest.append({"Config": name, "RepoTags": [tag], "Layers": ["layer.tar"]})
        add(tar, "manifest.json", json.dumps(manifest).encode())
    return archive.getvalue()


# -- where it runs --------------------------------------------------------------------------


def run(argv: Sequence[str], env: Mapping[str, str], stdin: bytes | None = None) -> bytes:
    """What argv prints; a failure ends the bench, with the end of what it said."""
    done = subprocess.run(list(argv), env=dict(env), input=stdin, capture_output=True, check=False)
    if done.returncode:
        raise SystemExit(
            f"bench: {' '.join(argv[:4])} ... failed (exit {done.returncode}): "
            f"{done.stderr.decode(errors='replace')[-2000:]}"
        )
    return done.stdout


@dataclasses.dataclass(frozen=True)
class Docker:
    cli: str
    env: Mapping[str, str]
    external: bool  # the user's daemon (DOCKER_HOST): clean up after the run

    def __call__(self, *args: str, stdin: bytes | None = None) -> bytes:
        return run([self.cli, *args], self.env, stdin)


def clean_env(unset: Sequence[str] = UNSET, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(extra)
    return env


def wall_time(argv: Sequence[str], env: Mapping[str, str]) -> float:
    """The seconds argv takes, its output dropped; a failure ends the bench."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


@contextlib.contextmanager
def daemon_host() -> Iterator[str]:
    """DOCKER_HOST; without it, as root, the test suite's private dockerd's."""
    if os.environ.get("DOCKER_HOST"):
        yield os.environ["DOCKER_HOST"]
        return
    from tests.daemon_fixture import docker_daemon_session

    print("DOCKER_HOST is not set: starting the test suite's dockerd ...", file=sys.stderr)
    with docker_daemon_session() as daemon:
        yield daemon.host


@contextlib.contextmanager
def docker_daemon(scratch: Path, unset: Sequence[str] = UNSET) -> Iterator[Docker]:
    """DOCKER_HOST's daemon; without it, as root, the test suite's private dockerd."""
    from tests.daemon_fixture import docker_daemon_session, find_docker_cli

    config = scratch / "docker-config"
    config.mkdir()
    host = os.environ.get("DOCKER_HOST")
    if host:
        cli = find_docker_cli(str(config))
        if cli is None:
            raise SystemExit("bench: no docker CLI 28 or newer on PATH")
        yield Docker(cli, clean_env(unset, DOCKER_HOST=host, DOCKER_CONFIG=str(config)), True)
        return
    print("bench: DOCKER_HOST is not set: starting the test suite's dockerd ...", file=sys.stderr)
    with docker_daemon_session() as daemon:
        env = clean_env(unset, DOCKER_HOST=daemon.host, DOCKER_CONFIG=daemon.config_dir)
        yield Docker(daemon.cli, env, False)


def lean_interpreter(scratch: Path) -> tuple[str, str]:
    """A venv whose sys.path is this repository and our site-packages, nothing imported: neither
    imginspect nor a floor pays for the editable install's import hook (about 15 ms a start)."""
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(site, "imginspect-bench.pth").write_text(f"{REPO}\n{ours}\n")
    script = venv / "bin" / "imginspect"  # what pip writes for the console script
    script.write_text(
        f"#!{python}\nimport sys\nfrom inspector.__main__ import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    )
    script.chmod(0o755)
    return str(python), str(script)


def interpreter(installed: str | None, scratch: Path) -> tuple[str, str]:
    """The python and the imginspect to measure: --python's, with the `imginspect` script
    beside it, or a lean environment's made for the run."""
    if installed:
        python = str(Path(installed).absolute())
        return python, str(Path(python).parent / "imginspect")
    return lean_interpreter(scratch)


# -- the run --------------------------------------------------------------------------------


def chosen(all_cases: Sequence[Case], keys: Sequence[str], listed: str) -> list[Case]:
    """The cases asked for, and every case one of them is measured against; listed names the
    cases for a key that is none of them."""
    known = {case.key: case for case in all_cases}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise SystemExit(f"bench: no case {', '.join(unknown)} (cases: {listed})")
    wanted = set(keys)
    for key in keys:
        against = known[key].against
        if against and against != "peer":
            wanted.add(against)
    return [case for case in all_cases if case.key in wanted]


def measure(
    all_cases: Sequence[Case], runs: int, warmup: int, scratch: Path
) -> dict[CommandKey, Samples]:
    """Every command of the cases, runs times after warmup rounds, in a shuffled order each
    round so that the machine's drift hits all of them alike."""
    commands: dict[CommandKey, Command] = {}
    for case in all_cases:
        for command in (case.ours, case.peer):
            if command is not None:
                commands[command.key] = command
    results = {key: Samples() for key in commands}
    broken: dict[CommandKey, str] = {}
    stderr = str(scratch / "stderr")
    runner = Runner()
    shuffle = random.Random(8).shuffle
    try:
        for round_number in range(warmup + runs):
            order = list(commands)
            shuffle(order)
            for key in order:
                if key in broken:
                    continue
                seconds, cpu, rss, status = runner.run(commands[key], stderr)
                if status:
                    said = Path(stderr).read_text(errors="replace").strip().splitlines()
                    broken[key] = f"exit {status}: {said[-1] if said else ''}"[:120]
                    results[key] = Samples()
                elif round_number >= warmup:
                    results[key].seconds.append(seconds)
                    results[key].cpu.append(cpu)
                    results[key].rss.append(rss)
            if sys.stderr.isatty():
                print(f"\rbench: round {round_number + 1}/{warmup + runs}", end="", file=sys.stderr)
        if sys.stderr.isatty():
            print(file=sys.stderr)
    finally:
        runner.close()
    for key, why in broken.items():
        argv = commands[key].argv
        shown = " ".join(Path(part).name if "/" in part else part for part in argv[:4])
        print(f"bench: {shown} ... did not run: {why}", file=sys.stderr)
    return results


def describe_machine(python: str, tools: str, count: int, runs: int, warmup: int) -> list[str]:
    """The header: the machine and its load before the run, the versions (Python's, then
    tools), and what was run."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    load = os.getloadavg()
    return [
        f"machine: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} before the run",
        f"Python {version}; {tools}",
        f"{count} images; {runs} runs of every command after {warmup} warm-up runs, in shuffled "
        "turns; medians of wall time [its interquartile range], CPU time and peak RSS",
    ]


def report(
    all_cases: Sequence[Case],
    results: Mapping[CommandKey, Samples],
    header: Sequence[str],
    table: Table,
    notes: Sequence[str],
) -> None:
    """The header (right after the run: its first line gains the load average now), a row a
    case, then the notes."""
    after = f"before, {os.getloadavg()[0]:.1f} after the run"
    for line in (header[0].replace("before the run", after), *header[1:]):
        print(line)
    print()
    title_width, side_width = table.title_width, table.wall_width + 12
    side = f"{'wall ms [IQR]':>{table.wall_width}} {'cpu ms':>6} {'RSS':>4}"
    print(f"{'':<{title_width}} {'imginspect':<{side_width}} {table.peer:<{side_width}}")
    print(f"{'case':<{title_width}} {side}  {side}  {'ratio: wall  cpu':<24} target (wall)")
    rows = {case.key: results[case.ours.key] for case in all_cases}
    for case in all_cases:
        ours = results[case.ours.key]
        theirs = results[case.peer.key] if case.peer is not None else None
        ratio_text, verdict = "", ""
        reference = theirs if case.against == "peer" else rows.get(case.against)
        if case.against and ours.seconds and reference is not None and reference.seconds:
            ratio = ours.median / reference.median
            cpu_ratio = ours.median_cpu / reference.median_cpu
            ratio_text = f"{ratio:5.2f} {cpu_ratio:5.2f} x {case.versus}"
            verdict = f"<= {case.limit:g} {'ok' if ratio <= case.limit else 'MISSED'}"
        title = f"{case.key:>2} {case.title}"
        ours_text = ours.describe(table.wall_width)
        peer_text = theirs.describe(table.wall_width) if theirs is not None else ""
        line = (
            f"{title:<{title_width}} {ours_text:<{side_width}}  {peer_text:<{side_width}}  "
            f"{ratio_text:<24} {verdict}"
        )
        print(line.rstrip())
    for line in notes:
        print(line)
