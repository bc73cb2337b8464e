"""Capture what a modern dockerd (28.5, classic image store) answers about images whose configs
exercise each rule of inspector/sources/shape: tests/test_shape.py checks the builder against
these answers, byte for byte.

    DOCKER_HOST=unix:///PATH/docker.sock python -m tests.capture_shape [CASE...]

The daemon must be a dockerd 28.5 with the classic image store (`--storage-driver=vfs` will
do), and `docker` a CLI 28 or newer. Each case is one image: a config written here, with one
6-byte layer, saved as a `docker save` archive (tests/archive_builder.py) and `docker load`ed.
For each case, tests/golden/shape/ gets:

- `<case>.config.json`: the config's exact bytes;
- `<case>.<api>.json`: `GET /v<api>/images/shape/<case>:1/json`, as the daemon sent it;
- `<case>.history.json`: `GET /v1.51/images/shape/<case>:1/history`;
- `<case>.cli.txt`: what `docker image inspect shape/<case>:1` prints (API 1.51);
- or, for a config docker refuses, `<case>.refused.txt`: the last line `docker load` printed.

Naming cases captures only those. The captured images are removed afterwards.

    DOCKER_HOST=unix:///PATH/docker.sock python -m tests.capture_shape --docker-20.10 [CASE...]

captures from a dockerd 20.10 (API 1.41, Debian's) instead, for the shape of API 1.41:
`<case>.20.10.json` (`GET /v1.41/images/shape/<case>:1/json`), or `<case>.20.10.refused.txt`.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests import archive_builder

GOLDEN = Path(__file__).resolve().parent / "golden" / "shape"
API_VERSIONS = ("1.51", "1.50", "1.49", "1.44", "1.43")
DOCKER = os.environ.get("IMGINSPECT_DOCKER_CLI", "/usr/local/bin/docker")

Config = dict[str, Any]


def _set(key: str, value: object) -> Callable[[Config], None]:
    return lambda config: config.__setitem__(key, value)


def _drop(*keys: str) -> Callable[[Config], None]:
    def drop(config: Config) -> None:
        for key in keys:
            config.pop(key)

    return drop


def _in_config(**values: object) -> Callable[[Config], None]:
    return lambda config: config["config"].update(values)


def _bytes(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """Edit the config's bytes: for what json.dumps cannot write (repeated keys, bad UTF-8)."""
    return lambda data: data.replace(old, new, 1)


EVERY_FIELD = {
    "User": "u",
    "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
    "Env": ["A=1"],
    "Entrypoint": ["/e"],
    "Cmd": "sh -c x",
    "Volumes": {"/v": {}, "/a": {}},
    "WorkingDir": "/w",
    "Labels": {"b": "2", "a": "1"},
    "StopSignal": "SIGINT",
    "ArgsEscaped": True,
    "Healthcheck": {
        "Test": ["CMD", "true"],
        "Interval": 30000000000,
        "Timeout": 9007199254740993,
        "StartPeriod": 0,
        "Retries": 3,
        "StartInterval": 1000000,
    },
    "OnBuild": ["RUN x"],
    "Shell": ["/bin/sh", "-c"],
}
EMPTIES = {
    "Env": [],
    "Labels": {},
    "Volumes": {},
    "ExposedPorts": {},
    "Shell": [],
    "OnBuild": [],
    "Cmd": [],
    "Entrypoint": [],
    "User": "",
    "WorkingDir": "",
    "StopSignal": "",
    "ArgsEscaped": False,
    "Healthcheck": {},
}
META = {
    "author": "A <a@b>",
    "docker_version": "20.10.1",
    "comment": "",
    "container": "cid",
    "container_config": {"Hostname": "x", "Cmd": ["a"]},
    "variant": "v9",
    "os.version": "10.0",
    "os.features": ["f"],
    "parent": "sha256:" + "1" * 64,
    "id": "legacy",
}

# case -> an edit of make_image()'s config, and of its bytes
CASES: dict[str, tuple[Callable[[Config], object] | None, Callable[[bytes], bytes] | None]] = {
    "base": (None, None),
    "created-tenths": (_set("created", "2023-11-14T22:13:20.100000000Z"), None),
    "created-offset": (_set("created", "2023-11-14T22:13:20.500+02:00"), None),
    "created-plus-zero": (_set("created", "2023-11-14T22:13:20+00:00"), None),
    "created-minus-zero": (_set("created", "2023-11-14T22:13:20-00:00"), None),
    "created-12-digits": (_set("created", "2023-11-14T22:13:20.123456789123Z"), None),
    "created-zero-fraction": (_set("created", "2023-11-14T22:13:20.000Z"), None),
    "created-comma": (_set("created", "2023-11-14T22:13:20,5Z"), None),
    "created-offset-24h": (_set("created", "2023-11-14T22:13:20+24:00"), None),
    "created-offset-60m": (_set("created", "2023-11-14T22:13:20+05:60"), None),
    "created-one-digit-hour": (_set("created", "2023-11-14T2:13:20Z"), None),
    "created-null": (_set("created", None), None),
    "created-missing": (_drop("created"), None),
    "no-architecture": (_drop("architecture"), None),
    "no-os": (_drop("os"), None),
    "no-architecture-no-os": (_drop("architecture", "os"), None),
    "unknown-keys": (
        lambda config: (
            config.update({"foo": 1, "Bar": "x"}),
            config["config"].update(
                {"Hostname": "h", "Image": "sha256:abc", "Foo": {"deep": [1]}, "Tty": True}
            ),
        ),
        None,
    ),
    "every-field": (_set("config", EVERY_FIELD), None),
    "empties": (_set("config", EMPTIES), None),
    "healthcheck-empty-test": (_set("config", {"Healthcheck": {"Test": []}}), None),
    "nulls": (_in_config(Env=None, Labels=None, User=None, Cmd=None), None),
    "label-null": (_in_config(Labels={"a": None, "b": "x"}), None),
    "config-null": (_set("config", None), None),
    "config-missing": (_drop("config"), None),
    "metadata": (lambda config: config.update(META), None),
    "history-comment": (lambda config: config["history"][-1].update({"comment": "c"}), None),
    "history-html": (
        lambda config: config["history"].extend(
            [
                {"created_by": "a <b> & \u2028 c", "empty_layer": True, "comment": "<c>"},
                {"created": None, "empty_layer": True},
            ]
        ),
        None,
    ),
    "keys-any-case": (
        lambda config: (
            config["config"].update({"cmd": ["lower"], "ENV": ["UP=1"], "workingdir": "/lower"}),
            config.update({"Architecture": "arm64", "OS": "linux"}),
        ),
        None,
    ),
    "key-kelvin-sign": (None, _bytes(b'"WorkingDir"', '"WOR\u212aINGDIR":"/k","WD"'.encode())),
    "key-repeated": (
        None,
        _bytes(b'"config":{', b'"config":{"Env":["DUP=1"],"Labels":{"z":"1"}},"Config":{'),
    ),
    "strings": (
        _set("config", {"Env": ["A=\u2028\u2029\x01\x08\x0c\x7f<>&é"], "Labels": {"k": "\t\n"}}),
        None,
    ),
    "invalid-utf8": (None, _bytes(b'"MODE=test"', b'"MODE=\xe2\x82x\xff\xed\xa0\x80"')),
    "lone-surrogates": (None, _bytes(b'"MODE=test"', b'"MODE=\\ud800\\udc00\\udc00"')),
    "no-layers": (None, None),
    # Refused by docker load:
    "refused-created-space": (_set("created", "2023-11-14 22:13:20Z"), None),
    "refused-created-day": (_set("created", "2023-02-30T00:00:00Z"), None),
    "refused-created-hour": (_set("created", "2023-11-14T24:00:00Z"), None),
    "refused-created-second": (_set("created", "2023-11-14T22:13:60Z"), None),
    "refused-created-lowercase-z": (_set("created", "2023-11-14T22:13:20z"), None),
    "refused-created-offset": (_set("created", "2023-11-14T22:13:20+99:00"), None),
    "refused-created-empty-fraction": (_set("created", "2023-11-14T22:13:20.Z"), None),
    "refused-env-string": (_in_config(Env="A=1"), None),
    "refused-cmd-number": (_in_config(Cmd=5), None),
    "refused-interval-fraction": (_in_config(Healthcheck={"Interval": 1.5}), None),
    "refused-volume-value": (_in_config(Volumes={"/a": 1}), None),
    "refused-size-string": (_set("size", "x"), None),
    "refused-nan": (None, _bytes(b'"config":{', b'"config":{"StopTimeout":NaN,')),
    "refused-history-steps": (lambda config: config["history"].append({"created_by": "x"}), None),
    "refused-history-null-step": (lambda config: config["history"].append(None), None),
}


class _Image(archive_builder.Image):
    raw: bytes = b""

    @property
    def config_bytes(self) -> bytes:
        return self.raw


def image_for(case: str) -> archive_builder.Image:
    edit, edit_bytes = CASES[case]
    files = () if case == "no-layers" else ({"hello.txt": b"hello\n"},)
    image = archive_builder.make_image(files, tags=(f"shape/{case}:1",))
    if edit is not None:
        edit(image.config)
    edited = _Image(image.layers, image.config, image.tags)
    edited.raw = image.config_bytes if edit_bytes is None else edit_bytes(image.config_bytes)
    return edited


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self._path)


def _get(path: str) -> bytes:
    connection = _UnixConnection(os.environ["DOCKER_HOST"].removeprefix("unix://"))
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status} {body!r}")
    return body


def _docker(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([DOCKER, *args], capture_output=True, check=False)


def capture_old(case: str, scratch: Path) -> None:
    """What dockerd 20.10 answers at its API version, 1.41."""
    for old in GOLDEN.glob(f"{case}.20.10.*"):
        old.unlink()
    image = image_for(case)
    archive = scratch / f"{case}.tar"
    archive.write_bytes(archive_builder.tar_of(archive_builder.docker_archive([image])))
    loaded = _docker("load", "-i", str(archive))
    if loaded.returncode != 0:
        message = (loaded.stderr or loaded.stdout).decode().strip().splitlines()[-1]
        (GOLDEN / f"{case}.20.10.refused.txt").write_text(message + "\n")
        return
    name = f"shape/{case}:1"
    (GOLDEN / f"{case}.20.10.json").write_bytes(_get(f"/v1.41/images/{name}/json"))
    _docker("image", "rm", name)


def capture(case: str, scratch: Path) -> None:
    for old in GOLDEN.glob(f"{case}.*"):
        if not old.name.startswith(f"{case}.20.10."):
            old.unlink()
    image = image_for(case)
    (GOLDEN / f"{case}.config.json").write_bytes(image.config_bytes)
    archive = scratch / f"{case}.tar"
    archive.write_bytes(archive_builder.tar_of(archive_builder.docker_archive([image])))
    loaded = _docker("load", "-i", str(archive))
    if loaded.returncode != 0:
        message = (loaded.stderr or loaded.stdout).decode().strip().splitlines()[-1]
        (GOLDEN / f"{case}.refused.txt").write_text(message + "\n")
        return
    name = f"shape/{case}:1"
    for version in API_VERSIONS:
        (GOLDEN / f"{case}.{version}.json").write_bytes(_get(f"/v{version}/images/{name}/json"))
    (GOLDEN / f"{case}.history.json").write_bytes(_get(f"/v1.51/images/{name}/history"))
    (GOLDEN / f"{case}.cli.txt").write_bytes(_docker("image", "inspect", name).stdout)
    _docker("image", "rm", name)


def main(cases: list[str]) -> None:
    if not os.environ.get("DOCKER_HOST", "").startswith("unix://"):
        raise SystemExit("set DOCKER_HOST=unix://... to a dockerd 28.5 (classic image store)")
    old = cases[:1] == ["--docker-20.10"]
    cases = cases[1:] if old else cases
    GOLDEN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for case in cases or list(CASES):
            (capture_old if old else capture)(case, Path(scratch))


if __name__ == "__main__":
    main(sys.argv[1:])
