"""No template hangs, exhausts memory or overflows Python's stack: each limit is a clean error."""

import contextlib
import sys
import tracemalloc
from collections.abc import Callable

import pytest

from inspector.errors import TemplateExecError, TemplateLimitError, TemplateSyntaxError
from inspector.render.format import format_image
from inspector.template import compile_template, evaluate
from inspector.template.evaluate import MAX_OUTPUT
from inspector.template.parser import MAX_NESTING, MAX_TEMPLATE_SIZE
from inspector.template.values import UINT64, JsonNumber, Value, from_json


def _nested_list(depth: int) -> Value:
    document: list[object] = []
    for _ in range(depth):
        document = [document]
    return from_json(document)


@pytest.mark.parametrize(
    "template",
    [
        "{{" + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1) + "}}",
        "{{if 1}}" * (MAX_NESTING + 1) + "{{end}}" * (MAX_NESTING + 1),
        "{{" + "(" * 20000 + "1" + ")" * 20000 + "}}",
        "{{range .}}" * 5000 + "{{end}}" * 5000,
    ],
)
def test_nesting_deeper_than_the_limit_is_a_syntax_error(template: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="max nesting depth exceeded"):
        compile_template(template)


def test_template_text_larger_than_the_limit_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="template too large"):
        compile_template("x" * (MAX_TEMPLATE_SIZE + 1))


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}', "maximum template depth"),
        ("{{range 1000000000000}}{{end}}", "template too expensive"),
        ("{{range 1000000000000}}{{printf `%100000s` `x`}}{{end}}", "output too large"),
        ("{{range 100000000}}{{printf `%100s` `x`}}{{end}}", "output too large"),
        ('{{$x := "ab"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}', "result too large"),
        ('{{pad "x" 100000000 0}}', "result too large"),
        ('{{printf "' + "%1000000d" * 20 + '" ' + "1 " * 20 + "}}", "result too large"),
        ("{{.}}", "nested too deeply"),
        ("{{json .}}", "nested too deeply"),
    ],
)
def test_runaway_execution_stops_with_a_limit_error(template: str, message: str) -> None:
    with pytest.raises(TemplateLimitError, match=message):
        compile_template(template).execute(_nested_list(150))


@pytest.mark.parametrize(
    "template",
    ["{{.Size.Nope}}", "{{index .RepoTags 5}}", "{{range .Size}}{{end}}", '{{template "x"}}'],
)
def test_errors_about_the_value_are_not_limit_errors(template: str) -> None:
    with pytest.raises(TemplateExecError) as caught:
        compile_template(template).execute(from_json({"RepoTags": [], "Size": "x"}))
    assert not isinstance(caught.value, TemplateLimitError)


def test_a_limit_hit_by_the_typed_run_is_reported_without_the_raw_run() -> None:
    # The raw run would say `range can't iterate over 100000000` (a json.Number): not the
    # reason, and not what docker (which has no limit) does.
    with pytest.raises(TemplateLimitError, match="template too expensive"):
        format_image(compile_template("{{range .Size}}x{{end}}"), b'{"Size": 100000000}')


def test_a_range_over_the_size_of_a_2_mb_image_fits_in_the_step_limit() -> None:
    line = format_image(compile_template("{{range .Size}}x{{end}}"), b'{"Size": 1982256}')
    assert line == "x" * 1982256


@pytest.mark.parametrize(
    ("template", "dot"),
    [
        ("{{range 1000000000000}}x{{end}}", from_json(None)),
        ("{{range $i := .}}{{$i}}{{end}}", Value(UINT64, 2**64 - 1)),
    ],
)
def test_a_huge_range_stops_at_the_step_limit_without_building_its_values(
    monkeypatch: pytest.MonkeyPatch, template: str, dot: Value
) -> None:
    monkeypatch.setattr(evaluate, "MAX_STEPS", 10_000)
    compiled = compile_template(template)
    tracemalloc.start()
    try:
        with pytest.raises(TemplateLimitError, match="more than 10000 steps"):
            compiled.execute(dot)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # bytes: a few thousand iterations' output, not the whole count


def test_calls_cost_more_steps_than_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "MAX_STEPS", 1000)
    assert compile_template("{{range 300}}x{{end}}").execute(from_json(None)) == "x" * 300
    with pytest.raises(TemplateLimitError, match="more than 1000 steps"):
        compile_template('{{range 40}}{{printf "%d" 1}}{{end}}').execute(from_json(None))


# The deepest templates the limits allow, run from a deep call stack: no RecursionError.
DEEPEST = [
    ("{{" + "print (" * (MAX_NESTING - 1) + "1" + ")" * (MAX_NESTING - 1) + "}}", None),
    ("{{" + "len (index (" * 49 + ". 0" + "))" * 49 + "}}", [["x"]]),
    ("{{if 1}}" * (MAX_NESTING - 1) + "{{json .}}" + "{{end}}" * (MAX_NESTING - 1), "deep"),
    ("{{range .}}" * (MAX_NESTING - 1) + "{{.}}" + "{{end}}" * (MAX_NESTING - 1), "deep"),
    ("{{if 1}}" * (MAX_NESTING - 1) + "{{eq . .}}" + "{{end}}" * (MAX_NESTING - 1), "deep"),
    (
        '{{define "a"}}{{if 1}}{{with .}}{{template "a" (print (print .))}}{{end}}{{end}}'
        '{{end}}{{template "a" .}}',
        "deep",
    ),
]


def _at_depth(frames: int, call: Callable[[], None]) -> None:
    if frames:
        _at_depth(frames - 1, call)
    else:
        call()


@pytest.mark.parametrize(("template", "document"), DEEPEST)
def test_deepest_templates_fit_in_pythons_stack(template: str, document: object) -> None:
    dot = _nested_list(99) if document == "deep" else from_json(document)

    def run() -> None:
        with contextlib.suppress(TemplateExecError):
            compile_template(template).execute(dot)

    spare = sys.getrecursionlimit() - 600  # what the engine may use, at most
    _at_depth(spare - 50, run)


def test_output_limit_is_16_mib() -> None:
    assert MAX_OUTPUT == 16 << 20
    big = from_json("x" * (MAX_OUTPUT // 2))
    assert len(compile_template("{{.}}{{.}}").execute(big)) == MAX_OUTPUT
    with pytest.raises(TemplateExecError, match="output too large"):
        compile_template("{{.}}{{.}}{{.}}").execute(big)


def test_numbers_keep_their_json_text() -> None:
    assert compile_template("{{.}}").execute(from_json(JsonNumber("1.50e3"))) == "1.50e3"
