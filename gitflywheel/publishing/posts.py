"""The posts a store publishes: each session's blog post and the files beside it, as a
blog or a site sees them, read from one commit of `main`.

A session's post is its `blog_post` artifact; its front matter values come from the
session's facts (what the template rendered them from), its body is the artifact with
the front matter taken off. Drafts are left out, and so are sessions whose facts were
never recorded (a format-1 manifest: `gitflywheel rerender --all` renders them again),
each counted with its reason; so is an artifact that is a draft of its own (a build log
that lists no commit). Of twins, sessions that carry the same work under two ids
(`drafts.twin_keys`: the same commits, or the same deliverables at the same moment), only
the earlier is published: by the session's own time, then id, which every host reads the
same from one tree (the order sessions were recorded in is not a tree's, and two synced
stores may record them in either order). A store may hold facts another gitflywheel made
(a synced remote, another pipeline version): what a post is read from is checked here
(facts and manifest against their schemas, the front matter's fields by type, the date as
an ISO 8601 time with its zone), and a post that fails is left out with the reason, never
a crash. A stored screenshot that is not an image by its content and its name (an older
store may hold one) is not among a post's files: a site serves them as they are. The
site and the blog exports read this and nothing else. A post's address is its front
matter's slug (fixed when the session was first recorded); the slugs it had before (a
store made by an older version) are `moved_from`, and a revised session's `updated` is
when its latest revision was recorded (`queries.sessions.revision_times`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from sys import intern
from typing import Any, Protocol

from pydantic import ValidationError

from ..errors import GitflywheelError, StoreError
from ..jsontext import JSONTextError, decode_utf8, loads
from ..pipelines.drafts import twin_keys
from ..queries.sessions import revision_times
from ..queries.settings import settings_at
from ..recording.screenshots import publishable_screenshot
from ..session.artifacts import ArtifactKind
from ..session.facts import Facts
from ..session.manifest import FileRef, Manifest
from ..storage.folders import fanout_trees, folders_under, session_folders
from ..storage.layout import FACTS_FILE, MANIFEST_FILE, RECORD_FILE
from ..storage.store import Store
from .markdown_html import clean_text

__all__ = [
    "SLUG_LENGTH",
    "shown_tag",
    "PostFile",
    "Post",
    "Posts",
    "post_body",
    "post_facts",
    "published_posts",
    "split_front_matter",
]

POST_KIND: ArtifactKind = "blog_post"
TWIN = "twin of an earlier session"
RELEASE_EVERY = 256  # sessions read between two releases of the packs' pages
LISTED_LEVEL = 2  # the fan-out trees whose session folders a summary lists (256 of them)
_TREE_ID = re.compile(r"[0-9a-f]{40}")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg")
SLUG_LENGTH = 80
"""The longest folder name the site makes of a slug or a tag (`site.path_slug`), and the
longest tag a blog export gives its generator, which makes a folder of each tag."""


def shown_tag(tag: str) -> str:
    """A tag as the site shows it: control and bidi characters taken out, as from all
    of its text (`clean_text`), and no white space at its ends; empty: no tag."""
    return clean_text(tag).strip()


@dataclass(frozen=True, slots=True)
class PostFile:
    """A file of the session folder: `name` is its path inside the folder
    (`blog_post.md`, `screenshots/01-title.png`), `kind` the artifact kind or `screenshot`,
    `alt` an image's caption (its alt text), when the session gives one."""

    name: str
    blob: str
    kind: str
    alt: str | None = None

    @property
    def is_image(self) -> bool:
        return self.name.lower().endswith(IMAGE_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Post:
    """One published session: its front matter, its post's Markdown body, its files."""

    session_id: str
    session_type: str
    agent_id: str
    revision: int
    title: str
    date: datetime
    description: str
    slug: str
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    image: str | None  # a file name of `files`, relative to the session folder
    author: str
    folder: str  # the session folder in the store's tree
    body: str  # the post's Markdown, front matter taken off ("" in a summary: `post_body`)
    front_matter: dict[str, Any]  # empty in a summary
    files: tuple[PostFile, ...]  # every artifact and stored screenshot, post first
    moved_from: tuple[str, ...] = ()  # earlier slugs of the post, which redirect here
    updated: datetime | None = None  # when its latest revision was recorded (revised only)
    facts: Facts | None = None  # what its artifacts render from (cards read it); None in a summary
    tree: str = ""  # the session folder's tree id: what the post is read from

    @property
    def last_changed(self) -> datetime:
        """The post's time, or its latest revision's when it was revised since."""
        return self.updated if self.updated is not None and self.updated > self.date else self.date

    @property
    def images(self) -> list[PostFile]:
        """Screenshots and charts, in manifest order."""
        return [f for f in self.files if f.is_image]

    def file(self, name: str) -> PostFile | None:
        return next((f for f in self.files if f.name == name), None)


@dataclass
class Posts:
    """What `published_posts` found at a commit."""

    commit: str
    posts: list[Post]  # newest first
    left_out: Counter[str] = field(default_factory=Counter)  # reason -> sessions
    extra: dict[str, Any] = field(default_factory=dict)  # session id -> what `extra` read


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter, body) of a Markdown artifact that opens with `---` lines."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 3)
        if end != -1:
            return text[4 : end + 1], text[end + 5 :].lstrip("\n")
    return "", text


def post_body(store: Store, post: Post) -> str:
    """The post's Markdown, front matter taken off: its `body`, read again from the
    store for a summary."""
    if post.body or post.front_matter or not post.files or post.files[0].kind != POST_KIND:
        return post.body
    text = store.blob(post.files[0].blob.encode()).decode("utf-8")
    return split_front_matter(text)[1]


def post_facts(store: Store, post: Post) -> Facts | None:
    """The facts of a post's session: its `facts`, read again from its folder for a
    summary."""
    if post.facts is not None or not post.tree:
        return post.facts
    entry = store.lookup(post.tree.encode(), FACTS_FILE)
    return Facts.from_bytes(store.blob(entry[1])) if entry is not None else None


class PostSummaries(Protocol):
    """Where summaries of posts are kept by what decides them (`build_memo.BuildMemo`
    has this shape): read by `published_posts` in place of the session's folder."""

    def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    def prefetch(self, kind: str, keys: Iterable[str]) -> None: ...

    def put(self, kind: str, key: str, record: Mapping[str, Any]) -> None: ...

    @staticmethod
    def key(*decided: object) -> str: ...


# How a caller spreads the reading of session folders: `spread(read, folders)` gives
# `read(store, chunk)` of the folders, chunk by chunk, in order (possibly read in worker
# processes forked from the caller's, each with a reader of the store of its own).
Spread = Callable[
    [Callable[[Store, list[bytes]], list[dict[str, Any]]], list[bytes]], Iterable[dict[str, Any]]
]


def published_posts(
    store: Store,
    at: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    *,
    keep_facts: Callable[[Facts], Facts] | None = None,
    summaries: PostSummaries | None = None,
    extra: Callable[[Store, bytes, Post], Any] | None = None,
    spread: Spread | None = None,
) -> Posts:
    """Every non-draft session's post at a commit (default: the tip), newest first
    (ties by session id, so the order is the same on every host); `progress(done,
    None)` after each session read. `keep_facts` cuts the facts each post keeps to what
    the caller reads (a site keeps a card's: its memory stays small). With `summaries`,
    each post is a summary (no body, no front matter: `post_body` reads it; no facts:
    `post_facts`), kept there by the session folder's tree id and taken from there
    while that is unchanged, with `extra(store, folder, post)` (JSON, of the post as
    read, its facts whole), which `Posts.extra` gives by session id; the folders with
    no summary kept are read by `spread` (default: here, one after the other)."""
    tip = store.resolve(at) if at else store.tip()
    if tip is None:
        raise StoreError(f"{store.path}: the store has no history yet")
    result = Posts(tip.decode(), [])
    found: list[tuple[Post, list[str]]] = []
    root = store.commit(tip).tree
    drafts = settings_at(store, root).draft_patterns()
    decided = [p.pattern for p in drafts], keep_facts is not None
    read = partial(_summaries_of, drafts=drafts, extra=extra)
    number = 0
    for chunk in _keyed_chunks(store, root, summaries, decided):
        made: Iterator[dict[str, Any]] = iter(())
        kept: list[dict[str, Any] | None] = [None] * len(chunk)
        taken: list[tuple[Post | None, str, list[str]] | None] = [None] * len(chunk)
        if summaries is not None:
            kept = [summaries.get("post", key) for _, key in chunk]
            taken = [_from_summary(k) if k is not None else None for k in kept]
            missing = [f for (f, _), t in zip(chunk, taken, strict=True) if t is None]
            if missing:
                made = iter(spread(read, missing) if spread else read(store, missing))
        for (folder, key), summary, summed in zip(chunk, kept, taken, strict=True):
            number += 1
            if progress is not None:
                progress(number, None)
            if number % RELEASE_EVERY == 0:  # the pages of packs read stay out of memory
                store.release_packs()
            if summaries is None:
                post, reason, twins = _read_post(store, folder, drafts, keep_facts)
            else:
                if summed is None:
                    summary = next(made)
                    summaries.put("post", key, summary)
                    summed = _from_summary(summary) or (None, "unreadable: its summary", [])
                post, reason, twins = summed
                if post is not None:
                    result.extra[post.session_id] = summary.get("extra") if summary else None
            if post is None:
                result.left_out[reason] += 1
            else:
                found.append((post, twins))
    found.sort(key=lambda pk: (_utc_key(pk[0].date), pk[0].session_id))
    claimed: set[str] = set()
    for post, keys in found:
        if claimed.intersection(keys):
            result.left_out[TWIN] += 1
        else:
            claimed.update(keys)
            result.posts.append(post)
    result.posts.sort(key=lambda p: (p.date, p.session_id), reverse=True)
    revised = {p.session_id: p.revision for p in result.posts if p.revision > 1}
    times = revision_times(store, tip, revised)
    result.posts = [
        replace(p, updated=datetime.fromtimestamp(times[p.session_id], UTC))
        if p.session_id in times
        else p
        for p in result.posts
    ]
    return result


def _read_post(
    store: Store,
    folder: bytes,
    drafts: tuple[re.Pattern[str], ...],
    keep_facts: Callable[[Facts], Facts] | None = None,
) -> tuple[Post | None, str, list[str]]:
    """(the post of a session folder or None, why it is left out, its twin keys)."""
    try:
        post, reason = _post_of(store, folder, drafts, keep_facts)
    except (GitflywheelError, JSONTextError, ValidationError, ValueError) as exc:
        post, reason = None, f"unreadable: {_first_line(exc)}"
    if post is None:
        return None, reason, []
    return replace(post, tree=folder.decode()), reason, _twin_keys(store, folder)


def _summaries_of(
    store: Store,
    folders: list[bytes],
    drafts: tuple[re.Pattern[str], ...],
    extra: Callable[[Store, bytes, Post], Any] | None,
) -> list[dict[str, Any]]:
    """The summary of each session folder (`_summary`), read from `store`."""
    made = []
    for folder in folders:
        post, reason, twins = _read_post(store, folder, drafts)
        more = extra(store, folder, post) if extra and post else None  # facts read
        if post is not None:
            post = replace(post, body="", front_matter={}, facts=None)
        made.append(_summary(post, reason, twins, more))
    return made


def _keyed_chunks(
    store: Store, root: bytes, summaries: PostSummaries | None, decided: tuple[object, ...]
) -> Iterator[list[tuple[bytes, str]]]:
    """(tree id, key of its summary or "") of each session folder at `root`,
    RELEASE_EVERY at a time, their summaries read ahead."""
    folders = _session_folders(store, root, summaries)
    while chunk := list(islice(folders, RELEASE_EVERY)):
        keys = [""] * len(chunk)
        if summaries is not None:
            keys = [summaries.key("post", f.decode(), *decided) for f in chunk]
            summaries.prefetch("post", keys)
        yield list(zip(chunk, keys, strict=True))


def _session_folders(store: Store, root: bytes, summaries: PostSummaries | None) -> Iterator[bytes]:
    """The tree id of each session folder at `root`, in path order; with `summaries`,
    those under each tree LISTED_LEVEL levels below `sessions/` are kept there by that
    tree's id, and taken from there: a store after a new session has one such tree
    to walk again, not every one."""
    if summaries is None:
        yield from (folder for _, folder in session_folders(store, root))
        return
    trees = fanout_trees(store, root, LISTED_LEVEL)
    keys = [summaries.key("sessions under", tree.decode()) for _, tree in trees]
    summaries.prefetch("sessions under", keys)
    for (prefix, tree), key in zip(trees, keys, strict=True):
        kept = summaries.get("sessions under", key)
        listed = kept.get("folders") if kept is not None else None
        if isinstance(listed, list) and all(
            isinstance(f, str) and _TREE_ID.fullmatch(f) for f in listed
        ):
            yield from (f.encode() for f in listed)
            continue
        found = [folder for _, folder in folders_under(store, prefix, tree, LISTED_LEVEL)]
        summaries.put("sessions under", key, {"folders": [f.decode() for f in found]})
        yield from found


def _summary(post: Post | None, reason: str, twins: list[str], extra: Any) -> dict[str, Any]:
    """A post's summary as JSON: what lists, feeds and cards read of it, or why it is
    left out."""
    if post is None:
        return {"left_out": reason}
    return {
        "post": {
            "session_id": post.session_id,
            "session_type": post.session_type,
            "agent_id": post.agent_id,
            "revision": post.revision,
            "title": post.title,
            "date": post.date.isoformat(),
            "description": post.description,
            "slug": post.slug,
            "tags": list(post.tags),
            "categories": list(post.categories),
            "image": post.image,
            "author": post.author,
            "folder": post.folder,
            "files": [[f.name, f.blob, f.kind, f.alt] for f in post.files],
            "moved_from": list(post.moved_from),
            "tree": post.tree,
        },
        "twins": twins,
        "extra": extra,
    }


def _from_summary(kept: dict[str, Any]) -> tuple[Post | None, str, list[str]] | None:
    """(post, why it is left out, twin keys) from a summary; None when it cannot be
    read (it is read from the store again)."""
    try:
        if "left_out" in kept:
            return None, str(kept["left_out"]), []
        read = kept["post"]
        # the texts that repeat from post to post (a type, an agent, a tag, a file's
        # name and kind) held once, not once a post: a build holds every post
        post = Post(
            session_id=read["session_id"],
            session_type=intern(read["session_type"]),
            agent_id=intern(read["agent_id"]),
            revision=int(read["revision"]),
            title=read["title"],
            date=_date(read["date"]),
            description=read["description"],
            slug=read["slug"],
            tags=tuple(map(intern, read["tags"])),
            categories=tuple(map(intern, read["categories"])),
            image=read["image"],
            author=intern(read["author"]),
            folder=read["folder"],
            body="",
            front_matter={},
            files=tuple(PostFile(intern(n), b, intern(k), a) for n, b, k, a in read["files"]),
            moved_from=tuple(read["moved_from"]),
            tree=read["tree"],
        )
        return post, "", [str(k) for k in kept["twins"]]
    except (KeyError, TypeError, ValueError, AttributeError, GitflywheelError):
        return None


def _utc_key(date: datetime) -> datetime:
    return date.replace(tzinfo=UTC) if date.tzinfo is None else date.astimezone(UTC)


def _twin_keys(store: Store, folder: bytes) -> list[str]:
    """The twin keys of the session's record; none when it cannot be read as JSON."""
    entry = store.lookup(folder, RECORD_FILE)
    if entry is None:
        return []
    try:
        data = loads(decode_utf8(store.blob(entry[1])))
    except KeyError:
        raise StoreError(
            f"{folder.decode()}: object {entry[1].decode()} is missing from the store"
        ) from None
    except ValueError:
        return []
    return [key for key, _ in twin_keys(data)] if isinstance(data, dict) else []


def _publishable(store: Store, session_id: str, file: FileRef) -> bool:
    """A stored screenshot that may be served: an image, named as its format."""
    try:
        data = store.blob(file.blob.encode())
    except KeyError:
        raise StoreError(
            f"session {session_id}: {file.path}: object {file.blob} is missing from the store"
        ) from None
    return publishable_screenshot(file.path, data)


def _is_draft(facts: Facts, kind: ArtifactKind) -> bool:
    """Whether an artifact is a draft of its own (its front matter says so)."""
    found = facts.artifacts.get(kind)
    front = found.context.get("front") if found is not None else None
    return isinstance(front, dict) and bool(front.get("draft", False))


def _post_of(
    store: Store,
    folder: bytes,
    drafts: tuple[re.Pattern[str], ...] = (),
    keep_facts: Callable[[Facts], Facts] | None = None,
) -> tuple[Post | None, str]:
    entry = store.lookup(folder, MANIFEST_FILE)
    if entry is None:
        return None, "no manifest"
    manifest = Manifest.from_bytes(store.blob(entry[1]))
    facts_entry = store.lookup(folder, FACTS_FILE)
    if manifest.facts is None or facts_entry is None:
        return None, "made before facts were kept (run `gitflywheel rerender --all`)"
    facts = Facts.from_bytes(store.blob(facts_entry[1]), manifest.facts.path)
    post_facts = facts.artifacts.get(POST_KIND)
    post_entry = next((a for a in manifest.artifacts if a.kind == POST_KIND), None)
    if post_facts is None or post_entry is None:
        return None, "no blog post"
    raw_front = post_facts.context.get("front") or {}
    if not isinstance(raw_front, dict):
        return None, "front matter: not a mapping"
    front: dict[str, Any] = dict(raw_front)
    if front.get("draft", False):
        return None, "draft"
    problem = _front_problem(front)
    if problem is not None:
        return None, f"front matter: {problem}"
    said = (manifest.agent_id, manifest.title or "", manifest.session_id)
    matched = next((p for p in drafts if any(p.search(text) for text in said)), None)
    if matched is not None:
        return None, f"a draft by the store's setting publish.drafts ({matched.pattern})"
    prefix = manifest.record.path.rsplit("/", 1)[0] + "/"
    files = [
        PostFile(a.path.removeprefix(prefix), a.blob, a.kind)
        for a in manifest.artifacts
        if not _is_draft(facts, a.kind)
    ]
    files.sort(key=lambda f: f.kind != POST_KIND)
    files += [
        PostFile(s.file.path.removeprefix(prefix), s.file.blob, "screenshot", s.caption)
        for s in manifest.screenshots
        if s.file is not None and _publishable(store, manifest.session_id, s.file)
    ]
    _, body = split_front_matter(store.blob(post_entry.blob.encode()).decode("utf-8"))
    return (
        Post(
            session_id=manifest.session_id,
            session_type=manifest.session_type,
            agent_id=manifest.agent_id,
            revision=manifest.revision,
            title=str(front.get("title") or manifest.title or manifest.session_id),
            date=_date(front.get("date") or manifest.timestamp),
            description=str(front.get("description") or ""),
            slug=str(front.get("slug") or manifest.session_id),
            tags=tuple(str(t) for t in front.get("tags") or ()),
            categories=tuple(str(c) for c in front.get("categories") or (manifest.session_type,)),
            image=str(front["image"]) if front.get("image") else None,
            author=str(front.get("author") or manifest.agent_id),
            folder=prefix.rstrip("/"),
            body=body,
            front_matter=front,
            files=tuple(files),
            moved_from=tuple(
                slug
                for slug in (facts.address.moved_from if facts.address else ())
                if slug != front.get("slug")
            ),
            facts=facts if keep_facts is None else keep_facts(facts),
        ),
        "",
    )


_TEXT_FIELDS = ("title", "description", "slug", "image", "author")
_LIST_FIELDS = ("tags", "categories")


def _front_problem(front: dict[str, Any]) -> str | None:
    """Why a post's front matter cannot be published as it is, or None."""
    for name in _TEXT_FIELDS:
        if front.get(name) is not None and not isinstance(front[name], str):
            return f"{name} is {type(front[name]).__name__}, not text"
    for name in _LIST_FIELDS:
        value = front.get(name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            return f"{name} is not a list of texts"
    if not isinstance(front.get("draft", False), bool):
        return "draft is not true or false"
    date = front.get("date")
    if date is not None:
        try:
            _date(date)
        except ValueError as exc:
            return f"date {str(date)[:40]!r}: {exc}"
    return None


def _date(value: object) -> datetime:
    """An ISO 8601 time with its zone (posts sort by it, feeds print it)."""
    if not isinstance(value, str):
        raise ValueError(f"{type(value).__name__}, not an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError("an ISO 8601 time without its zone")
    return moment


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]
