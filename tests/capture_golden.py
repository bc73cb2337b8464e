"""Capture the inputs of the golden files: real daemons' answers about the fixture images.

    python -m tests.capture_golden [CASE...]   (as root: starts the test dockerd and podman)

Writes tests/golden/inputs/<case>.inspect.json and <case>.history.json, byte for byte as the
daemon sent them to imginspect's own client, <case>.layers.json when the history leaves a
layer's step open (the number of layers of each step image that could settle it, by history
Id), and manifest.json (what was asked, of which server, when). IDs and dates change with
every build, so this runs once and its output is committed; `pytest --update-golden` then
rewrites the expected renders from these inputs. Naming cases captures only those, and keeps
the others as they are.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inspector.layers import image_ids_to_ask, layer_count
from inspector.reference import parse_reference
from inspector.sources.daemon import DaemonFlags
from inspector.sources.daemon.client import Daemon
from inspector.sources.daemon.endpoint import resolve_connection
from tests.daemon_fixture import FixtureImages, _UnixHTTPConnection, docker_daemon_session
from tests.podman_fixture import podman_service_session

INPUTS = Path(__file__).resolve().parent / "golden" / "inputs"

# case -> what to ask the docker daemon for (from the fixture images)
DOCKER_CASES: dict[str, Callable[[FixtureImages], str]] = {
    "lab-full": lambda images: images.full_tags[0],
    "lab-tiny": lambda images: images.tiny,
    "lab-workdir": lambda images: images.workdir,
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
        inspect = daemon.inspect(reference)
        history = daemon.history(reference)
        (INPUTS / f"{case}.inspect.json").write_bytes(inspect)
        (INPUTS / f"{case}.history.json").write_bytes(history)
        counts = layer_counts(daemon, inspect, history)
        if counts:
            (INPUTS / f"{case}.layers.json").write_text(json.dumps(counts, indent=2) + "\n")
        api_version = daemon.api_version
    return {
        "asked": asked,
        "server": server_of(host),
        "api_version": api_version,
        "captured": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def layer_counts(daemon: Daemon, inspect: bytes, history: bytes) -> dict[str, int]:
    """The number of layers of each step image that would settle what the history leaves open."""
    counts = {
        image_id: layer_count(daemon.inspect(parse_reference(image_id)))
        for image_id in image_ids_to_ask(inspect, history)
    }
    return {image_id: count for image_id, count in counts.items() if count is not None}


def main(argv: list[str]) -> int:
    known = [*DOCKER_CASES, PODMAN_CASE]
    wanted = argv or known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        print(f"unknown cases {unknown}; the cases are {known}", file=sys.stderr)
        return 2
    INPUTS.mkdir(parents=True, exist_ok=True)
    manifest_path = INPUTS / "manifest.json"
    manifest: dict[str, Any] = {"cases": {}}
    if argv and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
    cases: dict[str, dict[str, str]] = manifest["cases"]
    with contextlib.ExitStack() as stack:
        docker = stack.enter_context(docker_daemon_session())
        if not argv:
            manifest["captured"] = datetime.now(UTC).replace(microsecond=0).isoformat()
        for case, asked in DOCKER_CASES.items():
            if case in wanted:
                cases[case] = capture(docker.host, case, asked(docker.images))
        if PODMAN_CASE in wanted:
            podman = stack.enter_context(podman_service_session())
            cases[PODMAN_CASE] = capture(podman.host, PODMAN_CASE, podman.images.full)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"captured {len(wanted)} images into {INPUTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
