"""Debian's docker-registry (distribution 2.8) on loopback: the one way the tests start one.

The suite's dockerd pushes its fixture image to one (daemon_fixture), the four set-ups of the
registry source's tests are four (registry_fixture), and tests that push odd shapes over the
API (registry_pusher) start their own, plain or with TLS, on 127.0.0.1 or ::1. Each is stopped
by the ExitStack it was started on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import pytest

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclasses.dataclass(frozen=True)
class RunningRegistry:
    address: str  # as image references spell it: 127.0.0.1:PORT, [::1]:PORT
    port: int
    log: Path


@dataclasses.dataclass(frozen=True)
class ServerTLS:
    """The registry's certificate and key (PEM files)."""

    certificate: Path
    key: Path


def start_registry(
    registry_bin: str,
    root: Path,
    stack: contextlib.ExitStack,
    *,
    host: str = "127.0.0.1",
    tls: ServerTLS | None = None,
    auth: Mapping[str, Mapping[str, str]] | None = None,
) -> RunningRegistry:
    """A registry on host (127.0.0.1, or ::1), plain HTTP or with tls, with auth (the `auth`
    section of its configuration: `htpasswd` or `token` and their settings) if given; its
    configuration, storage and log under root. Fails the test if it does not come up."""
    root.mkdir(parents=True, exist_ok=True)
    log = root / "registry.log"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bracketed = f"[{host}]" if ":" in host else host
    # The free port can be taken before the registry binds it: retry on early exit.
    for _ in range(3):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
        config = root / "config.yml"
        config.write_text(_configuration(root, f"{bracketed}:{port}", tls, auth or {}))
        with log.open("ab") as out:
            process = subprocess.Popen(
                [registry_bin, "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        stack.callback(_stop, process)
        url = f"{'https' if tls else 'http'}://{bracketed}:{port}/v2/"
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if _status(url) in (200, 401):
                return RunningRegistry(f"{bracketed}:{port}", port, log)
            time.sleep(0.1)
        if process.poll() is None:
            break
    tail = log.read_text(errors="replace")[-4000:]
    pytest.fail(f"docker-registry did not come up; last lines of {log}:\n{tail}", pytrace=False)


def _configuration(
    root: Path, address: str, tls: ServerTLS | None, auth: Mapping[str, Mapping[str, str]]
) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: info",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {json.dumps(str(root / 'storage'))}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: {json.dumps(address)}",
    ]
    if tls is not None:
        lines += [
            "  tls:",
            f"    certificate: {json.dumps(str(tls.certificate))}",
            f"    key: {json.dumps(str(tls.key))}",
        ]
    if auth:
        lines.append("auth:")
        for kind, settings in auth.items():
            lines.append(f"  {kind}:")
            lines += [f"    {key}: {json.dumps(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def _status(url: str) -> int:
    """GET url's status (any certificate accepted: this only asks whether it answers)."""
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except OSError:
        return -1


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
