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
        ('{{range 1000000000000}}{{""}}{{end}}', "template too expensive"),
        ("{{range 100000000}}xxxxxxxxxx{{end}}", "output too large"),
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


def test_calls_cost_more_steps_than_printing(monkeypatch: pytest.MonkeyPatch) -> None:
    # The bodies read dot, so that each iteration runs in full.
    monkeypatch.setattr(evaluate, "MAX_STEPS", 1000)
    assert compile_template("{{range 70}}{{.}}{{end}}").execute(from_json(None))[-2:] == "69"
    with pytest.raises(TemplateLimitError, match="more than 1000 steps"):
        compile_template('{{range 40}}{{printf "%d" .}}{{end}}').execute(from_json(None))


@pytest.mark.parametrize(
    ("template", "each"),
    [
        ('{{range .VirtualSize}}{{""}}{{end}}', ""),
        ('{{range .Size}}{{"a"}}{{end}}', "a"),
        ('{{range $i := .Size}}{{if eq 1 1}}{{printf "%s" "ab"}}{{end}}{{end}}', "ab"),
    ],
)
def test_a_range_with_a_constant_body_over_the_size_of_a_2_mb_image_fits(
    template: str, each: str
) -> None:
    document = b'{"Size": 1982303, "VirtualSize": 1982303}'
    assert format_image(compile_template(template), document) == each * 1982303


@pytest.mark.parametrize(
    ("template", "fits"),
    [
        ('{{range 900}}{{""}}{{end}}', True),
        ('{{range 1000}}{{""}}{{end}}', False),
        ('{{range 1000000000000}}{{""}}{{end}}', False),
        ("{{range 300}}{{range 2}}{{end}}{{end}}", True),  # 900 iterations
        ("{{range 400}}{{range 2}}{{end}}{{end}}", False),  # 1200
        ("{{range 2}}" * 10 + "{{end}}" * 10, False),  # 2046
    ],
)
def test_each_repeated_iteration_of_a_constant_body_still_costs_a_step(
    monkeypatch: pytest.MonkeyPatch, template: str, fits: bool
) -> None:
    monkeypatch.setattr(evaluate, "MAX_STEPS", 1000)
    compiled = compile_template(template)
    if fits:
        assert compiled.execute(from_json(None)) == ""
    else:
        with pytest.raises(TemplateLimitError, match="more than 1000 steps"):
            compiled.execute(from_json(None))


@pytest.mark.parametrize(
    "template",
    [
        *[f"{{{{range {n}}}}}ab{{{{end}}}}" for n in (49, 50, 51, 10**12)],
        *[f'{{{{range {n}}}}}{{{{"abc"}}}}{{{{end}}}}' for n in (33, 34)],
        '{{range 3}}{{range 20}}{{print "ab"}}{{end}}{{end}}',
        '{{range 2}}{{range 20}}{{print "ab"}}{{end}}{{end}}',
        "12345{{range 1000}}{{printf `%100s` `x`}}{{end}}",
    ],
)
def test_a_repeated_body_stops_at_the_output_limit_where_running_it_would(
    monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    monkeypatch.setattr(evaluate, "MAX_OUTPUT", 100)

    def result() -> str:
        try:
            return compile_template(template).execute(from_json(None))
        except TemplateLimitError as exc:
            return str(exc)

    repeated = result()
    monkeypatch.setattr(evaluate, "is_constant_list", lambda node, known: False)
    assert repeated == result()


# The deepest templates the limits allow, run from a deep call stack: no RecursionError.
DEEPEST = [
    ("{{" + "print (" * (MAX_NESTING - 1) + "1" + ")" * (MAX_NESTING - 1) + "}}", None),
    ("{{" + "len (index (" * 49 + ". 0" + "))" * 49 + "}}", [["x"]]),
    ("{{if 1}}" * (MAX_NESTING - 1) + "{{json .}}" + "{{end}}" * (MAX_NESTING - 1), "deep"),
    ("{{range .}}" * (MAX_NESTING - 1) + "{{.}}" + "{{end}}" * (MAX_NESTING - 1), "deep"),
    ("{{if 1}}" * (MAX_NESTING - 1) + "{{eq . .}}" + "{{end}}" * (MAX_NESTING - 1), "deep"),
    ("{{range 2}}" * (MAX_NESTING - 1) + "{{if 1}}x{{end}}" + "{{end}}" * (MAX_NESTING - 1), None),
    (
        "{{range 2}}{{"
        + "print (" * (MAX_NESTING - 2)
        + "1"
        + ")" * (MAX_NESTING - 2)
        + "}}{{end}}",
        None,
    ),
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
