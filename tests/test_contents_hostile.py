"""--contents on docker-archives whose layers no daemon would unpack, or that are built to
exhaust a reader: each run ends quickly, in small memory, with exit 2 and one line on stderr.

Every layer's digest is right, so the archive's checks pass and the layer's own tar is what
is refused. A well-formed archive of the same shape reads, so that each refusal is the
layer's doing.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.archive_builder import CREATED, Image, docker_archive, sha256, tar_of, write
from tests.helpers import NO_DAEMON, assert_no_traceback, the_error_line
from tests.layer_images import directory, file, hardlink, layer, whiteout
from tests.measure import MIB, measured_cli

GIB = 1 << 30
# Generous for a refusal that should take a fraction of a second: it stops a reader that
# walks a declared terabyte or tens of gigabytes, without waiting for it.
TIMEOUT = 20.0
PEAK_RSS = 200 * MIB
# Each end of a block of tar zeros: the end-of-archive marker.
END = b"\0" * 1024


def header(info: tarfile.TarInfo, *, pax: bool = False) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT if pax else tarfile.GNU_FORMAT, "utf-8", "strict")


def declaring(size: int) -> bytes:
    """A member that declares size bytes of data and has none: the layer ends after it."""
    info = tarfile.TarInfo("bomb")
    info.size = size
    return header(info) + END


def pax_record_declaring(size: int) -> bytes:
    """A file whose size is a PAX record (past the header's 8 GiB), with no data."""
    info = tarfile.TarInfo("bomb")
    info.size = size
    return header(info, pax=True) + END


def pax_header_declaring(size: int) -> bytes:
    """A PAX extended header whose own records declare size bytes: a reader that loads a
    header's records whole would allocate them."""
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = size
    return header(info) + b"30 path=" + b"x" * 20 + b"\n" + END


def deep_path(depth: int) -> bytes:
    return layer([file("a/" * depth + "x", b"deep\n")])


HOSTILE_LAYERS = {
    "parent-escape": layer([file("../x", b"out\n")]),
    "nested-parent-escape": layer([directory("etc"), file("etc/../../x", b"out\n")]),
    "absolute": layer([file("/abs", b"abs\n")]),
    "hard-link-to-nothing": layer([hardlink("etc-link", "missing/target")]),
    "whiteout-of-parent": layer([directory("etc"), whiteout("etc/..")]),
    "whiteout-of-parent-at-top": layer([whiteout("..")]),
    "whiteout-of-itself": layer([directory("etc"), whiteout("etc/.")]),
    "member-declaring-1TiB": declaring(1 << 40),
    "pax-size-record-10GiB": pax_record_declaring(10 * GIB),
    "pax-header-10GiB": pax_header_declaring(10 * GIB),
    "path-5000-deep": deep_path(5000),
}


def archive_of(layers: list[bytes], path: Path) -> Path:
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(data) for data in layers]},
        "history": [{"created": CREATED, "created_by": "COPY . /"} for _ in layers],
    }
    return write(path, tar_of(docker_archive([Image(layers, config, ["hostile/layer:1"])])))


@pytest.mark.parametrize("case", sorted(HOSTILE_LAYERS))
def test_contents_refuses_a_hostile_layer_quickly_in_small_memory(
    case: str, tmp_path: Path
) -> None:
    good = layer([directory("etc"), file("etc/ok", b"ok\n")])
    path = archive_of([good, HOSTILE_LAYERS[case]], tmp_path / f"{case}.tar")
    done = measured_cli("--contents", str(path), env=NO_DAEMON, timeout=TIMEOUT)
    assert not done.timed_out, f"{case}: still running after {TIMEOUT} s"
    line = the_error_line(done.run)
    assert done.run.code == 2, (done.run.code, line)
    assert str(path) in line or path.name in line, line
    assert done.peak_rss < PEAK_RSS, f"{case}: peak RSS {done.peak_rss / MIB:.0f} MiB"


@pytest.mark.parametrize("form", [["--contents"], ["--contents", "--json"], ["--files"]])
def test_a_well_formed_archive_of_the_same_shape_reads(form: list[str], tmp_path: Path) -> None:
    layers = [
        layer([directory("etc"), file("etc/ok", b"ok\n")]),
        layer([directory("a" + "/a" * 40), file("a" + "/a" * 40 + "/x", b"deep\n")]),
    ]
    done = measured_cli(
        *form, str(archive_of(layers, tmp_path / "good.tar")), env=NO_DAEMON, timeout=TIMEOUT
    )
    assert_no_traceback(done.run)
    assert done.run.code == 0, done.run.stderr
    assert b"etc/ok" in done.run.stdout
