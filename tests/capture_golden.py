"""Capture the inputs of the golden files: real daemons' answers about the fixture images.

    python -m tests.capture_golden      (as root: starts the test dockerd and podman service)

Writes tests/golden/inputs/<case>.inspect.json and <case>.history.json, byte for byte as the
daemon sent them to imginspect's own client, and manifest.json (what was asked, of which
server, when). IDs and dates change with every build, so this runs once and its output is
committed; `pytest --update-golden` then rewrites the expected renders from these inputs.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from inspector.connection import DaemonFlags, resolve_connection
from inspector.daemon import Daemon
from inspector.reference import parse_reference
from tests.daemon_fixture import FixtureImages, _UnixHTTPConnection, docker_daemon_session
from tests.podman_fixture import podman_service_session

INPUTS = Path(__file__).resolve().parent / "golden" / "inputs"

# case -> what to ask the docker daemon for (from the fixture images)
DOCKER_CASES: dict[str, Callable[[FixtureImages], str]] = {
    "lab-full": lambda images: images.full_tags[0],
    "lab-tiny": lambda images: images.tiny,
    "lab-hostile": lambda images: images.hostile,
    "untagged": lambda images: images.untagged_id.removeprefix("sha256:")[:12],
    "pushed": lambda images: images.pushed_digest_ref,
}
PODMAN_CASE = "podman"


def server_of(host: str) -> str:
    """The `Server` header of the daemon's answer to /_ping, e.g. `Docker/20.10.24 (linux)`."""
    conn = _UnixHTTPConnection(host.removeprefix("unix://"), timeout=10.0)
    try:
        conn.request("GET", "/_ping")
        response = conn.getresponse()
        response.read()
        return response.getheader("Server") or "unknown"
    finally:
        conn.close()


def capture(host: str, case: str, asked: str) -> dict[str, str]:
    reference = parse_reference(asked)
    connection = resolve_connection(DaemonFlags(host=host, timeout=30.0), {})
    with Daemon(connection) as daemon:
        (INPUTS / f"{case}.inspect.json").write_bytes(daemon.inspect(reference))
        (INPUTS / f"{case}.history.json").write_bytes(daemon.history(reference))
        api_version = daemon.api_version
    return {"asked": asked, "server": server_of(host), "api_version": api_version}


def main() -> int:
    INPUTS.mkdir(parents=True, exist_ok=True)
    cases: dict[str, dict[str, str]] = {}
    with contextlib.ExitStack() as stack:
        docker = stack.enter_context(docker_daemon_session())
        podman = stack.enter_context(podman_service_session())
        captured = datetime.now(UTC).replace(microsecond=0)
        for case, asked in DOCKER_CASES.items():
            cases[case] = capture(docker.host, case, asked(docker.images))
        cases[PODMAN_CASE] = capture(podman.host, PODMAN_CASE, podman.images.full)
    manifest = {"captured": captured.isoformat(), "cases": cases}
    (INPUTS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"captured {len(cases)} images into {INPUTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
