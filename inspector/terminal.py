"""What may reach a terminal: the characters that could act on it, and how they are shown.

One set for every place where text from a daemon or an image meets a terminal: the error
lines on stderr, the view, and `--format` output when stdout is a terminal.
"""

import re

# C0, DEL, C1; soft hyphen, Arabic letter mark, Mongolian vowel separator; zero-width and
# directional marks; line and paragraph separators; bidi embeddings, overrides and isolates;
# word joiner and invisible operators; BOM; interlinear annotations; lone surrogates (which
# cannot even be encoded); tag characters.
UNSAFE_CHARS = (
    "\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f"
)
UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")
# A backslash is never unsafe; the view doubles one that would read as an escape.
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def escape_char(char: str) -> str:
    """One unsafe character as a visible escape: `\\n`, `\\x1b`, `\\u202e`, `\\U000e0041`."""
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_unsafe(text: str, keep: str = "") -> str:
    """text with every unsafe character escaped, except those in keep (e.g. a newline)."""

    def escape(match: re.Match[str]) -> str:
        char = match[0]
        return char if char in keep else escape_char(char)

    return UNSAFE.sub(escape, text)
