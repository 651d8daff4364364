"""Nothing gitflywheel prints can drive a terminal: control sequences, bidi controls and
zero-width characters in titles, paths, commit messages or file names are shown as
visible escapes, one record per line; an agent id may not hold them at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, git, session

# What a terminal would act on: ESC (CSI, OSC), BEL, CR, and the bidi and zero-width
# characters that reorder or hide text.
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\u2066", "\u200b", "\ufeff")
TITLE = (
    "\x1b]0;owned\x07\x1b[2J Fix\n2099-01-01T00:00:00+00:00  build  Agent-9  forged-row \u202eevil"
)


def assert_inert(text: str) -> None:
    found = [ch for ch in RAW if ch in text]
    assert not found, (found, text)


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_ls_shows_a_hostile_title_escaped_on_its_own_line(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    sessions = [session("s-1", title=TITLE), session("s-2", title="plain \u200btitle")]
    assert cli("ingest", "--repo", store, write(tmp_path / "in.json", sessions)).exit_code == 0
    out = cli("ls", "--repo", store).stdout
    assert_inert(out)
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(
        "s-1  \\x1b]0;owned\\x07\\x1b[2J Fix\\n2099-01-01T00:00:00+00:00  build  Agent-9  "
        "forged-row \\u202eevil"
    )
    assert lines[1].endswith("s-2  plain \\u200btitle")
    # --json keeps the exact text for programs
    rows = json.loads(cli("ls", "--repo", store, "--json").stdout)
    assert rows[0]["title"] == TITLE


@pytest.mark.parametrize("agent", ["Agent\u202e-1", "a\u200bb", "\ufeffAgent", "x\u2066y\u2069"])
def test_an_agent_id_with_bidi_or_zero_width_characters_is_refused(
    cli: Cli, store: Path, tmp_path: Path, agent: str
) -> None:
    result = cli("ingest", "--repo", store, write(tmp_path / "a.json", session(agent_id=agent)))
    assert result.exit_code == 2
    assert "agent_id: must not contain bidi control or zero-width characters" in result.stderr
    assert_inert(result.stderr)


@pytest.mark.slow
def test_ingest_errors_and_warnings_quote_file_names_escaped(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in\x1b]0;owned\x07"
    folder.mkdir()
    (folder / "bad\x1b[2J.json").write_text('{"session_id": ', encoding="utf-8")
    write(
        folder / "neg\u202e.json",
        session("neg-1", metadata={"duration_minutes": -5}, title="\x1b[31mred"),
    )
    result = cli("ingest", "--repo", store, folder)
    assert result.exit_code == 2
    assert_inert(result.stderr)
    assert "in\\x1b]0;owned\\x07/bad\\x1b[2J.json" in result.stderr
    assert "warning: " in result.stderr and "neg\\u202e.json" in result.stderr
    # the same through a real process and a real pipe
    again = cli.process("ingest", "--repo", tmp_path / "other.git", folder)
    assert again.returncode == 2
    assert_inert(again.stderr.decode("utf-8", "replace"))


def forge(store: Path, tmp_path: Path) -> tuple[str, str]:
    """A commit on `main` made with plain git, as a hostile remote could: a control
    sequence in its message, and a manifest naming an artifact path with one. Returns
    that artifact's blob id and the forged path."""
    env = {
        "GIT_INDEX_FILE": str(tmp_path / "forge.index"),
        **{
            f"GIT_{who}_{what}": value
            for who in ("AUTHOR", "COMMITTER")
            for what, value in (("NAME", "Mallory"), ("EMAIL", "m@example.org"))
        },
    }
    listing = git("-C", store, "ls-tree", "-r", "--name-only", "main").splitlines()
    manifest_path = next(p for p in listing if p.endswith("/manifest.json"))
    manifest = json.loads(git("-C", store, "show", f"main:{manifest_path}"))
    artifact = manifest["artifacts"][0]
    artifact["path"] = "sessions/\x1b[2J\u202eevil.md"
    blob = git(
        "-C", store, "hash-object", "-w", "--stdin", input=json.dumps(manifest).encode()
    ).strip()
    git("-C", store, "read-tree", "main", env=env)
    git("-C", store, "update-index", "--cacheinfo", f"100644,{blob},{manifest_path}", env=env)
    tree = git("-C", store, "write-tree", env=env).strip()
    commit = git(
        "-C",
        store,
        "commit-tree",
        tree,
        "-p",
        "main",
        "-m",
        "\x1b]0;owned\x07 forged\n\nbody",
        env=env,
    ).strip()
    git("-C", store, "update-ref", "refs/heads/main", commit)
    return artifact["blob"], artifact["path"]


def test_log_which_and_verify_print_a_forged_history_escaped(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    blob, _ = forge(store, tmp_path)

    log = cli("log", "--repo", store)
    assert_inert(log.stdout)
    assert log.stdout.splitlines()[0].endswith("\\x1b]0;owned\\x07 forged")

    which = cli("which", "--repo", store, blob)
    assert which.exit_code == 0
    assert_inert(which.stdout)
    assert "\tsessions/\\x1b[2J\\u202eevil.md" in which.stdout

    verify = cli("verify", "--repo", store, "--full")
    assert verify.exit_code == 1
    assert_inert(verify.stderr)
    assert "\\x1b[2J\\u202eevil.md" in verify.stderr


def test_which_names_a_hostile_argument_escaped(cli: Cli, store: Path) -> None:
    assert cli("init", "--repo", store).exit_code == 0
    result = cli("which", "--repo", store, "\x1b]0;owned\x07")
    assert result.exit_code != 0
    assert_inert(result.stderr)
    assert "\\x1b]0;owned\\x07" in result.stderr
