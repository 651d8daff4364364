"""Escapers: session text made safe for the context it lands in, in one place.

Every string a session supplies is hostile until escaped for where it goes: Markdown
text, a table cell, a heading, a code span, a link destination, YAML front matter, XML
(SVG), or a terminal. Each escaper below names its context; the Markdown, YAML and XML
ones return `Escaped`, a `str` that the template environment passes through as it is,
so escaping happens once and never twice.

Published text carries no bidi embedding, override or isolate controls (U+202A-U+202E,
U+2066-U+2069): unseen, an unbalanced one reorders the template's own text after it
(a figure, a date) in the rendered page, and right-to-left scripts read correctly
without them. YAML keeps them, as visible `\\u202e` escapes, so front matter still reads
back to the exact session string. C0/C1 control characters (tab and line feed aside),
which no reader can see either, become U+FFFD in Markdown. XML text (`xml_text`) has
U+FFFD only for what XML 1.0 forbids: C0 controls other than tab, line feed and carriage
return, U+FFFE, U+FFFF and lone surrogates; DEL and the C1 controls (U+0080-U+009F) stay.
Zero-width joiners and marks stay: emoji and several scripts need them.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote

__all__ = [
    "Escaped",
    "safe",
    "is_hidden_control",
    "has_hidden_controls",
    "md_inline",
    "md_heading",
    "md_cell",
    "md_link_text",
    "md_text",
    "md_code",
    "md_url",
    "yaml_string",
    "xml_text",
    "terminal",
    "finalize",
    "plain_text",
]


class Escaped(str):
    """Text already escaped for its context, or markup a template wrote: not escaped again."""

    __slots__ = ()


def safe(value: Any) -> Escaped:
    """Mark template-made markup as final (the `|safe` filter); never for session text."""
    return value if isinstance(value, Escaped) else Escaped(str(value))


_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def is_hidden_control(ch: str) -> bool:
    """A character a reader cannot see that can still change what they see: a control
    (C0, C1, DEL), a format character (bidi controls, zero-width characters, soft hyphen,
    tags), a surrogate, or a line/paragraph separator."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def has_hidden_controls(text: str) -> bool:
    """True when the text holds any character `is_hidden_control` names."""
    return any(is_hidden_control(ch) for ch in text)


def _published(text: str) -> str:
    """Text as it may appear in a published artifact: no bidi controls, no C0/C1 controls
    (tab and line feed excepted)."""
    if text.isprintable():  # no control, format or separator character: nothing to do
        return text
    return _CONTROLS.sub("\ufffd", _BIDI.sub("", text))


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


# Characters that open Markdown syntax anywhere in a line (CommonMark, and GitHub's
# tables and strikethrough); `_` unless it sits inside a word, where it cannot emphasise.
_INLINE = re.compile(r"[\\`*\[\]<|~]|_(?![^\W_])|(?<![^\W_])_")
_INLINE_CHARS = re.compile(r"[\\`*\[\]<|~_]")  # what every match of _INLINE holds
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_HEADING = re.compile(r"#{1,6}(?=[ \t]|$)")
_LIST = re.compile(r"[-+](?=[ \t]|$)")
_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=[ \t]|$)")
_RULE = re.compile(r"(?:-[ \t]*)+$|(?:=[ \t]*)+$")
_CLOSING_HASHES = re.compile(r"(?<=[ \t])#+[ \t]*$")
_BLOCK_STARTS = frozenset("#>-+=")  # the first characters of what _HEADING ... _RULE match


def _escape_line(line: str) -> str:
    """One line of Markdown text, with nothing in it that Markdown reads as syntax."""
    # _INLINE tries its lookbehind at every character; a line without one of the
    # characters it escapes (most) is told by a scan for them, nine times quicker
    text = _INLINE.sub(r"\\\g<0>", line) if _INLINE_CHARS.search(line) else line
    if "&" in text:
        text = _ENTITY.sub(r"\\&", text)
    # what opens a block at the start of a line: heading, quote, list, rule, setext line
    if text[:1] in _BLOCK_STARTS and (
        _HEADING.match(text) or text.startswith(">") or _LIST.match(text) or _RULE.match(text)
    ):
        text = "\\" + text
    elif text[:1].isdigit():
        text = _ORDERED.sub(r"\1\\\2", text, count=1)
    # a heading's closing sequence: `Title #` would lose its `#`
    if "#" in text:
        text = _CLOSING_HASHES.sub(lambda m: "\\" + m.group(0), text)
    return text


# Text that every step of md_inline leaves as it is: letters, digits and punctuation
# that opens no Markdown, single spaces inside; what it does with anything else (and
# with a leading `1.`) takes the whole way. A fast path: most values are such text.
# Told by what it lacks, each found by a scan in C: a space at either end or two in a
# row, `_`, and any character neither a letter, a digit, that punctuation nor a space.
_NOT_PLAIN = re.compile(r"[^\w,.:;!?'\"()/%$@{}^ ]")


def _plain_line(text: str) -> bool:
    return (
        text[:1] not in ("", " ")
        and text[-1] != " "
        and "  " not in text
        and "_" not in text
        and _NOT_PLAIN.search(text) is None
    )


def md_inline(value: Any) -> Escaped:
    """Session text on one line of Markdown: in a paragraph, a list item, a heading, a
    table cell, emphasis or link text. Line breaks fold to spaces, the ends are trimmed
    (leading spaces would make code), and every character that could open Markdown or
    HTML (`<`, `[`, `` ` ``, `*`, `_`, `|`, `~`, `\\`, an entity's `&`, a leading `#`,
    `>`, list marker or rule) is backslash-escaped."""
    text = value if type(value) is str else _text_of(value)
    if len(text) <= _REMEMBERED:
        return _md_inline_short(text)
    return _md_inline(text)


_DATA = (str, int, float, Decimal, list, tuple, dict, type(None))


def _text_of(value: Any) -> str:
    """A value's text: data has its own; any other object (a function, a template's
    `cycler`), itself or inside a list or dict, would show its address in memory, which
    differs at every run, so that the artifact would never render again byte for byte:
    refused."""
    text = str(value)  # an undefined value raises its own error, naming it
    _refuse_objects(value)
    return text


def _refuse_objects(value: Any) -> None:
    if not isinstance(value, _DATA):
        raise ValueError(f"a {type(value).__name__} has no text of its own to show")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_objects(key)
            _refuse_objects(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_objects(item)


_REMEMBERED = 256
"""The longest text whose `md_inline` is remembered: an artifact shows many of the values
another one of the session shows (titles, names, messages), a few MB in all."""


def _md_inline(text: str) -> Escaped:
    if _plain_line(text) and not _ORDERED.match(text):
        return Escaped(text)
    return Escaped(_escape_line(_published(_one_line(text)).strip()))


_md_inline_short = lru_cache(maxsize=4096)(_md_inline)


md_heading = md_inline
"""A heading's text: one line; a trailing `#` run is escaped so it is not dropped."""
md_cell = md_inline
"""A table cell: one line, `|` escaped."""
md_link_text = md_inline
"""A link's or image's text: brackets escaped, so it cannot close or nest the link."""


def md_text(value: Any) -> Escaped:
    """Session prose laid out as its own paragraphs: its line breaks and blank lines are
    kept, every line escaped as `md_inline` does, so no line starts a block."""
    lines = _LINE_BREAK.split(str(value))
    return Escaped("\n".join(_escape_line(_published(line).strip()) for line in lines).strip("\n"))


_BACKTICKS = re.compile("`+")


def md_code(value: Any, cell: bool = False) -> Escaped:
    """A whole code span (delimiters included) showing the text exactly, on one line:
    the fence is one backtick longer than any run inside. In a table cell (`cell=True`)
    `|` is escaped as GitHub tables require. Empty text gives a span of one space, so
    that a line holding it is never a bare `-` (which would underline a heading)."""
    text = _published(_one_line(str(value)))
    if not text:
        return Escaped("` `")
    if cell:
        text = text.replace("|", "\\|")
    longest = max(map(len, _BACKTICKS.findall(text)), default=0) if "`" in text else 0
    fence = "`" * (longest + 1)
    padded = "`" in (text[0], text[-1]) or (text[0] == text[-1] == " " and bool(text.strip(" ")))
    return Escaped(f"{fence} {text} {fence}" if padded else f"{fence}{text}{fence}")


_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_URL_SAFE = "/:?#@!$&'*+,;=%-._~"


def md_url(value: Any) -> Escaped:
    """A link or image destination: percent-encoded so that no space, bracket, parenthesis
    or `<` can end it early, and a scheme other than http, https or mailto (`javascript:`,
    `data:`) turned into a harmless relative path."""
    text = quote(_one_line(str(value)).strip(), safe=_URL_SAFE)
    scheme = _URL_SCHEME.match(text)
    if scheme and scheme.group(1).lower() not in ("http", "https", "mailto"):
        text = "./" + text
    return Escaped(text)


def _yaml_plain(ch: str) -> bool:
    """Characters a double-quoted YAML scalar may hold as they are: printable for YAML and
    not a line break (NEL, LS, PS fold), nor an invisible format character."""
    code = ord(ch)
    if not (0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD):
        return code >= 0x10000 and unicodedata.category(ch) != "Cf"
    return unicodedata.category(ch) not in ("Cf", "Zl", "Zp")


# Printable ASCII but `"`, `\\`, `<`, `[` and `]`: characters yaml_string writes as they are.
_YAML_PLAIN_ASCII = re.compile(r"[ !#-;=-Z^-~]*")


def yaml_string(value: Any) -> Escaped:
    """A double-quoted YAML scalar that Jekyll and Hugo both read back to the exact text:
    quotes and backslashes escaped, every other character YAML does not allow as is (and
    every invisible one) written as an escape; so are `<`, `[` and `]`, so that a viewer
    that shows front matter as Markdown finds no HTML or link in it either."""
    text = str(value)
    if _YAML_PLAIN_ASCII.fullmatch(text):  # the usual case, and what the loop keeps as is
        return Escaped(f'"{text}"')
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif _yaml_plain(ch) and ch not in "<[]":
            out.append(ch)
        else:
            out.append(_code_escape(ch))
    return Escaped('"' + "".join(out) + '"')


_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "\t": "&#9;",
    "\n": "&#10;",
    "\r": "&#13;",
}

_XML_TABLE = {ord(ch): entity for ch, entity in _XML_ENTITIES.items()}
_XML_SPECIAL = re.compile("[" + "".join(_XML_ENTITIES) + "]")
"""What `_XML_TABLE` replaces: text without it (most, numbers and names) is kept as it is,
told in one scan instead of a lookup for every character."""


def xml_text(value: Any) -> Escaped:
    """Text for XML or SVG, as element content or a quoted attribute: markup characters
    and white space other than spaces as references (so that no parser normalises them),
    characters XML 1.0 forbids as U+FFFD, no bidi controls."""
    text = value if type(value) is str else str(value)
    if not text.isprintable():  # printable text holds no bidi control and nothing XML forbids
        text = _XML_INVALID.sub("\ufffd", _BIDI.sub("", text))
    return Escaped(text.translate(_XML_TABLE) if _XML_SPECIAL.search(text) else text)


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def terminal(value: Any) -> str:
    """Text safe to print on a terminal: control characters (C0, C1, DEL), bidi controls,
    zero-width and other invisible format characters, line separators and surrogates are
    shown as visible escapes (`\\x1b`, `\\n`, `\\u202e`), so nothing printed can move the
    cursor, retitle the window, reorder the line or forge another line."""
    out = []
    for ch in str(value):
        if not is_hidden_control(ch):
            out.append(ch)
        elif ch in _SHORT:
            out.append(_SHORT[ch])
        else:
            out.append(_code_escape(ch))
    return "".join(out)


def finalize(value: Any) -> Escaped:
    """What every `{{ }}` of a template goes through: `Escaped` text as it is, anything
    else escaped with `md_inline`."""
    return value if isinstance(value, Escaped) else md_inline(value)


def plain_text(value: Any) -> Escaped:
    """Session text for a social post, which is plain text and never read as Markdown:
    one line (line breaks and runs of white space fold to one space), ends trimmed, bidi
    controls and C0/C1 control characters removed; nothing is backslash-escaped, since a
    reader's client would show the backslash. Safe for the thread file because the thread
    is posted as it is, not rendered, and a line of it is never a bare `---` (the posts'
    separator: `social.thread` ends every paragraph with a full stop or the like)."""
    return Escaped(" ".join(_CONTROLS.sub(" ", _BIDI.sub("", str(value))).split()))


def _code_escape(ch: str) -> str:
    """`\\xNN`, `\\uNNNN` or `\\UNNNNNNNN`: the shortest escape by code point."""
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
