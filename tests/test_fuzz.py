"""Properties over generated input: nothing typed and nothing a daemon sends makes imginspect
crash, print an unsafe character on a terminal, or reach another API path.

- Reference parser: any text is an image reference or the usage error; what is accepted
  round-trips and names a path under /images/.
- Every renderer (the view, --json, --format) on any JSON in any field of an inspect answer
  (wrong types, nulls, huge strings, deep nesting, lone surrogates, invalid UTF-8): output, or
  the clean error the command turns into exit 3 (or 4 for a template) — never an exception.
- A few of those answers end to end: the real command against a fake daemon.

The renderers are called in-process, for speed. The budget is in tests/fuzzing.py.
"""

import contextlib
import copy
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.cli import main as cli
from inspector.errors import DaemonBadResponse, ExitCode, TemplateExecError, UsageError
from inspector.image import Image
from inspector.reference import parse_reference
from inspector.render.format import format_image, format_lines
from inspector.render.view import render_view
from inspector.sources.daemon.client import _check_shape
from inspector.template import Template, compile_template
from inspector.terminal import UNSAFE, escape_unsafe
from tests.fake_daemon import FakeDaemon, Response, history_path, inspect_path, ping
from tests.fuzzing import budget
from tests.helpers import EMPTY_ARRAY, NOW, SGR, assert_no_traceback, real, run_cli
from tests.json_arrays import compact_array, indented_array

# -- references -----------------------------------------------------------------------------

# Pieces of references, good and bad, put together in any order.
_REFERENCE_PIECES = st.sampled_from(
    [
        "a", "b0", "0", "nginx", ".", "_", "__", "-", "--", "/", "//", ":", "@", "latest",
        "V1.0", "sha256", "sha256:", "a" * 32, "f" * 64, "localhost", ":5000", "[::1]", "A",
        "..", "%2e", "%2F", "?", "#", " ", "\n", "\x00", "é", "+", "~", "\\", "a" * 128,
    ]
)  # fmt: skip
references = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="abz09._-/:@+%AZ[]#?~ \n", max_size=80),
    st.lists(_REFERENCE_PIECES, max_size=12).map("".join),
)
# A path may carry these, and nothing else: never a space, `?`, `#`, a backslash or a control.
_PATH_CHARACTERS = re.compile(r"[A-Za-z0-9._:@/+\-%]*")


@budget(400, 40_000)
@given(references)
def test_any_text_is_an_image_reference_or_the_usage_error(text: str) -> None:
    try:
        reference = parse_reference(text)
    except UsageError as exc:
        assert exc.exit_code == ExitCode.USAGE
        assert str(exc) and "\n" not in str(exc)
        return
    assert reference.text == text
    assert parse_reference(reference.text) == reference
    for path, leaf in ((reference.api_path, "/json"), (reference.history_api_path, "/history")):
        assert path.startswith("/images/")
        assert path.endswith(leaf)
        inner = path.removeprefix("/images/").removesuffix(leaf)
        assert unquote(inner) == text
        assert _PATH_CHARACTERS.fullmatch(inner)
        assert not {"", ".", ".."} & set(inner.split("/"))


@budget(60, 3_000)
@given(references)
def test_the_command_says_the_usage_error_or_asks_the_daemon(text: str) -> None:
    """In-process, with no daemon: a refused reference exits 2, an accepted one reaches for
    the daemon (3); never anything else, and never more than one line."""
    stderr = io.StringIO()
    host = "unix:///nonexistent/imginspect-fuzz.sock"
    with contextlib.redirect_stderr(stderr), _environment(DOCKER_HOST=host):
        code = cli.run(["--json", "--", text])
    try:
        parse_reference(text)
    except UsageError:
        assert code == ExitCode.USAGE
    else:
        assert code == ExitCode.SOURCE
    assert stderr.getvalue().count("\n") == 1, stderr.getvalue()
    assert stderr.getvalue().startswith("Error: ")
    assert UNSAFE.search(stderr.getvalue().rstrip("\n")) is None


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key in ("DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_API_VERSION", "IMGINSPECT_DEBUG"):
            patch.delenv(key, raising=False)
        for key, value in values.items():
            patch.setenv(key, value)
        yield


# -- answers from a daemon ------------------------------------------------------------------

BASE_INSPECT, BASE_HISTORY = real("lab-full")
BASE = json.loads(BASE_INSPECT)


def _field_paths(
    value: object, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _field_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _field_paths(item, (*prefix, index))


# Every field of a real answer (the whole answer included), and fields the view and the
# template schema know that this image does not have.
FIELD_PATHS = sorted(
    {
        *_field_paths(BASE),
        ("Config", "Healthcheck", "StartInterval"),
        ("Metadata", "LastTagTime"),
        ("Manifests",),
        ("Descriptor",),
        ("ContainerConfig",),
    },
    key=repr,
)

# Any character, lone surrogates and controls included.
_any_text = st.text(st.characters(exclude_categories=()), max_size=30)
_hostile_text = st.sampled_from(
    ["", "\x1b]0;x\x07", "\x1b[31m", "\u202e", "\u2028", "[link=http://x]y[/link]", "%!d(x)",
     "{{.}}", "\r\n", "\ud800", "\udcff", "\x00", "漢字", "😀", "0001-01-01T00:00:00Z",
     "2024-02-30T25:61:61Z", "sha256:" + "a" * 64, "-1", "1e400"]
)  # fmt: skip
_huge_text = st.builds(
    lambda piece, count: piece * count,
    st.sampled_from(["x", "é", "\x1b[31m", "\u202e", "漢", "a b ", "\n"]),
    st.integers(1, 20_000),
)
_numbers = st.one_of(
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 2**63, 2**64, 1e308, -0.0, 5e-324]),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _any_text, _hostile_text, _huge_text)
_keys = st.one_of(_hostile_text, _any_text, st.sampled_from(["Id", "Config", "Labels", "Test"]))
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=25,
)


class _Deep:
    """A placeholder for nesting deeper than Python's json module can write."""

    def __init__(self, depth: int, kind: str) -> None:
        self.depth, self.kind = depth, kind

    def text(self) -> str:
        if self.kind == "list":
            return "[" * self.depth + "1" + "]" * self.depth
        return '{"a":' * self.depth + "null" + "}" * self.depth


_deep = st.builds(_Deep, st.integers(50, 3_000), st.sampled_from(["list", "object"]))


def _put(document: Any, path: tuple[str | int, ...], value: object) -> Any:
    """document with value at path; a missing or mistyped step on the way becomes an object."""
    if not path:
        return value
    if not isinstance(document, dict | list):
        document = {}
    target = document
    for step in path[:-1]:
        if not _settable(target, step):
            return document
        child = target[step] if _has(target, step) else None
        if not isinstance(child, dict | list):
            child = {}
            target[step] = child
        target = child
    if _settable(target, path[-1]):
        target[path[-1]] = value
    return document


def _settable(container: object, step: str | int) -> bool:
    return isinstance(container, dict) or _has(container, step)


def _has(container: object, step: str | int) -> bool:
    if isinstance(container, dict):
        return step in container
    return isinstance(container, list) and isinstance(step, int) and step < len(container)


def _encode(document: object, ensure_ascii: bool) -> bytes:
    """JSON as a daemon might send it: lone surrogates escaped, or as invalid UTF-8."""
    deep: list[_Deep] = []

    def placeholder(value: object) -> object:
        if isinstance(value, _Deep):
            deep.append(value)
            return f"\x00deep{len(deep) - 1}\x00"
        raise TypeError

    text = json.dumps(document, ensure_ascii=ensure_ascii, default=placeholder)
    for index, nested in enumerate(deep):
        text = text.replace(json.dumps(f"\x00deep{index}\x00"), nested.text())
    return text.encode("utf-8", "surrogatepass")


@st.composite
def answers(draw: st.DrawFn, base: object = BASE, paths: list[Any] = FIELD_PATHS) -> bytes:
    """A real answer with one to three fields replaced by anything at all."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths) | st.sampled_from([(), *paths]))
        value = draw(st.one_of(json_values, _deep) if draw(st.booleans()) else _scalars)
        document = _put(document, path, value)
    return _encode(document, draw(st.booleans()))


BASE_STEPS = json.loads(BASE_HISTORY)
HISTORY_PATHS = sorted(set(_field_paths(BASE_STEPS)), key=repr)
histories = st.one_of(
    st.just(BASE_HISTORY),
    answers(BASE_STEPS, HISTORY_PATHS),
    st.sampled_from([b"", b"[", b"null", b"{}", b"[[[]]]"]),
)


@budget(150, 6_000)
@given(answers(), histories, st.integers(1, 1_200), st.booleans())
def test_the_view_shows_any_answer_and_nothing_unsafe(
    document: bytes, history: bytes, width: int, color: bool
) -> None:
    text = render_view(
        [Image("x:1", document, history=history)], width=width, color=color, now=NOW, tz=UTC
    )
    text.encode()  # no lone surrogate left
    plain = SGR.sub("", text)
    assert UNSAFE.search(plain.replace("\n", "")) is None
    assert plain.startswith("x:1")
    assert (SGR.search(text) is not None) is color


def _accepted(document: bytes) -> bool:
    """What the daemon client lets through to the renderers: a JSON object (else exit 3)."""
    try:
        _check_shape(document, dict, "the answer")
    except DaemonBadResponse:
        return False
    return True


@budget(200, 10_000)
@given(answers())
def test_json_output_is_the_answer_reindented(document: bytes) -> None:
    if not _accepted(document):
        return
    value = json.loads(document)
    for output in (indented_array([document]), compact_array([document])):
        assert output.endswith(b"\n")
        with contextlib.suppress(RecursionError):  # one level deeper than the answer
            assert json.loads(output) == [value]


TEMPLATES = [
    "{{.}}",
    "{{json .}}",
    "{{.Id}} {{.RepoTags}} {{.RepoDigests}} {{.Size}} {{.Created}} {{.Parent}}",
    "{{.Config}}",
    "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}",
    "{{json .Config.Env}} {{.Config.Cmd}} {{.Config.Entrypoint}} {{.Config.User}}",
    '{{index .Config.Labels "org.opencontainers.image.title"}}',
    "{{len .RootFS.Layers}} {{.RootFS.Type}} {{range .RootFS.Layers}}{{.}} {{end}}",
    "{{.Config.Healthcheck}} {{.GraphDriver.Data}} {{.GraphDriver.Name}}",
    "{{.Metadata.LastTagTime}} {{.Os}}/{{.Architecture}} {{.Variant}}",
    '{{printf "%v %q %x %d %s" .Id .Os .Size .Size .Config.ExposedPorts}}',
    '{{upper .Os}} {{split .Architecture "/"}} {{join .RepoTags ","}} {{title .Author}}',
    "{{if .Config.Volumes}}{{range $v, $_ := .Config.Volumes}}{{$v}} {{end}}{{end}}",
    "{{.ContainerConfig}} {{.Manifests}} {{.Descriptor}}",
    "{{with .Config.Healthcheck}}{{.Test}} {{.Interval}} {{.Retries}}{{end}}",
]
COMPILED = {text: compile_template(text) for text in TEMPLATES}


@budget(200, 10_000)
@given(answers(), st.sampled_from(TEMPLATES))
def test_format_renders_any_answer_or_fails_with_the_template_error(
    document: bytes, template: str
) -> None:
    if not _accepted(document):
        return
    compiled: Template = COMPILED[template]
    try:
        line = format_image(compiled, document)
    except TemplateExecError as exc:
        assert str(exc).startswith("template: ")
        return
    except DaemonBadResponse as exc:  # nested too deeply to format: exit 3
        assert "nested too deeply" in str(exc)
        return
    format_lines([line])  # what is printed when stdout is not a terminal
    shown = escape_unsafe(line, keep="\n\t")  # and when it is
    shown.encode()
    assert UNSAFE.search(shown.replace("\n", "").replace("\t", "")) is None


# -- end to end -----------------------------------------------------------------------------

FORMS = [[], ["--json"], ["-f", "json"], ["-f", TEMPLATES[2]], ["-f", "{{.}}"]]


@budget(12, 300)
@given(answers(), st.sampled_from(FORMS))
def test_the_command_on_any_answer_prints_it_or_says_why_in_one_line(
    document: bytes, form: list[str]
) -> None:
    routes = {
        "/_ping": ping(),
        inspect_path("a"): Response(200, document),
        history_path("a"): Response(200, BASE_HISTORY),
    }
    with FakeDaemon(routes) as fake:
        run = run_cli(*form, "a", host=fake.docker_host)
    assert_no_traceback(run)
    assert run.code in (ExitCode.OK, ExitCode.SOURCE, ExitCode.TEMPLATE), run.stderr
    if run.code == ExitCode.OK:
        assert run.stderr == ""
    else:
        assert run.stderr.count("\n") == 1 and run.stderr.startswith("Error: "), run.stderr
    if form == ["--json"]:
        assert run.stdout == EMPTY_ARRAY if run.code else len(json.loads(run.stdout)) == 1
