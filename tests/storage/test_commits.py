"""storage.commits: messages, trailers, identities and dates, as git reads them.

Each message is written into a commit object by `git hash-object -t commit` (which
checks it as fsck does) and read back with `git log --format=...`: the subject, the
whole message (`%B`) and the trailers (`%(trailers)`) are what git itself sees.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, fsck, git
from hypothesis import given
from hypothesis import strategies as st

from gitflywheel.errors import GitflywheelError
from gitflywheel.session.models import SESSION_ID_PATTERN
from gitflywheel.storage.commits import (
    GIT_TIME_MAX,
    GIT_TIME_MIN,
    RENDERED_BY,
    TRAILER_KEYS,
    SessionTrailers,
    commit_time,
    committer_identity,
    git_time,
    identity,
    merge_message,
    parse_trailers,
    rendered_by,
    session_message,
    session_trailers,
    setup_message,
)

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
AUTHOR = b"A <a@example.invalid>"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "commits.git"
    git("init", "-q", "--bare", "-b", "main", path)
    git("-C", path, "hash-object", "-w", "-t", "tree", "--stdin", input=b"")
    return path


def write_commit(
    repo: Path,
    message: bytes,
    author: bytes = AUTHOR,
    committer: bytes = AUTHOR,
    when: int = 1764633600,
) -> str:
    """A commit object of exactly these bytes, written and checked by git, on `main`."""
    raw = (
        f"tree {EMPTY_TREE}\n".encode()
        + b"author " + author + f" {when} +0000\n".encode()
        + b"committer " + committer + f" {when} +0000\n".encode()
        + b"\n"
        + message
    )  # fmt: skip
    sha = git("-C", repo, "hash-object", "-t", "commit", "-w", "--stdin", input=raw).strip()
    git("-C", repo, "update-ref", "refs/heads/main", sha)
    return sha


def log(repo: Path, fmt: str, sha: str) -> str:
    return git("-C", repo, "log", "-1", f"--format={fmt}", sha)


# -- session messages and their trailers ---------------------------------------------------

CASES = [
    SessionTrailers("s-1", "build", "Agent-1", 1),
    SessionTrailers("a..b", "trade", "Agent with spaces", 2),
    SessionTrailers("_", "life_aria", "Ägent ✓ ünïcode", 17),
    SessionTrailers(
        "x.lock", "build", "Agent: with colon", 3, rendered_by("0.4.0", "build/4", "filters/1")
    ),
]


@pytest.mark.parametrize("trailers", CASES, ids=lambda t: t.session_id)
def test_session_messages_read_back_the_same_by_us_and_by_git(
    repo: Path, trailers: SessionTrailers
) -> None:
    message = session_message(trailers)
    assert session_trailers(message) == trailers
    sha = write_commit(repo, message)
    assert log(repo, "%B", sha) == message.decode() + "\n"
    subject = log(repo, "%s", sha).strip()
    if trailers.rerender:
        assert subject == f"Re-render {trailers.session_type} session {trailers.session_id}"
    elif trailers.revision == 1:
        assert subject == f"Record {trailers.session_type} session {trailers.session_id}"
    else:
        assert subject == (
            f"Revise (revision {trailers.revision}) {trailers.session_type} "
            f"session {trailers.session_id}"
        )
    # git finds the same trailers, in the same order, with the same values.
    listed = log(repo, "%(trailers:only,unfold)", sha).strip().splitlines()
    keys = [*TRAILER_KEYS, *([RENDERED_BY] if trailers.rerender else [])]
    assert [line.split(": ", 1)[0] for line in listed] == keys
    assert dict(line.split(": ", 1) for line in listed) == parse_trailers(message)
    assert log(repo, "%(trailers:key=Session-Id,valueonly)", sha).strip() == trailers.session_id
    assert log(repo, "%(trailers:key=Revision,valueonly)", sha).strip() == str(trailers.revision)
    fsck(repo)


@given(
    st.from_regex(SESSION_ID_PATTERN, fullmatch=True),
    st.sampled_from(["build", "trade", "life_aria"]),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=128,
    ).filter(lambda s: s.strip() == s and s.strip() != ""),
    st.integers(min_value=1, max_value=10**9),
    st.none() | st.just(rendered_by("0.4.0", "trade/2", "filters/3")),
)
def test_session_trailers_round_trip(
    sid: str, kind: str, agent: str, revision: int, by: str | None
) -> None:
    trailers = SessionTrailers(sid, kind, agent, revision, by)
    assert session_trailers(session_message(trailers)) == trailers


@pytest.mark.parametrize(
    ("message", "found"),
    [
        (b"Subject only\n", {}),
        (b"Subject\n\nA: 1\nB: two words\n", {"A": "1", "B": "two words"}),
        (b"Subject\n\nA: 1\nnot a trailer\n", {}),  # one stray line: no trailers at all
        (b"Subject\n\nBody text.\n\nA: 1\n", {"A": "1"}),  # only the last paragraph counts
        (b"Subject\n\nA: 1\n\nBody after.\n", {}),
        (b"Subject\n\nA:1\n", {}),  # git's own trailers need no space; ours do
        (b"Subject\n\nA: 1\r\n", {"A": "1"}),
        (b"Subject\n\n\xff: x\nB: \xfe\n", {}),
    ],
)
def test_parse_trailers_reads_the_last_paragraph_only(
    message: bytes, found: dict[str, str]
) -> None:
    assert parse_trailers(message) == found


def test_a_commit_that_records_no_session_has_no_session_trailers(repo: Path) -> None:
    for message in [setup_message(), merge_message("origin"), b"Subject\n\nRevision: 2\n"]:
        assert session_trailers(message) is None
    bad = session_trailers(b"Record x\n\nSession-Id: x\nRevision: two\n")
    assert bad is not None and bad.revision == 0 and bad.session_type == ""


# -- setup and merge messages --------------------------------------------------------------


def test_setup_message_as_git_prints_it(repo: Path) -> None:
    sha = write_commit(repo, setup_message())
    assert log(repo, "%s", sha) == "Set up gitflywheel store\n"
    assert log(repo, "%b", sha) == "Records the templates that render the artifacts.\n\n"
    assert log(repo, "%B", sha) == setup_message().decode() + "\n"
    assert log(repo, "%(trailers:only)", sha).strip() == ""
    assert parse_trailers(setup_message()) == {}


@pytest.mark.parametrize(
    ("remote", "subject"),
    [
        ("origin", "Combine sessions from origin"),
        ("team/hub", "Combine sessions from team/hub"),
        ("hub.example_1", "Combine sessions from hub.example_1"),
        (None, "Combine sessions from a remote"),
        ("", "Combine sessions from a remote"),
        ("https://me:s3cret@example.com/x.git", "Combine sessions from a remote"),
        ("me@host:x.git", "Combine sessions from a remote"),
        ("origin\n\nSession-Id: forged", "Combine sessions from a remote"),
        ("-rf", "Combine sessions from a remote"),
        ("x" * 101, "Combine sessions from a remote"),
    ],
)
def test_merge_message_names_a_remote_never_its_url(
    repo: Path, remote: str | None, subject: str
) -> None:
    message = merge_message(remote)
    sha = write_commit(repo, message)
    assert log(repo, "%B", sha) == subject + "\n\n"
    assert log(repo, "%(trailers:only)", sha).strip() == ""
    assert session_trailers(message) is None


# -- identities ------------------------------------------------------------------------------


def test_committer_identity_is_gitflywheel_unless_git_committer_is_set(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert committer_identity() == b"gitflywheel <gitflywheel@localhost>"
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Jane Doe")
    assert committer_identity() == b"Jane Doe <gitflywheel@localhost>"
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "jane@example.com")
    assert committer_identity() == b"Jane Doe <jane@example.com>"
    # git, given the same environment, names the same committer.
    assert git("var", "GIT_COMMITTER_IDENT").rsplit(" ", 2)[0].encode() == committer_identity()
    sha = write_commit(repo, b"x\n", committer=committer_identity())
    assert log(repo, "%cn <%ce>", sha).strip().encode() == committer_identity()
    monkeypatch.setenv("GIT_COMMITTER_NAME", "<Jane> Doe")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "<jane@example.com>")
    assert committer_identity() == b"Jane Doe <jane@example.com>"
    monkeypatch.setenv("GIT_COMMITTER_NAME", " ... ")  # git refuses it: nothing is left
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "")
    assert committer_identity() == b"gitflywheel <>"
    write_commit(repo, b"x\n", committer=committer_identity())
    fsck(repo)


@pytest.mark.parametrize("variable", ["GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"])
def test_a_newline_in_the_committer_environment_never_breaks_a_commit(
    repo: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Jane")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "jane@example.com")
    monkeypatch.setenv(variable, "Jane\nDoe")
    sha = write_commit(repo, b"x\n", committer=committer_identity())
    fsck(repo)
    assert git("var", "GIT_COMMITTER_IDENT").rsplit(" ", 2)[0].encode() == committer_identity()
    shown = log(repo, "%cn%x00%ce", sha).strip("\n").split("\0")
    assert "JaneDoe" in shown and "\n" not in "".join(shown)


def test_an_ingest_under_any_committer_environment_passes_fsck(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_COMMITTER_NAME", ' "Jane\nDoe", ')
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "<jane\n@example.com>.")
    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    fsck(store)
    shown = git("-C", store, "log", "--format=%cn%x00%ce", "main").splitlines()
    assert shown and set(shown) == {"JaneDoe\0jane@example.com"}


def _git_ident(variable: str, name: bytes, email: bytes) -> bytes | None:
    """The identity the real git makes of a name and an email (`git var`), without its
    date; None when git refuses the name."""
    role = "COMMITTER" if variable == "GIT_COMMITTER_IDENT" else "AUTHOR"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env[f"GIT_{role}_NAME"] = os.fsdecode(name)
    env[f"GIT_{role}_EMAIL"] = os.fsdecode(email)
    done = subprocess.run(["git", "var", variable], capture_output=True, env=env)
    if done.returncode != 0:
        assert b"name" in done.stderr, done.stderr  # empty, or only what git drops
        return None
    return done.stdout.rstrip(b"\n").rsplit(b" ", 2)[0]


# Bytes an environment variable can hold (no NUL): mostly the ones git treats specially.
_ENV_BYTES = st.binary(max_size=30).map(lambda b: b.replace(b"\0", b"")) | st.lists(
    st.sampled_from([b" ", b"\n", b"\t", b"<", b">", b".", b",", b":", b";", b'"', b"'",
                     b"\\", b"Jane", b"\xc3\xa9", b"\xff", b"@", b"\r", b"\x7f"]),
    max_size=8,
).map(b"".join)  # fmt: skip


@given(name=_ENV_BYTES, email=_ENV_BYTES)
def test_the_committer_is_whatever_git_makes_of_the_environment(name: bytes, email: bytes) -> None:
    expected = _git_ident("GIT_COMMITTER_IDENT", name, email)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_COMMITTER_NAME", os.fsdecode(name))
        patch.setenv("GIT_COMMITTER_EMAIL", os.fsdecode(email))
        made = committer_identity()
    if expected is None:  # git refuses to commit; gitflywheel commits as itself
        expected = _git_ident("GIT_COMMITTER_IDENT", b"gitflywheel", email)
    assert made == expected


@given(name=st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=20)
       | st.lists(st.sampled_from([" ", "<", ">", ".", ",", "'", '"', "\\", "Ann", "é"]),
                  max_size=6).map("".join))  # fmt: skip
def test_an_authors_name_is_what_git_makes_of_it(name: str) -> None:
    made = identity(name)
    expected = _git_ident("GIT_AUTHOR_IDENT", name.encode(), b"x")
    shown = made.rsplit(b" <", 1)[0]
    assert shown == (expected[: -len(b" <x>")] if expected is not None else b"unknown")


@pytest.mark.parametrize(
    ("name", "shown", "email"),
    [
        ("Agent-1", "Agent-1", "agent-1@gitflywheel.invalid"),
        ("Claude Code", "Claude Code", "claude-code@gitflywheel.invalid"),
        ("<script>x</script>", "scriptx/script", "scriptx-script@gitflywheel.invalid"),
        ("Ägent ünï", "Ägent ünï", "gent-n@gitflywheel.invalid"),
        ("a\nb\tc\x00d", "abcd", "abcd@gitflywheel.invalid"),
        ("  padded  ", "padded", "padded@gitflywheel.invalid"),
        ("<>", "unknown", "unknown@gitflywheel.invalid"),
        ("✓✓", "✓✓", "agent@gitflywheel.invalid"),
        ('"Ann Lee, Jr."', "Ann Lee, Jr", "ann-lee-jr@gitflywheel.invalid"),  # git's crud
        ("...", "unknown", "unknown@gitflywheel.invalid"),
    ],
)
def test_author_identities_are_what_git_reads(
    repo: Path, name: str, shown: str, email: str
) -> None:
    ident = identity(name)
    assert ident == f"{shown} <{email}>".encode()
    sha = write_commit(repo, b"x\n", author=ident)
    assert log(repo, "%an%x00%ae", sha).strip("\n").split("\0") == [shown, email]
    fsck(repo)


# -- dates -------------------------------------------------------------------------------------


def test_commit_time_is_source_date_epoch_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert commit_time() == 1700000000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")
    now = datetime.now(UTC).timestamp()
    assert abs(commit_time() - now) < 5
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert abs(commit_time() - now) < 5
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(GitflywheelError, match="SOURCE_DATE_EPOCH: 'soon'"):
        commit_time()


@pytest.mark.parametrize(
    ("moment", "seconds", "iso"),
    [
        (datetime(2025, 12, 2, 3, 30, tzinfo=UTC), 1764646200, "2025-12-02T03:30:00+00:00"),
        (
            datetime(2025, 12, 2, 5, 30, tzinfo=timezone(timedelta(hours=2))),
            1764646200,
            "2025-12-02T03:30:00+00:00",
        ),
        (datetime(1969, 7, 20, 20, 17, tzinfo=UTC), GIT_TIME_MIN, "1970-01-01T00:00:00+00:00"),
        (datetime(1970, 1, 1, 0, 0, 0, 999999, tzinfo=UTC), 0, "1970-01-01T00:00:00+00:00"),
        (
            datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            GIT_TIME_MAX,
            "9999-12-31T23:59:59+00:00",
        ),
    ],
)
def test_git_time_is_a_date_git_accepts_and_shows(
    repo: Path, moment: datetime, seconds: int, iso: str
) -> None:
    assert git_time(moment) == seconds
    sha = write_commit(repo, b"x\n", when=git_time(moment))
    assert log(repo, "%aI", sha).strip() == iso
    fsck(repo)


def test_git_refuses_the_dates_git_time_clamps_away(repo: Path) -> None:
    """The clamp matters: one second outside, and `git fsck --strict` refuses the commit."""
    raw = (
        f"tree {EMPTY_TREE}\nauthor A <a@example.invalid> -1 +0000\n"
        f"committer A <a@example.invalid> -1 +0000\n\nx\n"
    ).encode()
    done = subprocess.run(
        ["git", "-C", repo, "hash-object", "-t", "commit", "-w", "--stdin"],
        input=raw,
        capture_output=True,
    )
    if done.returncode == 0:  # an older git writes it; fsck must still refuse it
        git("-C", repo, "update-ref", "refs/heads/main", done.stdout.decode().strip())
        checked = subprocess.run(
            ["git", "-C", repo, "fsck", "--strict", "--no-progress"], capture_output=True
        )
        assert checked.returncode != 0
