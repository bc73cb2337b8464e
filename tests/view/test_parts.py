"""How each part of the view reads, rendered directly with the clock pinned: sizes,
durations, ages, command lines, the created time, the layers paired with the steps that made
them, and the manifests."""

import json
import re
from datetime import timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.image import Image
from inspector.layers import MAX_WORK
from inspector.render.parts import command_line, go_duration, human_duration, si_size
from inspector.render.view import render_view
from inspector.template.gotime import DURATION, duration_string
from inspector.template.values import Value
from tests.helpers import NOW, real, view

# -- the pieces of the view ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (47, "47 B"),
        (999, "999 B"),
        (1000, "1 kB"),
        (1499, "1.5 kB"),
        (999_499, "999 kB"),
        (999_500, "1 MB"),  # docker's %.3g prints 1e+03kB here
        (999_999, "1 MB"),
        (1_982_303, "1.98 MB"),
        (123_456_789_012, "123 GB"),
        (2**63 - 1, "9.22 EB"),
    ],
)
def test_sizes_are_si_with_three_digits_and_never_e_notation(size: int, shown: str) -> None:
    assert si_size(size) == shown


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (1_982_303, "1.98 MB (1,982,303 bytes)"),
        (47, "47 B"),
        (-1, "-1"),
        ("big", "big"),
        (1.5, "1.5"),
        (10**40, str(10**40)),
    ],
)
def test_the_image_size_shows_the_exact_bytes_or_what_the_daemon_sent(
    size: object, shown: str
) -> None:
    text = view(Image("x", json.dumps({"Id": "x", "Size": size}).encode(), history=b"[]"))
    assert f"  Size            {shown}\n" in text


@pytest.mark.parametrize(
    ("nanoseconds", "shown"),
    [
        (30_000_000_000, "30s"),
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (5_430_000_000_000, "1h30m30s"),
        (1_500_000_000, "1.5s"),
        (500_000_000, "500ms"),
        (1_000, "1µs"),
        (999, "999ns"),
        (-30_000_000_000, "-30s"),
        (0, None),  # not set: the daemon's default applies
        ("soon", "soon"),
    ],
)
def test_durations_read_as_go_prints_them(nanoseconds: object, shown: str | None) -> None:
    assert go_duration(nanoseconds) == shown


@given(st.integers(-(2**63), 2**63 - 1).filter(bool))
def test_the_view_prints_a_duration_as_the_templates_do(nanoseconds: int) -> None:
    assert go_duration(nanoseconds) == duration_string(Value(DURATION, nanoseconds))


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "about a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "about an hour"),
        (5400, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (14 * 86400, "2 weeks"),
        (60 * 86400, "2 months"),
        (729 * 86400, "24 months"),
        (730 * 86400, "2 years"),
    ],
)
def test_ages_read_as_docker_says_them(seconds: int, shown: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == shown


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["/bin/busybox"], "/bin/busybox"),
        (["sh", "-c", "echo 'hello world'"], "sh -c \"echo 'hello world'\""),
        (["echo", "a b"], "echo 'a b'"),
        (["x", ""], "x ''"),
        (["echo", "it's $HOME"], "echo 'it'\"'\"'s $HOME'"),
        (["printf", "a\x1bb"], "printf 'a\\x1bb'"),
    ],
)
def test_commands_are_shown_as_the_shell_line_they_make(args: list[str], shown: str) -> None:
    assert command_line(args).plain == shown


def test_the_created_time_is_local_iso_with_its_age() -> None:
    document = json.dumps({"Id": "x", "Created": "2026-11-28T10:00:00.123456789Z"}).encode()
    tokyo = timezone(timedelta(hours=9))
    text = render_view(
        [Image("x", document, history=b"[]")], width=80, color=False, now=NOW, tz=tokyo
    )
    assert "  Created         2026-11-28T19:00:00+09:00 (3 days ago)\n" in text


def test_a_created_time_in_the_future_says_so() -> None:
    document = json.dumps({"Id": "x", "Created": "2026-12-01T12:05:00Z"}).encode()
    assert "(5 minutes from now)" in view(Image("x", document, history=b"[]"))


# -- layers ---------------------------------------------------------------------------------


def test_a_layer_the_history_leaves_open_shows_what_its_possible_steps_agree_on() -> None:
    inspect = json.dumps({"Id": "x", "RootFS": {"Layers": ["sha256:" + "a" * 64] * 2}}).encode()
    history = [
        {"CreatedBy": "RUN true", "Size": 0, "Created": 1_700_000_000},
        {"CreatedBy": "COPY a /", "Size": 5_000, "Created": 1_700_000_000},
        {"CreatedBy": "RUN mkdir /x", "Size": 0, "Created": 1_700_000_060},
    ]
    text = view(Image("x", inspect, history=json.dumps(history[::-1]).encode()))
    assert "Note: the history does not say which steps made layers 1 and 2;" in text
    # Layer 1: RUN true (0 B) or COPY (5 kB), made at the same minute; layer 2: COPY or RUN.
    assert re.search(r"^  1  aaaaaaaaaaaa     -  2023-11-14 22:13$", text, re.M)
    assert re.search(r"^  2  aaaaaaaaaaaa     -  -$", text, re.M)
    assert text.count("one of these steps:") == 2


def test_a_layer_with_many_possible_steps_lists_ten_and_counts_the_rest() -> None:
    inspect = json.dumps({"Id": "x", "RootFS": {"Layers": ["sha256:" + "a" * 64]}}).encode()
    history = json.dumps([{"CreatedBy": f"RUN step {n}", "Size": 0} for n in range(14)][::-1])
    text = view(Image("x", inspect, history=history.encode()))
    assert [f"     - RUN step {n}" for n in range(10)] == re.findall(r"^     - .*$", text, re.M)
    assert "\n       and 4 more steps\n" in text


def test_a_history_too_long_to_pair_shows_the_layer_ids_with_a_note() -> None:
    inspect, _ = real("lab-tiny")
    history = json.dumps([{"CreatedBy": "RUN x", "Size": 0}] * (MAX_WORK // 2 + 1)).encode()
    text = view(Image("lab-tiny:1", inspect, history=history))
    assert (
        f"Note: the history ({MAX_WORK // 2 + 1} steps) is too long to pair with the 1 layer"
        in text
    )


def test_a_history_that_does_not_match_shows_the_layer_ids_with_a_note() -> None:
    inspect, _ = real("lab-full")
    text = view(Image("lab-full:2.4.1", inspect, history=b'[{"CreatedBy": "COPY x y", "Size": 1}]'))
    assert "Note: the history (1 step) does not match the 3 layers" in text
    assert re.findall(r"^  ([123])  [0-9a-f]{12}$", text, re.MULTILINE) == ["1", "2", "3"]


def test_layer_commands_are_wrapped_never_cut() -> None:
    long_command = "/bin/sh -c " + " && ".join(f"step-{n:03d}-{'x' * n}" for n in range(40))
    history = json.dumps([{"CreatedBy": long_command, "Size": 10, "Created": 1}]).encode()
    inspect = json.dumps({"Id": "x", "RootFS": {"Layers": ["sha256:" + "a" * 64]}}).encode()
    for width in (60, 80, 200):
        text = view(Image("x", inspect, history=history), width=width)
        assert "…" not in text
        assert re.sub(r"\s+", "", long_command) in re.sub(r"\s+", "", text)


# -- manifests ------------------------------------------------------------------------------


MANIFESTS = [
    {
        "ID": "sha256:" + "a1" * 32,
        "Descriptor": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + "a1" * 32,
            "size": 1234,
            "platform": {"architecture": "amd64", "os": "linux"},
        },
        "Available": True,
        "Size": {"Total": 2_345_678, "Content": 1_234_567},
        "Kind": "image",
        "ImageData": {
            "Platform": {"architecture": "amd64", "os": "linux"},
            "Containers": [],
            "Size": {"Unpacked": 5_678_901},
        },
    },
    {
        "ID": "sha256:" + "b2" * 32,
        "Descriptor": {"digest": "sha256:" + "b2" * 32, "size": 99},
        "Available": False,
        "Size": {"Total": 0, "Content": 0},
        "Kind": "image",
        "ImageData": {"Platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    },
    {"ID": "sha256:" + "c3" * 32, "Available": True, "Kind": "attestation", "Size": "odd"},
    "not an object",
]


def test_manifests_list_each_platform_whether_it_is_here_and_its_sizes() -> None:
    inspect, history = real("lab-full")
    document = json.loads(inspect)
    document["Manifests"] = MANIFESTS
    text = view(Image("lab-full:2.4.1", json.dumps(document).encode(), history=history), width=120)
    section = text.split("\nManifests\n", 1)[1].split("\n\n", 1)[0]
    lines = section.splitlines()
    assert lines[0].split() == [
        "linux/amd64",
        "available",
        "here,",
        "1.23",
        "MB",
        "content,",
        "2.35",
        "MB",
        "total,",
        "5.68",
        "MB",
        "unpacked,",
        "a1a1a1a1a1a1",
    ]
    assert lines[1].split()[:4] == ["linux/arm64/v8", "not", "here,", "0"]
    assert lines[2].split()[:4] == ["attestation", "attestation,", "available", "here,"]
    assert lines[3].split()[0] == "?"


def test_no_manifests_no_section() -> None:
    inspect, history = real("lab-full")
    assert "\nManifests\n" not in view(Image("lab-full:2.4.1", inspect, history=history))
