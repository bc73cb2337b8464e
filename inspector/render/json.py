"""docker's JSON output, rebuilt from the daemon's own bytes as Go's json.Indent/Compact do."""

import re
from collections.abc import Sequence

# A string (copied as it is, escapes and all), an empty object or array, a punctuation mark,
# or white space between tokens. Numbers and literals match nothing and are copied unchanged.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|\{[ \t\r\n]*\}|\[[ \t\r\n]*\]|[{}\[\],:]|[ \t\r\n]+')
_STRING_OR_SPACE = re.compile(rb'"(?:[^"\\]|\\.)*"|[ \t\r\n]+')
_INDENT = b"    "


def indented_array(documents: Sequence[bytes]) -> bytes:
    """What `docker image inspect` prints: the answers as one array, indented by 4 spaces."""
    depth = 0

    def respace(match: re.Match[bytes]) -> bytes:
        nonlocal depth
        token = match[0]
        first = token[0]
        if first == 0x22:  # '"'
            return token
        if first in (0x7B, 0x5B):  # '{' '['
            if len(token) > 1:  # empty: Go's Indent keeps `{}` and `[]` on one line
                return token[:1] + token[-1:]
            depth += 1
            return token + b"\n" + _INDENT * depth
        if first in (0x7D, 0x5D):  # '}' ']'
            depth -= 1
            return b"\n" + _INDENT * depth + token
        if first == 0x2C:  # ','
            return b",\n" + _INDENT * depth
        if first == 0x3A:  # ':'
            return b": "
        return b""

    return _TOKEN.sub(respace, b"[" + b",".join(documents) + b"]") + b"\n"


def compact_array(documents: Sequence[bytes]) -> bytes:
    """What `docker image inspect -f json` prints: the answers as one compact array."""
    joined = b"[" + b",".join(documents) + b"]"
    return _STRING_OR_SPACE.sub(_keep_strings, joined) + b"\n"


def _keep_strings(match: re.Match[bytes]) -> bytes:
    token = match[0]
    return token if token[0] == 0x22 else b""
