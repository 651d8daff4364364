"""publish and sync leak nothing, damage nothing, and trust nothing unchecked.

Credentials in a URL never reach an output or an object; a repository that is not this
store is never written to; what a remote sends is checked before any ref moves; a local
remote's hooks and settings apply; every failure is a message with the remote's name;
and a sync killed mid-fetch leaves nothing behind once the store is next locked.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CORPUS, EXAMPLES, GFW, Cli, fsck, git, session, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import git_http, html_page

USER, SECRET = "alice", "s3cr3t-T0KEN-for-tests"
TOKEN = "ghp_tokenAsUserName0123456789"


# -- helpers: real repositories, and objects crafted as a hostile remote would ----------


def git_bytes(*args: str | Path, input: bytes | None = None) -> bytes:
    done = subprocess.run(["git", *map(str, args)], input=input, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def hub(root: Path, name: str = "hub.git") -> Path:
    path = root / name
    git("init", "-q", "--bare", "-b", "main", path)
    git("-C", path, "config", "http.receivepack", "true")
    return path


def write(repo: Path, kind: str, data: bytes) -> str:
    """An object written as given, however malformed (`hash-object --literally`)."""
    return (
        git_bytes("-C", repo, "hash-object", "-t", kind, "--literally", "-w", "--stdin", input=data)
        .decode()
        .strip()
    )


Entry = tuple[bytes, bytes, str]  # mode, name, id


def read_tree(repo: Path, tree: str) -> list[Entry]:
    raw = git_bytes("-C", repo, "cat-file", "tree", tree)
    entries, at = [], 0
    while at < len(raw):
        space, nul = raw.index(b" ", at), raw.index(b"\0", at)
        entries.append((raw[at:space], raw[space + 1 : nul], raw[nul + 1 : nul + 21].hex()))
        at = nul + 21
    return entries


def tree_bytes(entries: list[Entry], order: bool = True) -> bytes:
    def key(e: Entry) -> bytes:
        return e[1] + (b"/" if e[0] == b"40000" else b"")

    listed = sorted(entries, key=key) if order else entries
    return b"".join(mode + b" " + name + b"\0" + bytes.fromhex(sha) for mode, name, sha in listed)


def edit_tree(
    repo: Path, tree: str, folder: list[bytes], change: object, order: bool = True
) -> str:
    """A copy of `tree` whose `folder` has its entries changed by `change(entries)`."""
    entries = read_tree(repo, tree)
    if folder:
        entries = [
            (m, n, edit_tree(repo, s, folder[1:], change, order) if n == folder[0] else s)
            for m, n, s in entries
        ]
    else:
        entries = change(entries)  # type: ignore[operator]
    return write(repo, "tree", tree_bytes(entries, True if folder else order))


def commit_on_main(
    repo: Path, tree: str, author: str = "A <a@b> 1764633600 +0000", message: str = "Change\n"
) -> str:
    """A commit on top of `main`, with raw author line, and `main` moved to it."""
    parent = git("-C", repo, "rev-parse", "main").strip()
    data = (
        f"tree {tree}\nparent {parent}\nauthor {author}\n"
        f"committer A <a@b> 1764633600 +0000\n\n{message}"
    ).encode()
    sha = write(repo, "commit", data)
    git("-C", repo, "update-ref", "refs/heads/main", sha)
    return sha


def main_tree(repo: Path) -> str:
    return git("-C", repo, "rev-parse", "main^{tree}").strip()


def a_session_folder(repo: Path) -> list[bytes]:
    """The path (as tree names) of some session folder at main."""
    out = git("-C", repo, "ls-tree", "-r", "-d", "--name-only", "main", "sessions")
    deepest = max(out.split(), key=lambda p: p.count("/"))
    return [part.encode() for part in deepest.split("/")]


def store_and_hub(cli: Cli, tmp_path: Path, sessions: int = 3) -> tuple[Path, Path]:
    """A store, published to a bare hub, and a clone of it made by sync."""
    shared = hub(tmp_path)
    mine = tmp_path / "mine.git"
    picks = sorted(CORPUS.glob("*.json"))[:sessions]
    assert cli("ingest", "--repo", mine, *picks).exit_code == 0
    assert cli("publish", "--repo", mine, shared).exit_code == 0
    return mine, shared


def everything_in(repo: Path, skip: tuple[str, ...] = ()) -> bytes:
    """Every object (as git reads it) and every file of a repository, as one blob to grep."""
    objects = git_bytes("-C", repo, "cat-file", "--batch-all-objects", "--batch")
    files = b"".join(
        p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file() and p.name not in skip
    )
    return objects + files


# -- 1. credentials ----------------------------------------------------------------------


@pytest.mark.slow
def test_credentials_never_reach_an_output_a_commit_or_a_file(cli: Cli, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    shared = hub(served)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    corpus = sorted(CORPUS.glob("*.json"))
    outputs: list[str] = []

    def run(*args: str | Path, code: int = 0) -> dict[str, object] | None:
        result = cli(*args)
        outputs.extend([result.stdout, result.stderr])
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if "--json" in args and result.stdout else None

    with git_http(served, credentials=(USER, SECRET)) as base:
        host = base.removeprefix("http://")
        url = f"http://{USER}:{SECRET}@{host}/hub.git"
        run("ingest", "--repo", a, *corpus[:4])
        git("-C", a, "remote", "add", "origin", url)
        published = run("publish", "--repo", a, "--json")
        run("publish", "--repo", a)
        # b takes the hub's history by URL, adds sessions and publishes them
        run("sync", "--repo", b, url, "--json")
        run("ingest", "--repo", b, *corpus[4:7])
        run("publish", "--repo", b, url, "--json")
        # a has sessions of its own too: sync by name makes a merge, and pushes it
        run("ingest", "--repo", a, *corpus[7:9])
        merged = run("sync", "--repo", a, "--json")
        run("sync", "--repo", b, url)
        # errors: a wrong secret, a missing repository, a token as the user name
        run("publish", "--repo", a, f"http://{USER}:wrong-{SECRET}@{host}/hub.git", code=1)
        run("sync", "--repo", a, f"http://{USER}:{SECRET}@{host}/missing.git", code=1)
        run("publish", "--repo", a, f"http://{TOKEN}@{host}/missing.git", "--json", code=1)
        run("sync", "--repo", a, f"http://{USER}:{SECRET}@127.0.0.1:1/hub.git", code=1)
    text = "\n".join(outputs)
    for secret in (SECRET, TOKEN):
        assert secret not in text
        # the store's config holds the URL because the user put it there; nothing else may
        for repo in (a, b, shared):
            assert secret.encode() not in everything_in(repo, skip=("config",)), repo
    assert SECRET.encode() in (a / "config").read_bytes()
    assert merged is not None and merged["action"] == "merged", merged
    message = git("-C", a, "log", "-1", "--format=%B", "main").strip()
    assert message == "Combine sessions from origin"
    assert git("-C", a, "rev-parse", "main") == git("-C", shared, "rev-parse", "main")
    assert published is not None and published["pushed"] is True
    assert published["remote"] == "origin" and published["url"] == f"http://***@{host}/hub.git"
    assert f"origin (http://***@{host}/hub.git)" in text
    for repo in (a, b, shared):
        fsck(repo)


def test_redact_url_hides_every_kind_of_secret() -> None:
    from gitflywheel.storage.remote_url import redact_text, redact_url

    assert redact_url("https://u:pw@host/x.git") == "https://***@host/x.git"
    assert redact_url("https://tokentoken@host:8443/x.git") == "https://***@host:8443/x.git"
    assert redact_url("https://host/x.git?access_token=abcd") == "https://host/x.git?***"
    assert redact_url("ssh://git@host/x.git") == "ssh://git@host/x.git"
    assert redact_url("ssh://git:pw12@host/x.git") == "ssh://git:***@host/x.git"
    assert redact_url("git@host:me/x.git") == "git@host:me/x.git"
    assert redact_url("/srv/x.git") == "/srv/x.git"
    said = redact_text(
        "GET http://u:s%65cret@h/x failed for secret, and https://other:pw@elsewhere/y",
        "http://u:s%65cret@h/x",
    )
    assert "secret" not in said and "s%65cret" not in said and "other:pw" not in said


# -- 2. a repository that is not this store -----------------------------------------------


def project(tmp_path: Path, branch: str = "main") -> Path:
    """A bare code repository with one commit on `branch`: someone's project."""
    work = tmp_path / f"work-{branch}"
    git("init", "-q", "-b", branch, work)
    (work / "app.py").write_text("print('hello')\n")
    git("-C", work, "add", "app.py")
    git("-C", work, "-c", "user.name=A", "-c", "user.email=a@b", "commit", "-q", "-m", "app")
    bare = tmp_path / f"proj-{branch}.git"
    git("clone", "-q", "--bare", work, bare)
    return bare


def test_sync_and_publish_refuse_a_project_as_remote(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "fw.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    ours = git("-C", store, "rev-parse", "main")
    for branch, found in (("main", "gitflywheel.json"), ("master", "refs/heads/master")):
        proj = project(tmp_path, branch)
        before = snapshot(proj)
        for command in ("sync", "publish"):
            result = cli(command, "--repo", store, proj)
            assert result.exit_code == 2, (command, branch, result.output)
            assert "not a gitflywheel store" in result.stderr and found in result.stderr
            assert "run `gitflywheel sync`" not in result.stderr
            assert snapshot(proj) == before
    assert git("-C", store, "rev-parse", "main") == ours
    fsck(store)


def test_sync_and_publish_refuse_another_store(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, shared = store_and_hub(cli, tmp_path)
    other = tmp_path / "other.git"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # another first commit
    assert cli("ingest", "--repo", other, EXAMPLES / "trade_session.json").exit_code == 0
    before, theirs = snapshot(shared), snapshot(other)
    for command in ("sync", "publish"):
        result = cli(command, "--repo", other, shared)
        assert result.exit_code == 2, result.output
        assert "shares no history with this store" in result.stderr
    assert snapshot(shared) == before
    assert {k: v for k, v in snapshot(other).items() if k.startswith("refs")} == {
        k: v for k, v in theirs.items() if k.startswith("refs")
    }


def test_writers_refuse_a_repository_that_is_not_a_store(cli: Cli, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(session("good-1")))
    on_master = project(tmp_path, "master")
    work_tree = tmp_path / "fresh"
    git("init", "-q", "-b", "main", work_tree)  # non-bare and empty
    shared = tmp_path / "hub.git"
    git("init", "-q", "--bare", "-b", "main", shared)
    for repo, found in (
        (on_master, "refs/heads/master"),
        (tmp_path / "work-master", "work tree"),
        (work_tree, "work tree"),
        (work_tree / ".git", "work tree"),
    ):
        before = snapshot(repo)
        for args in (("ingest", good), ("init",), ("sync", shared)):
            result = cli(args[0], "--repo", repo, *args[1:])
            assert result.exit_code == 2, (repo, args, result.output)
            assert found in result.stderr, result.stderr
            assert snapshot(repo) == before, (repo, args)


def test_an_empty_bare_repository_becomes_a_store_with_head_on_main(
    cli: Cli, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.git"
    git("init", "-q", "--bare", "-b", "master", empty)
    assert cli("ingest", "--repo", empty, EXAMPLES / "build_session.json").exit_code == 0
    assert git("-C", empty, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    clone = tmp_path / "clone"
    git("clone", "-q", empty, clone)
    assert (clone / "gitflywheel.json").exists()


# -- 3. what a remote sends is checked before anything moves -------------------------------


def _dotdot(repo: Path) -> str:
    blob = write(repo, "blob", b"x")
    return commit_on_main(
        repo,
        edit_tree(repo, main_tree(repo), [b"templates"], lambda e: [*e, (b"100644", b"..", blob)]),
    )


def _mode(mode: bytes, name: bytes, target: bytes = b"/etc/passwd") -> object:
    def craft(repo: Path) -> str:
        sha = write(repo, "blob", target) if mode != b"160000" else "1" * 40
        folder = a_session_folder(repo)
        return commit_on_main(
            repo, edit_tree(repo, main_tree(repo), folder, lambda e: [*e, (mode, name, sha)])
        )

    return craft


def _dot_git(repo: Path) -> str:
    inner = write(repo, "tree", b"")
    return commit_on_main(
        repo,
        edit_tree(
            repo, main_tree(repo), [b"templates"], lambda e: [*e, (b"40000", b".GiT", inner)]
        ),
    )


def _unsorted(repo: Path) -> str:
    tree = edit_tree(
        repo, main_tree(repo), [b"templates"], lambda e: list(reversed(e)), order=False
    )
    return commit_on_main(repo, tree)


def _duplicate(repo: Path) -> str:
    return commit_on_main(
        repo, edit_tree(repo, main_tree(repo), [b"templates"], lambda e: [e[0], *e], order=False)
    )


def _author(line: str) -> object:
    def craft(repo: Path) -> str:
        return commit_on_main(repo, main_tree(repo), author=line)

    return craft


HOSTILE = {
    "templates/..": (_dotdot, ".."),
    "symlink artifact": (_mode(b"120000", b"evil.md"), "symbolic link"),
    "executable": (_mode(b"100755", b"run.sh", b"#!/bin/sh\n"), "executable"),
    "submodule": (_mode(b"160000", b"sub"), "submodule"),
    ".GiT folder": (_dot_git, ".git"),
    "unsorted tree": (_unsorted, "order"),
    "duplicate entry": (_duplicate, "duplicate"),
    "author without email": (_author("Nobody 1764633600 +0000"), "author"),
    "zero-padded date": (_author("A <a@b> 01764633600 +0000"), "author"),
    # dulwich itself refuses to parse this one, before our checks could name the object
    "bad time zone": (_author("A <a@b> 1764633600 0000"), "Timezone must start with + or -"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_sync_refuses_a_hostile_history_and_nothing_moves(
    cli: Cli, tmp_path: Path, case: str
) -> None:
    mine, shared = store_and_hub(cli, tmp_path)
    craft, reason = HOSTILE[case]
    bad = craft(shared)  # type: ignore[operator]
    before, hub_before = snapshot(mine), snapshot(shared)
    result = cli("sync", "--repo", mine, shared)  # would be a fast-forward
    assert result.exit_code == 1, result.output
    assert reason in result.stderr and "nothing was taken" in result.stderr, result.stderr
    assert result.stderr.startswith(f"error: {shared}: ")
    if "Timezone" not in reason:
        assert bad in result.stderr or "tree " in result.stderr  # names the object
    after = snapshot(mine)
    assert after == before, set(after.items()) ^ set(before.items())
    assert subprocess.run(["git", "-C", mine, "cat-file", "-e", bad]).returncode != 0
    assert snapshot(shared) == hub_before
    fsck(mine)
    # with sessions of its own, sync would merge: refused all the same
    assert cli("ingest", "--repo", mine, EXAMPLES / "trade_session.json").exit_code == 0
    tip = git("-C", mine, "rev-parse", "main")
    assert cli("sync", "--repo", mine, shared).exit_code == 1
    assert git("-C", mine, "rev-parse", "main") == tip
    assert snapshot(shared) == hub_before


def test_sync_refuses_a_history_that_breaks_the_store_rules(cli: Cli, tmp_path: Path) -> None:
    mine, shared = store_and_hub(cli, tmp_path)
    folder = a_session_folder(shared)
    blob = write(shared, "blob", b"# Rewritten behind the record's back\n")

    def retouch(entries: list[Entry]) -> list[Entry]:
        return [(m, n, blob if n == b"readme.md" else s) for m, n, s in entries]

    # valid objects, but a commit that changes a session without naming it
    bad = commit_on_main(shared, edit_tree(shared, main_tree(shared), folder, retouch))
    before = snapshot(mine)
    result = cli("sync", "--repo", mine, shared)
    assert result.exit_code == 1, result.output
    assert bad[:12] in result.stderr and "commit.no-session" in result.stderr, result.stderr
    assert snapshot(mine) == before
    assert cli("verify", "--repo", mine).exit_code == 0


def test_a_fresh_store_checks_the_whole_history_it_takes(cli: Cli, tmp_path: Path) -> None:
    mine, shared = store_and_hub(cli, tmp_path)
    _mode(b"120000", b"evil.md")(shared)  # type: ignore[operator]
    fresh = tmp_path / "fresh.git"
    result = cli("sync", "--repo", fresh, shared)
    assert result.exit_code == 1 and "symbolic link" in result.stderr, result.output
    assert (
        subprocess.run(["git", "-C", fresh, "rev-parse", "--verify", "-q", "main"]).returncode != 0
    )
    fsck(fresh)


# -- 5. a local remote's hooks and settings apply -------------------------------------------


@pytest.mark.parametrize("form", ["path", "file://"])
def test_a_local_remote_hook_refuses_the_push(cli: Cli, tmp_path: Path, form: str) -> None:
    shared = hub(tmp_path)
    hook = shared / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'refused by house policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    url = str(shared) if form == "path" else f"file://{shared}"
    before = snapshot(shared)
    for command in ("publish", "sync"):
        result = cli(command, "--repo", store, url)
        assert result.exit_code == 1, (command, result.output)
        assert "pre-receive hook declined" in result.stderr, result.stderr
        assert "refused by house policy" in result.stderr
        assert snapshot(shared) == before


def test_a_local_remote_checks_what_it_receives(cli: Cli, tmp_path: Path) -> None:
    shared = hub(tmp_path)
    git("-C", shared, "config", "receive.fsckObjects", "true")
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    commit_on_main(store, main_tree(store), author="Nobody 1764633600 +0000")  # tampered
    before = snapshot(shared)
    result = cli("publish", "--repo", store, shared)
    assert result.exit_code == 1, result.output
    assert "missingEmail" in result.stderr, result.stderr
    assert snapshot(shared) == before


def test_a_local_remote_needs_git(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = hub(tmp_path)
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    nothing = tmp_path / "bin"
    nothing.mkdir()
    monkeypatch.setenv("PATH", str(nothing))
    result = cli("publish", "--repo", store, shared)
    assert result.exit_code == 1 and "git is not installed" in result.stderr, result.output


# -- 6. errors, never tracebacks -------------------------------------------------------------


@pytest.mark.slow
def test_remote_failures_are_messages_naming_the_remote(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    served = tmp_path / "served"
    served.mkdir()
    hub(served)
    missing = str(tmp_path / "nothere.git")
    cases: list[tuple[str, str, str]] = [
        (missing, missing, "does not appear to be a git repository"),
        ("ssh://nonexistent.invalid/x.git", "ssh://nonexistent.invalid/x.git", "resolve"),
        (
            f"ssh://git:{SECRET}@nonexistent.invalid/x.git",
            "ssh://git:***@nonexistent.invalid/x.git",
            "resolve",
        ),
    ]
    with (
        git_http(served, credentials=(USER, SECRET)) as base,
        html_page() as page,
        html_page(status=500) as broken,
    ):
        host = base.removeprefix("http://")
        cases += [
            (f"{base}/hub.git", f"{base}/hub.git", "HTTP 401"),
            (
                f"http://{USER}:{SECRET}@{host}/none.git",
                f"http://***@{host}/none.git",
                "no git repository",
            ),
            (f"{page}/hub.git", f"{page}/hub.git", "did not answer as a git server"),
            (
                broken.replace("://", f"://{USER}:{SECRET}@") + "/hub.git",
                broken.replace("://", "://***@") + "/hub.git",
                "unexpected http resp 500",
            ),
        ]
        for url, shown, reason in cases:
            for command in ("publish", "sync"):
                result = cli.process(command, "--repo", store, url)
                err = result.stderr.decode()
                assert result.returncode == 1, (url, command, err)
                assert "Traceback" not in err and reason in err, (url, err)
                assert err.startswith(f"error: {shown}: "), err
                assert SECRET not in err and result.stdout == b""


# -- 7. a sync killed mid-fetch leaves nothing behind ----------------------------------------


def _leftovers(store: Path) -> list[str]:
    names = ("tmp_pack_*", "incoming-*", "tmp*.pack")
    return sorted(str(p.relative_to(store)) for n in names for p in store.rglob(n))


@pytest.mark.slow
def test_a_sync_killed_mid_fetch_leaves_nothing_once_the_store_is_locked(
    cli: Cli, tmp_path: Path
) -> None:
    mine, shared = store_and_hub(cli, tmp_path)
    ours = git("-C", mine, "rev-parse", "main")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(32 << 20))  # incompressible: a fetch that takes a while
    blob = git("-C", shared, "hash-object", "-w", big).strip()
    commit_on_main(
        shared,
        edit_tree(
            shared, main_tree(shared), [b"templates"], lambda e: [*e, (b"100644", b"big.bin", blob)]
        ),
    )
    process = subprocess.Popen(
        [*GFW, "sync", "--repo", str(mine), str(shared)], stderr=subprocess.PIPE
    )
    seen: list[str] = []
    while process.poll() is None and not seen:
        seen = [p for p in _leftovers(mine) if (mine / p).is_file()]  # a pack being written
        time.sleep(0.002)
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert seen, f"the sync ended before it wrote a pack: {process.stderr.read()!r}"  # type: ignore[union-attr]
    assert _leftovers(mine), "the kill left nothing to clean"
    # verify takes no writer's lock, so it leaves the leftovers to the next writer
    assert cli("verify", "--repo", mine).exit_code == 0
    assert cli("maintain", "--repo", mine).exit_code == 0  # takes the lock: cleans up
    assert _leftovers(mine) == []
    assert git("-C", mine, "rev-parse", "main") == ours
    fsck(mine)


def test_the_lock_cleans_what_a_killed_dulwich_leaves(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    objects = store / "objects"
    made = [
        objects / "tmp_pack_k1ll3d",  # a fetched thin pack being completed
        objects / "incoming-k1ll3d",  # a fetch spooled to disk
        objects / "pack" / "tmpk1ll3d.pack",  # a pack being received
        objects / "pack" / "pack-0123456789abcdef0123456789abcdef01234567.pack",  # no index
        store / "gitflywheel" / "incoming-k1ll3d" / "objects" / "pack" / "pack-1.pack",
    ]
    for path in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PACK leftover")
    os.utime(made[3], (time.time() - 60, time.time() - 60))
    fresh = objects / "pack" / "pack-fedcba9876543210fedcba9876543210fedcba98.pack"
    fresh.write_bytes(b"PACK being written")  # an index may still land: kept
    assert cli("verify", "--repo", store).exit_code == 0  # a reader: leaves them be
    assert all(p.exists() for p in made)
    assert cli("maintain", "--repo", store).exit_code == 0  # takes the lock: cleans up
    assert [p for p in made if p.exists()] == [] and not (
        store / "gitflywheel" / "incoming-k1ll3d"
    ).exists()
    assert fresh.exists()
    fresh.unlink()
    fsck(store)


# -- the parsers of untrusted bytes and URLs, as properties ---------------------------------

_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12)


def _raw_tree(entries: list[tuple[bytes, bytes, bytes]]) -> bytes:
    return b"".join(mode + b" " + name + b"\0" + sha for mode, name, sha in entries)


@given(
    st.dictionaries(
        _NAME.filter(lambda n: n not in (".", "..") and n.lower().rstrip(". ") != ".git"),
        st.sampled_from([b"100644", b"40000"]),
        max_size=12,
    ),
)
@settings(max_examples=200, deadline=None)
def test_a_well_formed_tree_has_no_problems_and_dulwich_agrees(entries: dict[str, bytes]) -> None:
    from dulwich.objects import Tree

    from gitflywheel.storage.treecheck import tree_entry_problems

    tree = Tree()
    for name, mode in entries.items():
        tree.add(name.encode(), int(mode, 8), b"a" * 40)  # type: ignore[arg-type]
    raw = tree.as_raw_string()
    assert tree_entry_problems(raw) == []
    tree.check()


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_tree_and_commit_checks_never_crash_on_any_bytes(raw: bytes) -> None:
    from gitflywheel.storage.objectcheck import commit_problems
    from gitflywheel.storage.treecheck import tree_entry_problems

    for problem in tree_entry_problems(raw):
        assert problem.reason
    commit_problems(raw)


@given(
    st.lists(
        st.tuples(st.sampled_from([b"100644", b"40000", b"100755", b"120000"]), _NAME),
        min_size=2,
        max_size=8,
    ),
)
@settings(max_examples=200, deadline=None)
@pytest.mark.slow
def test_tree_checks_find_what_dulwich_refuses(entries: list[tuple[bytes, str]]) -> None:
    """Any tree dulwich's strict check refuses, ours refuses too (as given, unsorted)."""
    from dulwich.objects import Tree

    from gitflywheel.storage.treecheck import tree_entry_problems

    raw = _raw_tree([(mode, name.encode(), b"\x01" * 20) for mode, name in entries])
    tree = Tree.from_string(raw)
    try:
        tree.check()
        refused = False
    except Exception:
        refused = True
    if refused:
        assert tree_entry_problems(raw)


_SECRET = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~!$&'()*+,;=%",
    min_size=2,
    max_size=30,
).map(lambda s: f"pw{s}Z")  # a marker the rest of the text cannot hold


@given(st.sampled_from(["http", "https", "git", "file"]), _NAME, _SECRET)
@settings(max_examples=300, deadline=None)
@pytest.mark.slow
def test_redaction_never_lets_a_password_through(scheme: str, user: str, password: str) -> None:
    from gitflywheel.storage.remote_url import redact_text, redact_url

    url = f"{scheme}://{user}:{password}@example.org:8080/path/x.git"
    shown = redact_url(url)
    assert password not in shown and "example.org:8080/path/x.git" in shown
    said = redact_text(f"error talking to {url} (as {password}): refused", url)
    assert password not in said
