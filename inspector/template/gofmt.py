"""Go's fmt for template values: Sprint, Sprintln, Sprintf and %v printing, byte for byte.

Arguments are what a Go `any` holds: a Value of a non-interface type, or None for nil.
Go strings are bytes; here they are Python text with invalid UTF-8 held as surrogate escapes.
One deliberate difference: where Go prints the address of a pointer nested in a value
(0xc000123456), this prints `&` and the value pointed to, which is deterministic.
"""

import math
import struct
from collections.abc import Callable, Sequence
from typing import Any

from inspector.template.values import Kind, Value, go_bytes

LDIGITS = "0123456789abcdefx"
UDIGITS = "0123456789ABCDEFX"
MAX_WIDTH = 1_000_000  # fmt's tooLarge
NIL_ANGLE = "<nil>"
NIL_PAREN = "(nil)"
# Nesting of a printed value: fmt recurses once per level of a value.
MAX_VALUE_DEPTH = 100


class OutputTooLarge(Exception):
    """The text being built passed the output limit."""


class ValueTooDeep(Exception):
    """A value is nested deeper than MAX_VALUE_DEPTH."""


# -- strconv ------------------------------------------------------------------------------


def _is_print(char: str) -> bool:
    """unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    return char.isprintable() and not ("\ud800" <= char <= "\udfff")


def _escape_rune(char: str, quote_char: str, ascii_only: bool, out: list[str]) -> None:
    if char in (quote_char, "\\"):
        out.append("\\" + char)
        return
    code = ord(char)
    if (code < 0x80 or not ascii_only) and _is_print(char):
        out.append(char)
        return
    simple = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in simple or char == "\v":
        out.append(simple.get(char, "\\v"))
    elif code < 0x20 or code == 0x7F:
        out.append(f"\\x{code:02x}")
    elif code < 0x10000:
        out.append(f"\\u{code:04x}")
    else:
        out.append(f"\\U{code:08x}")


def quote(text: str, *, ascii_only: bool = False) -> str:
    """strconv.Quote (QuoteToASCII with ascii_only)."""
    out = ['"']
    for char in text:
        if "\udc80" <= char <= "\udcff":  # an invalid UTF-8 byte
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif "\ud800" <= char <= "\udfff":
            out.append("\\ufffd")
        else:
            _escape_rune(char, '"', ascii_only, out)
    out.append('"')
    return "".join(out)


def quote_rune(code: int, *, ascii_only: bool = False) -> str:
    """strconv.QuoteRune: `'a'`, `'\\n'`; an invalid rune is U+FFFD."""
    if code > 0x10FFFF or code < 0 or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    out = ["'"]
    _escape_rune(chr(code), "'", ascii_only, out)
    out.append("'")
    return "".join(out)


def can_backquote(text: str) -> bool:
    for char in text:
        if "\ud800" <= char <= "\udfff" or char == "\ufeff":
            return False
        if (char < " " and char != "\t") or char in ("`", "\x7f"):
            return False
    return True


def _float_bits(value: float, size: int) -> tuple[bool, int, int, int]:
    """Sign, raw exponent, mantissa and mantissa bits of a float64 or float32."""
    if size == 32:
        bits = struct.unpack(">I", struct.pack(">f", value))[0]
        return bool(bits >> 31), (bits >> 23) & 0xFF, bits & ((1 << 23) - 1), 23
    bits = struct.unpack(">Q", struct.pack(">d", value))[0]
    return bool(bits >> 63), (bits >> 52) & 0x7FF, bits & ((1 << 52) - 1), 52


def _shortest_digits(value: float, size: int) -> tuple[str, int]:
    """The shortest decimal digits that read back as the value, and the decimal point."""
    if value == 0:
        return "", 0
    if size == 32:
        for precision in range(1, 10):
            text = f"{value:.{precision - 1}e}"
            if struct.unpack(">f", struct.pack(">f", float(text)))[0] == value:
                break
    else:
        text = repr(value)
    return _digits_of(text)


def _digits_of(text: str) -> tuple[str, int]:
    """Digits and decimal point position of a positive number's repr or %e text."""
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)
    point -= len(whole + fraction) - len((whole + fraction).lstrip("0"))
    digits = digits.rstrip("0")
    if not digits:
        return "", 0
    return digits, point


def _rounded_digits(value: float, significant: int) -> tuple[str, int]:
    """The value rounded (to nearest, ties to even on the exact value) to n digits."""
    if value == 0:
        return "", 0
    return _digits_of(f"{value:.{max(significant, 1) - 1}e}")


def _fixed_digits(value: float, decimals: int) -> tuple[str, int]:
    if value == 0:
        return "", 0
    return _digits_of(f"{value:.{decimals}f}")


def _fmt_e(neg: bool, digits: str, point: int, prec: int, letter: str) -> str:
    out = ["-"] if neg else []
    out.append(digits[0] if digits else "0")
    if prec > 0:
        frac = digits[1 : prec + 1]
        out.append("." + frac + "0" * (prec - len(frac)))
    exp = point - 1 if digits else 0
    out.append(letter)
    out.append("-" if exp < 0 else "+")
    exp = abs(exp)
    out.append(f"{exp:02d}")
    return "".join(out)


def _fmt_f(neg: bool, digits: str, point: int, prec: int) -> str:
    out = ["-"] if neg else []
    if point > 0:
        whole = digits[:point]
        out.append(whole + "0" * (point - len(whole)))
    else:
        out.append("0")
    if prec > 0:
        frac = []
        for i in range(1, prec + 1):
            j = point + i - 1
            frac.append(digits[j] if 0 <= j < len(digits) else "0")
        out.append("." + "".join(frac))
    return "".join(out)


def _fmt_b(neg: bool, mant: int, exp: int, mantbits: int) -> str:
    exp -= mantbits
    return ("-" if neg else "") + f"{mant}p" + ("+" if exp >= 0 else "-") + str(abs(exp))


def _fmt_x(prec: int, letter: str, neg: bool, mant: int, exp: int, mantbits: int) -> str:
    mask = (1 << 64) - 1
    if mant == 0:
        exp = 0
    mant = (mant << (60 - mantbits)) & mask
    while mant != 0 and mant & (1 << 60) == 0:
        mant = (mant << 1) & mask
        exp -= 1
    if 0 <= prec < 15:
        shift = prec * 4
        extra = (mant << shift) & ((1 << 60) - 1)
        mant >>= 60 - shift
        if extra | (mant & 1) > 1 << 59:
            mant += 1
        mant = (mant << (60 - shift)) & mask
        if mant & (1 << 61):
            mant >>= 1
            exp += 1
    digits = UDIGITS if letter == "X" else LDIGITS
    out = ["-"] if neg else []
    out.append("0" + letter + str((mant >> 60) & 1))
    mant = (mant << 4) & mask
    if prec < 0 and mant != 0:
        out.append(".")
        while mant != 0:
            out.append(digits[(mant >> 60) & 15])
            mant = (mant << 4) & mask
    elif prec > 0:
        out.append(".")
        for _ in range(prec):
            out.append(digits[(mant >> 60) & 15])
            mant = (mant << 4) & mask
    out.append("P" if letter == "X" else "p")
    out.append("-" if exp < 0 else "+")
    out.append(f"{abs(exp):02d}")
    return "".join(out)


def format_float(value: float, verb: str, prec: int, size: int = 64) -> str:
    """strconv.FormatFloat(value, verb, prec, size) for verbs b e E f F g G x X."""
    if math.isnan(value):
        return "NaN"
    if size == 32:
        value = struct.unpack(">f", struct.pack(">f", value))[0] if abs(value) < 3.5e38 else value
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    neg, raw_exp, mant, mantbits = _float_bits(value, size)
    if verb in "bxX":
        bias = -127 if size == 32 else -1023
        if raw_exp == 0:
            raw_exp += 1
        else:
            mant |= 1 << mantbits
        exp = raw_exp + bias
        if verb == "b":
            return _fmt_b(neg, mant, exp, mantbits)
        return _fmt_x(prec, verb, neg, mant, exp, mantbits)
    magnitude = abs(value)
    shortest = prec < 0
    if shortest:
        digits, point = _shortest_digits(magnitude, size)
        if verb in "eE":
            prec = max(len(digits) - 1, 0)
        elif verb in "fF":
            prec = max(len(digits) - point, 0)
        else:
            prec = len(digits)
    elif verb in "eE":
        digits, point = _rounded_digits(magnitude, prec + 1)
    elif verb in "fF":
        digits, point = _fixed_digits(magnitude, prec)
    else:
        prec = prec or 1
        digits, point = _rounded_digits(magnitude, prec)
    if verb in "eE":
        return _fmt_e(neg, digits, point, prec, verb)
    if verb in "fF":
        return _fmt_f(neg, digits, point, prec)
    # %g: %e for large and small exponents, %f otherwise.
    eprec = 6 if shortest else prec
    exp = point - 1
    if not digits:
        exp = 0
    if exp < -4 or exp >= eprec:
        prec = min(prec, len(digits))
        return _fmt_e(neg, digits, point, prec - 1, "e" if verb == "g" else "E")
    if prec > point:
        prec = len(digits)
    return _fmt_f(neg, digits, point, max(prec - point, 0))


def type_size(kind_name: str) -> int:
    return 32 if kind_name == "float32" else 64


# -- the printer --------------------------------------------------------------------------


class _Printer:
    """One call of Sprint/Sprintf: Go's pp and fmt state."""

    def __init__(self, limit: int) -> None:
        self.out: list[str] = []
        self.size = 0
        self.limit = limit
        self.clear_flags()
        self.erroring = False
        self.arg: Value | None = None
        self.value: Value | None = None
        self.reordered = False
        self.good_arg_num = True

    def clear_flags(self) -> None:
        self.plus = self.minus = self.sharp = self.space = self.zero = False
        self.plus_v = self.sharp_v = False
        self.wid = self.prec = 0
        self.wid_present = self.prec_present = False

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.limit:
            raise OutputTooLarge
        self.out.append(text)

    def text(self) -> str:
        return "".join(self.out)

    # -- fmt: padding and the basic formats ---------------------------------------------

    def padding(self, n: int) -> str:
        if n <= 0:
            return ""
        return ("0" if self.zero and not self.minus else " ") * n

    def pad(self, text: str) -> None:
        if not self.wid_present or self.wid == 0:
            self.write(text)
            return
        width = self.wid - len(text)
        if self.minus:
            self.write(text)
            self.write(self.padding(width))
        else:
            self.write(self.padding(width))
            self.write(text)

    def truncate(self, text: str) -> str:
        if self.prec_present:
            return text[: self.prec]
        return text

    def fmt_s(self, text: str) -> None:
        self.pad(self.truncate(text))

    def fmt_q(self, text: str) -> None:
        text = self.truncate(text)
        if self.sharp and can_backquote(text):
            self.pad("`" + text + "`")
        else:
            self.pad(quote(text, ascii_only=self.plus))

    def fmt_sbx(self, data: bytes, digits: str) -> None:
        length = len(data)
        if self.prec_present and self.prec < length:
            length = self.prec
        width = 2 * length
        if width > 0:
            if self.space:
                if self.sharp:
                    width *= 2
                width += length - 1
            elif self.sharp:
                width += 2
        else:
            if self.wid_present:
                self.write(self.padding(self.wid))
            return
        if self.wid_present and self.wid > width and not self.minus:
            self.write(self.padding(self.wid - width))
        out = []
        if self.sharp:
            out.append("0" + digits[16])
        for i in range(length):
            if self.space and i > 0:
                out.append(" ")
                if self.sharp:
                    out.append("0" + digits[16])
            byte = data[i]
            out.append(digits[byte >> 4] + digits[byte & 0xF])
        self.write("".join(out))
        if self.wid_present and self.wid > width and self.minus:
            self.write(self.padding(self.wid - width))

    def fmt_integer(self, u: int, base: int, signed: bool, verb: str, digits: str) -> None:
        u &= (1 << 64) - 1
        negative = signed and u >= 1 << 63
        if negative:
            u = (1 << 64) - u
        prec = 0
        if self.prec_present:
            prec = self.prec
            if prec == 0 and u == 0:
                old_zero, self.zero = self.zero, False
                self.write(self.padding(self.wid))
                self.zero = old_zero
                return
        elif self.zero and not self.minus and self.wid_present:
            prec = self.wid
            if negative or self.plus or self.space:
                prec -= 1
        if base == 10:
            body = str(u)
        elif base == 16:
            body = "".join(digits[int(c, 16)] for c in f"{u:x}")
        elif base == 8:
            body = f"{u:o}"
        else:
            body = f"{u:b}"
        if len(body) < prec:
            body = "0" * (prec - len(body)) + body
        if self.sharp:
            if base == 2:
                body = "0b" + body
            elif base == 8 and body[0] != "0":
                body = "0" + body
            elif base == 16:
                body = "0" + digits[16] + body
        if verb == "O":
            body = "0o" + body
        if negative:
            body = "-" + body
        elif self.plus:
            body = "+" + body
        elif self.space:
            body = " " + body
        old_zero, self.zero = self.zero, False
        self.pad(body)
        self.zero = old_zero

    def fmt_unicode(self, u: int) -> None:
        u &= (1 << 64) - 1
        prec = 4
        if self.prec_present and self.prec > 4:
            prec = self.prec
        body = f"U+{u:0{prec}X}"
        if self.sharp and u <= 0x10FFFF and _is_print(chr(u)):
            body += f" '{chr(u)}'"
        old_zero, self.zero = self.zero, False
        self.pad(body)
        self.zero = old_zero

    def fmt_c(self, u: int) -> None:
        u &= (1 << 64) - 1
        if u > 0x10FFFF or 0xD800 <= u <= 0xDFFF:
            u = 0xFFFD
        self.pad(chr(u))

    def fmt_qc(self, u: int) -> None:
        u &= (1 << 64) - 1
        self.pad(quote_rune(u if u <= 0x10FFFF else 0xFFFD, ascii_only=self.plus))

    def fmt_float_(self, value: float, size: int, verb: str, prec: int) -> None:
        if self.prec_present:
            prec = self.prec
        num = format_float(value, verb, prec, size)
        if num[0] in "+-":
            sign, num = num[0], num[1:]
        else:
            sign = "+"
        if self.space and sign == "+" and not self.plus:
            sign = " "
        if num[0] in "IN":  # Inf and NaN are not padded with zeros
            old_zero, self.zero = self.zero, False
            if num[0] == "N" and not self.space and not self.plus:
                self.pad(num)
            else:
                self.pad(sign + num)
            self.zero = old_zero
            return
        if self.sharp and verb != "b":
            num = _sharp_float(num, verb, prec)
        if self.plus or sign != "+":
            if self.zero and not self.minus and self.wid_present and self.wid > len(num) + 1:
                self.write(sign)
                self.write(self.padding(self.wid - len(num) - 1))
                self.write(num)
                return
            self.pad(sign + num)
            return
        self.pad(num)

    # -- pp: verbs by kind ------------------------------------------------------------------

    def fmt_bool(self, value: bool, verb: str) -> None:
        if verb in "tv":
            self.pad("true" if value else "false")
        else:
            self.bad_verb(verb)

    def fmt_int(self, value: int, signed: bool, verb: str) -> None:
        if verb == "v":
            if self.sharp_v and not signed:
                self.fmt_0x64(value, True)
            else:
                self.fmt_integer(value, 10, signed, verb, LDIGITS)
        elif verb == "d":
            self.fmt_integer(value, 10, signed, verb, LDIGITS)
        elif verb == "b":
            self.fmt_integer(value, 2, signed, verb, LDIGITS)
        elif verb in "oO":
            self.fmt_integer(value, 8, signed, verb, LDIGITS)
        elif verb == "x":
            self.fmt_integer(value, 16, signed, verb, LDIGITS)
        elif verb == "X":
            self.fmt_integer(value, 16, signed, verb, UDIGITS)
        elif verb == "c":
            self.fmt_c(value)
        elif verb == "q":
            self.fmt_qc(value)
        elif verb == "U":
            self.fmt_unicode(value)
        else:
            self.bad_verb(verb)

    def fmt_0x64(self, value: int, leading_0x: bool) -> None:
        sharp, self.sharp = self.sharp, leading_0x
        self.fmt_integer(value, 16, False, "v", LDIGITS)
        self.sharp = sharp

    def fmt_float(self, value: float, size: int, verb: str) -> None:
        if verb == "v":
            self.fmt_float_(value, size, "g", -1)
        elif verb in "bgGxX":
            self.fmt_float_(value, size, verb, -1)
        elif verb in "feEF":
            self.fmt_float_(value, size, verb, 6)
        else:
            self.bad_verb(verb)

    def fmt_complex(self, value: complex, verb: str) -> None:
        if verb not in "vbgGxXfFeE":
            self.bad_verb(verb)
            return
        plus = self.plus
        self.write("(")
        self.fmt_float(value.real, 64, verb)
        self.plus = True  # the imaginary part always has a sign
        self.fmt_float(value.imag, 64, verb)
        self.write("i)")
        self.plus = plus

    def fmt_string(self, text: str, verb: str) -> None:
        if verb == "v":
            if self.sharp_v:
                self.fmt_q(text)
            else:
                self.fmt_s(text)
        elif verb == "s":
            self.fmt_s(text)
        elif verb == "x":
            self.fmt_sbx(go_bytes(text), LDIGITS)
        elif verb == "X":
            self.fmt_sbx(go_bytes(text), UDIGITS)
        elif verb == "q":
            self.fmt_q(text)
        else:
            self.bad_verb(verb)

    def fmt_bytes(self, data: bytes, verb: str, type_name: str) -> None:
        if verb == "s":
            self.fmt_s(data.decode("utf-8", "surrogateescape"))
        elif verb == "x":
            self.fmt_sbx(data, LDIGITS)
        elif verb == "X":
            self.fmt_sbx(data, UDIGITS)
        else:
            self.fmt_q(data.decode("utf-8", "surrogateescape"))

    def bad_verb(self, verb: str) -> None:
        self.erroring = True
        self.write("%!" + verb + "(")
        if self.arg is not None:
            self.write(self.arg.type.name + "=")
            self.print_arg(self.arg, "v")
        elif self.value is not None:
            self.write(self.value.type.name + "=")
            self.print_value(self.value, "v", 0)
        else:
            self.write(NIL_ANGLE)
        self.write(")")
        self.erroring = False

    def handle_methods(self, value: Value, verb: str) -> bool:
        """fmt's GoStringer case (%#v) and Stringer case (%v %s %q %x %X)."""
        if self.erroring:
            return False
        if self.sharp_v:
            go_stringer = value.type.go_stringer
            elem = value.type.elem
            if go_stringer is None and value.type.kind is Kind.POINTER and elem is not None:
                if value.data is None or elem.go_stringer is None:
                    return False
                go_stringer, value = elem.go_stringer, value.data
            if go_stringer is None:
                return False
            self.fmt_s(go_stringer(value))
            return True
        if verb not in "vsxXq":
            return False
        stringer = value.type.stringer
        if stringer is not None:
            self.fmt_string(stringer(value), verb)
            return True
        elem = value.type.elem
        if value.type.kind is Kind.POINTER and elem is not None and elem.stringer is not None:
            if value.data is None:  # String on a nil pointer panics; fmt prints <nil>
                self.write(NIL_ANGLE)
            else:
                self.fmt_string(elem.stringer(value.data), verb)
            return True
        return False

    def print_arg(self, arg: Value | None, verb: str) -> None:
        if arg is not None and arg.type.kind is Kind.INTERFACE:
            arg = arg.data
        self.arg = arg
        self.value = None
        if arg is None:
            if verb in "Tv":
                self.pad(NIL_ANGLE)
            else:
                self.bad_verb(verb)
            return
        if verb == "T":
            self.fmt_s(arg.type.name)
            return
        if verb == "p":
            self.fmt_pointer(arg, "p")
            return
        if not self.handle_methods(arg, verb):
            self.print_value(arg, verb, 0)

    def print_value(self, value: Value, verb: str, depth: int) -> None:
        if depth > MAX_VALUE_DEPTH:
            raise ValueTooDeep
        if depth > 0:
            self.arg = value
            if self.handle_methods(value, verb):
                return
        self.arg = None
        self.value = value
        kind = value.type.kind
        data = value.data
        if kind is Kind.BOOL:
            self.fmt_bool(data, verb)
        elif kind is Kind.INT:
            self.fmt_int(data, True, verb)
        elif kind is Kind.UINT:
            self.fmt_int(data, False, verb)
        elif kind is Kind.FLOAT:
            self.fmt_float(data, type_size(value.type.name), verb)
        elif kind is Kind.STRING:
            self.fmt_string(data, verb)
        elif kind is Kind.COMPLEX:
            self.fmt_complex(data, verb)
        elif kind is Kind.MAP:
            self.print_map(value, verb, depth)
        elif kind is Kind.STRUCT:
            self.print_struct(value, verb, depth)
        elif kind is Kind.INTERFACE:
            if data is None:
                if self.sharp_v:
                    self.write(value.type.name + NIL_PAREN)
                else:
                    self.write(NIL_ANGLE)
            else:
                self.print_value(data, verb, depth + 1)
        elif kind is Kind.SLICE:
            self.print_slice(value, verb, depth)
        elif kind is Kind.POINTER:
            composite = data is not None and data.type.kind in (Kind.SLICE, Kind.STRUCT, Kind.MAP)
            if (depth == 0 and composite) or (data is not None and verb in "vbodxX"):
                # At the top Go prints & and a struct, slice or map; where it would print an
                # address (not deterministic) this prints & and the value too.
                self.write("&")
                self.print_value(data, verb, depth + 1)
                return
            self.fmt_pointer(value, verb)

    def print_map(self, value: Value, verb: str, depth: int) -> None:
        if self.sharp_v:
            self.write(value.type.name)
            if value.data is None:
                self.write(NIL_PAREN)
                return
            self.write("{")
        else:
            self.write("map[")
        key_type = value.type.key
        assert key_type is not None
        for i, (key, item) in enumerate(sorted_items(value)):
            if i > 0:
                self.write(", " if self.sharp_v else " ")
            self.print_value(Value(key_type, key), verb, depth + 1)
            self.write(":")
            self.print_value(item, verb, depth + 1)
        self.write("}" if self.sharp_v else "]")

    def print_struct(self, value: Value, verb: str, depth: int) -> None:
        if self.sharp_v:
            self.write(value.type.name)
        self.write("{")
        # A struct modelled without its fields (time.Time holds a Python object) prints as {}.
        items = value.data if isinstance(value.data, tuple) else ()
        for i, (field, item) in enumerate(zip(value.type.fields, items, strict=False)):
            if i > 0:
                self.write(", " if self.sharp_v else " ")
            if self.plus_v or self.sharp_v:
                self.write(field.name + ":")
            self.print_value(item, verb, depth + 1)
        self.write("}")

    def print_slice(self, value: Value, verb: str, depth: int) -> None:
        elem = value.type.elem
        items: list[Value] = value.data or []
        if verb in "sqxX" and elem is not None and elem.kind is Kind.UINT and elem.name == "uint8":
            self.fmt_bytes(bytes(item.data for item in items), verb, value.type.name)
            return
        if self.sharp_v:
            self.write(value.type.name)
            if value.data is None:
                self.write(NIL_PAREN)
                return
            self.write("{")
            for i, item in enumerate(items):
                if i > 0:
                    self.write(", ")
                self.print_value(item, verb, depth + 1)
            self.write("}")
            return
        self.write("[")
        for i, item in enumerate(items):
            if i > 0:
                self.write(" ")
            self.print_value(item, verb, depth + 1)
        self.write("]")

    def fmt_pointer(self, value: Value, verb: str) -> None:
        if value.type.kind not in (Kind.POINTER, Kind.MAP, Kind.SLICE):
            self.bad_verb(verb)
            return
        address = 0 if value.data is None else _FAKE_ADDRESS
        if verb == "v":
            if self.sharp_v:
                self.write("(" + value.type.name + ")(")
                if address == 0:
                    self.write("nil")
                else:
                    self.fmt_0x64(address, True)
                self.write(")")
            elif address == 0:
                self.pad(NIL_ANGLE)
            else:
                self.fmt_0x64(address, not self.sharp)
        elif verb == "p":
            self.fmt_0x64(address, not self.sharp)
        elif verb in "bodxX":
            self.fmt_int(address, False, verb)
        else:
            self.bad_verb(verb)

    # -- Printf -----------------------------------------------------------------------------

    def arg_number(self, arg_num: int, fmt: str, i: int, num_args: int) -> tuple[int, int, bool]:
        if i >= len(fmt) or fmt[i] != "[":
            return arg_num, i, False
        self.reordered = True
        index, width, ok = _parse_arg_number(fmt[i:])
        if ok and 0 <= index < num_args:
            return index, i + width, True
        self.good_arg_num = False
        return arg_num, i + width, ok

    def do_printf(self, fmt: str, args: Sequence[Value | None]) -> None:
        end = len(fmt)
        arg_num = 0
        after_index = False
        self.reordered = False
        i = 0
        while i < end:
            self.good_arg_num = True
            last = i
            i = fmt.find("%", i)
            if i < 0:
                i = end
            if i > last:
                self.write(fmt[last:i])
            if i >= end:
                break
            i += 1
            self.clear_flags()
            simple = False
            while i < end:
                c = fmt[i]
                if c == "#":
                    self.sharp = True
                elif c == "0":
                    self.zero = True
                elif c == "+":
                    self.plus = True
                elif c == "-":
                    self.minus = True
                elif c == " ":
                    self.space = True
                else:
                    if "a" <= c <= "z" and arg_num < len(args):
                        if c in "vw":
                            self.sharp_v, self.sharp = self.sharp, False
                            self.plus_v, self.plus = self.plus, False
                        self.print_arg(args[arg_num], c)
                        arg_num += 1
                        i += 1
                        simple = True
                    break
                i += 1
            if simple:
                continue
            arg_num, i, after_index = self.arg_number(arg_num, fmt, i, len(args))
            if i < end and fmt[i] == "*":
                i += 1
                self.wid, self.wid_present, arg_num = _int_from_arg(args, arg_num)
                if not self.wid_present:
                    self.write("%!(BADWIDTH)")
                if self.wid < 0:
                    self.wid = -self.wid
                    self.minus = True
                    self.zero = False
                after_index = False
            else:
                self.wid, self.wid_present, i = _parse_num(fmt, i, end)
                if after_index and self.wid_present:
                    self.good_arg_num = False
            if i + 1 < end and fmt[i] == ".":
                i += 1
                if after_index:
                    self.good_arg_num = False
                arg_num, i, after_index = self.arg_number(arg_num, fmt, i, len(args))
                if i < end and fmt[i] == "*":
                    i += 1
                    self.prec, self.prec_present, arg_num = _int_from_arg(args, arg_num)
                    if self.prec < 0:
                        self.prec = 0
                        self.prec_present = False
                    if not self.prec_present:
                        self.write("%!(BADPREC)")
                    after_index = False
                else:
                    self.prec, self.prec_present, i = _parse_num(fmt, i, end)
                    if not self.prec_present:
                        self.prec = 0
                        self.prec_present = True
            if not after_index:
                arg_num, i, after_index = self.arg_number(arg_num, fmt, i, len(args))
            if i >= end:
                self.write("%!(NOVERB)")
                break
            verb = fmt[i]
            if "\ud800" <= verb <= "\udfff":
                verb = "\ufffd"
            i += 1
            if verb == "%":
                self.write("%")
            elif not self.good_arg_num:
                self.write("%!" + verb + "(BADINDEX)")
            elif arg_num >= len(args):
                self.write("%!" + verb + "(MISSING)")
            else:
                if verb in "vw":
                    self.sharp_v, self.sharp = self.sharp, False
                    self.plus_v, self.plus = self.plus, False
                self.print_arg(args[arg_num], verb)
                arg_num += 1
        if not self.reordered and arg_num < len(args):
            self.clear_flags()
            self.write("%!(EXTRA ")
            for j, arg in enumerate(args[arg_num:]):
                if j > 0:
                    self.write(", ")
                if arg is not None and arg.type.kind is Kind.INTERFACE:
                    arg = arg.data
                if arg is None:
                    self.write(NIL_ANGLE)
                else:
                    self.write(arg.type.name + "=")
                    self.print_arg(arg, "v")
            self.write(")")


_FAKE_ADDRESS = 0xC000010000


def _sharp_float(num: str, verb: str, prec: int) -> str:
    """The # flag on floats: always a decimal point; %g keeps its trailing zeros."""
    digits = 0
    if verb in "vgGx":
        digits = 6 if prec == -1 else prec
    tail = ""
    for i, char in enumerate(num):
        if char in "pP" or (char in "eE" and verb not in "xX"):
            num, tail = num[:i], num[i:]
            break
    has_point = "." in num
    seen_nonzero = False
    for char in num:
        if char == ".":
            continue
        if char != "0":
            seen_nonzero = True
        if seen_nonzero:
            digits -= 1
    if not has_point:
        if num == "0":
            digits -= 1
        num += "."
    if digits > 0:
        num += "0" * digits
    return num + tail


def _parse_num(text: str, start: int, end: int) -> tuple[int, bool, int]:
    if start >= end:
        return 0, False, end
    num = 0
    found = False
    i = start
    while i < end and "0" <= text[i] <= "9":
        if num > MAX_WIDTH:
            return 0, False, end
        num = num * 10 + ord(text[i]) - 48
        found = True
        i += 1
    return num, found, i


def _parse_arg_number(text: str) -> tuple[int, int, bool]:
    if len(text) < 3:
        return 0, 1, False
    for i in range(1, len(text)):
        if text[i] == "]":
            width, ok, new_i = _parse_num(text, 1, i)
            if not ok or new_i != i:
                return 0, i + 1, False
            return width - 1, i + 1, True
    return 0, 1, False


def _int_from_arg(args: Sequence[Value | None], arg_num: int) -> tuple[int, bool, int]:
    if arg_num >= len(args):
        return 0, False, arg_num
    arg = args[arg_num]
    if arg is not None and arg.type.kind is Kind.INTERFACE:
        arg = arg.data
    num, ok = 0, False
    if (
        arg is not None
        and arg.type.kind in (Kind.INT, Kind.UINT)
        and -(1 << 63) <= arg.data < 1 << 63
    ):
        num, ok = arg.data, True
    if num > MAX_WIDTH or num < -MAX_WIDTH:
        num, ok = 0, False
    return num, ok, arg_num + 1


def sorted_items(value: Value) -> list[tuple[object, Value]]:
    """A map's entries in fmt's (and text/template's range) order of keys."""
    items: dict[object, Value] = value.data or {}
    key_type = value.type.key
    kind = key_type.kind if key_type is not None else Kind.STRING
    order: Callable[[tuple[object, Value]], Any]
    if kind is Kind.STRING:
        order = _string_order
    elif kind is Kind.FLOAT:
        order = _float_order
    else:
        order = _plain_order
    return sorted(items.items(), key=order)


def _string_order(item: tuple[object, Value]) -> Any:
    key = item[0]
    return go_bytes(key) if isinstance(key, str) else key


def _float_order(item: tuple[object, Value]) -> Any:
    key = item[0]
    return (0, 0.0) if isinstance(key, float) and math.isnan(key) else (1, key)


def _plain_order(item: tuple[object, Value]) -> Any:
    return item[0]


# -- entry points ---------------------------------------------------------------------------

DEFAULT_LIMIT = 16 << 20


def sprint(args: Sequence[Value | None], limit: int = DEFAULT_LIMIT) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    printer = _Printer(limit)
    previous_string = False
    for i, arg in enumerate(args):
        dynamic = arg.data if arg is not None and arg.type.kind is Kind.INTERFACE else arg
        is_string = dynamic is not None and dynamic.type.kind is Kind.STRING
        if i > 0 and not is_string and not previous_string:
            printer.write(" ")
        printer.print_arg(dynamic, "v")
        previous_string = is_string
    return printer.text()


def sprintln(args: Sequence[Value | None], limit: int = DEFAULT_LIMIT) -> str:
    """fmt.Sprintln: operands always separated by spaces, and a newline."""
    printer = _Printer(limit)
    for i, arg in enumerate(args):
        if i > 0:
            printer.write(" ")
        printer.print_arg(arg, "v")
    printer.write("\n")
    return printer.text()


def sprintf(fmt: str, args: Sequence[Value | None], limit: int = DEFAULT_LIMIT) -> str:
    """fmt.Sprintf."""
    printer = _Printer(limit)
    printer.do_printf(fmt, args)
    return printer.text()


def describe(value: Value | None) -> str:
    """%v of a value, as Go's error messages print one."""
    return sprint([value])
