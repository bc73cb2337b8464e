"""Memory: a 200 MB layer, plain or gzipped, is read as a stream; the peak stays near the
tiny sample's."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.archive_builder import compact, hex_of, tar_bytes
from tests.helpers import EXAMPLE, NO_DAEMON, REPO

LARGE = 200 * 1024 * 1024
# The interpreter, click and the archive reader take about 25 MB; streaming adds a few MB.
MAX_EXTRA_RSS_KB = 32 * 1024


def _sparse_archive(path: Path) -> str:
    """A docker-archive with one 200 MB layer of zeros, written sparse (no disk, no time)."""
    header = tarfile.TarInfo("big.bin")
    header.size = LARGE
    header.mtime = 0
    inner_header = header.tobuf(format=tarfile.USTAR_FORMAT)
    inner_tail = b"\0" * (1024 + (-LARGE % 512))
    layer_size = len(inner_header) + LARGE + len(inner_tail)
    digest = hashlib.sha256(inner_header)
    zeros = b"\0" * (1024 * 1024)
    for _ in range(LARGE // len(zeros)):
        digest.update(zeros)
    digest.update(inner_tail)
    diff_id = "sha256:" + digest.hexdigest()
    config = compact(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "big"}],
        }
    )
    manifest = compact(
        [{"Config": f"{hex_of(config)}.json", "RepoTags": ["big:1"], "Layers": ["l/layer.tar"]}]
    )
    outer = tarfile.TarInfo("l/layer.tar")
    outer.size = layer_size
    with path.open("wb") as out:
        out.write(outer.tobuf(format=tarfile.USTAR_FORMAT))
        out.write(inner_header)
        out.seek(LARGE, os.SEEK_CUR)  # a hole: reads as zeros
        out.write(inner_tail)
        out.write(b"\0" * (-layer_size % 512))
        out.write(tar_bytes([(f"{hex_of(config)}.json", config), ("manifest.json", manifest)]))
    return diff_id


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_memory_stays_small_with_a_200_mb_layer(tmp_path: Path, compress: str | None) -> None:
    path = tmp_path / "big.tar"
    diff_id = _sparse_archive(path)
    if compress == "gzip":
        packed = tmp_path / "big.tar.gz"
        with path.open("rb") as source, gzip.open(packed, "wb", compresslevel=1) as sink:
            while chunk := source.read(1024 * 1024):
                sink.write(chunk)
        path = packed
    stdout, big = _peak_rss("-f", "{{.Size}} {{index .RootFS.Layers 0}}", str(path))
    assert stdout == f"{LARGE} {diff_id}\n"
    # The same run on the tiny sample: what the interpreter and the code cost whatever the
    # layers are (it varies with the machine); the 200 MB layer may add only a little to it.
    _, small = _peak_rss("-f", "{{.Size}}", str(EXAMPLE))
    assert big - small < MAX_EXTRA_RSS_KB, f"peak memory {big} kB, against {small} kB"


def _peak_rss(*args: str) -> tuple[str, int]:
    """imginspect's output for args, and its peak resident memory in kB."""
    script = (
        "import resource, sys\n"
        "from inspector.cli import main as cli\n"
        "code = cli.run(sys.argv[1:])\n"
        "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**NO_DAEMON, "PYTHONPATH": str(REPO)},
    )
    code, max_rss_kb = map(int, completed.stderr.split()[-2:])
    assert code == 0, completed.stderr
    return completed.stdout, max_rss_kb
