"""Go text/template's scanner: template text to tokens, with Go's error wording.

Positions are indexes into the Python text; `inspector.template.parser` turns them into Go's
byte columns for messages.
"""

from typing import NamedTuple

from inspector.template.gofmt import quote

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
LEFT_COMMENT = "/*"
RIGHT_COMMENT = "*/"
SPACE_CHARS = " \t\r\n"
TRIM_MARKER_LEN = 2  # "-" and the space beside it


class T:
    """Token types, in Go's order: the keywords come after KEYWORD.

    Plain ints, not an IntEnum: defining an enum of this size is a visible part of the start-up
    of every -f run.
    """

    ERROR = 1
    BOOL = 2
    CHAR = 3
    CHAR_CONSTANT = 4
    COMPLEX = 5
    ASSIGN = 6
    DECLARE = 7
    EOF = 8
    FIELD = 9
    IDENTIFIER = 10
    LEFT_DELIM = 11
    LEFT_PAREN = 12
    NUMBER = 13
    PIPE = 14
    RAW_STRING = 15
    RIGHT_DELIM = 16
    RIGHT_PAREN = 17
    SPACE = 18
    STRING = 19
    TEXT = 20
    VARIABLE = 21
    KEYWORD = 22
    BLOCK = 23
    BREAK = 24
    CONTINUE = 25
    DOT = 26
    DEFINE = 27
    ELSE = 28
    END = 29
    IF = 30
    NIL = 31
    RANGE = 32
    TEMPLATE = 33
    WITH = 34


KEYWORDS = {
    ".": T.DOT,
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}

EOF = ""  # what next() returns past the end


class Token(NamedTuple):
    typ: int
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        """How Go's parser names a token in `unexpected ...` messages."""
        if self.typ == T.EOF:
            return "EOF"
        if self.typ == T.ERROR:
            return self.val
        if self.typ > T.KEYWORD:
            return f"<{self.val}>"
        if len(self.val.encode("utf-8", "surrogateescape")) > 10:
            return quote(self.val[:10]) + "..."  # Go's %.10q: ten runes, then quoted
        return quote(self.val)


def is_space(char: str) -> bool:
    return char != EOF and char in SPACE_CHARS


def is_alphanumeric(char: str) -> bool:
    return char == "_" or char.isalpha() or char.isdecimal()


def _has_left_trim_marker(text: str, pos: int) -> bool:
    return text[pos : pos + 1] == "-" and is_space(text[pos + 1 : pos + 2])


def _has_right_trim_marker(text: str, pos: int) -> bool:
    return is_space(text[pos : pos + 1]) and text[pos + 1 : pos + 2] == "-"


def describe_rune(char: str) -> str:
    """Go's %#U of a rune: `U+0041 'A'`; an invalid byte is U+FFFD."""
    if char == EOF:
        return "U+FFFFFFFFFFFFFFFF"  # Go's eof rune (-1) as %#U prints it
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        char, code = "\ufffd", 0xFFFD
    text = f"U+{code:04X}"
    return f"{text} '{char}'" if char.isprintable() else text


class Lexer:
    """Scans on demand: each call to next_token runs the state machine to the next token."""

    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.width = 0
        self.paren_depth = 0
        self.line = 1
        self.start_line = 1
        self._state = self._lex_text
        self._done = False

    # -- runes ------------------------------------------------------------------------------

    def _next(self) -> str:
        if self.pos >= len(self.input):
            self.width = 0
            return EOF
        char = self.input[self.pos]
        self.width = 1
        self.pos += 1
        if char == "\n":
            self.line += 1
        return char

    def _peek(self) -> str:
        char = self._next()
        self._backup()
        return char

    def _backup(self) -> None:
        self.pos -= self.width
        if self.width == 1 and self.input[self.pos] == "\n":
            self.line -= 1

    def _emit(self, typ: int) -> Token:
        token = Token(typ, self.start, self.input[self.start : self.pos], self.start_line)
        self.start = self.pos
        self.start_line = self.line
        return token

    def _ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def _accept(self, valid: str) -> bool:
        char = self._next()
        if char != EOF and char in valid:
            return True
        self._backup()
        return False

    def _accept_run(self, valid: str) -> None:
        while True:
            char = self._next()
            if char == EOF or char not in valid:
                break
        self._backup()

    def _error(self, message: str) -> Token:
        self._done = True
        return Token(T.ERROR, self.start, message, self.start_line)

    # -- driving ----------------------------------------------------------------------------

    def next_token(self) -> Token:
        while not self._done:
            token = self._state()
            if token is not None:
                return token
        return Token(T.EOF, self.pos, "", self.line)

    # -- states: each returns a token or None (and sets the next state) ---------------------

    def _lex_text(self) -> Token | None:
        self.width = 0
        found = self.input.find(LEFT_DELIM, self.pos)
        if found >= 0:
            self.pos = found
            trim = 0
            if _has_left_trim_marker(self.input, found + len(LEFT_DELIM)):
                text = self.input[self.start : self.pos]
                trim = len(text) - len(text.rstrip(SPACE_CHARS))
            self.pos -= trim
            token = None
            if self.pos > self.start:
                self.line += self.input.count("\n", self.start, self.pos)
                token = self._emit(T.TEXT)
            self.pos += trim
            self._ignore()
            self._state = self._lex_left_delim
            return token
        self.pos = len(self.input)
        if self.pos > self.start:
            self.line += self.input.count("\n", self.start, self.pos)
            return self._emit(T.TEXT)
        self._done = True
        return self._emit(T.EOF)

    def _at_right_delim(self) -> tuple[bool, bool]:
        if _has_right_trim_marker(self.input, self.pos) and self.input.startswith(
            RIGHT_DELIM, self.pos + TRIM_MARKER_LEN
        ):
            return True, True
        if self.input.startswith(RIGHT_DELIM, self.pos):
            return True, False
        return False, False

    def _lex_left_delim(self) -> Token | None:
        self.pos += len(LEFT_DELIM)
        trim = _has_left_trim_marker(self.input, self.pos)
        after_marker = TRIM_MARKER_LEN if trim else 0
        if self.input.startswith(LEFT_COMMENT, self.pos + after_marker):
            self.pos += after_marker
            self._ignore()
            self._state = self._lex_comment
            return None
        token = self._emit(T.LEFT_DELIM)
        self.pos += after_marker
        self._ignore()
        self.paren_depth = 0
        self._state = self._lex_inside_action
        return token

    def _lex_comment(self) -> Token | None:
        self.pos += len(LEFT_COMMENT)
        end = self.input.find(RIGHT_COMMENT, self.pos)
        if end < 0:
            return self._error("unclosed comment")
        self.pos = end + len(RIGHT_COMMENT)
        delim, trim = self._at_right_delim()
        if not delim:
            return self._error("comment ends before closing delimiter")
        if trim:
            self.pos += TRIM_MARKER_LEN
        self.pos += len(RIGHT_DELIM)
        if trim:
            self.pos += _left_trim_length(self.input, self.pos)
        self._ignore()
        self._state = self._lex_text
        return None

    def _lex_right_delim(self) -> Token | None:
        trim = _has_right_trim_marker(self.input, self.pos)
        if trim:
            self.pos += TRIM_MARKER_LEN
            self._ignore()
        self.pos += len(RIGHT_DELIM)
        token = self._emit(T.RIGHT_DELIM)
        if trim:
            self.pos += _left_trim_length(self.input, self.pos)
            self._ignore()
        self._state = self._lex_text
        return token

    def _lex_inside_action(self) -> Token | None:
        delim, _ = self._at_right_delim()
        if delim:
            if self.paren_depth == 0:
                self._state = self._lex_right_delim
                return None
            return self._error("unclosed left paren")
        char = self._next()
        if char == EOF:
            return self._error("unclosed action")
        if is_space(char):
            self._backup()  # the space may start " -}}"
            self._state = self._lex_space
            return None
        if char == "=":
            return self._emit(T.ASSIGN)
        if char == ":":
            if self._next() != "=":
                return self._error("expected :=")
            return self._emit(T.DECLARE)
        if char == "|":
            return self._emit(T.PIPE)
        if char == '"':
            self._state = self._lex_quote
            return None
        if char == "`":
            self._state = self._lex_raw_quote
            return None
        if char == "$":
            self._state = self._lex_variable
            return None
        if char == "'":
            self._state = self._lex_char
            return None
        if char == "." and self.pos < len(self.input) and not "0" <= self.input[self.pos] <= "9":
            self._state = self._lex_field
            return None
        if char in "+-." or "0" <= char <= "9":
            self._backup()
            self._state = self._lex_number
            return None
        if is_alphanumeric(char):
            self._backup()
            self._state = self._lex_identifier
            return None
        if char == "(":
            self.paren_depth += 1
            return self._emit(T.LEFT_PAREN)
        if char == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                return self._error("unexpected right paren")
            return self._emit(T.RIGHT_PAREN)
        if ord(char) <= 0x7F and char.isprintable():
            return self._emit(T.CHAR)
        return self._error(f"unrecognized character in action: {describe_rune(char)}")

    def _lex_space(self) -> Token | None:
        spaces = 0
        while is_space(self._peek()):
            self._next()
            spaces += 1
        # A trim-marked right delimiter starts with a space: leave that space to it.
        if _has_right_trim_marker(self.input, self.pos - 1) and self.input.startswith(
            RIGHT_DELIM, self.pos - 1 + TRIM_MARKER_LEN
        ):
            self._backup()
            if spaces == 1:
                self._state = self._lex_right_delim
                return None
        self._state = self._lex_inside_action
        return self._emit(T.SPACE)

    def _lex_identifier(self) -> Token | None:
        while True:
            char = self._next()
            if is_alphanumeric(char):
                continue
            self._backup()
            word = self.input[self.start : self.pos]
            if not self._at_terminator():
                return self._error(f"bad character {describe_rune(char)}")
            self._state = self._lex_inside_action
            keyword = KEYWORDS.get(word)
            if keyword is not None:
                return self._emit(keyword)
            if word in ("true", "false"):
                return self._emit(T.BOOL)
            return self._emit(T.IDENTIFIER)

    def _lex_field(self) -> Token | None:
        return self._lex_field_or_variable(T.FIELD)

    def _lex_variable(self) -> Token | None:
        if self._at_terminator():
            self._state = self._lex_inside_action
            return self._emit(T.VARIABLE)
        return self._lex_field_or_variable(T.VARIABLE)

    def _lex_field_or_variable(self, typ: int) -> Token | None:
        self._state = self._lex_inside_action
        if self._at_terminator():
            return self._emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
        while True:
            char = self._next()
            if not is_alphanumeric(char):
                self._backup()
                break
        if not self._at_terminator():
            return self._error(f"bad character {describe_rune(char)}")
        return self._emit(typ)

    def _at_terminator(self) -> bool:
        char = self._peek()
        return is_space(char) or char in (EOF, ".", ",", "|", ":", ")", "(", RIGHT_DELIM[0])

    def _lex_char(self) -> Token | None:
        return self._lex_escaped_until("'", "unterminated character constant", T.CHAR_CONSTANT)

    def _lex_number(self) -> Token | None:
        if not self._scan_number():
            return self._error(f"bad number syntax: {_quoted(self.input[self.start : self.pos])}")
        sign = self._peek()
        if sign in ("+", "-") and sign != EOF:
            # Complex: 1+2i. No spaces, must end in 'i'.
            if not self._scan_number() or self.input[self.pos - 1] != "i":
                bad = self.input[self.start : self.pos]
                return self._error(f"bad number syntax: {_quoted(bad)}")
            self._state = self._lex_inside_action
            return self._emit(T.COMPLEX)
        self._state = self._lex_inside_action
        return self._emit(T.NUMBER)

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 10 + 1 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 16 + 6 + 1 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if is_alphanumeric(self._peek()):
            self._next()
            return False
        return True

    def _lex_quote(self) -> Token | None:
        return self._lex_escaped_until('"', "unterminated quoted string", T.STRING)

    def _lex_escaped_until(self, close: str, unterminated: str, kind: int) -> Token | None:
        """A quoted constant with backslash escapes, on one line, up to its closing quote."""
        while True:
            char = self._next()
            if char == "\\":
                char = self._next()
                if char not in (EOF, "\n"):
                    continue
            if char in (EOF, "\n"):
                return self._error(unterminated)
            if char == close:
                break
        self._state = self._lex_inside_action
        return self._emit(kind)

    def _lex_raw_quote(self) -> Token | None:
        while True:
            char = self._next()
            if char == EOF:
                return self._error("unterminated raw quoted string")
            if char == "`":
                break
        self._state = self._lex_inside_action
        return self._emit(T.RAW_STRING)


def _left_trim_length(text: str, pos: int) -> int:
    rest = text[pos:]
    return len(rest) - len(rest.lstrip(SPACE_CHARS))


def _quoted(text: str) -> str:
    return quote(text)
