"""Screenshots a session names: only images inside the input's folder (or one the user
allows) are read, within a size cap; nothing else on the machine reaches the store. An
image is an image by its content, stored and published under its format's extension;
nothing else reaches a site or a blog export, even from a store made before that rule."""

from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import EXAMPLES, GFW, ROOT, Cli, fsck, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, features

from gitflywheel.recording.screenshots import (
    IMAGE_EXTENSIONS,
    MAX_SIDE,
    Refusal,
    ScreenshotPolicy,
    image_format,
    image_size,
    publishable_screenshot,
    read_screenshot,
)
from gitflywheel.storage.layout import screenshot_name

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
    elif source == "screens/bomb.png":
        (screens / "bomb.png").write_bytes(declaring(PNG, 100_000, 100_000) + SECRET)


def declaring(png: bytes, width: int, height: int) -> bytes:
    """A PNG whose header declares another size (its CRC made right again)."""
    header = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + png[24:29]
    return png[:12] + header + zlib.crc32(header).to_bytes(4, "big") + png[33:]


REFUSED = {
    "absolute path outside": ("{outside}", "outside"),
    "dot-dot": ("../elsewhere/secret.png", "outside"),
    "dot-dot under a subfolder": ("screens/../../elsewhere/secret.png", "outside"),
    "symlink inside pointing outside": ("screens/link.png", "outside"),
    "symlinked folder pointing outside": ("screens/linked-folder/secret.png", "outside"),
    "not an image, named .png": ("screens/notes.png", "not an image"),
    "SVG": ("screens/logo.svg", "SVG"),
    "over the size cap": ("screens/big.png", "over the limit"),
    "a small file declaring a huge image": ("screens/bomb.png", "too large to show"),
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
    # linked, as the spec says, never fetched; captioned by the title, never `level1`
    assert re.search(rf"\[Screenshot 1 of [^\]\n]+\]\({re.escape(web)}\)", texts)
    assert "[level1]" not in texts
    assert "secret" not in texts  # a screenshot not read stays in the record
    holds_nothing_of(cli, store, SECRET)


@pytest.mark.parametrize("size", [(3, 2), (1200, 630), (16_383, 1), (1, 9_000)])
@pytest.mark.parametrize(
    "fmt, options",
    [
        ("PNG", {}),
        ("JPEG", {}),
        ("GIF", {}),
        ("WEBP", {}),  # lossy: VP8
        ("WEBP", {"lossless": True}),  # VP8L
        ("WEBP", {"exif": b"Exif\x00\x00"}),  # VP8X
    ],
)
def test_an_image_declares_the_size_pillow_reads(
    fmt: str, options: dict[str, object], size: tuple[int, int]
) -> None:
    out = io.BytesIO()
    Image.new("P" if fmt == "GIF" else "RGB", size).save(out, fmt, **options)
    data = out.getvalue()
    assert image_size(data) == Image.open(io.BytesIO(data)).size == size


def test_an_image_too_large_to_show_is_refused_whatever_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "tall.png").write_bytes(declaring(PNG, 1440, 30_000))  # a full page: read
    (tmp_path / "wide.png").write_bytes(declaring(PNG, MAX_SIDE + 1, 1))
    (tmp_path / "vast.png").write_bytes(declaring(PNG, 10_000, 10_000))
    policy = ScreenshotPolicy()
    assert isinstance(read_screenshot("tall.png", tmp_path, policy), bytes)
    for name in ("wide.png", "vast.png"):
        refused = read_screenshot(name, tmp_path, policy)
        assert isinstance(refused, Refusal) and "too large to show" in refused.reason, name
    assert image_size(b"not an image") is None


def test_image_formats() -> None:
    assert image_format(PNG) == "png"
    for fmt, data in IMAGES.items():
        assert image_format(data()) == fmt, fmt
    for data in (b"", b"RIFF\x10\x00\x00\x00WAVE", b"<svg/>", b"%PDF-1.7", b"\x89PNG"):
        assert image_format(data) is None
    # the first bytes of each format, and not the structure that must follow them
    for data in (
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"GIF89a\x01\x00",
        b"GIF89a<script>alert(1)</script>",
        b"RIFF\x10\x00\x00\x00WEBPVP8 ",
        PNG[:8] + b"\x00\x00\x00\x0dIHDR" + b"\x00" * 17,
        PNG[:20] + b"X" + PNG[21:],  # the IHDR's CRC no longer holds
        b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00avifmif1",  # no box after ftyp
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00heicmif1\x00\x00\x00\x08meta",
    ):
        assert image_format(data) is None, data


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


# -- formats, by content --------------------------------------------------------------------

SCRIPT = b"<script>alert(document.domain)</script>\n"
OLD_STORE = ROOT / "tests" / "data" / "screenshots-store.bundle"  # make_old_store.sh screenshots


def pillow(fmt: str, mode: str = "RGB") -> bytes:
    """A tiny real image of this format, written by Pillow."""
    out = io.BytesIO()
    Image.new(mode, (3, 2), 1 if mode == "P" else (200, 40, 10)).save(out, fmt)
    return out.getvalue()


def avif() -> bytes:
    """A small AVIF: Pillow's when it writes AVIF, else its boxes built by hand (an
    ftyp box naming the avif brand, then a meta box)."""
    if features.check("avif"):
        return pillow("AVIF")
    ftyp = b"ftypavif" + b"\x00\x00\x00\x00" + b"avifmif1miaf"
    meta = b"meta" + b"\x00" * 4
    return len(ftyp + b"1234").to_bytes(4, "big") + ftyp + (8 + 4).to_bytes(4, "big") + meta


IMAGES: dict[str, Callable[[], bytes]] = {
    "png": lambda: pillow("PNG"),
    "jpeg": lambda: pillow("JPEG"),
    "gif": lambda: pillow("GIF", "P"),
    "webp": lambda: pillow("WEBP"),
    "avif": avif,
}


def stored_names(store: Path) -> list[str]:
    """The file names under every screenshots/ folder of the store's tip."""
    tree = git("-C", store, "ls-tree", "-r", "--name-only", "main").splitlines()
    return [p.rsplit("/", 1)[-1] for p in tree if "/screenshots/" in p]


def test_the_gif_header_attack_is_refused_at_ingest(cli: Cli, work: Path, tmp_path: Path) -> None:
    """`GIF89a` then a script, named pwn.shtml: the first bytes of a GIF, no GIF after
    them (a logical screen descriptor and a block must follow). Refused as not an image,
    like any other screenshot not read: a warning naming the file and the field."""
    (work / "screens" / "pwn.shtml").write_bytes(b"GIF89a" + SCRIPT)
    path = aria(work, ["screens/title.png", "screens/pwn.shtml"])
    store = tmp_path / "s.git"
    result = cli("ingest", "--repo", store, path)
    assert result.exit_code == 0, result.stderr
    warnings = [w for w in result.stderr.splitlines() if w.startswith("warning:")]
    assert warnings == [
        f"warning: {path}: source_data.screenshots[1]: 'screens/pwn.shtml' not read: "
        "not an image: it starts like a GIF but is not a well-formed one"
    ]
    assert statuses(cli, store) == ["stored", "missing"]
    assert stored_names(store) == ["01-title.png"]
    holds_nothing_of(cli, store, SCRIPT)


def test_an_image_is_stored_under_its_format_whatever_its_name(
    cli: Cli, work: Path, tmp_path: Path
) -> None:
    """A real GIF with a script after its trailer, named .shtml, is a GIF: stored as
    .gif, which every server serves as an image. Each format gets its one extension."""
    sources = ["screens/pwn.shtml", "screens/photo.jpeg", "screens/Shot.PNG"]
    (work / "screens" / "pwn.shtml").write_bytes(IMAGES["gif"]() + SCRIPT)
    (work / "screens" / "photo.jpeg").write_bytes(IMAGES["jpeg"]())
    (work / "screens" / "Shot.PNG").write_bytes(PNG)
    for fmt, data in IMAGES.items():
        (work / "screens" / f"{fmt}.page.html").write_bytes(data())
        sources.append(f"screens/{fmt}.page.html")
    store = tmp_path / "s.git"
    result = cli("ingest", "--repo", store, aria(work, sources))
    assert result.exit_code == 0 and "warning:" not in result.stderr, result.stderr
    assert stored_names(store) == [
        "01-pwn.gif",
        "02-photo.jpg",
        "03-Shot.png",
        "04-png_page.png",
        "05-jpeg_page.jpg",
        "06-gif_page.gif",
        "07-webp_page.webp",
        "08-avif_page.avif",
    ]
    assert "](screenshots/01-pwn.gif)" in artifact_texts(cli, store)
    holds_nothing_of(cli, store)


def test_an_svg_is_refused_whatever_its_name(cli: Cli, work: Path, tmp_path: Path) -> None:
    (work / "screens" / "logo.gif").write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    path = aria(work, ["screens/logo.gif"])
    store = tmp_path / "s.git"
    result = cli("ingest", "--repo", store, path)
    assert result.exit_code == 0, result.stderr
    assert (
        f"warning: {path}: source_data.screenshots[0]: 'screens/logo.gif' not read: an SVG "
        "image, refused because SVG can carry script" in result.stderr
    )
    assert statuses(cli, store) == ["missing"] and stored_names(store) == []


@pytest.fixture()
def old_store(tmp_path: Path) -> Path:
    """A store an earlier gitflywheel made (build/4, life_aria/3), when a screenshot was
    read by its first bytes and kept its source's name: it holds `02-pwn.shtml` (a GIF
    header and a script), `04-poly.shtml` (a GIF and a script) and `.jpeg` photos."""
    path = tmp_path / "old.git"
    git("clone", "-q", "--bare", OLD_STORE, path)
    return path


def test_an_old_store_keeps_verifying_and_rerender_names_its_screenshots_anew(
    cli: Cli, old_store: Path
) -> None:
    names = ["01-photo.jpeg", "02-pwn.shtml", "01-title.png", "02-pwn.shtml"]
    assert stored_names(old_store) == [*names, "03-photo.jpeg", "04-poly.shtml"]
    result = cli("verify", "--repo", old_store, "--full")
    assert result.exit_code == 0, result.stderr
    assert "made by build/4: 1 session" in result.stderr
    assert "made by life_aria/3: 1 session" in result.stderr
    old_tip = git("-C", old_store, "rev-parse", "main").strip()
    assert cli("rerender", "--repo", old_store, "--all").exit_code == 0
    assert stored_names(old_store) == [
        "01-photo.jpg",
        "01-title.png",
        "03-photo.jpg",
        "04-poly.gif",
    ]
    result = cli("verify", "--repo", old_store, "--full")
    assert result.exit_code == 0 and "note:" not in result.stderr, result.stderr
    # nothing stored is lost: the files as they were stay in history
    old = git("-C", old_store, "ls-tree", "-r", "--name-only", old_tip).splitlines()
    assert sum(p.endswith(".shtml") for p in old) == 3
    fsck(old_store)


def test_a_site_and_exports_of_an_old_store_hold_no_file_that_is_not_an_image(
    cli: Cli, old_store: Path, tmp_path: Path
) -> None:
    site, hugo, jekyll = tmp_path / "site", tmp_path / "hugo", tmp_path / "jekyll"
    assert cli("site", "--repo", old_store, site, "--no-feed").exit_code == 0
    assert cli("export", "--repo", old_store, hugo, "--format", "hugo").exit_code == 0
    assert cli("export", "--repo", old_store, jekyll, "--format", "jekyll").exit_code == 0
    for out in (site, hugo, jekyll):
        files = [p for p in out.rglob("*") if p.is_file()]
        assert not [p for p in files if p.suffix == ".shtml"], out
        assert not [p for p in files if SCRIPT in p.read_bytes()], out
        shots = sorted(p.name for p in files if p.parent.name == "screenshots")
        assert shots == ["01-photo.jpeg", "01-title.png", "03-photo.jpeg"], out


def test_publishable_screenshots() -> None:
    gif = IMAGES["gif"]()
    assert publishable_screenshot("sessions/a/screenshots/02-pwn.gif", gif + SCRIPT)
    assert publishable_screenshot("screenshots/01-photo.jpeg", IMAGES["jpeg"]())
    assert publishable_screenshot("screenshots/01-Shot.PNG", PNG)
    assert not publishable_screenshot("screenshots/02-pwn.shtml", gif)
    assert not publishable_screenshot("screenshots/02-pwn.shtml.gif", gif)
    assert not publishable_screenshot("screenshots/02-pwn.png", gif)
    assert not publishable_screenshot("screenshots/02-pwn.gif", b"GIF89a" + SCRIPT)
    assert not publishable_screenshot("screenshots/02-logo.svg", b"<svg/>")


def test_screenshot_names() -> None:
    assert screenshot_name(1, "screens/pwn.shtml", ".gif") == "02-pwn.gif"
    assert screenshot_name(0, "C:\\shots\\a.b.jpeg", ".jpg") == "01-a_b.jpg"
    assert screenshot_name(0, ".png", ".png") == "01-screenshot.png"
    assert screenshot_name(9, "x" * 300 + ".png", ".webp") == "10-" + "x" * 112 + ".webp"
    with pytest.raises(ValueError):
        screenshot_name(0, "a.png", ".p/g")


SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")


@given(
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from(SIGNATURES).flatmap(
            lambda head: st.binary(max_size=200).map(lambda tail: head + tail)
        ),
    )
)
def test_sniffing_never_raises_and_accepts_only_a_known_signature(data: bytes) -> None:
    found = image_format(data)
    if found is not None:
        starts = data.startswith(SIGNATURES) or data[4:8] == b"ftyp"
        assert starts and (found != "webp" or data[8:12] == b"WEBP"), data
        assert found in IMAGE_EXTENSIONS
    assert isinstance(publishable_screenshot("screenshots/01-a.gif", data), bool)


@given(st.sampled_from(sorted(IMAGES)), st.binary(max_size=64), st.integers(0, 200))
def test_an_image_cut_short_or_followed_by_anything_never_raises(
    fmt: str, tail: bytes, cut: int
) -> None:
    data = IMAGES[fmt]()
    assert image_format(data + tail) in (fmt, None)
    assert image_format(data[:cut]) in (fmt, None)


@given(
    st.text(max_size=200), st.integers(0, 98), st.sampled_from(sorted(IMAGE_EXTENSIONS.values()))
)
def test_a_stored_name_has_one_dot_its_extension(source: str, index: int, ext: str) -> None:
    name = screenshot_name(index, source, ext)
    assert re.fullmatch(r"[0-9]{2}-[A-Za-z0-9_-]+\.[a-z]+", name) and name.endswith(ext)
    assert len(name) <= 120


def test_the_screenshot_cap_stays_under_the_largest_object_a_store_syncs(
    cli: Cli, tmp_path: Path
) -> None:
    """A store records no object that `sync` would refuse to take from a remote (18.8)."""
    from gitflywheel.api import ingest
    from gitflywheel.errors import InputError
    from gitflywheel.storage.objectsize import MAX_OBJECT_BYTES

    store = tmp_path / "s.git"
    over = str(MAX_OBJECT_BYTES + 1)
    result = cli("ingest", "--repo", store, "--max-screenshot-bytes", over, EXAMPLES)
    assert result.exit_code == 2 and "--max-screenshot-bytes" in result.output
    assert "Traceback" not in result.output and not store.exists()
    with pytest.raises(InputError, match="67,108,864, the largest object"):
        ingest(store, EXAMPLES, max_screenshot_bytes=MAX_OBJECT_BYTES + 1)
    assert not store.exists()
    taken = cli("ingest", "--repo", store, "--max-screenshot-bytes", MAX_OBJECT_BYTES, EXAMPLES)
    assert taken.exit_code == 0, taken.output
