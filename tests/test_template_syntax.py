"""The lexer's tokens and the parser's tree, printed back as Go's parse nodes print themselves."""

import pytest

from inspector.template.functions import is_function
from inspector.template.lexer import Lexer, T
from inspector.template.parser import parse, parse_go_float, parse_go_int, unquote

# The token types' names, for readable tables.
NAMES = {value: name for name, value in vars(T).items() if name.isupper()}


def tokens(text: str) -> list[tuple[str, str]]:
    lexer = Lexer(text)
    out = []
    while True:
        token = lexer.next_token()
        out.append((NAMES[token.typ], token.val))
        if token.typ in (T.EOF, T.ERROR):
            return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a{{.X}}b", [("TEXT", "a"), ("LEFT_DELIM", "{{"), ("FIELD", ".X"),
                      ("RIGHT_DELIM", "}}"), ("TEXT", "b"), ("EOF", "")]),
        ("x  {{- 3 -}}  y", [("TEXT", "x"), ("LEFT_DELIM", "{{"), ("NUMBER", "3"),
                             ("RIGHT_DELIM", "}}"), ("TEXT", "y"), ("EOF", "")]),
        ("{{-3}}", [("LEFT_DELIM", "{{"), ("NUMBER", "-3"), ("RIGHT_DELIM", "}}"),
                    ("EOF", "")]),
        ("{{$x := .A.B | f 'c' `r` \"s\"}}",
         [("LEFT_DELIM", "{{"), ("VARIABLE", "$x"), ("SPACE", " "), ("DECLARE", ":="),
          ("SPACE", " "), ("FIELD", ".A"), ("FIELD", ".B"), ("SPACE", " "), ("PIPE", "|"),
          ("SPACE", " "), ("IDENTIFIER", "f"), ("SPACE", " "), ("CHAR_CONSTANT", "'c'"),
          ("SPACE", " "), ("RAW_STRING", "`r`"), ("SPACE", " "), ("STRING", '"s"'),
          ("RIGHT_DELIM", "}}"), ("EOF", "")]),
        ("{{if true}}{{else}}{{end}}", [("LEFT_DELIM", "{{"), ("IF", "if"), ("SPACE", " "),
                                        ("BOOL", "true"), ("RIGHT_DELIM", "}}"),
                                        ("LEFT_DELIM", "{{"), ("ELSE", "else"),
                                        ("RIGHT_DELIM", "}}"), ("LEFT_DELIM", "{{"),
                                        ("END", "end"), ("RIGHT_DELIM", "}}"), ("EOF", "")]),
        ("{{/* c */}}x", [("TEXT", "x"), ("EOF", "")]),
        ("{{1+2i (x)}}", [("LEFT_DELIM", "{{"), ("COMPLEX", "1+2i"), ("SPACE", " "),
                          ("LEFT_PAREN", "("), ("IDENTIFIER", "x"), ("RIGHT_PAREN", ")"),
                          ("RIGHT_DELIM", "}}"), ("EOF", "")]),
        ("{{.X$}}", [("LEFT_DELIM", "{{"), ("ERROR", "bad character U+0024 '$'")]),
        ("{{\x01}}", [("LEFT_DELIM", "{{"), ("ERROR", "unrecognized character in action: U+0001")]),
    ],
)  # fmt: skip
def test_lexer_tokens(text: str, expected: list[tuple[str, str]]) -> None:
    assert tokens(text) == expected


def test_token_lines_count_newlines_in_text_actions_and_raw_strings() -> None:
    lexer = Lexer("a\nb{{`x\ny`}}\n{{.Z}}")
    lines = []
    while (token := lexer.next_token()).typ != T.EOF:
        lines.append((NAMES[token.typ], token.line))
    assert lines == [
        ("TEXT", 1),
        ("LEFT_DELIM", 2),
        ("RAW_STRING", 2),
        ("RIGHT_DELIM", 3),
        ("TEXT", 3),
        ("LEFT_DELIM", 4),
        ("FIELD", 4),
        ("RIGHT_DELIM", 4),
    ]


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("{{.X}}", "{{.X}}"),
        ("{{- .X -}}", "{{.X}}"),
        ("{{if .A}}x{{else if .B}}y{{else}}z{{end}}",
         "{{if .A}}x{{else}}{{if .B}}y{{else}}z{{end}}{{end}}"),
        ("{{range $i, $v := .X}}{{$i}}{{break}}{{continue}}{{end}}",
         "{{range $i, $v := .X}}{{$i}}{{break}}{{continue}}{{end}}"),
        ("{{with $x := .X}}{{$x.Y}}{{end}}", "{{with $x := .X}}{{$x.Y}}{{end}}"),
        ('{{(index .X 0).Y.Z | printf "%s"}}', '{{(index .X 0).Y.Z | printf "%s"}}'),
        ("{{template `t` .}}{{template \"u\"}}", '{{template "t" .}}{{template "u"}}'),
        ("{{$x := 1}}{{$x = 2}}", "{{$x := 1}}{{$x = 2}}"),
        ("{{ 0x1F 'a' 1e3 nil true }}", "{{0x1F 'a' 1e3 nil true}}"),
    ],
)  # fmt: skip
def test_parsed_tree_prints_as_gos_nodes(text: str, printed: str) -> None:
    assert str(parse(text, is_function)[""].root) == printed


def test_define_and_block_make_named_trees() -> None:
    trees = parse('{{define "a"}}A{{end}}{{block "b" .}}B{{end}}main', is_function)
    assert sorted(trees) == ["", "a", "b"]
    assert str(trees[""].root) == '{{template "b" .}}main'
    assert str(trees["b"].root) == "B"


@pytest.mark.parametrize(
    ("literal", "text"),
    [
        ('"a\\tb"', "a\tb"),
        ('"\\x41\\101\\u00e9\\U0001F600"', "AAé😀"),
        ('"\\xc3\\xa9"', "é"),
        ('"\\xff"', "\udcff"),  # an invalid UTF-8 byte, held as a surrogate escape
        ("`a\\n\r`", "a\\n"),
    ],
)
def test_unquote_follows_go(literal: str, text: str) -> None:
    assert unquote(literal) == text


@pytest.mark.parametrize("literal", ['"\\z"', '"\\400"', '"\\u00"', '"\\ud800"', "'a'"])
def test_unquote_rejects_what_go_rejects(literal: str) -> None:
    with pytest.raises(ValueError, match="invalid syntax"):
        unquote(literal)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0x1F", 31), ("0o17", 15), ("017", 15), ("0b101", 5), ("1_000", 1000), ("-0x_1", -1),
     ("08", None), ("1__0", None), ("_1", None), ("0x", None), ("1e3", None)],
)  # fmt: skip
def test_integer_literals(text: str, value: int | None) -> None:
    assert parse_go_int(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.5", 1.5), (".5", 0.5), ("1.", 1.0), ("1e3", 1000.0), ("0x1p4", 16.0),
     ("0x1.8p1", 3.0), ("1_0.5", 10.5), ("1e400", None), ("1e", None), ("0x1.8", None)],
)  # fmt: skip
def test_float_literals(text: str, value: float | None) -> None:
    assert parse_go_float(text) == value
