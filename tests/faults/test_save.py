"""The daemon's `docker save` stream, for contents, as no real daemon sends it: broken off,
garbled, stalled, holding a layer that escapes the root or another image than the one
inspected. Each is one line, exit 3, and the next image is still asked on a new connection."""

from __future__ import annotations

import hashlib

import pytest

from inspector.errors import DaemonBadResponse, DaemonError, ExitCode
from inspector.image import Image
from inspector.reference import parse_reference
from inspector.sources.daemon import DaemonFlags
from inspector.sources.daemon.source import DaemonSource
from inspector.sources.interface import Request
from tests.archive_builder import docker_archive, make_image, oci_layout, tar_bytes, tar_of
from tests.fake_daemon import FakeDaemon, Response, inspect_path, json_response

GOOD = make_image([{"etc/good.conf": b"good\n"}, {"bin/tool": b"\x7fELF"}], tags=["good:1"])
OTHER = make_image([{"other.txt": b"another image\n"}], tags=["other:1"])
TAR_HEADERS = (("Content-Type", "application/x-tar"),)


def inspect_answer(image_id: str, diff_ids: list[str]) -> Response:
    return json_response(
        {
            "Id": image_id,
            "Os": "linux",
            "Architecture": "amd64",
            "RootFS": {"Type": "layers", "Layers": diff_ids},
        }
    )


def serve(fake: FakeDaemon, name: str, saved: Response, *, image_id: str | None = None) -> None:
    """The daemon knows name as GOOD (or as image_id), and answers its save with saved."""
    fake.routes[inspect_path(name)] = inspect_answer(
        image_id or GOOD.id, GOOD.config["rootfs"]["diff_ids"]
    )
    fake.routes[f"/v1.50/images/{name}/get"] = saved


def saved(data: bytes, **options: object) -> Response:
    return Response(200, data, TAR_HEADERS, framing="chunked", **options)  # type: ignore[arg-type]


def contents_of(fake: FakeDaemon, *names: str, timeout: float = 10.0) -> list[Image]:
    source = DaemonSource(
        DaemonFlags(host=fake.docker_host, timeout=timeout),
        Request(contents=True),
        log=None,
        warn=None,
    )
    try:
        return list(source.images(iter([parse_reference(name) for name in names])))
    finally:
        source.close()


GOOD_SAVE = tar_of(docker_archive([GOOD]))


def test_a_save_as_a_daemon_sends_it_gives_each_layer(fake: FakeDaemon) -> None:
    serve(fake, "good:1", saved(GOOD_SAVE))
    [image] = contents_of(fake, "good:1")
    assert image.error is None and image.contents is not None
    assert [layer.diff_id for layer in image.contents] == GOOD.config["rootfs"]["diff_ids"]
    assert [[entry.path for entry in layer.entries] for layer in image.contents] == [
        ["etc", "etc/good.conf"],
        ["bin", "bin/tool"],
    ]


def _escaping_save() -> tuple[bytes, str, list[str]]:
    image = make_image([{"fine.txt": b"fine\n"}], tags=["bad:1"])
    escaping = tar_bytes([("../../etc/passwd", b"root::0:0::/:/bin/sh\n")])
    image.layers.append(escaping)
    image.config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(escaping).hexdigest())
    image.config["history"].append({"created": "2023-11-14T22:13:20Z", "created_by": "ADD"})
    return (
        tar_of(oci_layout([image], with_docker_manifest=True)),
        image.id,
        image.config["rootfs"]["diff_ids"],
    )


def _garbled(data: bytes) -> bytes:
    """A header in the middle overwritten: what a daemon's error text written into the tar
    after its first bytes leaves."""
    middle = len(data) // 2 // 512 * 512
    return data[:middle] + b'{"message":"write /dev/stdout: broken pipe"}'.ljust(512, b"\0")


CASES = {
    "broken off": (saved(GOOD_SAVE, cut_after=len(GOOD_SAVE) // 2), DaemonError, "broke off"),
    "garbled": (saved(_garbled(GOOD_SAVE)), DaemonBadResponse, "the save of good:1"),
    "not a tar": (saved(b"<html>proxy error</html>" * 50), DaemonBadResponse, "not a tar"),
    "empty": (Response(200, b"", TAR_HEADERS), DaemonBadResponse, "the save of good:1"),
    "another image": (
        saved(tar_of(docker_archive([OTHER]))),
        DaemonBadResponse,
        "not the image inspected",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_save_is_one_line_exit_3_and_the_next_image_is_still_read(
    fake: FakeDaemon, case: str
) -> None:
    answer, kind, says = CASES[case]
    serve(fake, "good:1", answer)
    serve(fake, "good:2", saved(GOOD_SAVE))
    first, second = contents_of(fake, "good:1", "good:2")
    assert isinstance(first.error, kind), first.error
    assert first.error.exit_code == ExitCode.SOURCE
    assert first.inspect is None and first.contents is None
    message = str(first.error)
    assert "\n" not in message and says in message, message
    assert second.error is None and second.contents is not None


def test_a_layer_that_escapes_the_root_is_a_bad_answer_naming_the_layer(fake: FakeDaemon) -> None:
    data, image_id, diff_ids = _escaping_save()
    fake.routes[inspect_path("bad:1")] = inspect_answer(image_id, diff_ids)
    fake.routes["/v1.50/images/bad:1/get"] = saved(data)
    [image] = contents_of(fake, "bad:1")
    assert isinstance(image.error, DaemonBadResponse)
    message = str(image.error)
    assert "\n" not in message
    assert message.startswith(f"the daemon at {fake.docker_host}: the save of bad:1: layer 2 (")
    assert "refused" in message


def test_a_save_whose_layers_are_not_the_inspected_ones_is_refused(fake: FakeDaemon) -> None:
    fake.routes[inspect_path("good:1")] = inspect_answer(GOOD.id, ["sha256:" + "0" * 64])
    fake.routes["/v1.50/images/good:1/get"] = saved(GOOD_SAVE)
    [image] = contents_of(fake, "good:1")
    assert isinstance(image.error, DaemonBadResponse)
    assert "not the ones the inspect answer lists" in str(image.error)


def test_a_save_that_stalls_times_out_within_the_timeout(fake: FakeDaemon) -> None:
    serve(fake, "good:1", saved(GOOD_SAVE, pace=2.0))
    [image] = contents_of(fake, "good:1", timeout=0.5)
    assert image.error is not None and image.error.exit_code == ExitCode.SOURCE
    assert "did not answer within 0.5s" in str(image.error)


def test_an_image_gone_before_its_save_is_not_found(fake: FakeDaemon) -> None:
    fake.routes[inspect_path("good:1")] = inspect_answer(GOOD.id, GOOD.config["rootfs"]["diff_ids"])
    fake.routes["/v1.50/images/good:1/get"] = json_response(
        {"message": "No such image: good:1"}, 404
    )
    [image] = contents_of(fake, "good:1")
    assert image.error is not None and image.error.exit_code == ExitCode.NOT_FOUND
