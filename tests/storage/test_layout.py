"""storage.layout: where a session's folder, artifacts, templates and screenshots live.

The fan-out is checked against SHA-256 test vectors, the names against their rules, and
every path the layout can produce is put into a tree built by `git mktree` and committed,
for `git fsck --strict` to judge and `git ls-tree` to read back unchanged.
"""

from __future__ import annotations

import random
import re
import string
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import fsck, git
from hypothesis import given
from hypothesis import strategies as st

from gitflywheel.session.models import SESSION_ID_PATTERN
from gitflywheel.storage.layout import (
    ARTIFACT_KINDS,
    CHART_KINDS,
    FANOUT_LEVELS,
    RECORD_FILE,
    SCREENSHOTS_DIR,
    SESSIONS_DIR,
    TEMPLATE_SUFFIX,
    TEMPLATES_DIR,
    artifact_file,
    artifact_path,
    screenshot_name,
    session_dir,
    template_path,
)

HEX = "0123456789abcdef"
SAFE_NAME = re.compile(r"\d{2,}-[A-Za-z0-9._-]+")
FIRST = string.ascii_letters + string.digits + "_"
REST = FIRST + ".-"
# Ids at the edges of what a session id may be: the pattern's shortest and longest, dots
# and dashes where git and file systems treat names specially, names git knows.
EDGE_IDS = [
    "_",
    "0",
    "a" * 128,
    "a..b",
    "x.lock",
    "x.",
    "x-",
    "HEAD",
    "GIT",
    "git",
    "gitmodules",
    "con",
    "nul",
    "refs",
    "sessions",
    "templates",
    "_.._",
]


def sample_ids(count: int, seed: int = 7) -> list[str]:
    """Session ids drawn from the pattern a record's id must match, edges first."""
    rng = random.Random(seed)
    ids = list(EDGE_IDS)
    while len(ids) < count:
        size = rng.choice([1, 2, 8, 36, 127])
        ids.append(rng.choice(FIRST) + "".join(rng.choice(REST) for _ in range(size)))
    assert all(re.fullmatch(SESSION_ID_PATTERN, i) for i in ids)
    return sorted(set(ids))


def mktree(repo: Path, files: dict[str, bytes]) -> str:
    """A tree of these files, written by `git hash-object` and `git mktree --batch` (one
    folder at a time, bottom up), so that git alone decides what the tree holds."""
    written: dict[bytes, str] = {}
    for data in files.values():
        if data not in written:
            written[data] = git("-C", repo, "hash-object", "-w", "--stdin", input=data).strip()
    children: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for path, data in files.items():
        folder, _, name = path.rpartition("/")
        children[folder][name] = ("100644 blob", written[data])
        while folder:
            parent, _, name = folder.rpartition("/")
            children[parent].setdefault(name, ("040000 tree", ""))
            folder = parent
    batch = subprocess.Popen(
        ["git", "-C", repo, "mktree", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert batch.stdin is not None and batch.stdout is not None

    def write(folder: str) -> str:
        lines = []
        for name, (kind, sha) in children[folder].items():
            if kind.endswith("tree"):
                sha = write(f"{folder}/{name}" if folder else name)
            lines.append(f"{kind} {sha}\t{name}\n")
        batch.stdin.write("".join(lines).encode() + b"\n")
        batch.stdin.flush()
        return batch.stdout.readline().decode().strip()

    try:
        return write("")
    finally:
        batch.stdin.close()
        assert batch.wait(timeout=60) == 0


def commit_tree(repo: Path, files: dict[str, bytes]) -> str:
    """Commit a tree of `files` on `main`; fail unless `git fsck --strict` accepts it."""
    tree = mktree(repo, files)
    commit = git("-C", repo, "commit-tree", tree, "-m", "layout", env=IDENT).strip()
    git("-C", repo, "update-ref", "refs/heads/main", commit)
    fsck(repo)
    return tree


IDENT = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


@pytest.fixture()
def bare(tmp_path: Path) -> Path:
    path = tmp_path / "layout.git"
    git("init", "-q", "--bare", "-b", "main", path)
    return path


# -- session folders ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_id", "digest"),
    [
        # FIPS 180-2 and well-known SHA-256 test vectors of the id's UTF-8 bytes.
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("hello", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        ("a", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
    ],
)
def test_session_dir_fans_out_by_the_first_digits_of_sha256(session_id: str, digest: str) -> None:
    assert FANOUT_LEVELS == 4
    expected = "/".join([SESSIONS_DIR, *digest[:FANOUT_LEVELS], session_id])
    assert session_dir(session_id) == expected


def test_session_dir_hashes_the_utf8_bytes_of_the_id() -> None:
    # sha256("é".encode("utf-8")) = 4a99557e...; its Latin-1 byte would give another.
    assert session_dir("é") == "sessions/4/a/9/9/é"


def test_fan_out_keeps_every_folder_small_and_hex_named(bare: Path) -> None:
    ids = sample_ids(2000)
    folders: dict[str, set[str]] = defaultdict(set)
    for sid in ids:
        parts = session_dir(sid).split("/")
        assert parts[0] == SESSIONS_DIR and parts[-1] == sid
        assert len(parts) == FANOUT_LEVELS + 2
        for depth in range(1, FANOUT_LEVELS + 1):
            folders["/".join(parts[:depth])].add(parts[depth])
    fan = [names for folder, names in folders.items() if folder.count("/") < FANOUT_LEVELS - 1]
    assert all(names <= set(HEX) for names in fan)
    assert max(len(names) for names in folders.values()) <= 16
    # With 2000 ids every digit shows up at the first levels: the digits are really used.
    assert folders[SESSIONS_DIR] == set(HEX)
    # Distinct ids never share a folder.
    assert len({session_dir(sid) for sid in ids}) == len(ids)


# -- artifacts and templates --------------------------------------------------------------


def test_artifact_files_are_named_for_their_kind() -> None:
    assert set(CHART_KINDS) <= set(ARTIFACT_KINDS)
    for kind in ARTIFACT_KINDS:
        suffix = ".svg" if kind in CHART_KINDS else ".md"
        assert artifact_file(kind) == kind + suffix
    assert artifact_file("activity_chart") == "activity_chart.svg"
    assert artifact_file("readme") == "readme.md"
    assert len({artifact_file(k) for k in ARTIFACT_KINDS}) == len(ARTIFACT_KINDS)


def test_artifact_paths_sit_beside_the_record_in_the_session_folder() -> None:
    for kind in ARTIFACT_KINDS:
        path = artifact_path("s-1", kind)
        folder, _, name = path.rpartition("/")
        assert folder == session_dir("s-1")
        assert name == artifact_file(kind)
        assert name not in (RECORD_FILE, SCREENSHOTS_DIR)


def test_template_paths_are_under_templates() -> None:
    assert template_path(f"readme{TEMPLATE_SUFFIX}") == f"{TEMPLATES_DIR}/readme.j2"
    assert template_path("build/blog_post.j2") == "templates/build/blog_post.j2"


# -- screenshot names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "source", "name"),
    [
        (0, "shot.png", "01-shot.png"),
        (1, "shots/run/final view.png", "02-final_view.png"),
        (2, "C:\\Users\\me\\Desktop\\a b.png", "03-a_b.png"),
        (3, "dir/", "04-screenshot"),
        (4, "", "05-screenshot"),
        (5, "café  été.png", "06-caf_t_.png"),
        (6, "https://example.com/img?x=1&y=2", "07-img_x_1_y_2"),
        (7, "..", "08-.."),
        (8, ".git", "09-.git"),
        (9, "a//b", "10-b"),
        (98, "x.png", "99-x.png"),
        (99, "x.png", "100-x.png"),
        (0, "x" * 500 + ".png", "01-" + "x" * 117),
    ],
)
def test_screenshot_name(index: int, source: str, name: str) -> None:
    assert screenshot_name(index, source) == name


@given(st.integers(min_value=0, max_value=9999), st.text(max_size=300))
def test_screenshot_names_are_one_safe_path_component(index: int, source: str) -> None:
    name = screenshot_name(index, source)
    assert SAFE_NAME.fullmatch(name), name
    assert len(name) <= 120
    assert name.startswith(f"{index + 1:02d}-")


# -- git accepts every path -----------------------------------------------------------------


def test_every_path_of_the_layout_is_one_git_accepts(bare: Path) -> None:
    rng = random.Random(11)
    files: dict[str, bytes] = {}
    for sid in sample_ids(300):
        folder = session_dir(sid)
        files[f"{folder}/{RECORD_FILE}"] = b"{}"
        for kind in rng.sample(ARTIFACT_KINDS, 2):
            assert artifact_path(sid, kind).startswith(folder + "/")
            files[artifact_path(sid, kind)] = kind.encode()
        source = "".join(rng.choice(string.printable + "éü/\\") for _ in range(rng.randint(0, 40)))
        files[f"{folder}/{SCREENSHOTS_DIR}/{screenshot_name(rng.randint(0, 120), source)}"] = b"png"
    for name in ["readme", "build/blog_post", "trade/trade_journal", ".hidden"]:
        files[template_path(name + TEMPLATE_SUFFIX)] = b"{{ x }}"
    tree = commit_tree(bare, files)
    listed = git("-C", bare, "ls-tree", "-r", "-z", "--name-only", tree).split("\0")
    assert sorted(p for p in listed if p) == sorted(files)
    for path in rng.sample(sorted(files), 20):
        assert git("-C", bare, "cat-file", "blob", f"{tree}:{path}").encode() == files[path]


@pytest.mark.parametrize("bad", [".git", ".GIT", "..", "."])
def test_git_fsck_would_refuse_what_the_layout_never_makes(bare: Path, bad: str) -> None:
    """The check above can fail: a tree entry git forbids is refused by `git fsck --strict`."""
    blob = git("-C", bare, "hash-object", "-w", "--stdin", input=b"x").strip()
    tree = git("-C", bare, "mktree", input=f"100644 blob {blob}\t{bad}\n".encode()).strip()
    commit = git("-C", bare, "commit-tree", tree, "-m", "bad", env=IDENT).strip()
    git("-C", bare, "update-ref", "refs/heads/main", commit)
    done = subprocess.run(
        ["git", "-C", bare, "fsck", "--strict", "--no-progress"], capture_output=True
    )
    assert done.returncode != 0, bad
