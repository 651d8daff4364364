"""Only public text enters a store: the record that is stored is the public record, and
a pushed history holds no local path, temporary name, URL credential or token."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, EXAMPLES, Cli, fsck, git, session
from hypothesis import given, settings
from hypothesis import strategies as st

from gitflywheel.session.public_text import (
    _TEMP_WORD,
    LOCAL_PATH,
    SECRET_RULES,
    public_record,
    redact,
)
from gitflywheel.storage.layout import session_dir

# One of each: what a session written to leak holds (none of these is a real secret).
TOKENS = {
    "github-token": "ghp_" + "A1b2C3d4E5" * 4,
    "gitlab-token": "glpat-" + "x1Y2z3W4v5U6t7S8r9Q0",
    "aws-access-key": "AKIA" + "ABCDEFGHIJKLMNOP",
    "slack-token": "xoxb-" + "1234567890-abcdefghij",
    "npm-token": "npm_" + "a1B2c3D4e5" * 3 + "f6G7h8",
    "pypi-token": "pypi-AgEIcHlwaS5vcmc" + "Q" * 60,
    "api-key": "sk-ant-" + "api03-" + "k" * 40,
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36",
    "private-key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----",
    "email": "dana.lee+work@fastmail.fm",
    "stripe-key": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "google-api-key": "AIza" + "SyA-1234567890abcdefghijklmnopqrstu",
    "aws-secret-key": "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


def leaky(session_id: str = "leaky-1") -> dict[str, Any]:
    data = session(session_id, title=f"fix: rotate token {TOKENS['github-token']}")
    data["overview"] = (
        r"Built in C:\Users\USER\AppData\Local\Temp\tmpq1w2e3r4\proj and /home/me/secret/plan.md; "
        + " ".join(f"{rule}: {token}" for rule, token in TOKENS.items())
    )
    data["source_data"] = {
        "repo_path": "https://bob:hunter2@git.example.com/me/proj.git",
        "git_commits": [
            {
                "message": f"ci: npm token {TOKENS['npm-token']}",
                "hash": "a" * 40,
                "files": ["/home/me/proj/src/app.py"],
            }
        ],
    }
    return data


def findings(text: str) -> list[str]:
    """What the public-text rules would find in a text: nothing in a public one."""
    found = [f"path {m.group(0)[:40]!r}" for m in LOCAL_PATH.finditer(text)]
    found += [f"temporary name {m.group(0)!r}" for m in _TEMP_WORD.finditer(text)]
    found += [
        f"{rule} {m.group(0)[:20]!r}" for rule, p in SECRET_RULES.items() for m in p.finditer(text)
    ]
    return found


def every_object(repository: Path) -> list[tuple[str, str]]:
    """(id, text) of every blob and commit, as `git cat-file --batch-all-objects` sees them."""
    listed = git(
        "-C",
        repository,
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objectname) %(objecttype)",
    ).split("\n")
    objects = []
    for line in filter(None, listed):
        sha, kind = line.split()
        if kind in ("blob", "commit"):
            data = subprocess.run(
                ["git", "-C", repository, "cat-file", kind, sha], capture_output=True, check=True
            ).stdout
            objects.append((sha, data.decode("utf-8", "replace")))
    return objects


@pytest.mark.slow
def test_a_pushed_history_holds_no_private_text(tmp_path: Path, cli: Cli, store: Path) -> None:
    """The real corpus and a session written to leak, published to a bare remote: no
    object or commit message of the pushed history holds a local path, a temporary name,
    a URL credential or a token; a fresh clone verifies clean."""
    (tmp_path / "leaky.json").write_text(json.dumps(leaky()))
    assert cli("ingest", "--repo", store, CORPUS, EXAMPLES, tmp_path / "leaky.json").exit_code == 0
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", remote)
    assert cli("publish", "--repo", store, str(remote)).exit_code == 0
    leaks = {sha[:12]: found for sha, text in every_object(remote) if (found := findings(text))}
    assert leaks == {}
    clone = tmp_path / "clone.git"
    git("clone", "-q", "--bare", remote, clone)
    done = cli("verify", "--repo", clone, "--full", "--json")
    assert done.exit_code == 0, done.stderr
    assert not [w for w in json.loads(done.stdout)["warnings"] if "private-text" in w["message"]]
    fsck(clone)


def test_the_manifest_counts_what_was_replaced_by_rule_and_field(
    tmp_path: Path, cli: Cli, store: Path
) -> None:
    (tmp_path / "leaky.json").write_text(json.dumps(leaky()))
    assert cli("ingest", "--repo", store, tmp_path / "leaky.json").exit_code == 0
    folder = session_dir("leaky-1")
    record = json.loads(git("-C", store, "show", f"main:{folder}/session.json"))
    manifest = json.loads(git("-C", store, "show", f"main:{folder}/manifest.json"))
    assert manifest["redacted"] == record["redacted"]
    counted = {(r["rule"], r["field"]) for r in manifest["redacted"]}
    assert {(rule, "overview") for rule in TOKENS} <= counted
    assert {
        ("github-token", "title"),
        ("npm-token", "source_data.git_commits[0].message"),
        ("url-credentials", "source_data.repo_path"),
        ("local-path", "source_data.git_commits[0].files[0]"),
        ("temporary-name", "overview"),
    } <= counted
    text = json.dumps(manifest) + json.dumps(record)
    assert findings(text) == [] and "hunter2" not in text and "secret/plan" not in text
    assert record["source_data"]["repo_path"] == "https://git.example.com/me/proj.git"
    assert record["source_data"]["git_commits"][0]["hash"] == "a" * 40  # no free text
    assert record["session_id"] == "leaky-1"


def test_the_same_file_again_or_one_differing_only_in_what_is_removed_records_nothing(
    tmp_path: Path, cli: Cli, store: Path
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(leaky()))
    other = leaky()
    other["title"] = other["title"].replace(TOKENS["github-token"], "ghp_" + "Z9y8X7w6V5" * 4)
    second.write_text(json.dumps(other))
    assert cli("ingest", "--repo", store, first).exit_code == 0
    tip = git("-C", store, "rev-parse", "main")
    for again in (first, second):
        done = cli("ingest", "--repo", store, again)
        assert done.exit_code == 0 and "1 unchanged" in done.stderr, done.stderr
    assert git("-C", store, "rev-parse", "main") == tip


def test_a_record_an_older_version_stored_as_given_is_warned_of(
    cli: Cli, format1_store: Path
) -> None:
    done = cli("verify", "--repo", format1_store, "--full", "--json")
    assert done.exit_code == 0, done.stderr
    warned = [
        w for w in json.loads(done.stdout)["warnings"] if "record.private-text" in w["message"]
    ]
    assert warned, "the format-1 store's records hold local paths"
    assert all(findings(w["message"]) == [] for w in warned)  # the warning names no text


TEXT = st.lists(
    st.sampled_from(
        ["a", " ", "/", "\\", "C:", "home", "tmp", "Users", "://", "@", ":", "ghp_", "x" * 36]
        + ["sk-", "eyJ", "."]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        TEXT,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["overview", "path", "files"]), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_the_rules_applied_twice_change_nothing(value: Any) -> None:
    once, _ = public_record({"overview": value})
    twice, found = public_record(once)
    assert twice == once and found == []


@pytest.mark.parametrize("rule", sorted(TOKENS))
def test_each_token_format_is_replaced_and_named(rule: str) -> None:
    text, counts = redact(f"before {TOKENS[rule]} after")
    assert counts == {rule: 1}
    assert text.startswith("before ") and f"[redacted {rule}]" in text
    assert not re.search(re.escape(TOKENS[rule][:12]), text)


@pytest.mark.parametrize(
    "shown",
    [
        "Co-Authored-By: Claude <noreply@anthropic.com>",
        "12345+dana@users.noreply.github.com",
        "git@github.com:acme/app.git",
        "ada@example.com, bob@mail.example.org, t@ci.test, x@host.invalid",
        "pkg@1.2.3, @alice, user@localhost, name@host",
    ],
)
def test_an_address_made_to_be_shown_stays(shown: str) -> None:
    assert redact(shown) == (shown, {})


def test_a_person_s_address_is_replaced_wherever_it_stands() -> None:
    text, counts = redact("Mail Dana.Lee@Company.co.uk. or <ops@mail.acme.io>, thanks")
    assert text == "Mail [redacted email]. or <[redacted email]>, thanks"
    assert counts == {"email": 2}


def test_text_the_store_calls_private_never_enters_it(tmp_path: Path, cli: Cli) -> None:
    """`privacy.private` (a store setting): its patterns are replaced in every record
    ingested after it is set, by ingest's own process and by its planning workers alike
    (they plan inputs past the first 64)."""
    from gitflywheel import api

    sessions = tmp_path / "sessions"
    sessions.mkdir()
    count = 70
    for n in range(count):
        data = session(f"private-{n:02d}", title=f"Ship Project  Nightjar part {n}")
        (sessions / f"{n:02d}.json").write_text(json.dumps(data))
    for workers in (1, 2):
        target = tmp_path / f"w{workers}.git"
        api.config(target, "privacy.private", r"Project\s+Nightjar", add=True)
        report = api.ingest(target, [sessions], workers=workers)
        assert report.exit_code == 0 and report.count("recorded") == count
        for n in (0, count - 1):
            folder = session_dir(f"private-{n:02d}")
            record = json.loads(git("-C", target, "show", f"main:{folder}/session.json"))
            assert record["title"] == f"Ship [private] part {n}"
            assert {"rule": "private", "field": "title", "count": 1} in record["redacted"]
        assert "Nightjar" not in git("-C", target, "log", "-p", "main", "--", "sessions")


# Pieces that every rule reacts to, and plain text, put together at random: the fast
# paths (text no rule can touch) must give exactly what the rules give.
_PIECES = st.sampled_from(
    [
        "/",
        "\\",
        "\\\\",
        "tmp",
        "TmP",
        "tmpqy_b7jky",
        "TMPABCDEF1",
        "t\u200bmp",
        "~/",
        "C:",
        "/home/dana/x",
        "src/app.py",
        "/workspaces",
        "/worker",
        ":/data",
        ":\\\\srv",
        "/tmp",
        "x:",
        "_",
        "/api/users",
        "github.com/acme/app",
        "https://example.com/a",
        "\u202e",
        "\u200b",
        "://",
        "@",
        "ghp_",
        "a@b.io",
        "noreply@",
        "x@example.com",
        "sk-",
        "eyJ",
        "AKIA",
        "xox",
        "xapp-",
        "k_live_",
        "k_test_",
        "whsec_",
        "AIza",
        "aws_secret",
        "ECRET",
        "SecretAccessKey",
        "//",
        "file:/",
        "FILE:",
        "~al/",
        "Users\\",
        "\\users\\",
        "/c/Users/",
        "/cygdrive",
        "/home2",
        "/export/home",
        "/nfs",
        "/System",
        "A",  # the opening of each hint of a credential, and its parts
        "BCA",
        "gh",
        "s_",
        "gl",
        "ptt-",
        "-----BEGIN",
        "github_pat_",
        "hooks.slack",
        "npm_",
        "pypi-",
        '"',
        "\n",
        " ",
        "é",
        "plain words",
        "src",
        *TOKENS.values(),
    ]
)
_TEXTS = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_the_fast_paths_give_what_every_rule_gives(text: str) -> None:
    from gitflywheel.session import public_text

    assert public_text.scrub(text) == public_text._scrub_rules(text)
    assert redact(text) == public_text._redact_rules(text)
    if LOCAL_PATH.search(text):  # what the quick scan looks for, every local path holds
        assert public_text._PATH_HINT.search(text)
    # a path looked for only where a hint says one could start
    assert public_text._holds_local_path(text) == bool(LOCAL_PATH.search(text))
    # the hint of a credential, scanned for alternative by alternative
    assert public_text._hints_secret(text) == bool(public_text._SECRET_HINT.search(text))
    # the second time from what scrub_all remembers
    assert public_text.scrub_all([text, {"k": text}]) == [public_text._scrub_rules(text)] + [
        {"k": public_text._scrub_rules(text)}
    ]


_RECORD_VALUES = st.recursive(
    st.one_of(_TEXTS, st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_TEXTS, inner, max_size=3)
    ),
    max_leaves=12,
)


def _outcome(rules: Any, data: dict[str, Any]) -> Any:
    """What `rules` makes of a record: the public record, or the field it refuses."""
    from gitflywheel.session.public_text import NotPublic

    try:
        return rules(data)
    except NotPublic as exc:
        return exc.field


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["title", "source_data", "notes", "session_id"]), _RECORD_VALUES
    )
)
def test_a_record_no_rule_touches_comes_back_as_the_rules_make_it(data: dict[str, Any]) -> None:
    from gitflywheel.session import public_text

    assert _outcome(public_record, data) == _outcome(public_text._public_record_rules, data)
    # a pipeline's context, whose strings scrub_all takes through the same quick scan
    context = list(data.values())
    assert public_text.scrub_all(data) == public_text._scrub_all(data)
    assert public_text.scrub_all(context) == public_text._scrub_all(context)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.lists(_TEXTS, max_size=2), st.lists(_TEXTS, max_size=3))
def test_a_record_with_a_repository_and_screenshots_comes_back_as_the_rules_make_it(
    repo: str, shots: list[str], files: list[str]
) -> None:
    """The fields the rules treat on their own (the repository, the screenshots) and a
    repository's own paths, which hold a `/` and no local path."""
    from gitflywheel.session import public_text

    data = {
        "title": "t",
        "source_data": {
            "repo_path": repo,
            "screenshots": shots,
            "git_commits": [{"hash": "a1", "files": files}],
        },
    }
    assert public_record(data) == public_text._public_record_rules(data)


def test_the_work_folders_of_containers_and_ci_runners_are_local_paths(
    tmp_path: Path, cli: Cli
) -> None:
    """`/work/...`, `/workspaces/...`, GitLab's `/builds/...`, GitHub Actions'
    `/github/workspace/...`, `/scratch` and `/data` name a machine's folders as `/home`
    does; a site's address or a path of the repository (`/api/users`, `/src/app.py`)
    names none and stays."""
    data = session("work-folders-1", title="Moved the parser")
    data["overview"] = (
        "Read /work/alice/acme-deal/plan.md, /workspaces/acme/src/x.py, "
        "/builds/acme-group/billing/out.log, /github/workspace/secret/y.py, "
        "/scratch/alice/run7/z.csv and /data/clients/acme.csv; "
        "the endpoint /api/users and /src/app.py stay, as do /workshop/a and /database/b."
    )
    (tmp_path / "s.json").write_text(json.dumps(data))
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, tmp_path / "s.json").exit_code == 0
    text = git("-C", store, "log", "-p", "main").replace("\\n", " ")
    for private in ("alice", "acme-deal", "/workspaces", "acme-group", "/github/", "/scratch"):
        assert private not in text, private
    assert "plan.md" in text and "z.csv" in text and "acme.csv" in text
    for kept in ("/api/users", "/src/app.py", "/workshop/a", "/database/b"):
        assert kept in text, kept


def test_a_local_path_is_found_wherever_a_hint_of_one_leads() -> None:
    """`_holds_local_path` tries LOCAL_PATH only where a hint starts, the drive letter
    before it, and a hint another one overlaps: 200,000 strings of the pieces that
    make paths and hints, each answered as LOCAL_PATH's own search answers it."""
    import random

    from gitflywheel.session import public_text

    pieces = [*"ab/\\:~. -_\"'<>|`,;)]\nCz9é", "home", "Users", "tmp", "work", "workspace"]
    pieces += ["workspaces", "data", "://", "\\\\", ":\\", "~/", "C:", "/src"]
    pieces += ["file:", "file", "~al", "cygdrive", "home2", "export", "nfs", "System", "c/"]
    draw = random.Random(5)
    found = 0
    for _ in range(200_000):
        text = "".join(draw.choice(pieces) for _ in range(draw.randint(0, 16)))
        expected = bool(LOCAL_PATH.search(text))
        assert public_text._holds_local_path(text) == expected, text
        found += expected
    assert found > 20_000  # the pieces make paths often enough to tell


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("clone https://:s3cretpw@10.0.0.1/o/r now", "clone https://10.0.0.1/o/r now"),
        ("redis://:hunter2@cache:6379", "redis://cache:6379"),
        ("//user:s3cret@10.1.1.1/x", "//10.1.1.1/x"),
        ("slack xapp-1-A0123456789-abcdefghij", "slack [redacted slack-token]"),
        ("webhook whsec_" + "a1B2" * 8, "webhook [redacted stripe-key]"),
        ('{"SecretAccessKey": "' + "a/B+" * 10 + '"}', '{"[redacted aws-secret-key]"}'),
    ],
)
def test_credentials_in_every_shape_are_replaced(text: str, shown: str) -> None:
    assert redact(text)[0] == shown


@pytest.mark.parametrize(
    "text",
    [
        "pk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",  # a publishable key is public by design
        "the task_test_runner and disk_live_view",
        "AIza too short",
        "a comment // nothing@here",
        "aws_secret_access_key = ${AWS_SECRET}",
    ],
)
def test_text_that_only_looks_like_a_credential_stays(text: str) -> None:
    assert redact(text) == (text, {})


@pytest.mark.parametrize(
    "hidden",
    [
        "gh\u200bp_" + "a" * 36,
        "ghp_" + "a" * 18 + "\u200b" + "a" * 18,
        "AKIA\u200bIOSFODNN7EXAMPLE",
        "https:/\u200b/user:s3cret@10.1.1.1/x",
    ],
)
def test_a_credential_split_by_invisible_characters_is_replaced(hidden: str) -> None:
    text, counts = redact(f"see {hidden} there")
    assert counts and "\u200b" not in text
    assert "aaaaaaaaaa" not in text and "IOSFODNN" not in text and "s3cret" not in text


def test_a_text_whose_secrets_are_all_in_sight_keeps_its_joiners() -> None:
    """Persian writes a zero-width non-joiner inside words: a text with an address in
    sight keeps it; only a text that hid a secret behind one loses them."""
    assert redact("mail kay@corp.com می\u200cخواهم") == (
        "mail [redacted email] می\u200cخواهم",
        {"email": 1},
    )


def test_private_text_split_by_invisible_characters_is_replaced() -> None:
    private = [re.compile("Project Falcon")]
    for hidden in ("Project\u200b Falcon", "Project Fal\u00adcon"):
        assert redact(f"about {hidden}.", private) == ("about [private].", {"private": 1})
    # in sight already: the text keeps what it holds around it
    assert redact("about \u2060Project Falcon.", private) == (
        "about \u2060[private].",
        {"private": 1},
    )
    assert (
        redact("a family 👨\u200d👩\u200d👧 stays", private)[0]
        == "a family 👨\u200d👩\u200d👧 stays"
    )


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("file:///home/alice/secret/repo", "repo"),
        ("file://localhost/home/alice/a.txt", "a.txt"),
        ("FILE:///C:/Users/bob/x.txt", "x.txt"),
        ("vscode://file/home/alice/x.py", "vscode: x.py"),
        ("~alice/projects/x", "x"),
        ("~root/x", "x"),
        ("/c/Users/alice/proj", "proj"),
        ("/cygdrive/c/Users/alice/proj", "proj"),
        ("\\Users\\alice\\x", "x"),
        ("C:Users\\alice\\x", "x"),
        ("/System/Volumes/Data/Users/alice/x", "x"),
        ("/home2/alice/x", "x"),
        ("/export/home/alice/x", "x"),
        ("/nfs/home/alice/x", "x"),
        ("/afs/cs.example.edu/alice/x", "x"),
        # a home folder is named by its owner: it shows as no name at all
        ("/home/alice", "a local folder"),
        ("/Users/bob/", "a local folder"),
        ("C:\\Users\\bob", "a local folder"),
        ("file:///home/alice", "a local folder"),
        ("/c/Users/alice", "a local folder"),
        # a folder of a repository that is named like a home is no home
        ("/work/repo/docs/users/guide.md", "guide.md"),
        ("/home/kay/project/users/list.py", "list.py"),
    ],
)
def test_local_paths_in_every_shape_are_replaced(path: str, shown: str) -> None:
    text, counts = redact(f"open {path} now")
    assert text == f"open {shown} now" and counts == {"local-path": 1}


@pytest.mark.parametrize(
    "text",
    [
        "GET /users/123 and /api/users",
        "about ~10/day",
        "https://file.io/x",
        "/exports/a",
        'deps = ["@maven//:guava","@npm//foo"]',  # labels, not URLs
        "x=1;//see:me@host",
    ],
)
def test_text_that_only_looks_like_a_path_stays(text: str) -> None:
    assert redact(text) == (text, {})


def test_every_field_and_key_is_free_text_but_the_session_s_identity() -> None:
    """Hashes, times and what a record says was replaced are strings like any other:
    the rules replace what is in them, and in the keys of an object."""
    token = TOKENS["github-token"]
    data = {
        "session_id": "kept-fields-1",
        "session_type": "build",
        "metadata": {"sha": f"/home/alice/p {token}", f"/home/alice/k {token}": 1},
        "source_data": {
            "git_commits": [
                {"message": "fix", "hash": "a" * 40, "timestamp": "https://bob:pw@h.org/x"}
            ]
        },
        "redacted": [{"rule": token, "field": "title", "count": 1}],
    }
    cleaned, found = public_record(data)
    text = json.dumps(cleaned)
    assert token[:12] not in text and "alice" not in text and "bob:pw" not in text
    assert cleaned["metadata"] == {
        "sha": "p [redacted github-token]",
        "k [redacted github-token]": 1,
    }
    assert cleaned["source_data"]["git_commits"][0]["hash"] == "a" * 40
    assert {(r.rule, r.field) for r in found} >= {
        ("github-token", "metadata.(key)"),
        ("github-token", "metadata.sha"),
        ("url-credentials", "source_data.git_commits[0].timestamp"),
        ("github-token", "redacted[0].rule"),
    }
    assert public_record(cleaned) == (cleaned, [])  # the rules applied twice change nothing


def test_a_record_the_rules_cannot_make_public_is_refused_with_its_reason(
    tmp_path: Path, cli: Cli
) -> None:
    """An id cannot be replaced, keys that would read the same cannot both stay, and a
    field the replacement makes too long is no longer valid: each input is refused
    (exit 2) naming the file, the field and the reason, never the private text."""
    from gitflywheel import api

    store = tmp_path / "s.git"
    api.config(store, "privacy.private", r"acme-secret-\d+", add=True)
    api.config(store, "privacy.private", "Q", add=True)
    commits = git("-C", store, "rev-list", "--count", "main")
    inputs = {
        "id.json": session("acme-secret-42"),
        "token-id.json": session(TOKENS["github-token"]),
        "keys.json": {**session("keys-1"), "metadata": {"/home/a/x": 1, "/home/b/x": 2}},
        "agent.json": {**session("agent-1"), "agent_id": "Q" * 100},
    }
    for name, data in inputs.items():
        (tmp_path / name).write_text(json.dumps(data))
    result = cli("ingest", "--repo", store, *(tmp_path / name for name in inputs))
    assert result.exit_code == 2
    lines = result.stderr
    assert "id.json: session_id: holds text the public-text rules replace (private)" in lines
    assert (
        "token-id.json: session_id: holds text the public-text rules replace (github-token)"
        in lines
    )
    assert "keys.json: metadata: two keys read 'x' once the public-text rules replace" in lines
    assert (
        "agent.json: agent_id: must be 1 to 128 printable characters, once its private text is replaced"
        in lines
    )
    assert "acme-secret-42" not in lines and TOKENS["github-token"] not in lines
    assert "Traceback" not in lines
    assert git("-C", store, "rev-list", "--count", "main") == commits  # nothing recorded
