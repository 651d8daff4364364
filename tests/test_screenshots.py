"""Screenshots a session names: only images inside the input's folder (or one the user
allows) are read, within a size cap; nothing else on the machine reaches the store."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import EXAMPLES, GFW, Cli, fsck, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitflywheel.recording.screenshots import Refusal, ScreenshotPolicy, image_kind, read_screenshot

SESSION_ID = "aria-shots-1"
SECRET = b"gitflywheel-test-secret-5e1f0c77"
PNG = (EXAMPLES / "screens" / "title.png").read_bytes()
HANG = 60  # seconds: a run that blocks on a FIFO fails here instead of hanging the suite


def aria(folder: Path, screenshots: list[str], name: str = "aria.json") -> Path:
    """A life/Aria session in `folder` naming `screenshots`."""
    data = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    data["session_id"] = SESSION_ID
    data["source_data"]["screenshots"] = screenshots
    path = folder / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    """The input's folder, with one real screenshot, beside a folder holding a secret."""
    folder = tmp_path / "work"
    (folder / "screens").mkdir(parents=True)
    (folder / "screens" / "title.png").write_bytes(PNG)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret.png").write_bytes(PNG + SECRET)
    return folder


def all_objects(store: Path) -> bytes:
    """The content of every object in the store, as the real git prints it."""
    return subprocess.run(
        ["git", "-C", store, "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout


def manifest(cli: Cli, store: Path) -> dict[str, object]:
    result = cli("show", "--repo", store, SESSION_ID)
    assert result.exit_code == 0, result.stderr
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def statuses(cli: Cli, store: Path) -> list[str]:
    shots = manifest(cli, store)["screenshots"]
    assert isinstance(shots, list)
    return [s["status"] for s in shots]


def artifact_texts(cli: Cli, store: Path) -> str:
    artifacts = manifest(cli, store)["artifacts"]
    assert isinstance(artifacts, list)
    return "".join(cli("show", "--repo", store, SESSION_ID, a["kind"]).stdout for a in artifacts)


def holds_nothing_of(cli: Cli, store: Path, *secrets: bytes) -> None:
    """No object of the store holds the secrets; plain git and verify find it sound."""
    objects = all_objects(store)
    for secret in secrets:
        assert secret not in objects
    fsck(store)
    result = cli("verify", "--repo", store, "--full")
    assert result.exit_code == 0, result.stderr


def escape(work: Path, source: str) -> None:
    """Ready the files a case needs inside the input's folder."""
    screens = work / "screens"
    if source == "screens/link.png":
        (screens / "link.png").symlink_to(work.parent / "elsewhere" / "secret.png")
    elif source == "screens/linked-folder/secret.png":
        (screens / "linked-folder").symlink_to(work.parent / "elsewhere")
    elif source == "screens/notes.png":
        (screens / "notes.png").write_bytes(b"password: " + SECRET + b"\n")
    elif source == "screens/logo.svg":
        (screens / "logo.svg").write_bytes(
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
            b"<script>alert('" + SECRET + b"')</script></svg>\n"
        )
    elif source == "screens/big.png":
        (screens / "big.png").write_bytes(PNG + SECRET)


REFUSED = {
    "absolute path outside": ("{outside}", "outside"),
    "dot-dot": ("../elsewhere/secret.png", "outside"),
    "dot-dot under a subfolder": ("screens/../../elsewhere/secret.png", "outside"),
    "symlink inside pointing outside": ("screens/link.png", "outside"),
    "symlinked folder pointing outside": ("screens/linked-folder/secret.png", "outside"),
    "not an image, named .png": ("screens/notes.png", "not an image"),
    "SVG": ("screens/logo.svg", "SVG"),
    "over the size cap": ("screens/big.png", "over the limit"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_refused_screenshot_is_missing_with_a_warning_and_absent(
    cli: Cli, work: Path, tmp_path: Path, case: str
) -> None:
    source, reason = REFUSED[case]
    source = source.format(outside=work.parent / "elsewhere" / "secret.png")
    escape(work, source)
    path = aria(work, ["screens/title.png", source])
    store = tmp_path / "s.git"
    cap = ["--max-screenshot-bytes", str(len(PNG) + 8)] if reason == "over the limit" else []
    result = cli("ingest", "--repo", store, path, *cap)
    assert result.exit_code == 0, result.stderr
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning:"))
    assert warning.startswith(f"warning: {path}: source_data.screenshots[1]: ")
    assert reason in warning
    assert statuses(cli, store) == ["stored", "missing"]
    public = artifact_texts(cli, store)
    assert "not read" not in public and reason not in public
    holds_nothing_of(cli, store, SECRET)


@pytest.mark.slow
def test_machine_files_are_never_read(
    cli: Cli, work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/etc and /proc (the process environment, with its secrets) stay out of the store."""
    env_secret = "gitflywheel-env-secret-91b2d4"
    monkeypatch.setenv("GITFLYWHEEL_TEST_TOKEN", env_secret)
    up = "../" * (len(work.parts) + 2)
    sources = [
        "/etc/passwd",
        f"{up}etc/passwd",
        f"{up}etc/shadow",
        "/proc/self/environ",
        f"{up}proc/self/environ",
        "/dev/zero",
    ]
    store = tmp_path / "s.git"
    done = subprocess.run(
        [*GFW, "ingest", "--repo", store, aria(work, sources)], capture_output=True, timeout=HANG
    )
    assert done.returncode == 0, done.stderr
    warnings = [w for w in done.stderr.decode().splitlines() if w.startswith("warning:")]
    assert len(warnings) == len(sources)
    assert all(f"source_data.screenshots[{i}]" in w for i, w in enumerate(warnings))
    assert statuses(cli, store) == ["missing"] * len(sources)
    passwd = Path("/etc/passwd").read_bytes().splitlines()[0]
    holds_nothing_of(cli, store, env_secret.encode(), passwd)


def test_symlink_inside_pointing_inside_is_read(cli: Cli, work: Path, tmp_path: Path) -> None:
    (work / "screens" / "current.png").symlink_to("title.png")
    (work / "latest").symlink_to("screens")
    store = tmp_path / "s.git"
    path = aria(work, ["screens/current.png", "latest/title.png", str(work / "screens/title.png")])
    result = cli("ingest", "--repo", store, path)
    assert result.exit_code == 0 and "warning:" not in result.stderr, result.stderr
    shots = manifest(cli, store)["screenshots"]
    assert isinstance(shots, list)
    assert [s["status"] for s in shots] == ["stored"] * 3
    expected = git("hash-object", work / "screens" / "title.png").strip()
    assert {s["file"]["blob"] for s in shots} == {expected}
    holds_nothing_of(cli, store)


@pytest.mark.slow
def test_huge_file_is_refused_without_reading_it(cli: Cli, work: Path, tmp_path: Path) -> None:
    """A 4 GiB (sparse) screenshot under a 1 GiB address-space limit: read whole, the run
    would die; refused from its size, it records the session with a warning."""
    huge = work / "screens" / "huge.png"
    with huge.open("wb") as f:
        f.write(PNG)
        f.truncate(4 << 30)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    store = tmp_path / "s.git"
    done = subprocess.run(
        [*GFW, "ingest", "--repo", store, aria(work, ["screens/huge.png"])],
        capture_output=True,
        timeout=HANG,
        preexec_fn=limit_memory,
    )
    assert done.returncode == 0, done.stderr
    stderr = done.stderr.decode()
    assert "source_data.screenshots[0]" in stderr and "4,294,967,296 bytes" in stderr
    assert "--max-screenshot-bytes" in stderr
    assert statuses(cli, store) == ["missing"]
    holds_nothing_of(cli, store)


@pytest.mark.slow
def test_fifo_and_device_are_refused_without_blocking(cli: Cli, work: Path, tmp_path: Path) -> None:
    os.mkfifo(work / "screens" / "pipe.png")
    (work / "screens" / "to-pipe.png").symlink_to("pipe.png")
    store = tmp_path / "s.git"
    sources = ["screens/pipe.png", "screens/to-pipe.png", "/dev/zero", "/dev/stdin"]
    done = subprocess.run(
        [*GFW, "ingest", "--repo", store, "--screenshots-from", "/dev", aria(work, sources)],
        capture_output=True,
        timeout=HANG,
    )
    assert done.returncode == 0, done.stderr
    warnings = [w for w in done.stderr.decode().splitlines() if w.startswith("warning:")]
    assert len(warnings) == 4
    assert "(a FIFO)" in warnings[0] and "(a FIFO)" in warnings[1]
    assert "(a character device)" in warnings[2]
    assert statuses(cli, store) == ["missing"] * 4
    holds_nothing_of(cli, store)


def test_screenshots_from_allows_a_folder_elsewhere(cli: Cli, work: Path, tmp_path: Path) -> None:
    shots = tmp_path / "Pictures"
    shots.mkdir()
    (shots / "level1.png").write_bytes((EXAMPLES / "screens" / "level1.png").read_bytes())
    sources = [str(shots / "level1.png"), "../elsewhere/secret.png"]
    path = aria(work, sources)
    store = tmp_path / "s.git"
    plain = cli("ingest", "--repo", store, path)
    assert plain.exit_code == 0 and "--screenshots-from" in plain.stderr
    assert statuses(cli, store) == ["missing", "missing"]
    allowed = tmp_path / "allowed.git"
    result = cli("ingest", "--repo", allowed, path, "--screenshots-from", shots)
    assert result.exit_code == 0, result.stderr
    assert statuses(cli, allowed) == ["stored", "missing"]
    assert "source_data.screenshots[1]" in result.stderr
    holds_nothing_of(cli, allowed, SECRET)


def test_stdin_reads_from_the_working_directory_only(
    cli: Cli, work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = aria(work, ["screens/title.png", "../elsewhere/secret.png"])
    monkeypatch.chdir(work)
    store = tmp_path / "s.git"
    result = cli("ingest", "--repo", store, "-", input=path.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert "warning: -: source_data.screenshots[1]: " in result.stderr
    assert statuses(cli, store) == ["stored", "missing"]
    holds_nothing_of(cli, store, SECRET)


@pytest.fixture()
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A web server on loopback that records every request made to it."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG + SECRET)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def test_url_is_never_fetched(
    cli: Cli, work: Path, tmp_path: Path, http_server: tuple[str, list[str]]
) -> None:
    base, requests = http_server
    web = f"{base}/shots/level1.png"
    local = (work.parent / "elsewhere" / "secret.png").as_uri()
    store = tmp_path / "s.git"
    result = cli("ingest", "--repo", store, aria(work, [web, local]))
    assert result.exit_code == 0, result.stderr
    assert requests == []
    warnings = [w for w in result.stderr.splitlines() if w.startswith("warning:")]
    assert len(warnings) == 1 and "source_data.screenshots[1]" in warnings[0]
    assert statuses(cli, store) == ["missing", "missing"]
    texts = artifact_texts(cli, store)
    assert f"[level1]({web})" in texts  # linked, as the spec says, never fetched
    assert "secret" not in texts  # a screenshot not read stays in the record
    holds_nothing_of(cli, store, SECRET)


def test_image_kinds() -> None:
    assert image_kind(PNG) == "png"
    assert image_kind(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "jpeg"
    assert image_kind(b"GIF89a\x01\x00") == "gif"
    assert image_kind(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "webp"
    for data in (b"", b"RIFF\x10\x00\x00\x00WAVE", b"<svg/>", b"%PDF-1.7", b"\x89PNG"):
        assert image_kind(data) is None


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one image, links in and out, beside a secret."""
    root = tmp_path_factory.mktemp("tree")
    (root / "work" / "screens").mkdir(parents=True)
    (root / "work" / "screens" / "title.png").write_bytes(PNG)
    (root / "work" / "screens" / "in.png").symlink_to("title.png")
    (root / "work" / "screens" / "out.png").symlink_to(root / "secret.png")
    (root / "work" / "screens" / "loop.png").symlink_to("loop.png")
    (root / "secret.png").write_bytes(PNG + SECRET)
    return root


PARTS = ["..", ".", "", "screens", "title.png", "in.png", "out.png", "loop.png", "secret.png"]
PARTS += ["work", "/", "etc", "passwd", "proc", "self", "environ", "\\", "\x00", "~", "C:"]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.lists(st.sampled_from(PARTS), max_size=8).map("/".join),
        st.lists(st.sampled_from(PARTS), max_size=8).map("".join),
        st.text(max_size=40),
    ),
    st.booleans(),
)
def test_only_the_image_inside_is_ever_read(tree: Path, source: str, absolute: bool) -> None:
    if absolute:
        source = f"{tree}/work/{source}"
    got = read_screenshot(source, tree / "work", ScreenshotPolicy(max_bytes=1 << 16))
    assert isinstance(got, Refusal) or got == PNG
