"""capture chat: ChatGPT, Claude.ai and Markdown exports of the real layouts into life/Aria
sessions, ingested into a real store, images checked as every screenshot is."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Cli, git
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gitflywheel import capture_chat
from gitflywheel.errors import GitflywheelError, InputError
from gitflywheel.jsontext import loads

DATA = ROOT / "tests" / "data" / "capture"
CHATGPT = DATA / "chatgpt"
PNG = CHATGPT / "file-Ab12Cd34Ef56-ship-sketch.png"


def _zip(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def _export(tmp_path: Path) -> Path:
    return _zip(
        tmp_path,
        {
            "conversations.json": (CHATGPT / "conversations.json").read_bytes(),
            PNG.name: PNG.read_bytes(),
            "user.json": b'{"id": "user-1"}',
        },
    )


def _capture(cli: Cli, *args: str | Path) -> tuple[list[dict[str, Any]], str]:
    result = cli("capture", "chat", *args)
    assert result.exit_code == 0, result.stderr
    sessions = loads(result.stdout)
    assert isinstance(sessions, list)
    return sessions, result.stdout


def test_chatgpt_export_records_the_current_branch_with_its_image(cli: Cli, tmp_path: Path) -> None:
    images = tmp_path / "images"
    (session,), text = _capture(cli, _export(tmp_path), "--images-to", images)
    turns = [
        (t["source"], t["content"][:24], t["timestamp"])
        for t in session["source_data"]["conversations"]
    ]
    # 1733250000 s after the epoch is 2024-12-03 18:20:00 UTC; each turn's create_time
    # adds 0, 60, 600 and 660 s. The regenerated answer (a sibling branch), the system
    # message, the reasoning, the code sent to the python tool and its output are not the
    # conversation.
    assert turns == [
        ("user", "Here is my sketch of the", "2024-12-03T18:20:00Z"),
        ("assistant", "Here is a 32x32 sprite t", "2024-12-03T18:21:00Z"),
        ("user", "Now make the ship wrap a", "2024-12-03T18:30:00Z"),
        ("assistant", "Done: positions now wrap", "2024-12-03T18:31:00Z"),
    ]
    for hidden in ("OLD ANSWER", "HIDDEN REASONING", "x % WIDTH"):
        assert hidden not in text
    assert session["session_id"] == "chatgpt-6750a1b2-1c2d-8000-9e3f-a1b2c3d4e5f6-2024-12-03"
    assert session["title"] == "Ship sprite and screen wrap"
    assert session["metadata"] == {"duration_minutes": 11, "screenshots_taken": 1}
    (shot,) = session["source_data"]["screenshots"]
    assert Path(shot).read_bytes() == PNG.read_bytes()
    assert Path(shot).name == "file-Ab12Cd34Ef56.png"

    store = tmp_path / "s.git"
    done = cli("ingest", "--repo", store, "--screenshots-from", images, "-", input=text)
    assert done.exit_code == 0, done.stderr
    assert "1 recorded" in done.stderr and "warning" not in done.stderr
    folder = _folder(store, session["session_id"])
    stored = subprocess.run(
        ["git", "-C", store, "show", f"main:{folder}/screenshots/01-file-Ab12Cd34Ef56.png"],
        capture_output=True,
        check=True,
    ).stdout
    assert stored == PNG.read_bytes()
    post = cli("show", "--repo", store, session["session_id"], "blog_post").stdout
    assert "screenshots/01-file-Ab12Cd34Ef56.png" in post
    # the record passed the public-record rules: the token typed by mistake is gone
    record = git("-C", store, "show", f"main:{_folder(store, session['session_id'])}/session.json")
    assert "ghp_" not in record and "[redacted github-token]" in record

    # the same export captured again records nothing new
    _, again = _capture(cli, _export(tmp_path), "--images-to", images)
    assert again == text
    done = cli("ingest", "--repo", store, "--screenshots-from", images, "-", input=again)
    assert "0 recorded, 1 unchanged" in done.stderr
    git("-C", store, "fsck", "--strict")


def _folder(store: Path, session_id: str) -> str:
    names = git("-C", store, "ls-tree", "-r", "--name-only", "main").split()
    return next(n.rsplit("/", 1)[0] for n in names if f"/{session_id}/session.json" in n)


def test_chatgpt_conversations_json_beside_its_images_and_filters(cli: Cli, tmp_path: Path) -> None:
    (session,), _ = _capture(
        cli, CHATGPT / "conversations.json", "--images-to", tmp_path / "i", "--agent", "Ada"
    )
    assert session["agent_id"] == "Ada" and len(session["source_data"]["screenshots"]) == 1
    result = cli("capture", "chat", CHATGPT / "conversations.json", "--since", "2024-12-04")
    assert result.exit_code == 2 and "no conversation to make a session of" in result.stderr
    result = cli("capture", "chat", CHATGPT / "conversations.json", "--conversation", "nope")
    assert result.exit_code == 2 and "'nope' is not in these exports" in result.stderr


def test_an_image_that_is_no_image_is_not_written(cli: Cli, tmp_path: Path) -> None:
    export = _zip(
        tmp_path,
        {
            "conversations.json": (CHATGPT / "conversations.json").read_bytes(),
            "file-Ab12Cd34Ef56-ship.png": b"\x89PNG\r\n\x1a\n<script>alert(1)</script>",
        },
    )
    (session,), _ = _capture(cli, export, "--images-to", tmp_path / "i")
    assert "screenshots" not in session["source_data"]
    assert session["source_data"]["capture_notes"] == [
        "image file-Ab12Cd34Ef56: not a PNG, JPEG, GIF, WebP or AVIF image"
    ]
    assert not (tmp_path / "i").exists()


def test_claude_export_records_both_speakers_in_order(cli: Cli, tmp_path: Path) -> None:
    (session,), text = _capture(cli, DATA / "claude" / "conversations.json")
    turns = [(t["source"], t["timestamp"]) for t in session["source_data"]["conversations"]]
    assert turns == [
        ("human", "2024-12-05T20:00:00Z"),
        ("assistant", "2024-12-05T20:01:30Z"),
        ("human", "2024-12-05T20:10:00Z"),
        ("assistant", "2024-12-05T20:12:00Z"),
    ]
    assert "HIDDEN THINKING" not in text
    assert session["source_data"]["capture_notes"] == [
        "chat_messages[0]: level1.png was shown but is not in the export"
    ]
    assert session["metadata"]["duration_minutes"] == 12  # 20:00:00 to 20:12:00
    store = tmp_path / "s.git"
    done = cli("ingest", "--repo", store, "-", input=text)
    assert done.exit_code == 0 and "1 recorded" in done.stderr
    post = cli("show", "--repo", store, session["session_id"], "blog_post").stdout
    human, assistant = post.index("asteroid fields"), post.index("Raise the count")
    assert human < assistant < post.index("boss every fifth") < post.index("health bar")


def test_markdown_transcript_is_one_session_with_its_images(cli: Cli, tmp_path: Path) -> None:
    images = tmp_path / "images"
    (session,), text = _capture(cli, DATA / "transcript.md", "--images-to", images)
    assert session["session_id"] == "space-explorer-first-build"
    assert session["agent_id"] == "Agent-4"
    turns = session["source_data"]["conversations"]
    assert [(t["source"], t["timestamp"]) for t in turns] == [
        ("user", "2025-12-03T19:31:00Z"),
        ("aria", "2025-12-03T19:40:00Z"),
        ("user", "2025-12-03T19:52:00Z"),
    ]
    assert "## not a heading: inside code" in turns[1]["content"]
    # shots/title.png, inside the transcript's folder, is a screenshot with its caption,
    # named by its file and the first 8 hex digits of its SHA-256; the path that leads
    # out of the folder is a note and is never read
    digest = hashlib.sha256((DATA / "shots" / "title.png").read_bytes()).hexdigest()[:8]
    (shot,) = session["source_data"]["screenshots"]
    assert shot == {
        "path": (images / f"title-{digest}.png").as_posix(),
        "caption": "The title screen",
    }
    assert session["source_data"]["capture_notes"] == [
        "image ../../../../etc/hostname: outside the transcript's folder"
    ]
    done = cli(
        "ingest", "--repo", tmp_path / "s.git", "--screenshots-from", images, "-", input=text
    )
    assert done.exit_code == 0 and "1 recorded" in done.stderr and "warning" not in done.stderr
    post = cli("show", "--repo", tmp_path / "s.git", session["session_id"], "blog_post").stdout
    assert f"![The title screen](screenshots/01-title-{digest}.png)" in post


@pytest.mark.parametrize(
    ("name", "data", "where"),
    [
        ("conversations.json", b"{}", "conversations.json: not a list of conversations"),
        ("conversations.json", b"[1, NaN]", "conversations.json: not valid JSON"),
        (
            "conversations.json",
            b'[{"conversation_id": "c1", "mapping": {}, "current_node": "n9"}]',
            "conversations.json: conversation 1 (c1): current_node: missing, or not a node of mapping",
        ),
        (
            "conversations.json",
            b'[{"conversation_id": "c1", "current_node": "a", "mapping": {"a": {"parent": "b"},'
            b' "b": {"parent": "a"}}}]',
            "conversations.json: conversation 1 (c1): mapping.a.parent: loops back",
        ),
        (
            "conversations.json",
            b'[{"uuid": "c2", "chat_messages": [{"sender": "human", "created_at": "yesterday"}]}]',
            "conversations.json: conversation 1 (c2): chat_messages[0].created_at: 'yesterday' is not an ISO 8601",
        ),
        (  # JavaScript's Date.now(): milliseconds
            "conversations.json",
            b'[{"conversation_id": "c3", "create_time": 1733250000000, "mapping": {},'
            b' "current_node": "n"}]',
            "conversations.json: conversation 1 (c3): create_time: 1733250000000 is out of "
            "range: seconds since the epoch are wanted, and this reads as milliseconds",
        ),
        *(
            (  # iterated as a list: a TypeError traceback, or a string's letters
                "conversations.json",
                b'[{"uuid": "c4", "chat_messages": [{"sender": "human", "created_at": '
                b'"2024-12-05T20:00:00Z", "text": "hi", "' + key + b'": ' + value + b"}]}]",
                "conversations.json: conversation 1 (c4): chat_messages[0]."
                + key.decode()
                + ": not a list",
            )
            for key in (b"attachments", b"files", b"content")
            for value in (b"5", b"true", b'"a.png"', b'{"file_name": "a.png"}')
        ),
        ("talk.md", b"## user\nhi\n", "talk.md: front matter: missing"),
        (  # in an image's path it made the lookup raise ValueError: a traceback
            "talk.md",
            b"---\ndate: 2025-12-03T19:30:00Z\n---\n## user\nsee ![x](sh\0ots/a.png)\n",
            "talk.md:5: a NUL byte: binary content, not Markdown",
        ),
        ("talk.md", b"---\ntitle: x\n---\n## user\nhi\n", "talk.md: front matter.date: missing"),
        ("export.zip", b"PK\x03\x04 broken", "export.zip: "),
        (
            "talk.md",
            "---\ndate: 2025-12-03T19:30:00Z\nagent: Ada\u202e\n---\n## user\nhi\n".encode(),
            "talk.md: agent_id: Value error, must not contain bidi control",
        ),
    ],
)
def test_a_malformed_export_names_file_conversation_field_and_reason(
    cli: Cli, tmp_path: Path, name: str, data: bytes, where: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = cli.process("capture", "chat", path, "--images-to", tmp_path / "i")
    message = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in message, message
    assert where in message.replace(str(tmp_path) + "/", ""), message


def test_the_library_returns_what_the_command_prints(tmp_path: Path) -> None:
    found = capture_chat(DATA / "claude" / "conversations.json", images_to=tmp_path)
    assert [s["session_type"] for s in found.sessions] == ["life_aria"]
    with pytest.raises(InputError, match="no conversations.json"):
        capture_chat(tmp_path)
    with pytest.raises(GitflywheelError, match="is not between 1 and"):
        capture_chat(DATA / "transcript.md", max_image_bytes=0)


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "mapping",
                        "current_node",
                        "parent",
                        "message",
                        "author",
                        "role",
                        "content",
                        "parts",
                        "content_type",
                        "create_time",
                        "conversation_id",
                        "uuid",
                        "chat_messages",
                        "sender",
                        "created_at",
                        "text",
                        "attachments",
                        "files",
                        "file_name",
                        "a",
                        "b",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=25,
    )
)
def test_any_json_gives_sessions_or_an_input_error(value: Any) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conversations.json"
        path.write_text(json.dumps([value]))
        try:
            capture_chat(path, images_to=Path(folder) / "i")
        except InputError as exc:
            assert str(path) in str(exc) or str(exc).startswith("--")


def test_a_conversation_over_two_days_is_two_sessions_and_the_first_stays(
    cli: Cli, tmp_path: Path
) -> None:
    conversations = json.loads((CHATGPT / "conversations.json").read_text())
    mapping = conversations[0]["mapping"]
    # the conversation as it stood on the first day: up to the answer at 18:21:00
    first_day = json.loads(json.dumps(conversations))
    first_day[0]["current_node"] = "a-new"
    mapping["u2"]["message"]["create_time"] += 86_400  # the next day's turns
    mapping["a-final"]["message"]["create_time"] += 86_400
    (tmp_path / "day1").mkdir()
    (tmp_path / "day2").mkdir()
    (tmp_path / "day1" / "conversations.json").write_text(json.dumps(first_day))
    (tmp_path / "day2" / "conversations.json").write_text(json.dumps(conversations))
    images = tmp_path / "i"
    (before,), _ = _capture(cli, tmp_path / "day1" / "conversations.json", "--images-to", images)
    one, two = _capture(cli, tmp_path / "day2" / "conversations.json", "--images-to", images)[0]
    # the image files are beside day1's conversations in tests/data only, so neither has one
    assert one == before
    assert two["session_id"].endswith("-2024-12-04")
    assert [t["timestamp"] for t in two["source_data"]["conversations"]] == [
        "2024-12-04T18:30:00Z",  # 1733250000 + 600 + 86400
        "2024-12-04T18:31:00Z",
    ]
    (late,), _ = _capture(
        cli,
        tmp_path / "day2" / "conversations.json",
        "--since",
        "2024-12-04",
        "--images-to",
        images,
    )
    assert late == two


def test_an_image_pointer_names_the_file_id_without_its_query() -> None:
    from gitflywheel.capturing.chatgpt import _pointer_id

    assert _pointer_id("sediment://file_00000000c800?shared_conversation_id=6a7f") == (
        "file_00000000c800"
    )
    assert _pointer_id("file-service://file-Ab12Cd34Ef56") == "file-Ab12Cd34Ef56"
    assert _pointer_id("https://example.com/x.png") == ""


def test_a_split_export_reads_every_conversations_file(cli: Cli, tmp_path: Path) -> None:
    conversations = json.loads((CHATGPT / "conversations.json").read_text())
    other = json.loads(json.dumps(conversations))
    other[0]["conversation_id"] = other[0]["id"] = "6750ffff-0000-8000-9000-000000000002"
    other[0]["title"] = "Second conversation"
    export = _zip(
        tmp_path,
        {
            "conversations-000.json": json.dumps(conversations).encode(),
            "conversations-001.json": json.dumps(other).encode(),
            PNG.name: PNG.read_bytes(),
        },
    )
    sessions, _ = _capture(cli, export, "--images-to", tmp_path / "i")
    assert [s["title"] for s in sessions] == ["Ship sprite and screen wrap", "Second conversation"]
    (only,), _ = _capture(
        cli,
        export,
        "--conversation",
        "6750ffff-0000-8000-9000-000000000002",
        "--images-to",
        tmp_path / "i",
    )
    assert only == sessions[1]


def test_an_image_a_tool_made_is_a_screenshot_and_its_text_no_turn(
    cli: Cli, tmp_path: Path
) -> None:
    conversations = json.loads((CHATGPT / "conversations.json").read_text())
    tool = conversations[0]["mapping"]["tool"]["message"]
    tool["content"] = {
        "content_type": "multimodal_text",
        "parts": [
            {
                "content_type": "image_asset_pointer",
                "asset_pointer": "sediment://file_00000000aa11",
            },
            "DALL-E displayed 1 image.",
        ],
    }
    export = _zip(
        tmp_path,
        {
            "conversations.json": json.dumps(conversations).encode(),
            PNG.name: PNG.read_bytes(),
            "file_00000000aa11-0b1c.dat": PNG.read_bytes(),  # an image named .dat
        },
    )
    (session,), text = _capture(cli, export, "--images-to", tmp_path / "i")
    shots = session["source_data"]["screenshots"]
    assert [Path(s).name for s in shots] == ["file-Ab12Cd34Ef56.png", "file_00000000aa11.png"]
    assert "DALL-E displayed" not in text
    assert len(session["source_data"]["conversations"]) == 4


def test_a_fifo_is_refused_without_blocking(cli: Cli, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "conversations.json"
    os.mkfifo(fifo)
    done = cli.process("capture", "chat", fifo)
    assert done.returncode == 2 and b"not a regular file or a folder" in done.stderr
    done = cli.process("capture", "trades", fifo)
    assert done.returncode == 2 and b"not a regular file" in done.stderr


def _corrupt_deflate(tmp_path: Path) -> Path:
    """An export whose conversations.json holds a broken deflate stream (CRCs intact in
    the headers, so only inflating it finds out)."""
    path = tmp_path / "export.zip"
    data = (CHATGPT / "conversations.json").read_bytes()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", data * 20)
    raw = bytearray(path.read_bytes())
    start = raw.index(b"conversations.json") + len("conversations.json") + 10
    for n in range(start, start + 40):
        raw[n] ^= 0x55
    path.write_bytes(bytes(raw))
    return path


def _bomb(tmp_path: Path) -> Path:
    """A valid export whose conversations.json inflates a thousand times (spaces)."""
    data = (CHATGPT / "conversations.json").read_bytes() + b" " * (4 * 1024 * 1024)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("conversations.json", data)
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_corrupt_deflate, "export.zip:conversations.json: cannot read: Error -3"),
        (_bomb, "export.zip:conversations.json: inflates from "),
    ],
)
def test_a_crafted_zip_is_refused_naming_the_member_and_why(
    cli: Cli, tmp_path: Path, make: Any, reason: str
) -> None:
    export = make(tmp_path)
    result = cli.process("capture", "chat", export, "--images-to", tmp_path / "i")
    message = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in message, message
    assert reason in message.replace(str(tmp_path) + "/", ""), message
    if make is _bomb:
        assert "more than 100 times: a ZIP bomb, not read" in message


def test_a_conversations_file_of_countless_tiny_values_is_refused_unparsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitflywheel.capturing import archive

    # the real limit (16 million) at a scale a test affords: the export has about 120
    monkeypatch.setattr(archive, "MAX_JSON_CONTAINERS", 100)
    path = tmp_path / "conversations.json"
    path.write_text("[" + ",".join(["{}"] * 101) + "]")
    with pytest.raises(InputError, match="more than 100 JSON objects and arrays: refused"):
        capture_chat(path, images_to=tmp_path / "i")
    path.write_text("[" + ",".join(["{}"] * 99) + "]")
    with pytest.raises(InputError, match="neither a ChatGPT conversation"):
        capture_chat(path, images_to=tmp_path / "i")


def test_an_image_shown_again_is_one_screenshot_and_a_packed_one_is_not_read(
    cli: Cli, tmp_path: Path
) -> None:
    conversations = json.loads((CHATGPT / "conversations.json").read_text())
    parts = conversations[0]["mapping"]["u1"]["message"]["content"]["parts"]
    parts[1:1] = [parts[0]] * 3 + [
        {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_0000bomb"}
    ]
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", json.dumps(conversations))
        z.writestr(PNG.name, PNG.read_bytes())
        z.writestr("file_0000bomb-x.png", PNG.read_bytes() + bytes(2 * 1024 * 1024))
    (session,), _ = _capture(cli, path, "--images-to", tmp_path / "i")
    assert [Path(s).name for s in session["source_data"]["screenshots"]] == [
        "file-Ab12Cd34Ef56.png"
    ]
    assert session["metadata"]["screenshots_taken"] == 1
    (note,) = session["source_data"]["capture_notes"]
    assert note.startswith("image file_0000bomb: inflates from ")
    assert note.endswith("more than 100 times: a ZIP bomb, not read")


_OLD_HEADING = re.compile(r"^##\s+(?P<speaker>.+?)(?:\s+\((?P<when>[^()]+)\))?\s*#*\s*$")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="#( )a:1\t\u3000", max_size=14))
def test_a_heading_reads_as_the_expression_it_replaces_did(rest: str) -> None:
    """Headings are read by hand, as the regular expression that backtracked for minutes
    over a few thousand spaces read them (on short lines, where it is quick)."""
    from gitflywheel.capturing.transcript import _heading

    line = "##" + rest
    old = _OLD_HEADING.match(line)
    expected = (old["speaker"].strip(), old["when"]) if old else None
    got = _heading(line)
    if got is None and expected is not None:  # `## ##`: closing #s alone, no speaker
        assert not expected[0].strip("#") and expected[1] is None, line
    else:
        assert got == expected, line


def test_a_transcript_of_long_runs_is_read_in_one_pass(tmp_path: Path) -> None:
    """A heading of 3,000 spaces took a minute (5,000: five), and `![a](` repeated took
    each image the rest of the turn to try: both are read straight through now."""
    from gitflywheel.capturing import transcript

    path = tmp_path / "talk.md"
    path.write_text(
        "---\ndate: 2025-12-03T19:30:00Z\n---\n"
        f"## a{' ' * 3000}b\n" + "![a](" * 50_000 + "\n## aria (19:40)\nok ![x](y.png)\n"
    )
    chat = transcript.read(path, 1000)
    assert [t.speaker for t in chat.turns] == [f"a{' ' * 3000}b", "aria"]
    assert chat.notes == ["image y.png: not a regular file"]


def test_an_image_is_never_written_through_a_link_in_the_images_folder(
    cli: Cli, tmp_path: Path
) -> None:
    """A link in the images folder by an image's name (a folder checked out from
    someone else's repository) made capture overwrite the file it points at."""
    images = tmp_path / "i"
    images.mkdir()
    victim = tmp_path / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA me\n")
    (images / "file-Ab12Cd34Ef56.png").symlink_to(victim)
    (session,), _ = _capture(cli, _export(tmp_path), "--images-to", images)
    assert victim.read_text() == "ssh-ed25519 AAAA me\n"
    assert "screenshots" not in session["source_data"]
    assert session["source_data"]["capture_notes"] == [
        "image file-Ab12Cd34Ef56: file-Ab12Cd34Ef56.png in the images folder is a symbolic "
        "link; not written"
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1, max_size=6))
@example([(5973, 64)])  # the version a member needs, 8.4: NotImplementedError when opened
def test_any_damage_to_an_export_zip_gives_sessions_or_an_input_error(
    flips: list[tuple[int, int]],
) -> None:
    """Bytes of a real export's ZIP changed anywhere (headers, the deflate stream, the
    central directory): sessions, or one clear refusal naming the export; never a
    traceback from the ZIP or inflate code."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("conversations.json", (CHATGPT / "conversations.json").read_bytes())
            z.writestr(PNG.name, PNG.read_bytes())
        data = bytearray(path.read_bytes())
        for at, mask in flips:
            data[at % len(data)] ^= mask
        path.write_bytes(bytes(data))
        try:
            capture_chat(path, images_to=Path(folder) / "i")
        except InputError as exc:
            assert str(path) in str(exc), exc
