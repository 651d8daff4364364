"""Social posts: a thread of posts of at most 280 characters, never cut mid-word."""

from __future__ import annotations

__all__ = ["LIMIT", "SEPARATOR", "thread", "hashtags"]

LIMIT = 280
SEPARATOR = "---"


def _words(text: str) -> list[str]:
    return " ".join(text.split()).split(" ") if text.strip() else []


def _fit(words: list[str], limit: int) -> list[str]:
    """Pack words into lines of at most `limit` characters; only a word longer than the
    limit itself (a long URL, say) is broken, since it cannot fit whole anywhere."""
    posts: list[str] = []
    current = ""
    for word in words:
        while len(word) > limit:
            if current:
                posts.append(current)
                current = ""
            posts.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            posts.append(current)
            current = word
    if current:
        posts.append(current)
    return posts


def _pack(paragraphs: list[str], limit: int) -> list[list[str]]:
    """Join consecutive short paragraphs into one post while they fit, so a thread has
    few, full posts rather than many short ones."""
    packed: list[str] = []
    for paragraph in paragraphs:
        if packed and len(packed[-1]) + 1 + len(paragraph) <= limit:
            packed[-1] = f"{packed[-1]} {paragraph}"
        else:
            packed.append(paragraph)
    return [_words(p) for p in packed]


def hashtags(*words: str | None) -> str:
    """`#BuildInPublic #Python`: distinct, in order, empty ones dropped."""
    seen: list[str] = []
    for word in words:
        if word and f"#{word}" not in seen:
            seen.append(f"#{word}")
    return " ".join(seen)


def thread(paragraphs: list[str], tags: str) -> list[str]:
    """Posts from paragraphs: each paragraph starts a post, long ones continue in the next;
    the hashtags close the last post (or get their own when it is full). With more than
    one post, each gets a `n/N` marker, counted in its 280 characters."""
    chunks = _pack([" ".join(p.split()) for p in paragraphs if p.strip()], LIMIT - 8)
    tag_words = _words(tags)
    for marker_room in (0, 8):
        limit = LIMIT - marker_room
        posts = [post for words in chunks for post in _fit(words, limit)]
        if tag_words:
            tail = " ".join(tag_words)
            if posts and len(posts[-1]) + 1 + len(tail) <= limit:
                posts[-1] = f"{posts[-1]} {tail}"
            else:
                posts += _fit(tag_words, limit)
        if len(posts) <= 1 or marker_room:
            break
    if len(posts) > 1:
        posts = [f"{post} {i}/{len(posts)}" for i, post in enumerate(posts, start=1)]
    return posts
