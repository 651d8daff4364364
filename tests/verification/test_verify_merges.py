"""A merge is judged against both of its sides, whichever order its parents come in: it
keeps every session either side holds, its settings are the three-way merge of theirs,
and it is signed as either side's trust asks. Each merge here is made by hand with the
real git (`git commit-tree`), as a hostile writer would push it, and `sync` refuses it
with the store unmoved."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import EXAMPLES, ROOT, Cli, fsck, git
from signing_keys import make_key, sign_with, signer_line

from gitflywheel.storage.layout import session_dir

ME = ["-c", "user.name=Mallory", "-c", "user.email=mallory@example.com"]


def tip(store: Path) -> str:
    return git("-C", store, "rev-parse", "main").strip()


def hand_merge(store: Path, first: str, second: str, tree_of: str) -> str:
    """A merge commit of `first` and `second` (in that order) holding `tree_of`'s tree."""
    return git(
        *ME,
        "-C",
        store,
        "commit-tree",
        f"{tree_of}^{{tree}}",
        "-p",
        first,
        "-p",
        second,
        "-m",
        "Combine sessions from origin",
    ).strip()


def readme_again(tmp_path: Path, words: str = "Rendered again.") -> Path:
    """A folder of templates: the shipped readme, `words` added at its end."""
    mine = tmp_path / "templates"
    mine.mkdir()
    shipped = (ROOT / "templates" / "readme.md.j2").read_text(encoding="utf-8")
    (mine / "readme.md.j2").write_text(f"{shipped}\n{words}\n", encoding="utf-8")
    return mine


def take_folder(
    store: Path, folder: str, source: str, work: Path, fetch: Path | None = None
) -> None:
    """Move `store`'s main to a hand-made merge of it and `source` (a commit, or the main
    of `fetch`) whose tree is main's with `folder` as `source` holds it."""
    git("clone", "-q", store, work)
    if fetch is not None:
        git("-C", work, "fetch", "-q", fetch, "main")
    git("-C", work, "rm", "-r", "-q", folder)
    git("-C", work, "checkout", source, "--", folder)
    tree = git("-C", work, "write-tree").strip()
    merge = git(*ME, "-C", work, "commit-tree", tree, "-p", "HEAD", "-p", source, "-m", "x")
    git("-C", work, "push", "-q", "origin", f"{merge.strip()}:refs/heads/main")


def shared(cli: Cli, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A's store with one session, published to a bare remote, and B's clone of it."""
    a, remote, b = tmp_path / "a.git", tmp_path / "remote.git", tmp_path / "b.git"
    assert cli("ingest", "--repo", a, EXAMPLES / "build_session.json").exit_code == 0
    git("init", "-q", "--bare", remote)
    assert cli("publish", "--repo", a, remote).exit_code == 0
    git("clone", "-q", "--bare", remote, b)
    return a, remote, b


def refused(cli: Cli, a: Path, remote: Path, rule: str, words: str) -> None:
    """A's sync refuses the remote's main with `rule`, and A's main stays as it was."""
    before = tip(a)
    result = cli("sync", "--repo", a, remote)
    assert result.exit_code == 1, result.output
    assert f"[{rule}]" in result.stderr and words in result.stderr, result.stderr
    assert tip(a) == before
    assert cli("verify", "--repo", a, "--full").exit_code == 0
    fsck(a)


def test_a_merge_that_leaves_out_the_other_side_s_session(cli: Cli, tmp_path: Path) -> None:
    a, remote, b = shared(cli, tmp_path)
    assert cli("ingest", "--repo", a, EXAMPLES / "trade_session.json").exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("ingest", "--repo", b, EXAMPLES / "life_aria_session.json").exit_code == 0
    git("-C", b, "fetch", "-q", remote, "main:refs/remotes/r/main")
    theirs, mine = git("-C", b, "rev-parse", "refs/remotes/r/main").strip(), tip(b)
    for first, second in ((mine, theirs), (theirs, mine)):  # either order of parents
        merge = hand_merge(b, first, second, mine)  # B's tree: A's trade session is gone
        git("-C", b, "push", "-q", "-f", remote, f"{merge}:refs/heads/main")
        if first == theirs:  # A's own side first: the first side's diff shows the loss
            refused(cli, a, remote, "session.removed", "the merge removes a session")
        else:
            refused(cli, a, remote, "session.removed", "leaves out a session its other side")


def test_a_merge_that_keeps_an_older_revision(cli: Cli, tmp_path: Path) -> None:
    a, remote, b = shared(cli, tmp_path)
    revised = json.loads((EXAMPLES / "build_session.json").read_text())
    revised["title"] = "Metrics guardrail, second look"
    (tmp_path / "revised.json").write_text(json.dumps(revised))
    assert cli("ingest", "--repo", a, "--revise", tmp_path / "revised.json").exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("ingest", "--repo", b, EXAMPLES / "trade_session.json").exit_code == 0
    git("-C", b, "fetch", "-q", remote, "main:refs/remotes/r/main")
    theirs = git("-C", b, "rev-parse", "refs/remotes/r/main").strip()
    merge = hand_merge(b, tip(b), theirs, tip(b))  # revision 1 of A's revised session
    git("-C", b, "push", "-q", "-f", remote, f"{merge}:refs/heads/main")
    refused(cli, a, remote, "session.revision", "keeps revision 1 of a session whose other")


def test_a_merge_that_drops_or_overrides_settings(cli: Cli, tmp_path: Path) -> None:
    """A's privacy pattern and site address against B's own address: no merge may take
    B's settings whole, in either order, and a merge sync makes is clean."""
    a, remote, b = shared(cli, tmp_path)
    assert cli("config", "--repo", a, "--add", "privacy.private", "ACME-[0-9]+").exit_code == 0
    assert cli("config", "--repo", a, "site.base_url", "https://a.example.org/").exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("config", "--repo", b, "site.base_url", "https://b.example.net/").exit_code == 0
    git("-C", b, "fetch", "-q", remote, "main:refs/remotes/r/main")
    theirs, mine = git("-C", b, "rev-parse", "refs/remotes/r/main").strip(), tip(b)
    for first, second in ((theirs, mine), (mine, theirs)):
        git(
            "-C",
            b,
            "push",
            "-q",
            "-f",
            remote,
            f"{hand_merge(b, first, second, mine)}:refs/heads/main",
        )
        refused(cli, a, remote, "settings.change", "both sides changed site.base_url")
    # without the clash, a merge that drops A's pattern is refused as well
    assert cli("config", "--repo", b, "site.base_url", "https://a.example.org/").exit_code == 0
    mine = tip(b)
    git("-C", b, "push", "-q", "-f", remote, f"{hand_merge(b, mine, theirs, mine)}:refs/heads/main")
    refused(cli, a, remote, "settings.change", "the merge holds privacy.private = ()")
    # and the merge sync makes of the same two sides lands
    git("-C", b, "push", "-q", "-f", remote, f"{theirs}:refs/heads/main")
    assert cli("sync", "--repo", b, remote).exit_code == 0
    assert cli("sync", "--repo", a, remote).exit_code == 0
    assert "ACME-[0-9]+" in cli("config", "--repo", a, "--list").stdout
    assert cli("verify", "--repo", a, "--full").exit_code == 0


def test_an_unsigned_merge_that_puts_an_untrusted_side_first(cli: Cli, tmp_path: Path) -> None:
    """B forked before A set trust.signers: B's unsigned merge with its own side first
    would take the trust away (its tree has none), and then let B's key in."""
    a, remote, b = shared(cli, tmp_path)
    alice = make_key(tmp_path / "keys", "alice")
    sign_with(a, alice)
    added = cli("config", "--repo", a, "--add", "trust.signers", signer_line(alice))
    assert added.exit_code == 0, added.output
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("ingest", "--repo", b, EXAMPLES / "trade_session.json").exit_code == 0
    git("-C", b, "fetch", "-q", remote, "main:refs/remotes/r/main")
    theirs, mine = git("-C", b, "rev-parse", "refs/remotes/r/main").strip(), tip(b)
    git("-C", b, "push", "-q", "-f", remote, f"{hand_merge(b, mine, theirs, mine)}:refs/heads/main")
    refused(cli, a, remote, "signature.unsigned", "the commit is not signed")
    refused(cli, a, remote, "settings.change", "the merge holds trust.signers = ()")


def test_a_side_that_rotated_its_keys_is_merged_as_ever(cli: Cli, tmp_path: Path) -> None:
    """A trusts alice; B's clone signs with alice; A then trusts bob alone. B's merge,
    its own side first, is judged by B's signers (alice) as any commit, and both syncs
    land: a merge is not asked for a signature of each side's keys at once."""
    a, remote, b = shared(cli, tmp_path)
    alice, bob = make_key(tmp_path / "keys", "alice"), make_key(tmp_path / "keys", "bob")
    sign_with(a, alice)
    assert cli("config", "--repo", a, "--add", "trust.signers", signer_line(alice)).exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    git("-C", b, "fetch", "-q", remote, "main:main")
    sign_with(b, alice)
    assert cli("config", "--repo", a, "--add", "trust.signers", signer_line(bob)).exit_code == 0
    sign_with(a, bob)
    unset = cli("config", "--repo", a, "--unset", "trust.signers", signer_line(alice))
    assert unset.exit_code == 0, unset.output
    assert cli("ingest", "--repo", a, EXAMPLES / "trade_session.json").exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("ingest", "--repo", b, EXAMPLES / "life_aria_session.json").exit_code == 0
    synced = cli("sync", "--repo", b, remote)
    assert synced.exit_code == 0, synced.output
    assert cli("sync", "--repo", a, remote).exit_code == 0
    assert cli("verify", "--repo", a, "--full").exit_code == 0
    fsck(a)


def test_a_merge_takes_the_other_side_s_re_render(cli: Cli, tmp_path: Path) -> None:
    """A renders its session again with new templates while B records another session:
    B's sync merges A's re-render in (the same record and revision, new artifacts), and
    a merge of the two sides verifies in either order of parents."""
    a, remote, b = shared(cli, tmp_path)
    mine = readme_again(tmp_path)
    result = cli("rerender", "--repo", a, "--all", "--templates", mine)
    assert result.exit_code == 0, result.stderr
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("ingest", "--repo", b, EXAMPLES / "trade_session.json").exit_code == 0
    before = tip(b)
    result = cli("sync", "--repo", b, remote)
    assert result.exit_code == 0, result.stderr
    assert cli("verify", "--repo", b, "--full").exit_code == 0
    assert cli("sync", "--repo", a, remote).exit_code == 0
    assert tip(a) == tip(b)
    fsck(a)
    # the same two sides, A's first (its own re-render on the first side), in a clone
    c = tmp_path / "c.git"
    git("clone", "-q", "--bare", b, c)
    theirs = git("-C", c, "rev-parse", "main^2").strip()
    git("-C", c, "update-ref", "refs/heads/main", hand_merge(c, theirs, before, tip(c)))
    result = cli("verify", "--repo", c, "--full")
    assert result.exit_code == 0, result.output


def test_both_sides_re_render_a_session(cli: Cli, tmp_path: Path) -> None:
    """A and B each render the same session again with templates of their own: B's sync
    keeps B's rendering (the record is the same), A's next sync takes it, and both
    stores and the remote end at one commit that verifies."""
    a, remote, b = shared(cli, tmp_path)
    shipped = (ROOT / "templates" / "readme.md.j2").read_text(encoding="utf-8")
    for store, words in ((a, "Rendered by A."), (b, "Rendered by B.")):
        mine = tmp_path / f"templates-{store.stem}"
        mine.mkdir()
        (mine / "readme.md.j2").write_text(f"{shipped}\n{words}\n", encoding="utf-8")
        result = cli("rerender", "--repo", store, "--all", "--templates", mine)
        assert result.exit_code == 0, result.stderr
    assert cli("publish", "--repo", a, remote).exit_code == 0
    result = cli("sync", "--repo", b, remote)
    assert result.exit_code == 0, result.stderr
    result = cli("sync", "--repo", a, remote)
    assert result.exit_code == 0, result.stderr
    assert tip(a) == tip(b) == git("-C", remote, "rev-parse", "main").strip()
    readme = next(
        p
        for p in git("-C", a, "ls-tree", "-r", "--name-only", "main").split()
        if p.endswith("readme.md")
    )
    assert "Rendered by B." in git("-C", a, "show", f"main:{readme}")
    for store in (a, b):
        assert cli("verify", "--repo", store, "--full").exit_code == 0
        fsck(store)


def test_the_same_record_at_two_revisions_is_a_conflict(cli: Cli, tmp_path: Path) -> None:
    """A revises its session twice, B once to A's last record: the same record at
    revisions 3 and 2 is no re-render, and B's sync refuses to pick one (exit 3)."""
    a, remote, b = shared(cli, tmp_path)
    revised = json.loads((EXAMPLES / "build_session.json").read_text())
    for title in ("Metrics guardrail, second look", "Metrics guardrail, third look"):
        revised["title"] = title
        (tmp_path / "revised.json").write_text(json.dumps(revised))
        assert cli("ingest", "--repo", a, "--revise", tmp_path / "revised.json").exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("ingest", "--repo", b, "--revise", tmp_path / "revised.json").exit_code == 0
    before = tip(b)
    result = cli("sync", "--repo", b, remote)
    assert result.exit_code == 3, result.output
    assert "recorded differently here and there" in result.stderr
    assert tip(b) == before


def test_a_merge_that_takes_back_a_re_render(cli: Cli, tmp_path: Path) -> None:
    """A merge of a re-render with the commit it re-rendered (an ancestor) that holds the
    session's old folder: the same record and revision, but the first side's re-render
    undone, not the other side's made. Refused."""
    store = tmp_path / "a.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    old = tip(store)
    mine = readme_again(tmp_path)
    assert cli("rerender", "--repo", store, "--all", "--templates", mine).exit_code == 0
    assert cli("verify", "--repo", store).exit_code == 0
    folder = session_dir(json.loads((EXAMPLES / "build_session.json").read_text())["session_id"])
    take_folder(store, folder, old, tmp_path / "work")
    result = cli("verify", "--repo", store)
    assert result.exit_code == 1, result.output
    assert "session.revision" in result.output
    assert "takes a session folder that its other side did not change" in result.output


def test_a_revision_on_one_side_wins_over_a_re_render_on_the_other(
    cli: Cli, tmp_path: Path
) -> None:
    """One side renders the session again, the other records its next revision: whichever
    side syncs first, the merge keeps the revision, and every store ends at one commit
    that verifies."""
    revised = json.loads((EXAMPLES / "build_session.json").read_text())
    revised["title"] = "Metrics guardrail, second look"
    (tmp_path / "revised.json").write_text(json.dumps(revised))
    mine = readme_again(tmp_path)
    for first in ("re-render", "revision"):  # what the side that publishes first did
        where = tmp_path / first
        where.mkdir()
        a, remote, b = shared(cli, where)
        rerender = ["rerender", "--all", "--templates", mine]
        revise = ["ingest", "--revise", tmp_path / "revised.json"]
        first_step, second_step = (rerender, revise) if first == "re-render" else (revise, rerender)
        assert cli(first_step[0], "--repo", a, *first_step[1:]).exit_code == 0
        assert cli("publish", "--repo", a, remote).exit_code == 0
        assert cli(second_step[0], "--repo", b, *second_step[1:]).exit_code == 0
        result = cli("sync", "--repo", b, remote)
        assert result.exit_code == 0, result.stderr
        assert cli("sync", "--repo", a, remote).exit_code == 0
        assert tip(a) == tip(b)
        manifest = next(
            p
            for p in git("-C", a, "ls-tree", "-r", "--name-only", "main").split()
            if p.endswith("/manifest.json")
        )
        assert json.loads(git("-C", a, "show", f"main:{manifest}"))["revision"] == 2
        for store in (a, b):
            result = cli("verify", "--repo", store, "--full")
            assert result.exit_code == 0, result.output


def test_a_re_render_back_to_an_earlier_rendering_merges(cli: Cli, tmp_path: Path) -> None:
    """A renders its session with templates of its own; B takes that, then renders it
    again with the shipped template, which gives the session's first folder back. A's
    next sync takes B's rendering: B made that change, whatever it looks like."""
    a, remote, b = shared(cli, tmp_path)
    mine, shipped = tmp_path / "mine", tmp_path / "shipped"
    mine.mkdir()
    shipped.mkdir()
    readme = (ROOT / "templates" / "readme.md.j2").read_text(encoding="utf-8")
    (mine / "readme.md.j2").write_text(readme + "\nRendered again.\n", encoding="utf-8")
    (shipped / "readme.md.j2").write_text(readme, encoding="utf-8")
    assert cli("rerender", "--repo", a, "--all", "--templates", mine).exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("ingest", "--repo", b, EXAMPLES / "trade_session.json").exit_code == 0
    assert cli("sync", "--repo", b, remote).exit_code == 0
    assert cli("rerender", "--repo", b, "--all", "--templates", shipped).exit_code == 0
    assert cli("publish", "--repo", b, remote).exit_code == 0
    assert cli("ingest", "--repo", a, EXAMPLES / "life_aria_session.json").exit_code == 0
    result = cli("sync", "--repo", a, remote)
    assert result.exit_code == 0, result.stderr
    assert cli("verify", "--repo", a, "--full").exit_code == 0


def test_a_revision_back_to_the_first_record_is_no_re_render(cli: Cli, tmp_path: Path) -> None:
    """A revises its session and then revises it back to its first text (revision 3, the
    first record); B revises it too. Two lines of revisions: a conflict, not a re-render
    that B's revision would win over."""
    a, remote, b = shared(cli, tmp_path)
    first = json.loads((EXAMPLES / "build_session.json").read_text())
    other = dict(first, title="Metrics guardrail, second look")
    for store, texts in ((a, (other, first)), (b, (other, dict(first, title="Third")))):
        for i, text in enumerate(texts):
            path = tmp_path / f"{store.stem}-{i}.json"
            path.write_text(json.dumps(text))
            assert cli("ingest", "--repo", store, "--revise", path).exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    result = cli("sync", "--repo", b, remote)
    assert result.exit_code == 3, result.output


def test_a_merge_of_an_unrelated_history_cannot_undo_a_re_render(cli: Cli, tmp_path: Path) -> None:
    """Mallory records the same session in a store of her own and merges it into A's
    re-rendered one, keeping her (the first) rendering: her side added the session, it
    never changed it, so the merge undoes A's re-render. Refused."""
    a, mallory = tmp_path / "a.git", tmp_path / "mallory.git"
    for store in (a, mallory):
        assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    mine = readme_again(tmp_path)
    assert cli("rerender", "--repo", a, "--all", "--templates", mine).exit_code == 0
    assert cli("verify", "--repo", a).exit_code == 0
    folder = session_dir(json.loads((EXAMPLES / "build_session.json").read_text())["session_id"])
    take_folder(a, folder, "FETCH_HEAD", tmp_path / "work", fetch=mallory)
    result = cli("verify", "--repo", a)
    assert result.exit_code == 1, result.output
    assert "takes a session folder that its other side did not change" in result.output


def test_a_third_writer_takes_a_re_render_through_a_merge(cli: Cli, tmp_path: Path) -> None:
    """A renders its session with templates of its own and publishes; B and C record
    sessions of their own; B syncs (its merge keeps its own templates folder), then C:
    C's merge takes A's re-render from B's merge, whose tree does not hold A's template.
    The template is in the tree of A's commit that rendered it: C's sync lands."""
    a, remote, b = shared(cli, tmp_path)
    c = tmp_path / "c.git"
    git("clone", "-q", "--bare", remote, c)
    mine = readme_again(tmp_path)
    assert cli("rerender", "--repo", a, "--all", "--templates", mine).exit_code == 0
    assert cli("publish", "--repo", a, remote).exit_code == 0
    assert cli("ingest", "--repo", b, EXAMPLES / "trade_session.json").exit_code == 0
    assert cli("ingest", "--repo", c, EXAMPLES / "life_aria_session.json").exit_code == 0
    for store in (b, c, a, b):
        result = cli("sync", "--repo", store, remote)
        assert result.exit_code == 0, result.stderr
    assert tip(a) == tip(b) == tip(c)
    for store in (a, b, c):
        assert cli("verify", "--repo", store, "--full").exit_code == 0
