"""time.Time and time.Duration methods in -f templates, as docker CLI 28 prints them.

The expected values below were printed by `docker image inspect -f` (CLI 28.2) for a time
of 2026-11-27T09:49:52.009540522Z and a 30s healthcheck interval; the differential tests
(test_format_differential, and below against a fake daemon) compare with docker itself.
"""

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.render.format import format_image
from inspector.template import compile_template
from inspector.template.gotime import parse_rfc3339
from tests.fake_daemon import FakeDaemon, Request, Response, json_response, ping

REPO = Path(__file__).resolve().parent.parent
LAST_TAG_TIME = "2026-11-27T09:49:52.009540522Z"
IMAGE = {
    "Id": "sha256:" + "a" * 64,
    "Config": {"Healthcheck": {"Test": ["CMD", "true"], "Interval": 30_000_000_000}},
    "Metadata": {"LastTagTime": LAST_TAG_TIME},
}
T = ".Metadata.LastTagTime"
D = ".Config.Healthcheck.Interval"


def run(template: str, image: object = None) -> str:
    document = json.dumps(IMAGE if image is None else image).encode()
    return format_image(compile_template(template), document)


@pytest.fixture(autouse=True)
def _utc_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")


@pytest.mark.parametrize(
    ("template", "printed"),
    [
        (f'{{{{{T}.Format "2006-01-02"}}}}', "2026-11-27"),
        (
            f'{{{{{T}.Format "Mon Jan _2 15:04:05 MST 2006 .000 ,999 pm PM -07:00 Z07 __2 002 06 '
            f'1 2 3 4 5 January Monday"}}}}',
            "Fri Nov 27 09:49:52 UTC 2026 .009 ,009 am AM +00:00 Z 331 331 26 11 27 9 49 52 "
            "November Friday",
        ),
        (
            f'{{{{{T}.Format "Janx Monx Jan2 MonDay _2006 .0000000000 .9x .09 ..999 0102 '
            f'03:04:05PM"}}}}',
            "Janx Monx Nov27 FriDay _2026 .009540522 x .09 ..009 1127 09:49:52AM",
        ),
        (f'{{{{{T}.Format ""}}}}|', "|"),
        (
            f"{{{{{T}.Year}}}} {{{{{T}.Month}}}} {{{{{T}.Day}}}} {{{{{T}.Hour}}}} "
            f"{{{{{T}.Minute}}}} {{{{{T}.Second}}}} {{{{{T}.Nanosecond}}}} {{{{{T}.YearDay}}}} "
            f"{{{{{T}.Weekday}}}}",
            "2026 November 27 9 49 52 9540522 331 Friday",
        ),
        (
            f'{{{{printf "%d %v %T %T" {T}.Month {T}.Month {T}.Month {T}.Weekday}}}}',
            "11 November time.Month time.Weekday",
        ),
        (f"{{{{json {T}.Month}}}} {{{{eq {T}.Month 11}}}}", "11 true"),
        (
            f"{{{{{T}.Unix}}}} {{{{{T}.UnixMilli}}}} {{{{{T}.UnixMicro}}}} {{{{{T}.UnixNano}}}}",
            "1795772992 1795772992009 1795772992009540 1795772992009540522",
        ),
        (f"{{{{{T}.IsZero}}}} {{{{{T}.IsDST}}}}", "false false"),
        (f"{{{{{T}.UTC}}}}", "2026-11-27 09:49:52.009540522 +0000 UTC"),
        (f"{{{{{T}.Local}}}}", "2026-11-27 09:49:52.009540522 +0000 UTC"),
        (f"{{{{{T}.Location}}}} {{{{json {T}.Location}}}}", "UTC {}"),
        (
            f"{{{{{T}.GoString}}}}",
            "time.Date(2026, time.November, 27, 9, 49, 52, 9540522, time.UTC)",
        ),
        (
            f'{{{{printf "%#v" {T}}}}}',
            "time.Date(2026, time.November, 27, 9, 49, 52, 9540522, time.UTC)",
        ),
        (
            f'{{{{printf "%s|%T" {T}.MarshalJSON {T}.MarshalJSON}}}}',
            '"2026-11-27T09:49:52.009540522Z"|[]uint8',
        ),
        (f"{{{{json {T}.MarshalJSON}}}}", '"IjIwMjYtMTEtMjdUMDk6NDk6NTIuMDA5NTQwNTIyWiI="'),
        (
            f"{{{{{T}.Before {T}}}}} {{{{{T}.After {T}}}}} {{{{{T}.Equal {T}}}}} "
            f"{{{{{T}.Compare {T}}}}}",
            "false false true 0",
        ),
        (f"{{{{{T}.Add 3600000000000}}}}", "2026-11-27 10:49:52.009540522 +0000 UTC"),
        (f"{{{{{T}.Add {D}}}}}", "2026-11-27 09:50:22.009540522 +0000 UTC"),
        (f"{{{{{T}.Sub {T}}}}} {{{{{T}.Sub ({T}.Add 1500)}}}}", "0s -1.5µs"),
        (f"{{{{{T}.Sub ({T}.AddDate -400 0 0)}}}}", "2562047h47m16.854775807s"),
        (f"{{{{{T}.Truncate 3600000000000}}}}", "2026-11-27 09:00:00 +0000 UTC"),
        (f"{{{{{T}.Round 3600000000000}}}}", "2026-11-27 10:00:00 +0000 UTC"),
        (f"{{{{{T}.AddDate 0 1 5}}}}", "2027-01-01 09:49:52.009540522 +0000 UTC"),
        (
            f"{{{{{D}.Seconds}}}} {{{{{D}.Minutes}}}} {{{{{D}.Hours}}}}",
            "30 0.5 0.008333333333333333",
        ),
        (f'{{{{printf "%v %T" {D}.Seconds {D}.Seconds}}}}', "30 float64"),
        (
            f"{{{{{D}.Milliseconds}}}} {{{{{D}.Microseconds}}}} {{{{{D}.Nanoseconds}}}}",
            "30000 30000000 30000000000",
        ),
        (
            f"{{{{{D}.Round 7000000000}}}} {{{{{D}.Truncate 7000000000}}}} {{{{{D}.Abs}}}} "
            f"{{{{{D}.Round 0}}}} {{{{{D}.Truncate -5}}}} {{{{{D}.String}}}}",
            "28s 28s 30s 30s 30s 30s",
        ),
        (f'{{{{printf "%#v|%+v|%d" {D} {D} {D}}}}}', "30000000000|30s|30000000000"),
    ],
)
def test_time_and_duration_methods_print_what_docker_prints(template: str, printed: str) -> None:
    assert run(template) == printed


@pytest.mark.parametrize(
    ("tz", "printed"),
    [
        ("Europe/Berlin", "2026-11-27 10:49:52.009540522 +0100 CET Europe/Berlin"),
        ("America/New_York", "2026-11-27 04:49:52.009540522 -0500 EST America/New_York"),
        (":UTC", "2026-11-27 09:49:52.009540522 +0000 UTC UTC"),
        ("", "2026-11-27 09:49:52.009540522 +0000 UTC UTC"),
        ("JST-9", "2026-11-27 09:49:52.009540522 +0000 UTC UTC"),  # Go reads no POSIX rules
        ("Nope/Zone", "2026-11-27 09:49:52.009540522 +0000 UTC UTC"),
    ],
)
def test_local_is_gos_reading_of_tz(monkeypatch: pytest.MonkeyPatch, tz: str, printed: str) -> None:
    monkeypatch.setenv("TZ", tz)
    assert run(f"{{{{{T}.Local}}}} {{{{{T}.Local.Location}}}}") == printed


@pytest.mark.parametrize(
    ("rfc3339", "tz", "printed"),
    [
        ("2026-01-02T03:04:05.1+01:30", "UTC", "2026-01-02 03:04:05.1 +0130 +0130"),
        ("2026-01-02T03:04:05+01:00", "Europe/Berlin", "2026-01-02 03:04:05 +0100 CET"),
        ("2026-07-02T03:04:05+01:00", "Europe/Berlin", "2026-07-02 03:04:05 +0100 +0100"),
        ("2026-01-02T03:04:05+00:00", "UTC", "2026-01-02 03:04:05 +0000 UTC"),
        ("2026-01-02T03:04:05+00:00", "Europe/Berlin", "2026-01-02 03:04:05 +0000 +0000"),
        ("2026-01-02T03:04:05+24:60", "UTC", "2026-01-02 03:04:05 +2500 +2500"),
        ("2026-01-02T03:04:05.1234567899Z", "UTC", "2026-01-02 03:04:05.123456789 +0000 UTC"),
        ("0001-01-01T00:00:00Z", "America/New_York", "0000-12-31 19:03:58 -0456 LMT"),
    ],
)
def test_a_parsed_offset_is_local_when_local_has_it(
    monkeypatch: pytest.MonkeyPatch, rfc3339: str, tz: str, printed: str
) -> None:
    monkeypatch.setenv("TZ", tz)
    image = {"Metadata": {"LastTagTime": rfc3339}}
    template = f"{{{{{T}}}}}" if rfc3339[:4] != "0001" else f"{{{{{T}.Local}}}}"
    assert run(template, image) == printed


@pytest.mark.parametrize(
    "rfc3339",
    [
        "2026-01-02t03:04:05Z",
        "2026-01-02T03:04:05z",
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-01-02T24:00:00Z",
        "2026-01-02T03:04:60Z",
        "2026-01-02T03:04:05+25:00",
        "2026-01-02T03:04:05+00:61",
        "2026-01-02T03:04:05.Z",
        "2026-01-02T03:04:05",
    ],
)
def test_a_time_docker_refuses_is_left_to_the_raw_run(rfc3339: str) -> None:
    with pytest.raises(ValueError, match="parsing time"):
        parse_rfc3339(rfc3339)
    assert run(f"{{{{{T}}}}}", {"Metadata": {"LastTagTime": rfc3339}}) == rfc3339


def test_years_outside_what_python_dates_hold_still_print() -> None:
    template = (
        f'{{{{({T}.AddDate -2027 0 0).Format "2006-01-02 06 .000000000"}}}} '
        f"{{{{({T}.AddDate 10000 0 0).Year}}}} {{{{{T}.AddDate -2027 0 0}}}}"
    )
    assert run(template) == (
        "-0001-11-27 01 .009540522 12026 -0001-11-27 09:49:52.009540522 +0000 UTC"
    )


# -- against docker, over a fake daemon's made-up times ---------------------------------------

TIMES = [
    LAST_TAG_TIME,
    "0001-01-01T00:00:00Z",
    "2026-07-02T03:04:05+02:00",
    "2026-01-02T03:04:05.1+01:30",
    "2026-01-02T03:04:05+00:00",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999Z",
    "1969-12-31T23:59:59.5Z",
    "2262-04-11T23:47:16.854775808Z",
    "2026-03-29T02:30:00+01:00",
    "2026-01-02T03:04:05+24:00",
    "2026-01-02t03:04:05Z",
]
TEMPLATE = (
    f"{{{{{T}}}}}|{{{{{T}.Local}}}}|{{{{{T}.UTC}}}}|{{{{{T}.Location}}}}|{{{{{T}.GoString}}}}|"
    f"{{{{json {T}}}}}|{{{{{T}.Format "
    '"Mon Jan _2 15:04:05.000 MST 2006 -07:00:00 Z07:00 __2 3PM"'
    f"}}}}|{{{{{T}.AddDate 0 6 0}}}}|{{{{{T}.Add 15552000000000000}}}}|{{{{{T}.YearDay}}}}|"
    f"{{{{{T}.Weekday}}}}|{{{{{T}.IsZero}}}}|{{{{{T}.UnixNano}}}}|{{{{{T}.IsDST}}}}|"
    f"{{{{{T}.Truncate 3600000000000}}}}|{{{{{T}.Round 86400000000000}}}}|"
    f"{{{{{T}.Sub {T}.UTC}}}}|{{{{{T}.Local.MarshalJSON}}}}"
)
TZS = ["", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]


def _image_with_the_time_in_its_name(request: Request) -> Response:
    name = request.path.split("?")[0].split("/images/", 1)[-1].removesuffix("/json")
    if not name.startswith("t") or not name[1:].isdigit():
        return json_response({"message": "page not found"}, status=404)
    return json_response({**IMAGE, "Metadata": {"LastTagTime": TIMES[int(name[1:])]}})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeDaemon]:
    with FakeDaemon({"/_ping": ping("1.41")}, default=_image_with_the_time_in_its_name) as daemon:
        yield daemon


@pytest.mark.parametrize("tz", TZS)
def test_time_methods_match_docker_in_every_time_zone(
    docker_cli: str, fake: FakeDaemon, tz: str
) -> None:
    images = [f"t{i}" for i in range(len(TIMES))]
    with tempfile.TemporaryDirectory(prefix="imgi-config-") as config_dir:
        env = {"PATH": "/usr/bin:/bin", "TZ": tz, "DOCKER_CONFIG": config_dir}
        env["DOCKER_HOST"] = fake.docker_host
        for image in images:  # one at a time: docker drops every image when one fails to decode
            expected = subprocess.run(
                [docker_cli, "image", "inspect", "-f", TEMPLATE, image],
                env=env,
                capture_output=True,
                timeout=60,
                check=False,
            )
            got = subprocess.run(
                [sys.executable, "-m", "inspector", "-f", TEMPLATE, image],
                env=env,
                capture_output=True,
                timeout=60,
                cwd=REPO,
                check=False,
            )
            if expected.returncode == 0:
                assert (got.returncode, got.stdout) == (0, expected.stdout), image
            else:  # docker refuses a time Go cannot parse; imginspect's raw run fails too
                assert got.returncode != 0, image
