"""storage.ancestry: ancestors, is_ancestor and merge_bases agree with git.

Histories are made by the real git (`git commit-tree`), with criss-cross merges,
octopus merges and unrelated roots, every commit at the same second (as a store under
SOURCE_DATE_EPOCH has them) or each one older than its parents (clock skew). git's
answers come from `git rev-list`, `git merge-base --all` and `git merge-base
--is-ancestor`, with a commit-graph written so that git walks by generation numbers and
its own answers do not depend on the dates either.
"""

from __future__ import annotations

import random
import subprocess
from itertools import combinations
from pathlib import Path

import pytest
from conftest import git

from gitflywheel.storage.ancestry import ancestors, is_ancestor, merge_bases
from gitflywheel.storage.store import Store

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
SAME_SECOND = 1764633600


class History:
    """A bare repository whose commits are made one by one with `git commit-tree`."""

    def __init__(self, path: Path, skewed: bool = False) -> None:
        self.path = path
        self.skewed = skewed
        self.commits: list[str] = []
        git("init", "-q", "--bare", "-b", "main", path)
        git("-C", path, "hash-object", "-w", "-t", "tree", "--stdin", input=b"")  # the empty tree

    def commit(self, *parents: str, tree: str = EMPTY_TREE) -> str:
        # Skewed: every commit is a minute older than the one made before it.
        when = SAME_SECOND - 60 * len(self.commits) if self.skewed else SAME_SECOND
        date = f"{when} +0000"
        env = {
            "GIT_AUTHOR_NAME": "A",
            "GIT_AUTHOR_EMAIL": "a@example.invalid",
            "GIT_COMMITTER_NAME": "A",
            "GIT_COMMITTER_EMAIL": "a@example.invalid",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        args = [arg for p in parents for arg in ("-p", p)]
        sha = git(
            "-C", self.path, "commit-tree", tree, *args, "-m", f"c{len(self.commits)}", env=env
        ).strip()
        self.commits.append(sha)
        return sha

    def finish(self, *tips: str) -> None:
        """Point `main` (and a branch per other tip) at the tips; write a commit-graph."""
        git("-C", self.path, "update-ref", "refs/heads/main", tips[0])
        for n, tip in enumerate(tips[1:]):
            git("-C", self.path, "update-ref", f"refs/heads/t{n}", tip)
        git(
            "-C",
            self.path,
            "commit-graph",
            "write",
            "--stdin-commits",
            input="\n".join(self.commits).encode(),
        )

    # git's answers

    def rev_list(self, *tips: str) -> set[str]:
        return set(git("-C", self.path, "rev-list", *tips).split())

    def merge_bases(self, a: str, b: str) -> list[str]:
        done = subprocess.run(
            ["git", "-C", self.path, "merge-base", "--all", a, b], capture_output=True
        )
        assert done.returncode in (0, 1), done.stderr  # 1: no common ancestor
        return sorted(done.stdout.decode().split())

    def is_ancestor(self, a: str, b: str) -> bool:
        done = subprocess.run(
            ["git", "-C", self.path, "merge-base", "--is-ancestor", a, b], capture_output=True
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode == 0


def ids(shas: list[bytes] | set[bytes]) -> list[str]:
    return sorted(sha.decode() for sha in shas)


@pytest.fixture(params=[False, True], ids=["same-second", "skewed"])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> History:
    return History(tmp_path / "history.git", skewed=request.param)


def criss_cross(h: History) -> dict[str, str]:
    """      o---x1---x2---x3
            / \\  /    \\  /
       root     \\/      \\/
            \\   /\\      /\\
              o---y1---y2---y3
    Both sides merge each other twice: x3 and y3 have two merge bases, x2 and y2."""
    c: dict[str, str] = {}
    c["root"] = h.commit()
    c["x0"] = h.commit(c["root"])
    c["y0"] = h.commit(c["root"])
    c["x1"] = h.commit(c["x0"], c["y0"])
    c["y1"] = h.commit(c["y0"], c["x0"])
    c["x2"] = h.commit(c["x1"], c["y1"])
    c["y2"] = h.commit(c["y1"], c["x1"])
    c["x3"] = h.commit(c["x2"], c["y2"])
    c["y3"] = h.commit(c["y2"], c["x2"])
    h.finish(c["x3"], c["y3"])
    return c


def test_criss_cross_merges_have_two_merge_bases(history: History) -> None:
    c = criss_cross(history)
    with Store.open(history.path) as store:
        found = merge_bases(store, c["x3"].encode(), c["y3"].encode())
        assert ids(found) == sorted([c["x2"], c["y2"]])
        assert ids(found) == history.merge_bases(c["x3"], c["y3"])
        # One level down, the bases are the previous pair; never the root or x0/y0.
        assert ids(merge_bases(store, c["x2"].encode(), c["y2"].encode())) == sorted(
            [c["x1"], c["y1"]]
        )
        assert ids(merge_bases(store, c["y3"].encode(), c["x3"].encode())) == ids(found)


def test_fast_forward_and_self(history: History) -> None:
    c = criss_cross(history)
    with Store.open(history.path) as store:
        root, x3 = c["root"].encode(), c["x3"].encode()
        assert merge_bases(store, root, x3) == [root]
        assert merge_bases(store, x3, root) == [root]
        assert merge_bases(store, x3, x3) == [x3]
        assert is_ancestor(store, x3, x3)
        assert is_ancestor(store, root, x3)
        assert not is_ancestor(store, x3, root)
        # A merge's sides are not each other's ancestors, though each reaches the other's parent.
        assert not is_ancestor(store, c["x2"].encode(), c["y2"].encode())
        assert is_ancestor(store, c["x1"].encode(), c["y2"].encode())


def test_unrelated_histories_have_no_merge_base(history: History) -> None:
    a = history.commit()
    a2 = history.commit(a)
    b = history.commit()
    b2 = history.commit(b)
    history.finish(a2, b2)
    with Store.open(history.path) as store:
        assert merge_bases(store, a2.encode(), b2.encode()) == []
        assert history.merge_bases(a2, b2) == []
        assert not is_ancestor(store, a.encode(), b2.encode())
        assert ancestors(store, [a2.encode(), b2.encode()]) == {s.encode() for s in (a, a2, b, b2)}
        # Joined by a merge, both roots become ancestors, and the merge bases are the tips.
        m = history.commit(a2, b2)
        history.finish(m, b2)
        assert is_ancestor(store, b.encode(), m.encode())
        assert merge_bases(store, m.encode(), b2.encode()) == [b2.encode()]


def test_ancestors_stop_early_at_stop(history: History) -> None:
    chain = [history.commit()]
    for _ in range(30):
        chain.append(history.commit(chain[-1]))
    history.finish(chain[-1])
    tip = chain[-1].encode()
    with Store.open(history.path) as store:
        assert ancestors(store, [tip]) == {s.encode() for s in history.rev_list(chain[-1])}
        stopped = ancestors(store, [tip], stop=chain[20].encode())
        assert chain[20].encode() in stopped
        assert chain[0].encode() not in stopped  # the walk ended there
        # A stop that is not reachable ends nothing.
        other = history.commit()
        assert ancestors(store, [tip], stop=other.encode()) == ancestors(store, [tip])


def random_history(h: History, seed: int, size: int = 40) -> None:
    """Commits with one to three parents, mostly recent ones, and now and then a new root."""
    rng = random.Random(seed)
    made: list[str] = []
    has_children: set[str] = set()
    for _ in range(size):
        if not made or rng.random() < 0.07:
            made.append(h.commit())
            continue
        count = rng.choices([1, 2, 3], weights=[5, 4, 1])[0]
        recent = made[-8:] if rng.random() < 0.8 else made
        parents = rng.sample(recent, min(count, len(recent)))
        has_children.update(parents)
        made.append(h.commit(*parents))
    h.finish(*[c for c in reversed(made) if c not in has_children])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_histories_agree_with_git(history: History, seed: int) -> None:
    random_history(history, seed)
    commits = history.commits
    reach = {c: history.rev_list(c) for c in commits}
    pairs = list(combinations(commits, 2))
    sample = random.Random(seed).sample(pairs, 120)
    multiple_bases = 0
    with Store.open(history.path) as store:
        for c in commits:
            assert ids(ancestors(store, [c.encode()])) == sorted(reach[c])
        for a, b in pairs:
            assert is_ancestor(store, a.encode(), b.encode()) == (a in reach[b]), (a, b)
            assert is_ancestor(store, b.encode(), a.encode()) == (b in reach[a]), (b, a)
        for a, b in sample:
            expected = history.merge_bases(a, b)
            assert ids(merge_bases(store, a.encode(), b.encode())) == expected, (a, b)
            assert ids(merge_bases(store, b.encode(), a.encode())) == expected, (b, a)
            multiple_bases += len(expected) > 1
        for a, b in sample[:25]:
            assert is_ancestor(store, a.encode(), b.encode()) == history.is_ancestor(a, b)
    # The histories are rich enough to test what they mean to: some pairs have several bases.
    assert multiple_bases > 0
