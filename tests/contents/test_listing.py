"""`tar -tv` lines, byte for byte as GNU tar prints them for the same tar."""

import os
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.contents.listing import tar_lines
from inspector.contents.model import DIRECTORY, FILE, Entry
from tests.contents.layers import (
    Member,
    directory,
    file,
    hardlink,
    opaque,
    read,
    symlink,
    tar_bytes,
    whiteout,
)


@pytest.fixture
def utc() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def _members() -> list[Member]:
    modes = [0o4755, 0o4644, 0o2755, 0o2644, 0o1777, 0o1666, 0o7000, 0o000, 0o777]
    return [
        directory("etc", mtime=0),
        *(file(f"etc/mode-{mode:o}", b"x", mode=mode) for mode in modes),
        file("etc/numeric", b"12", uname="", gname="", uid=1234, gid=99),
        file("etc/user-only", uname="daemon", gname="", gid=7),
        symlink("etc/link", "mode-777"),
        hardlink("etc/hard", "etc/numeric"),
        Member("dev/null", type=tarfile.CHRTYPE, device=(1, 3), mode=0o666),
        Member("dev/sda10", type=tarfile.BLKTYPE, device=(259, 1048575), mode=0o660),
        Member("run/fifo", type=tarfile.FIFOTYPE, mode=0o600),
        file("big", b"z" * 1_234_567, mtime=2_000_000_000),
        file("a-very-long-owner", uname="someone-with-a-long-name", gname="and-a-group"),
        file("small-after-wide", b"1"),
        file("ünïcødé ✓"),
        file("new\nline\\back\ttab"),
        whiteout("etc/gone"),
        opaque("etc"),
        file("old", mtime=86_399),
    ]


def test_lines_are_gnu_tars_byte_for_byte(tmp_path: Path, utc: None) -> None:
    data = tar_bytes(_members())
    archive = tmp_path / "layer.tar"
    archive.write_bytes(data)
    listed = subprocess.run(
        ["tar", "-tvf", str(archive)],
        capture_output=True,
        check=True,
        env={"TZ": "UTC", "LC_ALL": "C.UTF-8", "PATH": os.environ.get("PATH", "")},
    ).stdout.decode()
    assert "\n".join(tar_lines(read(data).entries)) + "\n" == listed


def test_a_time_is_shown_in_the_local_zone(utc: None) -> None:
    entry = Entry("a", FILE, 0o644, 0, 0, 5, 1_700_000_000)
    assert list(tar_lines([entry])) == ["-rw-r--r-- 0/0               5 2023-11-14 22:13 a"]
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    assert next(tar_lines([entry])).endswith(" 2023-11-15 07:13 a")


def test_the_size_column_grows_and_stays_grown(utc: None) -> None:
    wide = Entry("w", DIRECTORY, 0o755, 0, 0, 0, 0, owner=("a-long-user-name", "a-group"))
    narrow = Entry("n", FILE, 0o644, 0, 0, 1, 0, owner=("u", "g"))
    assert list(tar_lines([narrow, wide, narrow])) == [
        "-rw-r--r-- u/g               1 1970-01-01 00:00 n",
        "drwxr-xr-x a-long-user-name/a-group 0 1970-01-01 00:00 w/",
        "-rw-r--r-- u/g                      1 1970-01-01 00:00 n",
    ]
