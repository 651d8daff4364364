"""Social posts: a thread as a person would post it, in plain text. Each post holds at
most 280 characters as a reader's client counts them, whole sentences (a long one splits
at a clause, and mid-clause with an ellipsis only as a last resort), quotes kept in one
post, and a few valid hashtags, ranked by relevance, closing the last post; before them,
when the session's page has an address, the link to it (`Read more: URL`). The same
thread for Mastodon (500 code points a post, a link 23) is kept when it differs.

In social_post.md each post is a fenced code block (`fence`), so that no Markdown renderer
(Jekyll's kramdown on GitHub Pages, Hugo's goldmark, markdown-it, GitHub's own view) makes
HTML of it, while its text stays exactly what is posted; `read_thread` reads the posts back.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

from ..escape import plain_text

__all__ = [
    "LIMIT",
    "SEPARATOR",
    "URL_WEIGHT",
    "weight",
    "opening",
    "restates",
    "hashtag",
    "cashtag",
    "hashtags",
    "thread",
    "mastodon_thread",
    "threads",
    "fence",
    "read_thread",
    "read_threads",
    "MASTODON_HEADING",
]

LIMIT = 280
MASTODON_LIMIT = 500
"""Mastodon's default: 500 characters a post, counted in code points, a link as 23."""
LINK_LABEL = "Read more:"
MASTODON_HEADING = "## Mastodon"
"""The line of social_post.md after which the Mastodon thread follows, when it differs."""
SEPARATOR = "---"
URL_WEIGHT = 23
"""What a link counts for in a post, whatever its length: clients shorten it."""
MAX_TAGS = 4
ELLIPSIS = "…"
FENCE_INFO = "text"
"""The info string of a post's fence: plain text, which no highlighter colours."""

_NOT_WORD = re.compile(r"[^\w]+")
_APOSTROPHE = re.compile("['’]")
_WORD_BREAK = re.compile(r"[\W_]+")
_SYMBOL = re.compile(r"[A-Za-z]{1,6}")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…][\"”’)»]*(?=\s)|[。！？][」』”’）]*")
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+(?=\S)|(?<=[，；：、])(?=\S)")
_WIDE = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef"
_WIDE_JOINT = re.compile(f"[{_WIDE}]$")
"""Text ending in a CJK character or full-width mark: the next one follows it without a
space, as Chinese and Japanese are written (`。` ends a sentence with no space after)."""
_WIDE_START = re.compile(f"[{_WIDE}]")
_DIGIT = re.compile(r"\d")
_FIGURE = re.compile(r"(?<![\w.,])[+-]?\d[\d,]*(?:\.\d+)?%?(?: [^\W\d]+)?")
_TERMINATED = re.compile(r"[.!?…:。！？：][\"”’)」』）]*$")
_TEMP_NAME = re.compile(r"tmp.*|temp|temp[0-9].*|pytest.*|var|folders", re.IGNORECASE)
_FOLDS = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})
_FOLDS.update(str.maketrans({"đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th"}))
_QUOTES = (("“", "”"), ("«", "»"), ('"', '"'))
_BACKTICKS = re.compile("`+")
_FENCE_OPEN = re.compile(f"(`{{3,}}){FENCE_INFO}")
Unit = Callable[[str], int]
"""What a client counts for text holding no URL: X's `_v3` weights, Mastodon's `len`."""
EMOJI_WEIGHT = 2
_HEAVY = re.compile("[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")
"""A code point that weighs 2 (twitter-text's v3 ranges of weight 1 are left out)."""
_EMOJI_BASE = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u2190-\u21ff"
    "\u25a0-\u25ff\u2900-\u297f\u3030\u303d\u3297\u3299\u203c\u2049\u2122\u2139"
    "\u24c2\u00a9\u00ae]"
)
_EMOJI_MODIFIER = "[\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\u20e3]"
_EMOJI_SEQUENCE = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}|[0-9#*]\ufe0f\u20e3"
    f"|{_EMOJI_BASE}{_EMOJI_MODIFIER}*(?:\u200d{_EMOJI_BASE}{_EMOJI_MODIFIER}*)*"
)
"""An emoji and what makes one emoji of it with it: what a client counts as 2 in all.
Without Unicode's emoji data (not in the standard library) the bases are the blocks that
hold emoji; a sequence weighs at most what its code points weigh, so a character that
is no emoji is never counted for less than its own weight."""


def _v3(text: str) -> int:
    """The weight of text holding no URL by twitter-text's v3 rules: a code point in
    U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F or U+2032-U+2037 (Latin, Greek, Cyrillic,
    Hebrew, Arabic, Indic scripts, most punctuation) weighs 1, any other (CJK, emoji, `…`)
    2, and an emoji sequence (joined by U+200D, or with a variation selector, skin tone,
    keycap or tag characters, or a flag's pair of letters) 2 in all."""
    if text.isascii():
        return len(text)
    total = len(text) + len(_HEAVY.findall(text))
    for seq in _EMOJI_SEQUENCE.finditer(text):
        if len(seq[0]) > 1:
            whole = len(seq[0]) + len(_HEAVY.findall(seq[0]))
            total -= whole - min(whole, EMOJI_WEIGHT)
    return total


def weight(text: str, unit: Unit = _v3) -> int:
    """The length of a post as a reader's client counts it (twitter-text's v3 weights):
    each URL as 23, an emoji or emoji sequence as 2, a CJK character as 2, and Latin and
    most other scripts as 1 a code point (see `_v3`). With `unit=len`, as Mastodon counts
    it: a URL as 23, any other code point as 1."""
    if "://" not in text:  # no URL: what most sentences are
        return unit(text)
    total, start = 0, 0
    for url in _URL.finditer(text):
        total += unit(text[start : url.start()]) + URL_WEIGHT
        start = url.end()
    return total + unit(text[start:])


def _norm(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def opening(title: str, figures: Sequence[str]) -> str:
    """`Title: 3 commits, 4 files.` (`Title. 3 commits.` when the title ends a sentence):
    the figures the title does not state already, so none is told twice in one post."""
    title = str(plain_text(title))
    said = f" {_norm(title)} "
    fresh = [f for f in figures if f and f" {_norm(f)} " not in said]
    if fresh:
        joint = " " if _TERMINATED.search(title) else ": "  # the title is kept whole
        return f"{title}{joint}{', '.join(fresh)}."
    return title if _TERMINATED.search(title) else f"{title}."


def restates(text: str, title: str) -> bool:
    """The text opens with the title's words (the title was made from it)."""
    words = _norm(title)
    return bool(words) and f" {_norm(text)} ".startswith(f" {words} ")


def _fold(text: str) -> str:
    """Accents and ligatures folded to plain letters: `Zoë` -> `Zoe`, `Straße` -> `Strasse`."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def hashtag(text: str | None) -> str | None:
    """`#CamelCase` from any name: accents folded, words (split at anything that is not a
    letter or digit) capitalised and joined; None when nothing valid is left, the name is
    all digits, or it is a temporary folder's name (`tmpk2j3x`, `pytest-of-root`)."""
    if not text:
        return None
    folded = _APOSTROPHE.sub("", _fold(text))  # `Zoë's` is one word
    words = ["".join(ch for ch in w if ch.isalnum()) for w in _WORD_BREAK.split(folded)]
    words = [w for w in words if w]
    tag = "".join(w[:1].upper() + w[1:] for w in words)
    valid = all(unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nd") for ch in tag)
    if not tag or not valid or tag.isdigit() or _TEMP_NAME.fullmatch(tag):
        return None
    return f"#{tag}"


def cashtag(symbol: str | None) -> str | None:
    """`$AAPL` for a trade symbol of one to six ASCII letters; None for anything else."""
    if symbol and _SYMBOL.fullmatch(symbol.strip()):
        return f"${symbol.strip().upper()}"
    return None


def hashtags(
    *specific: str | None, generic: Sequence[str] = (), symbols: Sequence[str] = ()
) -> list[str]:
    """At most four tags, most relevant first: the cashtags of trade `symbols`, then the
    `specific` names (repository, project, topic) as hashtags, then the `generic` ones
    (`BuildInPublic`), which always keep their place at the end. Distinct regardless of
    case, invalid ones dropped."""
    seen: set[str] = set()

    def distinct(tags: list[str | None]) -> list[str]:
        out = []
        for tag in tags:
            if tag and tag.casefold() not in seen:
                seen.add(tag.casefold())
                out.append(tag)
        return out

    last = distinct([hashtag(g) for g in generic])
    first = distinct([cashtag(s) or hashtag(s) for s in symbols] + [hashtag(s) for s in specific])
    return first[: max(MAX_TAGS - len(last), 1)] + last[: MAX_TAGS - 1]


def _balanced(text: str) -> bool:
    return all(
        (text.count(o) == text.count(c)) if o != c else text.count(o) % 2 == 0 for o, c in _QUOTES
    )


def _close_quotes(text: str) -> str:
    """A paragraph whose quotes do not pair up (a stray opening or closing mark) gets the
    mark it misses, so that no post holds half a quote."""
    for o, c in _QUOTES:
        if o == c:
            text += o if text.count(o) % 2 else ""
        else:
            text = o * max(text.count(c) - text.count(o), 0) + text
            text += c * max(text.count(o) - text.count(c), 0)
    return text


def _sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences; a quote is never split between two of them."""
    parts, start = [], 0
    for end in _SENTENCE_END.finditer(paragraph):
        parts.append(paragraph[start : end.end()].strip())
        start = end.end()
    parts.append(paragraph[start:].strip())
    out: list[str] = []
    for part in filter(None, parts):
        if out and not _balanced(out[-1]):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def _units(paragraphs: Sequence[str]) -> list[str]:
    """Sentences of the paragraphs, cleaned to plain text, each paragraph ending in a full
    stop (so no post is ever a bare `---`, the posts' separator); an empty paragraph or
    one repeating what the thread said already is left out."""
    said: list[str] = []
    units: list[str] = []
    for raw in paragraphs:
        text = str(plain_text(raw))
        key = _norm(text)
        if not text or (key and any(f" {key} " in f" {s} " for s in said)):
            continue
        said.append(key)
        if not _TERMINATED.search(text):
            text += "."
        units += _sentences(_close_quotes(text))
    return units


def _words_fit(text: str, limit: int, unit: Unit = _v3) -> list[str]:
    """Words packed into pieces of at most `limit`, each but the last ending in an
    ellipsis; a word too long for a post on its own is the only thing cut, by weight, and
    only between the characters a client counts (never inside a URL or an emoji
    sequence)."""
    pieces: list[str] = []
    current = ""
    step = limit - weight(ELLIPSIS, unit)
    for word in text.split(" "):
        ends, rest = _rest_weights(word, unit)
        if rest[0] > step:
            if current:
                pieces.append(current + ELLIPSIS)
                current = ""
            start = cut = 0
            while rest[start] > step:
                cut = max(cut, start + 1)  # at least one unit a piece
                while cut + 1 < len(ends) and rest[start] - rest[cut + 1] <= step:
                    cut += 1
                pieces.append(word[ends[start] : ends[cut]] + ELLIPSIS)
                start = cut
            word = word[ends[start] :]
        candidate = f"{current} {word}" if current else word
        if weight(candidate, unit) + weight(ELLIPSIS, unit) <= limit:
            current = candidate
        else:
            pieces.append(current + ELLIPSIS)
            current = word
    return [*pieces, current] if current else pieces


def _rest_weights(word: str, unit: Unit = _v3) -> tuple[list[int], list[int]]:
    """Where a word may be cut, and what the word weighs from there: `ends` the offsets
    between the units a client counts (a URL, an emoji sequence, a code point), from 0 to
    the word's length, and `rest[i]` `weight(word[ends[i]:])`, all in one pass, so that
    cutting a long word is linear in its length."""
    ends = [0]
    weights: list[int] = []

    def plain(upto: int) -> None:
        start = ends[-1]
        if word[start:upto].isascii():
            ends.extend(range(start + 1, upto + 1))
            weights.extend([1] * (upto - start))
            return
        for seq in _EMOJI_SEQUENCE.finditer(word, start, upto):
            for i in range(ends[-1], seq.start()):
                ends.append(i + 1)
                weights.append(unit(word[i]))
            ends.append(seq.end())
            weights.append(unit(seq[0]))
        for i in range(ends[-1], upto):
            ends.append(i + 1)
            weights.append(unit(word[i]))

    if "://" in word:
        for url in _URL.finditer(word):
            plain(url.start())
            ends.append(url.end())
            weights.append(URL_WEIGHT)
    plain(len(word))
    rest = [0] * len(ends)
    for i in range(len(weights) - 1, -1, -1):
        rest[i] = rest[i + 1] + weights[i]
    return ends, rest


def _requote(pieces: list[str]) -> list[str]:
    """A quote that had to be split is closed at the end of each piece and reopened at the
    start of the next, so every post's quotes balance."""
    out: list[str] = []
    carry = ""
    for piece in pieces:
        piece = carry + piece
        carry = ""
        for o, c in _QUOTES:
            if not _balanced_pair(piece, o, c):
                piece += c
                carry += o
        out.append(piece)
    return out


def _balanced_pair(text: str, o: str, c: str) -> bool:
    return text.count(o) == text.count(c) if o != c else text.count(o) % 2 == 0


def _join(text: str, more: str) -> str:
    """Two pieces of a post: a space between them, none between CJK text and more."""
    # `$` matches at the end or before a final line break: only the last two can match
    wide = _WIDE_JOINT.search(text, max(len(text) - 2, 0)) and _WIDE_START.match(more)
    return f"{text}{more}" if wide else f"{text} {more}"


def _fit(sentence: str, limit: int, unit: Unit = _v3) -> list[str]:
    """One sentence in pieces that each fit `limit`: whole when it fits, else at clause
    boundaries, and a clause too long for a post at word boundaries with an ellipsis."""
    if weight(sentence, unit) <= limit:
        return [sentence]
    room = limit - 2  # for a quote closed at the end of a piece and reopened in the next
    pieces: list[str] = []
    current = ""
    for clause in _CLAUSE_END.split(sentence):
        candidate = _join(current, clause) if current else clause
        if weight(candidate, unit) <= room:
            current = candidate
            continue
        if current:
            pieces.append(current)
        if weight(clause, unit) <= room:
            current = clause
        else:
            *whole, current = _words_fit(clause, room, unit)
            pieces += whole
    if current:
        pieces.append(current)
    return _requote(pieces)


def _pack(
    units: list[str], tags: list[str], limit: int, unit: Unit = _v3, link: str | None = None
) -> list[str]:
    """Units packed into as few posts as fit `limit`, the link and the tags closing the
    last one (the link always, as many tags as fit, most relevant first); a unit stating
    a figure (`1 trade`) the post states already starts the next post, so that no post
    tells it twice."""
    pieces = [piece for text in units for piece in _fit(text, limit, unit)]
    lead = [f"{LINK_LABEL} {link}"] if link else []
    lowest = 0 if link else 1
    for k in range(len(tags), lowest - 1, -1):
        closing = " ".join(lead + tags[:k])
        if weight(f"{pieces[-1]} {closing}", unit) <= limit:
            pieces[-1] = f"{pieces[-1]} {closing}"
            break
        if k == lowest and weight(closing, unit) < limit // 2:
            *rest, last = _fit(pieces.pop(), limit - weight(closing, unit) - 1, unit)
            pieces += [*rest, f"{last} {closing}"]
            break
    posts: list[str] = []
    for piece in pieces:
        figures = _figures(piece)
        repeats = bool(figures) and bool(posts) and bool(figures & _figures(posts[-1]))
        joined = _join(posts[-1], piece) if posts and not repeats else None
        if joined is not None and weight(joined, unit) <= limit:
            posts[-1] = joined
        else:
            posts.append(piece)
    return posts


@lru_cache(maxsize=1024)
def _figures(text: str) -> frozenset[str]:
    """The figures a text states (`3 commits`, `+12.5%`); a quick scan tells text with
    no digit, which states none. Remembered: `_pack` asks again for the post it grows at
    every piece, and a thread is packed twice or more (`_thread`), for X and for
    Mastodon."""
    return frozenset(_FIGURE.findall(text)) if _DIGIT.search(text) else frozenset()


def thread(
    paragraphs: Sequence[str],
    tags: Sequence[str] = (),
    link: str | None = None,
    *,
    limit: int = LIMIT,
    unit: Unit = _v3,
) -> list[str]:
    """The posts of a thread, in plain text: the paragraphs' sentences packed in order
    into as few posts as fit, `Read more: <link>` (the session's page, when it has an
    address) and the tags (see `hashtags`) closing the last post and never a post of
    their own. The link goes last, where a reader who followed the thread looks for
    more, and leaves the opening post, the one shared on, about the work itself. With
    more than one post, each ends with an `n/N` marker, counted in its `limit` (280 as X
    weighs, by default). No paragraphs, no thread."""
    return _thread(_units(paragraphs), tags, link, limit, unit)


def _thread(
    units: list[str], tags: Sequence[str], link: str | None, limit: int, unit: Unit
) -> list[str]:
    """`thread` of the paragraphs' units (`_units`), which both threads share."""
    if not units:
        return []
    posts = _pack(units, list(tags), limit, unit, link)
    room = 0
    while len(posts) > 1 and room < len(f" {len(posts)}/{len(posts)}"):
        room = len(f" {len(posts)}/{len(posts)}")
        posts = _pack(units, list(tags), limit - room, unit, link)
    if len(posts) > 1:
        posts = [f"{post} {i}/{len(posts)}" for i, post in enumerate(posts, start=1)]
    return posts


def mastodon_thread(
    paragraphs: Sequence[str], tags: Sequence[str] = (), link: str | None = None
) -> list[str]:
    """The thread as Mastodon takes it: 500 characters a post, counted in code points (a
    link as 23, as on X; a CJK character or an emoji as 1, unlike X)."""
    return thread(paragraphs, tags, link, limit=MASTODON_LIMIT, unit=len)


def threads(
    paragraphs: Sequence[str], tags: Sequence[str] = (), link: str | None = None
) -> tuple[list[str], list[str]]:
    """The X thread and the Mastodon thread of the same text, the latter empty when it
    is the same posts (a thread that fits one post unchanged on both)."""
    units = _units(paragraphs)
    x = _thread(units, tags, link, LIMIT, _v3)
    mastodon = _thread(units, tags, link, MASTODON_LIMIT, len)
    return x, [] if mastodon == x else mastodon


def fence(posts: Sequence[str]) -> str:
    """The fence of the code blocks that hold a thread's posts in Markdown: backticks, at
    least three and one more than the longest run of backticks in any post, so that no
    post closes its block (CommonMark, kramdown and goldmark close a block only at a line
    of at least as many backticks as opened it)."""
    longest = max((len(run) for post in posts for run in _BACKTICKS.findall(post)), default=0)
    return "`" * max(3, longest + 1)


def read_thread(body: str) -> list[str]:
    """The posts of a social_post.md body (after its front matter), exactly as posted:
    the text of each fenced block, the blocks separated by lines holding only `---`. A
    thread written before posts were fenced (build/4, trade/4, life_aria/3 and older) is
    read as it was written: the text between the `---` lines, ends trimmed. The Mastodon
    thread, when the file holds one, is `read_threads`'s."""
    return read_threads(body)[0]


def read_threads(body: str) -> tuple[list[str], list[str]]:
    """The X thread and the Mastodon thread (empty when the file holds none: the X
    thread fits Mastodon as it is) of a social_post.md body; see `read_thread`."""
    lines = body.split("\n")
    fences: dict[str, list[int]] = {}  # where each line of backticks only is
    for number, line in enumerate(lines):
        if line.startswith("```") and not line.strip("`"):
            fences.setdefault(line, []).append(number)
    threads: list[list[str]] = [[]]
    posts = threads[0]
    plain: list[str] = []  # the lines of an unfenced post
    i = 0
    while i < len(lines):
        opened = _FENCE_OPEN.fullmatch(lines[i])
        closes = fences.get(opened[1], []) if opened else []
        end = bisect.bisect_right(closes, i)
        if end < len(closes):
            posts.append("\n".join(lines[i + 1 : closes[end]]))
            i = closes[end] + 1
            continue
        if lines[i] in (SEPARATOR, MASTODON_HEADING):
            posts.append("\n".join(plain).strip())
            plain = []
            if lines[i] == MASTODON_HEADING and len(threads) == 1:
                threads.append([])
                posts = threads[1]
        else:
            plain.append(lines[i])
        i += 1
    posts.append("\n".join(plain).strip())
    x = [post for post in threads[0] if post]
    mastodon = [post for post in threads[1] if post] if len(threads) > 1 else []
    return x, mastodon
