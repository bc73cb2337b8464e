# ruff: noqa: E501, RUF001 - the tables hold docker's output verbatim, one case a line
"""The template engine against docker CLI 28: every expected string below was printed by
`docker image inspect -f TEMPLATE` (CLI 28.2.2, Go 1.24) for a template made of constants,
so the image does not matter; the error lines are docker's after `template parsing error: `.
"""

import pytest

from inspector.errors import ExitCode, TemplateExecError, TemplateSyntaxError
from inspector.template import compile_template
from inspector.template.values import EMPTY_STRUCT, Value

# fmt: off
OUTPUTS = [
    ('{{printf "%v|%v|%v|%v|%v|%v" 1e6 123456.0 1234567.0 0.0001 0.00001 1e21}}', '1e+06|123456|1.234567e+06|0.0001|1e-05|1e+21'),
    ('{{printf "%x|%X|%.2x|%b|%#x" 1.5 -3.75 3.14159 1.0 1.0}}', '0x1.8p+00|-0X1.EP+01|0x1.92p+01|4503599627370496p-52|0x1.0000p+00'),
    ('{{printf "%#g|%#.3e|%#f|%#v" 1.0 2.0 3.0 4.0}}', '1.00000|2.000e+00|3.000000|4'),
    ('{{printf "%5.1f|%-8.3e|%+g|% g|%010.3f|%-010.3f|" 3.14159 1234.5 2.5 2.5 -3.14159 3.1}}', '  3.1|1.234e+03|+2.5| 2.5|-00003.142|3.100     |'),
    ('{{printf "%U|%#U|%#U|%c|%q|%+q|%08U" 0x1F600 0x41 -1 0x1F600 0x1F600 0x1F600 65}}', "U+1F600|U+0041 'A'|U+FFFFFFFFFFFFFFFF|😀|'😀'|'\\U0001f600'|  U+0041"),
    ('{{printf "%#o|%O|%#b|%#X|%x|% d|%+d|%.0d|%5.0d|" 8 8 5 255 -255 5 5 0 0}}', '010|0o10|0b101|0XFF|-ff| 5|+5||     |'),
    ('{{printf "%*d|%-*d|%.*f|%*d" 5 1 5 1 2 3.14159 "x" 3}}', '    1|1    |3.14|%!(BADWIDTH)3'),
    ('{{printf "%[2]d %[1]d|%[3]d|%[0]d" 1 2}}', '2 1|%!d(BADINDEX)|%!d(BADINDEX)'),
    ('{{printf "%d %d" 1}}|{{printf "%z" 1}}|{{printf "%" }}|{{printf "%-" }}|{{printf "%.2" }}', '1 %!d(MISSING)|%!z(int=1)|%!(NOVERB)|%!(NOVERB)|%!(NOVERB)'),
    ('{{printf "%06s|%-06s|%06q" "ab" "ab" "ab"}}', '0000ab|ab    |00"ab"'),
    ('{{printf "%x|% x|%#x|%X|% #X" "hé" "hé" "hé" "hé" "hé"}}', '68c3a9|68 c3 a9|0x68c3a9|68C3A9|0X68 0XC3 0XA9'),
    ('{{printf "%s|%10s|%-10s|%.2s|%5.1s|" "héllo" "héllo" "héllo" "héllo" "héllo"}}', 'héllo|     héllo|héllo     |hé|    h|'),
    ('{{printf "%q|%+q|%#q|%#q" "a\\"b\\n\\t☺" "☺\\x00" "back`tick" "plain"}}', '"a\\"b\\n\\t☺"|"\\u263a\\x00"|"back`tick"|`plain`'),
    ('{{printf "%t|%5t|%-6t|%v" true false true false}}', 'true|false|true  |false'),
    ('{{printf "%d|%s|%x|%v" true true true nil}}', '%!d(bool=true)|%!s(bool=true)|%!x(bool=true)|<nil>'),
    ('{{printf "%s %d" nil nil}}', '%!s(<nil>) %!d(<nil>)'),
    ('{{printf "%T|%T|%T|%T|%T|%T" 1 1.5 "s" true nil \'a\'}}', 'int|float64|string|bool|<nil>|int'),
    ('{{printf "%10T|%-10T|" 1 "x"}}', '       int|string    |'),
    ('{{printf "%e|%E|%.0e|%.10e|%e" 0.0 123456.789 5.5 1.0 1e-300}}', '0.000000e+00|1.234568E+05|6e+00|1.0000000000e+00|1.000000e-300'),
    ('{{printf "%f|%.0f|%.1f|%.2f|%.3f|%F" 0.5 0.5 0.25 1.005 2.0005 1e20}}', '0.500000|0|0.2|1.00|2.001|100000000000000000000.000000'),
    ('{{printf "%g|%G|%.3g|%.10g|%g|%g|%.0g" 100000.0 1e-7 3.14159 3.14159 1e-4 123456789.0 2.5}}', '100000|1E-07|3.14|3.14159|0.0001|1.23456789e+08|2'),
    ('{{printf "%v|%v|%v|%v" 0.1 0.30000000000000004 1e100 5e-324}}', '0.1|0.30000000000000004|1e+100|5e-324'),
    ('{{printf "%8.3v|%-8v|%08v|%+v" 3.14159 2.5 -2.5 1.0}}', '    3.14|2.5     |-00002.5|1'),
    ('{{printf "%b|%o|%x|%X|%c|%q|%U" 10 10 3054 3054 9731 9731 9731}}', "1010|12|bee|BEE|☃|'☃'|U+2603"),
    ('{{printf "%08d|%-8d|%+08d|% 08d|%08.3d|%.5d|%x|%#08x" 42 42 42 42 42 -42 -1 255}}', '00000042|42      |+0000042| 0000042|     042|-00042|-1|0x000000ff'),
    ('{{printf "%d|%d" 9223372036854775807 -9223372036854775808}}', '9223372036854775807|-9223372036854775808'),
    ('{{printf "%5%|%-5%|%%"}}', '%|%|%'),
    ('{{printf "%!"}}|{{printf "%!d"}}|{{printf "%é" 1}}', '%!!(MISSING)|%!!(MISSING)d|%!é(int=1)'),
    ('{{printf "%v %v" "a"}}|{{printf "no verbs" 1 "a" nil}}', 'a %!v(MISSING)|no verbs%!(EXTRA int=1, string=a, <nil>)'),
    ('{{printf "%[1]d %[1]x %[1]o" 64}}|{{printf "%[2]*[1]d|" 7 5}}|{{printf "%[5]d" 1}}', '64 40 100|    7||%!d(BADINDEX)'),
    ('{{printf "%.*d|%.*d" -1 5 3 7}}', '%!(BADPREC)5|007'),
    ('{{printf "%-+ #0d" 5}}', '+5'),
    ('{{printf "%c|%c|%c" 65 -1 1114112}}', 'A|�|�'),
    ('{{printf "%q|%q|%+q" 10 39 233}}', "'\\n'|'\\''|'\\u00e9'"),
    ('{{printf "%x|%X" "" ""}}|{{printf "%5x|%-5x|" "" "a"}}', '||     |61   |'),
    ('{{printf "%.1x|%.0s|" "abc" "abc"}}', '61||'),
    ('{{printf "%s" 3.5}}|{{printf "%d" 3.5}}|{{printf "%t" 1}}|{{printf "%c" "x"}}', '%!s(float64=3.5)|%!d(float64=3.5)|%!t(int=1)|%!c(string=x)'),
    ('{{printf "%#v|%#v|%#v|%#v" 1 "s" 1.5 true}}', '1|"s"|1.5|true'),
    ('{{print 1 2 "a" 3 4 nil 5}}', '1 2a3 4 <nil> 5'),
    ('{{print "a" "b" 1 2 "c"}}|{{print}}|{{print nil nil}}|{{print 1.5 true}}', 'ab1 2c||<nil> <nil>|1.5 true'),
    ('{{println 1 "a" 2 nil}}', '1 a 2 <nil>\n'),
    ('{{println}}', '\n'),
    ("{{print 'a' 1e3 0x10 0o10 0b10 1_000 010}}", '97 1000 16 8 2 1000 8'),
    ('{{print -0.0 1e21 1e20 -1e-7}}', '-0 1e+21 1e+20 -1e-07'),
    ('{{html "<a href=\\"x\\">&\'</a>"}}|{{html 1 2 "a" 3 nil}}|{{html "\\x00"}}', '&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;|1 2a3&lt;no value&gt;|�'),
    ('{{js "it\'s <b>\\"q\\"</b> & = \\\\ \\x01 \\u2028 é ☺"}}|{{js 1 "x"}}', 'it\\\'s \\u003Cb\\u003E\\"q\\"\\u003C/b\\u003E \\u0026 \\u003D \\\\ \\u0001 \\u2028 é ☺|1x'),
    ('{{urlquery "a b&c=d/é?~-_.!*\'()"}}|{{urlquery 1 2}}', 'a+b%26c%3Dd%2F%C3%A9%3F~-_.%21%2A%27%28%29|1+2'),
    ('{{len "héllo"}}|{{index "héllo" 1}}|{{slice "héllo" 1 3}}|{{printf "%q" (slice "héllo" 1 2)}}', '6|195|é|"\\xc3"'),
    ('{{eq 1 1}} {{eq 1 2 3 1}} {{ne "a" "b"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1.5 2.5}}', 'true true true true true true false'),
    ('{{eq true true}} {{eq nil nil}} {{lt "a" "ab"}} {{lt "" "a"}}', 'true true true true'),
    ('{{and 1 (eq 1 1)}}|{{or false nil}}|{{print (and nil 1)}}|{{print (or nil)}}', 'true|<no value>|<nil>|<nil>'),
    ('{{with 0}}a{{else with "w"}}{{.}}{{end}}|{{with 3}}{{.}}{{end}}', 'w|3'),
    ('{{range 3}}{{.}}{{end}}|{{range $i := 4}}{{$i}}{{end}}|{{range 0}}x{{else}}empty{{end}}', '012|0123|empty'),
    ('{{range $x := 5}}{{if eq $x 1}}{{continue}}{{end}}{{if eq $x 3}}{{break}}{{end}}{{$x}}{{end}}', '02'),
    ('{{$x := 1}}{{range 3}}{{$x = .}}{{end}}{{$x}}', '2'),
    ('{{range -1}}x{{else}}none{{end}}|{{range $i := -5}}x{{else}}e{{end}}|{{range $x := 0}}{{else}}{{$x}}{{end}}', 'none|e|0'),
    ('{{$i := 9}}{{range $i = 3}}{{end}}{{$i}}|{{$j := 9}}{{range $j = -2}}{{end}}{{$j}}', '2|-2'),
    ('{{range $i := 2}}{{.}}{{$i}}{{end}}|{{range $i := 3}}{{range $i}}{{$i}}{{end}}{{end}}', '0011|122'),
    ('{{range $i := len "ab"}}{{printf "%T" $i}}{{end}}|{{range $i := index "abc" 0}}{{printf "%T %v;" $i $i}}{{if eq $i 2}}{{break}}{{end}}{{end}}', 'intint|uint8 0;uint8 1;uint8 2;'),
    ('{{range 9223372036854775807}}{{.}}{{break}}{{end}}|{{range 2}}a{{range 3}}{{if eq . 1}}{{break}}{{end}}b{{end}}{{end}}', '0|abab'),
    ('{{$x := "outer"}}{{with 1}}{{$x := "inner"}}{{$x}}{{end}}{{$x}}', 'innerouter'),
    ('{{define "T"}}[{{.}}{{$}}]{{end}}{{template "T" 5}}{{template "T"}}', '[55][<no value><no value>]'),
    ('{{block "B" "x"}}<{{.}}>{{end}}{{template "B" "y"}}', '<x><y>'),
    ('{{- "a" -}}  b  {{- "c" }} d {{ "e" -}} f', 'abc d ef'),
    ('a {{- /* c */ -}} b {{/* c */}} c', 'ab  c'),
    ('{{"\\t\\n\\\\\\x41\\101\\u00e9\\U0001F600"}}|{{`raw\\n`}}|{{\'\\\'\'}}|{{\'\\x41\'}}|{{\'é\'}}', '\t\n\\AAé😀|raw\\n|39|65|233'),
    ('{{1}} {{-1}} {{+1}} {{1.5}} {{-1.5e3}} {{0x1F}} {{0X1f}} {{0o17}} {{017}} {{0b11}} {{1_000}} {{0x1p4}} {{.5}} {{1.}} {{1e3}}', '1 -1 1 1.5 -1500 31 31 15 15 3 1000 16 0.5 1 1000'),
    ('{{9223372036854775807}}', '9223372036854775807'),
    ('{{true}} {{false}} {{printf "%v" true}}', 'true false true'),
    ('{{(1)}} {{(print 1 2)}} {{("x")}} {{ ( 1 ) }}', '1 1 2 x 1'),
    ('{{print (print 1) (print "a")}}', '1a'),
    ('{{"x" | printf "%s-%s" "y"}}|{{1 | print 2}}|{{"a" | print | len}}', 'y-x|2 1|1'),
    ('{{$ := 1}}', ''),
    ('{{$x := 2}}{{$x}}{{$x = 3}}{{$x}}', '23'),
    ('{{len (slice "abcdef" 1 4)}}|{{slice "abc"}}|{{slice "abc" 3}}|{{slice "abc" 0 0}}', '3|abc||'),
    ('{{index "abc" 0}}|{{printf "%c" (index "abc" 2)}}', '97|c'),
    ('{{json 1}}|{{json "a<b>&\\u2028\\n\\x01\\""}}|{{json nil}}|{{json 1.5}}|{{json true}}|{{json 1e21}}|{{json 1e-7}}|{{json 0.000001}}', '1|"a<b>&\\u2028\\n\\u0001\\""|null|1.5|true|1e+21|1e-7|0.000001'),
    ('{{json (split "a,b" ",")}}|{{split "a,b,,c" ","}}|{{split "abc" ""}}|{{len (split "" ",")}}|{{split "" ""}}', '["a","b"]|[a b  c]|[a b c]|1|[]'),
    ('{{join (split "a b c" " ") "-"}}|{{title "hello wörld ǆx ß-x _a 1a a1"}}|{{upper "straße ǆ ı"}}|{{lower "İSTANBUL ÀB"}}', 'a-b-c|Hello Wörld ǅx ß-X _a 1a A1|STRAßE Ǆ I|istanbul àb'),
    ('{{pad "x" 2 3}}|{{pad "" 2 3}}|{{truncate "hello" 3}}|{{truncate "hi" 5}}|{{truncate "hello" 0}}', '  x   ||hel|hi|'),
    ('{{printf "%s" (split "a:b" ":")}}|{{printf "%q" (split "a:b" ":")}}|{{printf "%x" (split "a:b" ":")}}|{{printf "%d" (split "a" ":")}}', '[a b]|["a" "b"]|[61 62]|[%!d(string=a)]'),
    ('{{printf "%v|%+v|%#v" (split "a:b" ":") (split "a" ":") (split "a:b" ":")}}', '[a b]|[a]|[]string{"a", "b"}'),
    ('{{printf "%T" (split "a" ":")}}|{{printf "%T" (index (split "a" ":") 0)}}|{{printf "%T" (len "a")}}|{{printf "%T" (eq 1 1)}}', '[]string|string|int|bool'),
    ('{{1i}}', '(0+1i)'),
    ('{{1+2i}}', '(1+2i)'),
    ('{{print 1 2 | }}', '1 2'),
    ('{{- 3}}', '3'),
    ('{{-3}}', '-3'),
    ('{{3 -}}', '3'),
    ('{{printf "%v|%.2f|%+v|%d|%T" 1i 1.5-2i -3i 2i 1i}}', '(0+1i)|(1.50-2.00i)|(0-3i)|%!d(complex128=(0+2i))|complex128'),
]

EXEC_ERRORS = [
    ('{{and 1 0 2}}|{{and 1 2}}|{{or 0 "" 3}}|{{or 0 ""}}|{{not 0}}|{{not "x"}}|{{and}}', 'template: :1:76: executing "" at <and>: wrong number of args for and: want at least 1 got 0'),
    ('{{if 0}}a{{else if ""}}b{{else if 1}}c{{end}}|{{if nil}}x{{else}}y{{end}}', 'template: :1:51: executing "" at <nil>: nil is not a command'),
    ('{{range $i, $v := 3}}{{end}}', 'template: :1:18: executing "" at <3>: can\'t use 3 to iterate over more than one variable'),
    ('{{range $i, $e := len "ab"}}{{end}}', 'template: :1:22: executing "" at <"ab">: can\'t use 2 to iterate over more than one variable'),
    ('{{$i := 0}}{{$e := 0}}{{range $i, $e = 3}}{{end}}', 'template: :1:39: executing "" at <3>: can\'t use 3 to iterate over more than one variable'),
    ('{{range 1.5}}{{end}}', 'template: :1:8: executing "" at <1.5>: range can\'t iterate over 1.5'),
    ('{{range true}}{{end}}', 'template: :1:8: executing "" at <true>: range can\'t iterate over true'),
    ('{{range "abc"}}{{end}}', 'template: :1:8: executing "" at <"abc">: range can\'t iterate over abc'),
    ('{{range 1i}}{{end}}', 'template: :1:8: executing "" at <1i>: range can\'t iterate over (0+1i)'),
    ('{{range (print)}}{{end}}', 'template: :1:9: executing "" at <print>: range can\'t iterate over '),
    ('{{define "r"}}{{if lt . 5}}{{.}}{{template "r" (len (printf "%*s" (print . 1 | len) ""))}}{{end}}{{end}}{{template "r" 0}}', 'template: :1:43: executing "r" at <{{template "r" (len (printf "%*s" (print . 1 | len) ""))}}>: exceeded maximum template depth (100000)'),
    ('{{template "x" }}', 'template: :1:11: executing "" at <{{template "x"}}>: template "x" not defined'),
    ('{{18446744073709551615}}', 'template: :1:2: executing "" at <18446744073709551615>: 18446744073709551615 overflows int'),
    ('{{$x = 1}}', 'template: :1:7: executing "" at <1>: undefined variable: $x'),
    ('{{eq 1i 1i}}|{{json 1i}}|{{if 0i}}a{{else}}b{{end}}|{{print 1e3i}}|{{0i}}|{{print 1i 2i}}|{{lt 1i 2i}}', 'template: :1:15: executing "" at <json 1i>: error calling json: json: unsupported type: complex128'),
]

SYNTAX_ERRORS = [
    ('{{$a, $b := 1}}', 'template: :1: too many declarations in command'),
    ('{{)}}', 'template: :1: unexpected right paren'),
    ('{{(1}}', 'template: :1: unclosed left paren'),
    ('{{.X', 'template: :1: unclosed action'),
    ('{{"abc}}', 'template: :1: unterminated quoted string'),
    ('{{1 2 3', 'template: :1: unclosed action'),
    ('{{ .Foo }', 'template: :1: unexpected "}" in operand'),
    ('{{if}}', 'template: :1: missing value for if'),
    ('{{end}}', 'template: :1: unexpected {{end}}'),
    ('{{else}}', 'template: :1: unexpected {{else}}'),
    ('{{range .}}{{else}}{{else}}{{end}}', 'template: :1: expected end; found {{else}}'),
    ('{{$x}}', 'template: :1: undefined variable "$x"'),
    ('{{break}}', 'template: :1: {{break}} outside {{range}}'),
    ('{{continue}}', 'template: :1: {{continue}} outside {{range}}'),
    ('{{3x}}', 'template: :1: bad number syntax: "3x"'),
    ('{{.a|1}}', 'template: :1: non executable command in pipeline stage 2'),
    ('{{define "a"}}x{{end}}{{define "a"}}y{{end}}', 'template: :1: template: multiple definition of template "a"'),
    ('{{nosuch}}', 'template: :1: function "nosuch" not defined'),
    ("{{'ab'}}", "template: :1: malformed character constant: 'ab'"),
    ("{{''}}", 'template: :1: invalid syntax'),
    ("{{'a}}", 'template: :1: unterminated character constant'),
    ('{{`abc}}', 'template: :1: unterminated raw quoted string'),
    ('{{/* abc }}', 'template: :1: unclosed comment'),
    ('{{/* abc */ x}}', 'template: :1: comment ends before closing delimiter'),
    ('{{.X Y}}', 'template: :1: function "Y" not defined'),
    ('{{|.X}}', 'template: :1: unexpected "|" in command'),
    ('{{:}}', 'template: :1: expected :='),
    ('{{$x :}}', 'template: :1: undefined variable "$x"'),
    ('{{@}}', 'template: :1: unexpected "@" in command'),
    ('{{.X.}}', 'template: :1: unexpected <.> in operand'),
    ('{{.X+}}', "template: :1: bad character U+002B '+'"),
    ('{{x.y}}', 'template: :1: function "x" not defined'),
    ('{{1.2.3}}', 'template: :1: unexpected ".3" in operand'),
    ('{{"a".b}}', 'template: :1: unexpected . after term "\\"a\\""'),
    ('{{true.b}}', 'template: :1: unexpected . after term "true"'),
    ('{{define}}', 'template: :1: unexpected "}}" in define clause'),
    ('{{define "a"}}', 'template: :1: unexpected EOF'),
    ('{{define a}}{{end}}', 'template: :1: unexpected "a" in define clause'),
    ('{{template}}', 'template: :1: unexpected "}}" in template clause'),
    ('{{template x}}', 'template: :1: unexpected "x" in template clause'),
    ('{{block "x"}}{{end}}', 'template: :1: missing value for block clause'),
    ('{{with}}{{end}}', 'template: :1: missing value for with'),
    ('{{range $a, $b, $c := .}}{{end}}', 'template: :1: too many declarations in range'),
    ('{{range $a, 1 := .}}{{end}}', 'template: :1: range can only initialize variables'),
    ('{{$a, $b := .}}', 'template: :1: too many declarations in command'),
    ('{{if .X}}{{else if}}{{end}}', 'template: :1: missing value for if'),
    ('{{if .X}}{{else foo}}{{end}}', 'template: :1: unexpected "foo" in else'),
    ('{{if .X}}', 'template: :1: unexpected EOF'),
    ('line1\n{{.X}}\nline3 {{ .Y }', 'template: :3: unexpected "}" in operand'),
    ('a\n{{if\n.X\n}}\n{{end', 'template: :5: unclosed action'),
    ('{{"\\z"}}', 'template: :1: invalid syntax'),
    ('{{"\\400"}}', 'template: :1: invalid syntax'),
    ("{{'\\u00'}}", 'template: :1: invalid syntax'),
    ('{{1e}}', 'template: :1: illegal number syntax: "1e"'),
    ('{{0x}}', 'template: :1: illegal number syntax: "0x"'),
    ('{{1e400}}', 'template: :1: illegal number syntax: "1e400"'),
    ('{{18446744073709551616}}', 'template: :1: integer overflow: "18446744073709551616"'),
    ('{{-9223372036854775809}}', 'template: :1: integer overflow: "-9223372036854775809"'),
    ('{{print (1 | 2)}}', 'template: :1: non executable command in pipeline stage 2'),
    ('{{nil.X}}', 'template: :1: unexpected . after term "nil"'),
    ('{{.X = 1}}', 'template: :1: unexpected "=" in operand'),
    ('{{$x := 1}}{{$x.Y = 2}}', 'template: :1: unexpected "=" in operand'),
    ('{{3-}}', 'template: :1: bad number syntax: "3-"'),
    ('{{ -}}', 'template: :1: missing value for command'),
]
# fmt: on

DOT = Value(EMPTY_STRUCT, ())


def render(text: str, dot: Value = DOT) -> str:
    return compile_template(text).execute(dot)


@pytest.mark.parametrize(("template", "expected"), OUTPUTS)
def test_constant_template_prints_what_docker_prints(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(("template", "message"), EXEC_ERRORS)
def test_execution_error_is_worded_as_docker_words_it(template: str, message: str) -> None:
    tmpl = compile_template(template)
    with pytest.raises(TemplateExecError) as caught:
        tmpl.execute(DOT)
    if "maximum template depth" in message:  # Go's limit is 100000 levels; ours is lower
        assert "exceeded maximum template depth" in str(caught.value)
    else:
        assert str(caught.value) == message
    assert caught.value.exit_code is ExitCode.TEMPLATE


@pytest.mark.parametrize(("template", "message"), SYNTAX_ERRORS)
def test_syntax_error_carries_gos_message(template: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(template)
    assert caught.value.go_message == message
    assert caught.value.exit_code is ExitCode.USAGE


@pytest.mark.parametrize(
    ("template", "first_line", "caret_lines"),
    [
        ("{{ .Foo }", 'template: :1:8: unexpected "}" in operand', ["{{ .Foo }", "        ^"]),
        ("{{if}}", "template: :1:4: missing value for if", ["{{if}}", "    ^"]),
        (
            "line1\n{{.X}}\n\tline3 {{ .Y }",
            'template: :3:13: unexpected "}" in operand',
            ["\tline3 {{ .Y }", "\t            ^"],
        ),
        ("é{{)}}", "template: :1:4: unexpected right paren", ["é{{)}}", "   ^"]),
    ],
)
def test_syntax_error_shows_line_column_and_caret(
    template: str, first_line: str, caret_lines: list[str]
) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(template)
    lines = str(caught.value).split("\n")
    assert lines[0] == first_line
    assert lines[1:] == caret_lines
    assert (caught.value.line, caught.value.column) == tuple(
        int(part) for part in first_line.split(":")[2:4]
    )


def test_caret_line_is_cut_around_the_spot_on_a_long_line() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template("a" * 500 + "{{)}}" + "b" * 500)
    first, line, caret = str(caught.value).split("\n")
    assert first == "template: :1:502: unexpected right paren"
    assert line == "..." + "a" * 58 + "{{)}}" + "b" * 57 + "..."
    assert caret == " " * 63 + "^"
