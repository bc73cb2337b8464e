"""What the view makes of a daemon's strings: escaped, so that none can act on a terminal
or be read as another value, and never taken as markup; colour changes only the look; no
value of any field and no history answer breaks the view; and the test dockerd's hostile
image."""

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.image import Image
from tests.daemon_fixture import HOSTILE_ENV_VALUE, HOSTILE_LABELS, DockerDaemon
from tests.helpers import SGR, real, run_in_env, view, view_env

# Nothing from the daemon may put these on the terminal (newlines are the view's own).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def shown_label(value: str, *, color: bool = False) -> str:
    """How the view shows one label value, on one line (colours taken off)."""
    inspect = json.dumps({"Id": "x", "Config": {"Labels": {"k": value}}}).encode()
    text = SGR.sub("", view(Image("x", inspect, history=b"[]"), width=1000, color=color))
    [line] = [line for line in text.splitlines() if line.startswith("  k  ")]
    return line.removeprefix("  k  ")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a\\tb", "a\\\\tb"),  # a backslash and a t: not a tab
        ("a\tb", "a\\tb"),
        ("a\\nb \\x1b \\u202e \\U0001f600", "a\\\\nb \\\\x1b \\\\u202e \\\\U0001f600"),
        ("a\nb \x1b \u202e", "a\\nb \\x1b \\u202e"),
        ("\\\\", "\\\\\\"),  # the first backslash could start `\\`, the last cannot
        ("\\\x07", "\\\\\\x07"),  # a backslash, then BEL
        ("C:\\Program Files\\app", "C:\\Program Files\\app"),  # nothing to misread
        ("sed 's/\\s\\+$//'", "sed 's/\\s\\+$//'"),
        ("end\\\\", "end\\\\\\"),
    ],
)
def test_escapes_cannot_be_mistaken_for_the_daemons_backslashes(value: str, shown: str) -> None:
    assert shown_label(value) == shown_label(value, color=True) == shown


_ESCAPE = re.compile(r"\\(\\|n|r|t|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")
_UNESCAPED = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def unescape(shown: str) -> str:
    """What the view's escapes stand for; a backslash that starts none is itself."""
    return _ESCAPE.sub(
        lambda m: _UNESCAPED.get(m[1]) or chr(int(m[1][1:], 16)),
        shown,
    )


@given(st.text(alphabet=st.sampled_from("ab \\ntxuU0123456789f\t\n\x1b\u202e\x85é")))
def test_what_the_view_shows_stands_for_exactly_one_value(value: str) -> None:
    assert unescape(shown_label(value + ".")) == value + "."


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("width", [60, 80, 200])
def test_hostile_strings_are_shown_escaped_and_never_as_markup(color: bool, width: int) -> None:
    inspect, history = real("lab-hostile")
    text = view(Image("lab-hostile:1", inspect, history=history), width=width, color=color)
    plain = SGR.sub("", text)
    assert "\x1b" not in plain
    assert UNSAFE.search(plain) is None
    for shown in ("\\x1b]0;pwned\\x07", "[link=http://evil]x[/link]", "\\x1b[31mred", "héllo"):
        assert shown in plain
    assert "\\u2028 \\u202e" in plain
    assert "\x1b]8;" not in text  # no hyperlink was made of the markup


def test_colour_changes_only_the_look() -> None:
    inspect, history = real("lab-full")
    image = Image("lab-full:2.4.1", inspect, history=history)
    for width in (60, 80, 200):
        colored = view(image, width=width, color=True)
        assert SGR.search(colored)
        assert SGR.sub("", colored) == view(image, width=width)


# Every field the view reads, and values that a daemon that is not to be trusted could send.
FIELDS = (
    ("Id",),
    ("RepoTags",),
    ("RepoDigests",),
    ("Parent",),
    ("Comment",),
    ("Created",),
    ("DockerVersion",),
    ("Author",),
    ("Architecture",),
    ("Variant",),
    ("Os",),
    ("OsVersion",),
    ("Size",),
    ("Config",),
    ("Config", "User"),
    ("Config", "Env"),
    ("Config", "Cmd"),
    ("Config", "Entrypoint"),
    ("Config", "ExposedPorts"),
    ("Config", "Volumes"),
    ("Config", "WorkingDir"),
    ("Config", "Labels"),
    ("Config", "StopSignal"),
    ("Config", "Shell"),
    ("Config", "OnBuild"),
    ("Config", "Healthcheck"),
    ("Config", "Healthcheck", "Test"),
    ("Config", "Healthcheck", "Interval"),
    ("Config", "Healthcheck", "Retries"),
    ("GraphDriver",),
    ("GraphDriver", "Data"),
    ("RootFS",),
    ("RootFS", "Layers"),
)
ODD_VALUES: tuple[object, ...] = (
    None,
    True,
    0,
    -7,
    1.5,
    float("nan"),
    10**30,
    "",
    "\x1b]0;x\x07\u202e\ud800",
    [],
    [None, 1, {"a": "\x9b"}],
    {},
    {"k": [1, "\x1b"]},
)


def _set(document: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(document))
    target = changed
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target.get(key), dict) else {}
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("path", FIELDS, ids=".".join)
def test_no_value_of_any_field_breaks_the_view(path: tuple[str, ...]) -> None:
    inspect, history = real("lab-full")
    document = json.loads(inspect)
    for value in ODD_VALUES:
        changed = json.dumps(_set(document, path, value)).encode()
        text = view(Image("lab-full:2.4.1", changed, history=history), width=60)
        assert UNSAFE.search(text) is None, (path, value)
        text.encode()  # a lone surrogate would fail here
        assert text.startswith("lab-full:2.4.1 ─")


@pytest.mark.parametrize(
    "history",
    [
        b"[]",
        b"{}",
        b"null",
        b"not json",
        b'[1, null, "x", []]',
        json.dumps([{"Created": v, "CreatedBy": v, "Size": v} for v in ODD_VALUES]).encode(),
    ],
)
def test_no_history_answer_breaks_the_view(history: bytes) -> None:
    inspect, _ = real("lab-full")
    text = view(Image("lab-full:2.4.1", inspect, history=history))
    assert UNSAFE.search(text) is None
    assert "Layers\n" in text


@pytest.mark.parametrize("document", [b"{}", b"null", b"[]", b'"x"', b"{", b""])
def test_a_document_with_nothing_usable_still_gets_its_block(document: bytes) -> None:
    text = view(Image("app:1", document, history=b"[]"))
    assert text.startswith("app:1 ─")
    assert "  User            root (no user set)\n" in text


# -- against the test dockerd ---------------------------------------------------------------


# The fixture's hostile values (tests/daemon_fixture.py) as the view must show them.
HOSTILE_SHOWN = {
    "evil.esc": "\\x1b]0;pwned\\x07",
    "evil.markup": "[link=http://evil]x[/link]",
    "evil.unicode": "héllo ☃ 漢字 \\u2028 \\u202e",
    "evil.quote": '"q" \\ back',
    "evil.html": "<script>&amp;</script>",
}
HOSTILE_ENV_SHOWN = "\\x1b[31mred"


def test_the_hostile_fixture_has_the_values_the_view_test_expects() -> None:
    assert set(HOSTILE_SHOWN) == set(HOSTILE_LABELS)
    assert HOSTILE_ENV_VALUE == "\x1b[31mred"


@pytest.mark.parametrize("color", ["never", "always"])
@pytest.mark.parametrize("columns", ["60", "80", "200"])
def test_hostile_labels_and_env_cannot_act_on_the_terminal(
    docker_daemon: DockerDaemon, color: str, columns: str
) -> None:
    env = view_env({"COLUMNS": columns}, host=docker_daemon.host)
    result = run_in_env("--color", color, docker_daemon.images.hostile, env=env)
    assert (result.code, result.stderr) == (0, "")
    raw = result.stdout.decode()
    text = SGR.sub("", raw)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert UNSAFE.search(text) is None
    flat = re.sub(r"\s+", "", text)
    for shown in (*HOSTILE_SHOWN.values(), HOSTILE_ENV_SHOWN):
        assert re.sub(r"\s+", "", shown) in flat, shown
    assert (SGR.search(raw) is not None) is (color == "always")
