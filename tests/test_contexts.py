"""Contexts made by the real `docker context create`: imginspect reaches the daemon docker reaches.

Four fake daemons stand for four places a daemon can come from (two contexts, DOCKER_HOST and
--host); each answers with an image whose Id says which one it is. For each rule of the order,
docker CLI 28 and imginspect run with the same flags and environment and must print the same
bytes, from the same fake.
"""

import json
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector.sources.daemon import DaemonFlags
from inspector.sources.daemon.endpoint import resolve_connection
from tests.docker_config import use_context, write_context
from tests.fake_daemon import FakeDaemon, json_response, ping
from tests.helpers import RUN_TIMEOUT, Run, cli_env, run_cli, the_error_line

PLACES = ("ctx-a", "ctx-b", "env", "flag")


def image_of(place: str) -> dict[str, object]:
    return {"Id": f"sha256:{place.encode().hex():0<64}", "RepoTags": [f"probe-{place}:1"]}


@dataclass(frozen=True)
class Setup:
    docker: str
    config_dir: Path
    fakes: Mapping[str, FakeDaemon]

    def env(self, extra: Mapping[str, str]) -> dict[str, str]:
        return cli_env(None, {"DOCKER_CONFIG": str(self.config_dir), **extra})

    def run_docker(self, args: Sequence[str], extra: Mapping[str, str]) -> Run:
        done = subprocess.run(
            [self.docker, *args],
            env=self.env(extra),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUN_TIMEOUT * 3,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr.decode(errors="replace"))

    def reached(self) -> list[str]:
        """The places whose fake daemon was asked for the image since the last call."""
        places = []
        for place, fake in self.fakes.items():
            if any(path.endswith("/images/probe/json") for path in fake.paths):
                places.append(place)
            fake.requests.clear()
        return places


@pytest.fixture
def setup(docker_cli: str, tmp_path: Path) -> Iterator[Setup]:
    """Contexts ctx-a and ctx-b made by `docker context create`, each at its own fake daemon."""
    fakes: dict[str, FakeDaemon] = {}
    try:
        for place in PLACES:
            fakes[place] = FakeDaemon(
                {"/_ping": ping("1.50"), "/v1.50/images/probe/json": json_response(image_of(place))}
            ).start()
        setup = Setup(docker_cli, tmp_path / "docker-config", fakes)
        for name in ("ctx-a", "ctx-b"):
            created = setup.run_docker(
                ["context", "create", name, "--docker", f"host={fakes[name].docker_host}"], {}
            )
            assert created.code == 0, created.stderr
        yield setup
    finally:
        for fake in fakes.values():
            fake.stop()


# (--context, --host, DOCKER_HOST, DOCKER_CONTEXT, `docker context use`) -> where both go
ORDER = [
    pytest.param(None, None, None, None, "ctx-b", "ctx-b", id="currentContext"),
    pytest.param(None, None, None, "ctx-a", "ctx-b", "ctx-a", id="DOCKER_CONTEXT>current"),
    pytest.param(None, None, "env", "ctx-a", "ctx-b", "env", id="DOCKER_HOST>DOCKER_CONTEXT"),
    pytest.param(None, "flag", "env", "ctx-a", "ctx-b", "flag", id="--host>DOCKER_HOST"),
    pytest.param("ctx-b", None, "env", "ctx-a", None, "ctx-b", id="--context>everything"),
    pytest.param("default", None, "env", "ctx-a", "ctx-b", "env", id="--context-default"),
    pytest.param(None, None, "env", "default", "ctx-b", "env", id="DOCKER_CONTEXT-default"),
]


@pytest.mark.parametrize(
    ("context", "host", "docker_host", "docker_context", "use", "where"), ORDER
)
def test_imginspect_reaches_the_daemon_docker_reaches(
    setup: Setup,
    context: str | None,
    host: str | None,
    docker_host: str | None,
    docker_context: str | None,
    use: str | None,
    where: str,
) -> None:
    if use is not None:
        assert setup.run_docker(["context", "use", use], {}).code == 0
    flags: list[str] = []
    if context is not None:
        flags += ["--context", context]
    if host is not None:
        flags += ["--host", setup.fakes[host].docker_host]
    env: dict[str, str] = {}
    if docker_host is not None:
        env["DOCKER_HOST"] = setup.fakes[docker_host].docker_host
    if docker_context is not None:
        env["DOCKER_CONTEXT"] = docker_context

    docker = setup.run_docker([*flags, "image", "inspect", "probe"], env)
    docker_reached = setup.reached()
    ours = run_cli("--json", *flags, "probe", host=None, env=setup.env(env))

    assert (docker.code, docker_reached) == (0, [where]), docker.stderr
    assert (ours.code, ours.stderr) == (0, "")
    assert setup.reached() == [where]
    assert ours.stdout == docker.stdout


def test_debug_says_which_daemon_was_chosen_why_and_each_request(setup: Setup) -> None:
    assert setup.run_docker(["context", "use", "ctx-b"], {}).code == 0
    env = setup.env({"DOCKER_CONTEXT": "ctx-a"})

    flagged = run_cli("--json", "--debug", "probe", host=None, env=env)
    by_env = run_cli("--json", "probe", host=None, env={**env, "IMGINSPECT_DEBUG": "1"})

    def without_timings(text: str) -> str:
        return re.sub(r"after [0-9]+ ms", "after N ms", text)

    assert (flagged.code, by_env.code) == (0, 0)
    assert without_timings(flagged.stderr) == without_timings(by_env.stderr)
    for run in (flagged, by_env):
        lines = run.stderr.splitlines()
        assert all(line.startswith("debug: ") for line in lines), run.stderr
        assert lines[0].startswith(f"debug: daemon {setup.fakes['ctx-a'].docker_host}: ")
        assert "from context 'ctx-a'" in lines[0]
        assert "chosen by DOCKER_CONTEXT='ctx-a'" in lines[0]
        assert "wins over currentContext 'ctx-b'" in lines[0]
        assert "debug: API version 1.50: the daemon offers 1.50" in run.stderr
        assert "debug: GET /_ping -> 200 OK after " in run.stderr
        assert "debug: GET /v1.50/images/probe/json -> 200 OK after " in run.stderr
        assert run.stdout == run_cli("--json", "probe", host=None, env=env).stdout


def test_without_debug_nothing_is_said_about_the_choice(setup: Setup) -> None:
    run = run_cli("--json", "probe", host=None, env=setup.env({"DOCKER_CONTEXT": "ctx-a"}))
    assert (run.code, run.stderr) == (0, "")


def test_a_context_that_does_not_exist_exits_2_before_any_daemon_is_asked(setup: Setup) -> None:
    run = run_cli("--json", "probe", host=None, env=setup.env({"DOCKER_CONTEXT": "ghost"}))

    assert run.code == 2
    assert run.stdout == b""
    line = the_error_line(run)
    assert "context 'ghost' (from DOCKER_CONTEXT) does not exist" in line
    assert setup.reached() == []


def test_context_with_host_exits_2_as_docker_refuses_it(setup: Setup) -> None:
    flags = ["--context", "ctx-a", "--host", setup.fakes["flag"].docker_host]
    docker = setup.run_docker([*flags, "image", "inspect", "probe"], {})

    run = run_cli("--json", *flags, "probe", host=None, env=setup.env({}))

    assert docker.code != 0 and "cannot specify both --host and --context" in docker.stderr
    assert (run.code, run.stdout) == (2, b"")
    assert "either --context or --host" in the_error_line(run)
    assert setup.reached() == []


def test_an_unparsable_config_file_is_a_warning_and_the_default_rules_apply(
    setup: Setup,
) -> None:
    (setup.config_dir / "config.json").write_text('{"currentContext": "ctx-b"')
    env = {"DOCKER_HOST": setup.fakes["env"].docker_host}
    docker = setup.run_docker(["image", "inspect", "probe"], env)
    docker_reached = setup.reached()

    run = run_cli("--json", "probe", host=None, env=setup.env(env))

    assert docker.code == 0 and "WARNING: Error parsing config file" in docker.stderr
    assert docker_reached == ["env"]
    assert run.code == 0 and run.stdout == docker.stdout
    assert run.stderr.startswith("Warning: ignoring the config file ")
    assert run.stderr.count("\n") == 1
    assert setup.reached() == ["env"]


def test_contexts_written_by_hand_work_like_those_docker_writes(
    setup: Setup, tmp_path: Path
) -> None:
    by_hand = tmp_path / "by-hand"
    write_context(by_hand, "ctx-a", setup.fakes["ctx-a"].docker_host)
    use_context(by_hand, "ctx-a")
    docker = setup.run_docker(["image", "inspect", "probe"], {"DOCKER_CONFIG": str(by_hand)})
    assert (docker.code, setup.reached()) == (0, ["ctx-a"]), docker.stderr

    run = run_cli("--json", "probe", host=None, env=cli_env(None, {"DOCKER_CONFIG": str(by_hand)}))

    assert (run.code, run.stdout) == (0, docker.stdout)
    assert setup.reached() == ["ctx-a"]


# -- TLS settings: `docker context inspect` shows what docker made of them ----------------------

# (docker's global flags, the same for imginspect, environment) with {dir} for a cert directory
TLS_SETTINGS = [
    pytest.param([], DaemonFlags(), {"DOCKER_TLS_VERIFY": "1"}, id="DOCKER_TLS_VERIFY"),
    pytest.param([], DaemonFlags(), {"DOCKER_TLS": "1"}, id="DOCKER_TLS"),
    pytest.param(
        [], DaemonFlags(), {"DOCKER_TLS_VERIFY": "0", "DOCKER_HOST": "tcp://h"}, id="verify=0"
    ),
    pytest.param(["--tls"], DaemonFlags(tls=True), {"DOCKER_TLS_VERIFY": "1"}, id="--tls+env"),
    pytest.param(
        ["--tlsverify", "-H", "tcp://h"],
        DaemonFlags(tlsverify=True, host="tcp://h"),
        {},
        id="--tlsverify-H-no-port",
    ),
    pytest.param(
        ["--tls", "-H", "h:1234"],
        DaemonFlags(tls=True, host="h:1234"),
        {"DOCKER_CERT_PATH": "{full}"},
        id="--tls+DOCKER_CERT_PATH",
    ),
    pytest.param(
        [], DaemonFlags(), {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "{half}"}, id="no-key"
    ),
    pytest.param(
        ["--tlsverify", "--tlskey", "{full}/key.pem"],
        DaemonFlags(tlsverify=True, tlskey="{full}/key.pem"),
        {"DOCKER_CERT_PATH": "{half}"},
        id="--tlskey-completes-the-pair",
    ),
    pytest.param(
        ["--tlscacert", "{full}/ca.pem"],
        DaemonFlags(tlscacert="{full}/ca.pem"),
        {},
        id="file-flag-without-tls",
    ),
    pytest.param(["-H", "tcp://h:1"], DaemonFlags(host="tcp://h:1"), {}, id="plain-tcp"),
]


@pytest.mark.parametrize(("docker_flags", "flags", "environ"), TLS_SETTINGS)
def test_tls_settings_are_read_as_docker_reads_them(
    docker_cli: str,
    tmp_path: Path,
    docker_flags: list[str],
    flags: DaemonFlags,
    environ: dict[str, str],
) -> None:
    config_dir, full, half = tmp_path / "config", tmp_path / "full", tmp_path / "half"
    for directory, names in ((config_dir, ["ca.pem"]), (full, ["ca.pem", "cert.pem", "key.pem"]),
                             (half, ["ca.pem", "cert.pem"])):  # fmt: skip
        directory.mkdir()
        for name in names:
            (directory / name).write_text(name)

    def fill(text: str) -> str:
        return text.format(full=full, half=half)

    env = {"DOCKER_CONFIG": str(config_dir), **{k: fill(v) for k, v in environ.items()}}
    shown = subprocess.run(
        [docker_cli, *map(fill, docker_flags), "context", "inspect", "default"],
        env=cli_env(None, env),
        capture_output=True,
        timeout=RUN_TIMEOUT * 3,
        check=True,
    )
    (context,) = json.loads(shown.stdout)
    docker = context["Endpoints"]["docker"]

    def maybe(value: str | None) -> str | None:
        return None if value is None else fill(value)

    filled = flags._replace(
        host=maybe(flags.host),
        tlscacert=maybe(flags.tlscacert),
        tlscert=maybe(flags.tlscert),
        tlskey=maybe(flags.tlskey),
    )

    endpoint = resolve_connection(filled, env).endpoint

    normalized = f"tcp://{endpoint.address}" if endpoint.scheme == "tcp" else endpoint.host
    assert normalized == docker["Host"]
    if endpoint.tls is None:
        assert context["TLSMaterial"] == {} and docker["SkipTLSVerify"] is False
        return
    assert docker["SkipTLSVerify"] is (not endpoint.tls.verify)
    ours = [Path(f).name for f in (endpoint.tls.ca, endpoint.tls.cert, endpoint.tls.key) if f]
    assert sorted(ours) == sorted(context["TLSMaterial"]["docker"])
