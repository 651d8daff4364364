"""Benchmark gitflywheel against git's own tools, side by side in the same run.

Generates N distinct sessions of all three types from a seed, builds stores with
`gitflywheel ingest`, and times each measure beside its git baseline, every one as a
process of its own with SOURCE_DATE_EPOCH set:

    bulk ingest of N (one process)     vs git fast-import writing the same commits
    verify --full                      vs git fsck --full of the same store (each twice,
                                           turn about: the faster of each; each run's
                                           CPU, all cores, is in the facts)
    verify --full per commit, N vs N/10 (two stores)
    one-session ingest at N vs at 200
    incremental verify after one new session vs verify --full
    first ls --json and which BLOB right after the bulk ingest (no query built an index
        beforehand), and either one on a store with no index at all (a rebuild)
                                       vs git ls-tree -r main
    ls --json and which BLOB           vs git ls-tree -r main
    peak RSS of bulk ingest and of verify --full (each child's own, /usr/bin/time -f %M;
        for ingest, the summed PSS of all its processes when that is larger)
    `site` of M sessions (--site-sessions, default min(N, 5000)), every page rendered,
        the card images drawn before (as the export hugo reads holds them) vs `hugo`
        building the `export --format hugo` of the same store; the same build drawing
        the cards of M/2 new sessions; `site` again after one new session (the newest)
        vs the full build, and after one dated among the others (a figure); peak
        memory (all processes) of `site` at M vs at M/2
    W writers (6; 3 for --quick) sharing one `git daemon`, each syncing after every one
        of its sessions (scripts/sync_writer.py) while the others do the same: syncs that
        fail to land, and the median sync beside one writer's syncing alone

Prints the machine, then one table of figures, ratios and targets (PASS or over); never
fails by timing. `--quick` is a smoke run that proves the script works and judges nothing.

`--signed` measures signing instead: bulk ingest of N sessions into a store whose git
config signs every commit with an Ed25519 key (`commit.gpgsign`, `gpg.format=ssh`,
`user.signingkey`), against git fast-import of the same commits unsigned (git 2.39's
fast-export leaves the signatures out) and against the same ingest unsigned.

    .venv/bin/python scripts/bench.py --sessions 20000 --json bench.json
    .venv/bin/python scripts/bench.py --signed --sessions 20000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import IO, Any

EPOCH = "1700000000"
QUICK_SESSIONS = 300
SMALL_STORE = 200
WRITERS, WRITER_SESSIONS = 6, 15  # the many-writers measure (--quick: 3 and 2)
FULL_ROUNDS = 2
"""`verify --full` and `git fsck --full` each run this many times, turn about, and the
fastest of each is compared: on a machine shared with others one run of each swung the
ratio by a tenth, and the two-process verify feels a busy neighbour more than one-thread
fsck does."""

# ---------------------------------------------------------------------------------------
# Sessions: realistic in size and shape, distinct, a function of (seed, index) alone, so
# that a store of the first N/10 holds exactly the first N/10 sessions of a store of N.

VOCABULARY = """
cache index parser schema router queue worker retry backoff ledger metrics alert guardrail
template renderer manifest snapshot migration timeout pool session token config loader
watcher scheduler exporter importer validator encoder digest
"""
WORDS = VOCABULARY.split()
VERBS = [
    "Add",
    "Fix",
    "Refactor",
    "Document",
    "Test",
    "Speed up",
    "Harden",
    "Simplify",
    "Rename",
    "Remove",
]
AGENTS = [f"Agent-{n}" for n in range(1, 9)] + ["dana", "lee-k", "trader-kay", "sam"]
SYMBOLS = {
    "USD": ["AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "META", "AMD", "GOOG"],
    "EUR": ["SAP", "ASML", "SIE", "AIR", "MC"],
}
TOPICS = ["a canvas game", "a budget tracker", "a recipe site", "a workout log", "a synth"]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


NEWEST = datetime(2026, 1, 1, tzinfo=UTC)  # after every session `session` dates itself


def session(seed: int, i: int, start: datetime | None = None) -> dict[str, Any]:
    """Session number `i` of the run: its type, size and text drawn from (seed, i); it
    starts at a moment of 2025 drawn too, or at `start`."""
    rng = random.Random(f"{seed}:{i}")
    kind = rng.choices(["build", "trade", "life_aria"], weights=[6, 2, 2])[0]
    drawn = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(525_600))
    start = start or drawn
    duration = rng.randint(20, 300)
    agent = rng.choice(AGENTS)
    base: dict[str, Any] = {
        "session_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "session_type": kind,
        "timestamp": _stamp(start + timedelta(minutes=duration)),
        "agent_id": agent,
    }
    if kind == "build":
        return base | _build(rng, i, start, duration, agent)
    if kind == "trade":
        return base | _trade(rng, i, start, duration)
    return base | _life_aria(rng, i, start, duration)


def _build(
    rng: random.Random, i: int, start: datetime, duration: int, agent: str
) -> dict[str, Any]:
    area = rng.choice(WORDS)
    commits, files = [], set()
    for j in range(rng.randint(2, 6)):
        touched = [
            f"src/{area}/{rng.choice(WORDS)}_{rng.randrange(40)}.py"
            for _ in range(rng.randint(1, 5))
        ]
        if rng.random() < 0.5:
            touched.append(f"tests/test_{area}_{rng.randrange(40)}.py")
        files.update(touched)
        commits.append(
            {
                "hash": f"{rng.getrandbits(160):040x}",
                "message": f"{rng.choice(VERBS)} {area} {rng.choice(WORDS)}: {_text(rng, 6)}",
                "author": agent,
                "timestamp": _stamp(start + timedelta(minutes=duration * (j + 1) // 7)),
                "files": touched,
            }
        )
    return {
        "title": f"{rng.choice(VERBS)} the {area} {rng.choice(WORDS)} (task {i})",
        "metadata": {
            "duration_minutes": duration,
            "files_changed": len(files),
            "commits": len(commits),
            "lines_added": rng.randint(10, 900),
            "lines_removed": rng.randint(0, 300),
        },
        "source_data": {
            "repo_path": f"github.com/example/{area}-{rng.randrange(20)}",
            "git_commits": commits,
        },
        "overview": _text(rng, 14),
        "problem": _text(rng, 18),
        "solution": _text(rng, 22),
        "lessons": [
            {"title": _text(rng, 3), "description": _text(rng, 12)}
            for _ in range(rng.randint(1, 3))
        ],
        "next_steps": [_text(rng, 5) for _ in range(rng.randint(1, 3))],
    }


def _trade(rng: random.Random, i: int, start: datetime, duration: int) -> dict[str, Any]:
    trades = []
    for j in range(rng.randint(3, 8)):
        currency = "USD" if rng.random() < 0.7 else "EUR"
        action = rng.choice(["buy", "sell"])
        quantity = rng.randint(1, 50)
        price = Decimal(rng.randint(2_000, 90_000)) / 100
        trade: dict[str, Any] = {
            "symbol": rng.choice(SYMBOLS[currency]),
            "action": action,
            "quantity": quantity,
            "price": _money(price),
            "timestamp": _stamp(start + timedelta(minutes=duration * j // 9)),
            "fees": _money(Decimal(rng.randint(0, 250)) / 100),
        }
        if currency != "USD":
            trade["currency"] = currency
        if rng.random() < 0.8:  # closed; the rest stay open
            exit_price = price * (1 + Decimal(rng.randint(-400, 400)) / 10_000)
            sign = 1 if action == "buy" else -1
            trade["exit_price"] = _money(exit_price)
            trade["profit_loss"] = _money(
                sign * (Decimal(str(_money(exit_price))) - price) * quantity
            )
            trade["exit_timestamp"] = _stamp(start + timedelta(minutes=duration * (j + 1) // 9))
        trades.append(trade)
    return {
        "title": f"Session {i}: {rng.choice(['momentum', 'mean reversion', 'breakouts', 'earnings'])}",
        "metadata": {"duration_minutes": duration, "trades_executed": len(trades)},
        "source_data": {
            "currency": "USD",
            "trades": trades,
            "market_conditions": {
                "volatility": rng.choice(["low", "moderate", "high"]),
                "trend": rng.choice(["bullish", "bearish", "sideways"]),
                "volume": rng.choice(["low", "average", "high"]),
            },
        },
        "market_analysis": _text(rng, 16),
        "what_worked": _text(rng, 9),
        "what_didnt_work": _text(rng, 9),
        "next_goals": [_text(rng, 5) for _ in range(rng.randint(1, 3))],
    }


def _life_aria(rng: random.Random, i: int, start: datetime, duration: int) -> dict[str, Any]:
    turns = rng.randint(4, 12)
    topic = rng.choice(TOPICS)
    return {
        "title": f"Building {topic} with Aria, evening {i}",
        "metadata": {"duration_minutes": duration, "screenshots_taken": 1},
        "source_data": {
            "conversations": [
                {
                    "source": "user" if t % 2 == 0 else "aria",
                    "content": _text(rng, rng.randint(6, 30)),
                    "timestamp": _stamp(start + timedelta(minutes=duration * t // turns)),
                }
                for t in range(turns)
            ],
            "screenshots": [f"https://shots.example.com/{i}/{rng.getrandbits(64):016x}.png"],
        },
        "overview": f"{_text(rng, 10)} ({topic})",
        "lessons": [{"title": _text(rng, 3), "description": _text(rng, 10)}],
    }


def write_sessions(path: Path, seed: int, indices: range, start: datetime | None = None) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in indices:
            out.write(json.dumps(session(seed, i, start)) + "\n")
    return path


# ---------------------------------------------------------------------------------------
# Running children: every command a process, timed with perf_counter. Its peak RSS comes
# from `/usr/bin/time -f %M` when present: wait4's figure for a child that Python spawned
# starts at Python's own RSS (Linux carries the pre-exec high-water mark over), which
# hides a small child such as git.

# A command that starts processes of its own (ingest's planning workers) is measured
# whole too: the peak of the sum of its processes' proportional set sizes (PSS, shared
# pages split between the processes sharing them), sampled from /proc while it runs.

TIME = Path("/usr/bin/time")
PROC = Path("/proc")


@dataclass
class Run:
    seconds: float
    rss_mb: float
    tree_mb: float = 0.0  # peak summed PSS of the command and its descendants, if sampled
    cpu_seconds: float = 0.0  # user and system time of the command and what it waited for

    @property
    def memory_mb(self) -> float:
        """The larger of the peak RSS of its largest process and its processes' sum."""
        return max(self.rss_mb, self.tree_mb)


def fastest(runs: list[Run]) -> Run:
    """Runs of one command as one: the shortest time and the least CPU (what the machine
    let it do at its best; a busy neighbour only ever adds), the largest memory."""
    return Run(
        min(r.seconds for r in runs),
        max(r.rss_mb for r in runs),
        max(r.tree_mb for r in runs),
        min(r.cpu_seconds for r in runs),
    )


def _tree_pss_kb(root: int) -> int:
    """Summed PSS (kB) of `root` and every process below it, as /proc says now."""
    children: dict[int, list[int]] = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total


class _TreeSampler(threading.Thread):
    """Samples `_tree_pss_kb` of a process every `every` seconds until stopped."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kb = pid, every, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            self.peak_kb = max(self.peak_kb, _tree_pss_kb(self.pid))


class Runner:
    def __init__(self, tmp: Path) -> None:
        # the package's modules compiled once, as an installed one's are (pip compiles
        # them): a command never pays for compiling its source, even where the
        # environment says to write no bytecode (PYTHONDONTWRITEBYTECODE)
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(tmp / "pycache"),
            "SOURCE_DATE_EPOCH": EPOCH,
            "LC_ALL": "C",
        }
        compile_package = (
            "import compileall, os, gitflywheel; "
            "compileall.compile_dir(os.path.dirname(gitflywheel.__file__), quiet=1)"
        )  # the package the commands run (`-m gitflywheel`: the one seen from here)
        subprocess.run([sys.executable, "-c", compile_package], env=self.env, check=True)
        self.errors = tmp / "stderr.txt"
        self.rss = tmp / "rss.txt"
        self.timed = os.access(TIME, os.X_OK)

    def run(
        self,
        cmd: list[str],
        stdin: Path | None = None,
        stdout: IO[bytes] | int | None = None,
        whole: bool = False,
    ) -> Run:
        """Run `cmd` to its end; raise with its standard error when it fails. `whole`:
        sample the memory of all its processes too (Linux)."""
        wrapped = [str(TIME), "-f", "%M", "-o", str(self.rss), *cmd] if self.timed else cmd
        with (
            stdin.open("rb") if stdin else open(os.devnull, "rb") as given,
            self.errors.open("wb") as errors,
        ):
            started = time.perf_counter()
            child = subprocess.Popen(
                wrapped,
                stdin=given,
                stdout=subprocess.DEVNULL if stdout is None else stdout,
                stderr=errors,
                env=self.env,
            )
            sampler = _TreeSampler(child.pid) if whole and PROC.joinpath("self").exists() else None
            if sampler is not None:
                sampler.start()
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
            if sampler is not None:
                sampler.done.set()
                sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            tail = self.errors.read_text(errors="replace")[-2000:]
            raise SystemExit(f"bench: {' '.join(cmd)} exited {child.returncode}:\n{tail}")
        kilobytes = int(self.rss.read_text().split()[-1]) if self.timed else usage.ru_maxrss
        return Run(
            seconds,
            kilobytes / 1024,
            sampler.peak_kb / 1024 if sampler else 0.0,
            usage.ru_utime + usage.ru_stime,
        )

    def output(self, cmd: list[str]) -> str:
        """An untimed helper command's standard output."""
        done = subprocess.run(cmd, env=self.env, check=True, capture_output=True, text=True)
        return done.stdout

    def median(self, cmd: list[str], times: int) -> float:
        return statistics.median(self.run(cmd).seconds for _ in range(times))


# ---------------------------------------------------------------------------------------
# The measures.


@dataclass
class Measure:
    name: str
    what: str
    value: float
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    target: float | None = None
    aim: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None:
            return None
        return self.value / self.baseline

    def judged(self) -> float:
        """The figure the target applies to: the ratio, or the value itself."""
        ratio = self.ratio
        return self.value if ratio is None else ratio

    def passes(self) -> bool | None:
        return None if self.target is None else self.judged() <= self.target


_REPORTED = ("dulwich", "zlib-ng", "resvg-py", "gitflywheel")
"""The packages whose versions a run prints: what reads the store (dulwich, and zlib-ng
inflating its objects), what draws the site's cards, and gitflywheel itself."""


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    versions = {}
    for package in _REPORTED:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": model,
        "load": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "git": git.removeprefix("git version "),
        **versions,
    }


def note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sync_writers(
    runner: Runner, tmp: Path, seed: int, first: int, writers: int, each: int
) -> dict[str, Any]:
    """`writers` stores sharing a hub served by `git daemon`; first one writer syncs
    after each of `each` sessions alone, then all do so at once (scripts/sync_writer.py)."""
    gfw = [sys.executable, "-m", "gitflywheel"]
    served = tmp / "served"
    served.mkdir(parents=True)
    runner.run(["git", "init", "-q", "--bare", "-b", "main", str(served / "hub.git")])
    port = _free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            f"--base-path={served}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(served),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    writer = [sys.executable, str(Path(__file__).with_name("sync_writer.py"))]
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        url = f"git://127.0.0.1:{port}/hub.git"
        stores = [tmp / f"writer-{w}.git" for w in range(writers)]
        runner.run([*gfw, "init", "--repo", str(stores[0])])
        runner.run([*gfw, "sync", "--repo", str(stores[0]), url])
        alone = write_sessions(tmp / "alone.jsonl", seed, range(first, first + each))
        done = subprocess.run(
            [*writer, str(stores[0]), url, str(alone)],
            env=runner.env,
            capture_output=True,
            text=True,
            check=True,
        )
        alone_rows = [json.loads(line) for line in done.stdout.splitlines()]
        for store in stores[1:]:
            runner.run([*gfw, "sync", "--repo", str(store), url])
        first += each
        children = []
        for w, store in enumerate(stores):
            lines = write_sessions(
                tmp / f"writer-{w}.jsonl", seed, range(first + w * each, first + (w + 1) * each)
            )
            children.append(
                subprocess.Popen(
                    [*writer, str(store), url, str(lines), "--timeout", "120"],
                    env=runner.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
        rows = []
        for child in children:
            out, _ = child.communicate()
            rows += [json.loads(line) for line in out.splitlines()]
        for store in stores:  # each takes what the others pushed after its last sync
            runner.run([*gfw, "sync", "--repo", str(store), url])
        counts = {
            len(json.loads(runner.output([*gfw, "ls", "--repo", str(store), "--json"])))
            for store in stores
        }
        tips = {runner.output(["git", "-C", str(store), "rev-parse", "main"]) for store in stores}
        hub_tip = runner.output(["git", "-C", str(served / "hub.git"), "rev-parse", "main"])
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
    landed = [row for row in rows if "error" not in row]
    return {
        "syncs": len(rows),
        "failed": len(rows) - len(landed) + (writers * each - len(rows)),
        "median_seconds": statistics.median(row["seconds"] for row in landed) if landed else 0.0,
        "alone_median_seconds": statistics.median(row["seconds"] for row in alone_rows),
        "max_attempts": max((row.get("attempts", 0) for row in landed), default=0),
        "max_seconds": max((row["seconds"] for row in landed), default=0.0),
        "every_session_everywhere": counts == {each * (writers + 1)} and tips == {hub_tip},
    }


HUGO_CONFIG = 'baseURL: "http://bench.example/"\ntitle: "Bench"\n'
HUGO_SINGLE = (
    "<!doctype html><html><head><title>{{ .Title }}</title></head><body>"
    "<h1>{{ .Title }}</h1>{{ .Content }}</body></html>\n"
)
HUGO_LIST = (
    "<!doctype html><html><head><title>{{ .Title }}</title></head><body>"
    '{{ range .Paginator.Pages }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>'
    "<div>{{ .Summary }}</div>{{ end }}</body></html>\n"
)


def site_measures(runner: Runner, tmp: Path, seed: int, m: int, first_new: int) -> dict[str, Any]:
    """`site` of the first M/2 sessions, then of M twice, each into a new folder with the
    site cache (rendered Markdown, earlier builds' records) emptied first, so that every
    page is rendered as a first build does: `drawing` also draws the card images of the
    M/2 new sessions (as the build of M/2 drew its own: the two are compared for memory);
    `full` takes every card from the card cache beside the store, as `hugo` takes them
    from the blog export (drawn when the export was written, outside hugo's time): the
    like-for-like build. Then `hugo` on that export, and `site` into `full`'s folder
    (its caches as the full build left them) after one new session, the newest (as a
    session is when it is recorded: `again`), then after one dated among the others (as
    when an archive of old sessions is taken in: `backdated`), whose place moves every
    list page newer than it. Each build's memory is its processes' sum (card drawers and
    page workers included)."""
    gfw = [sys.executable, "-m", "gitflywheel"]
    tmp.mkdir()
    store = tmp / "site.git"
    url = ["--base-url", "http://bench.example/"]

    def ingest(name: str, indices: range, start: datetime | None = None) -> None:
        path = write_sessions(tmp / name, seed, indices, start)
        runner.run([*gfw, "ingest", "--repo", str(store), str(path)])

    def site(out: Path) -> Run:
        return runner.run([*gfw, "site", "--repo", str(store), str(out), *url], whole=True)

    cache = store / "gitflywheel" / "site-cache"
    ingest("site-half.jsonl", range(m // 2))
    half = site(tmp / "half")
    ingest("site-rest.jsonl", range(m // 2, m))
    shutil.rmtree(cache, ignore_errors=True)
    drawing = site(tmp / "drawing")
    shutil.rmtree(cache, ignore_errors=True)
    full = site(tmp / "full")
    pages = sum(1 for p in (tmp / "full").rglob("*.html"))
    blog = tmp / "hugo"
    runner.run([*gfw, "export", "--repo", str(store), str(blog), "--format", "hugo"])
    (blog / "config.yaml").write_text(HUGO_CONFIG)
    (blog / "layouts" / "_default").mkdir(parents=True, exist_ok=True)
    (blog / "layouts" / "_default" / "single.html").write_text(HUGO_SINGLE)
    (blog / "layouts" / "_default" / "list.html").write_text(HUGO_LIST)
    hugo = None
    if shutil.which("hugo") is not None:
        hugo = runner.run(["hugo", "--quiet", "--source", str(blog), "--destination", "public"])
    ingest("site-one.jsonl", range(first_new, first_new + 1), NEWEST)
    again = site(tmp / "full")
    ingest("site-backdated.jsonl", range(first_new + 1, first_new + 2))
    backdated = site(tmp / "full")
    return {
        "half": half,
        "drawing": drawing,
        "full": full,
        "hugo": hugo,
        "again": again,
        "backdated": backdated,
        "pages": pages,
    }


def benchmark(
    n: int, seed: int, repeats: int, tmp: Path, site_n: int
) -> tuple[list[Measure], dict[str, Any]]:
    runner = Runner(tmp)
    gfw = [sys.executable, "-m", "gitflywheel"]
    tenth = max(n // 10, 1)
    extra = range(n, n + repeats)  # the one-session ingests, new to every store
    data = write_sessions(tmp / "sessions.jsonl", seed, range(n))
    singles = [write_sessions(tmp / f"one-{i}.jsonl", seed, range(i, i + 1)) for i in extra]

    def ingest(store: Path, path: Path, whole: bool = False) -> Run:
        return runner.run([*gfw, "ingest", "--repo", str(store), str(path)], whole=whole)

    def verify(store: Path, *flags: str) -> Run:
        return runner.run([*gfw, "verify", "--repo", str(store), *flags])

    def commits(store: Path) -> int:
        return int(runner.output(["git", "-C", str(store), "rev-list", "--count", "main"]))

    # The store of N, in one process, and git writing the same commits.
    big = tmp / "big.git"
    note(f"ingesting {n:,} sessions in one process")
    bulk = ingest(big, data, whole=True)
    stream = tmp / "export.stream"
    with stream.open("wb") as out:
        runner.run(["git", "-C", str(big), "fast-export", "main"], stdout=out)
    copy = tmp / "fast-import.git"
    runner.run(["git", "init", "-q", "--bare", str(copy)])
    note("git fast-import of the same history")
    fast_import = runner.run(["git", "-C", str(copy), "fast-import", "--quiet"], stdin=stream)
    tip = runner.output(["git", "-C", str(big), "rev-parse", "main"])
    same = tip == runner.output(["git", "-C", str(copy), "rev-parse", "main"])

    note("the first ls --json and which BLOB after the ingest, and with no index at all")
    listing = runner.output(["git", "-C", str(big), "ls-tree", "-r", "main"]).splitlines()
    posts = [line.split()[2] for line in listing if line.endswith("/blog_post.md")]
    blob = posts[len(posts) // 2]
    ls_tree_first = runner.median(["git", "-C", str(big), "ls-tree", "-r", "main"], repeats)
    index_files = sorted((big / "gitflywheel").glob("query.sqlite3*"))
    kept = {path: path.read_bytes() for path in index_files}  # as the ingest left it
    first_ls = runner.run([*gfw, "ls", "--repo", str(big), "--json"]).seconds
    for path in (big / "gitflywheel").glob("query.sqlite3*"):
        path.unlink()
    for path, held in kept.items():
        path.write_bytes(held)
    first_which = runner.run([*gfw, "which", "--repo", str(big), blob]).seconds
    for path in (big / "gitflywheel").glob("query.sqlite3*"):
        path.unlink()
    rebuilt_ls = runner.run([*gfw, "ls", "--repo", str(big), "--json"]).seconds

    note("verify --full and git fsck --full, twice, turn about")
    big_commits = commits(big)
    fulls, fscks = [], []
    for _ in range(FULL_ROUNDS):
        fulls.append(verify(big, "--full"))
        fscks.append(runner.run(["git", "-C", str(big), "fsck", "--full"]))
    full, fsck = fastest(fulls), fastest(fscks)

    note("ls --json, which BLOB, git ls-tree -r main")
    ls_tree = runner.median(["git", "-C", str(big), "ls-tree", "-r", "main"], repeats)
    ls = runner.median([*gfw, "ls", "--repo", str(big), "--json"], repeats)
    which = runner.median([*gfw, "which", "--repo", str(big), blob], repeats)

    note("one new session at a time: ingest, then incremental verify")
    one_big, incremental = [], []
    for single in singles:
        one_big.append(ingest(big, single).seconds)
        incremental.append(verify(big).seconds)

    note(f"the store of N/10 = {tenth:,}: verify --full")
    small = tmp / "tenth.git"
    ingest(small, write_sessions(tmp / "tenth.jsonl", seed, range(tenth)))
    small_commits = commits(small)
    small_full = verify(small, "--full")

    note(f"the store of {SMALL_STORE}: one new session at a time")
    base = tmp / "base.git"
    ingest(base, write_sessions(tmp / "base.jsonl", seed, range(SMALL_STORE)))
    one_base = [ingest(base, single).seconds for single in singles]

    writers, each = (3, 2) if n <= QUICK_SESSIONS else (WRITERS, WRITER_SESSIONS)
    note(f"{writers} writers syncing after each of {each} sessions through one git daemon")
    contention = sync_writers(runner, tmp / "writers", seed, n + repeats, writers, each)

    note(f"site of {site_n // 2:,} and {site_n:,} sessions, hugo, site after one more")
    built = site_measures(runner, tmp / "site", seed, site_n, n + repeats + 10_000)

    ms = 1000.0
    measures = [
        Measure(
            "ingest_bulk",
            f"bulk ingest of {n:,} sessions",
            bulk.seconds,
            "s",
            "git fast-import",
            fast_import.seconds,
            2,
            1.2,
        ),
        Measure(
            "verify_full",
            f"verify --full, {big_commits:,} commits",
            full.seconds,
            "s",
            "git fsck --full",
            fsck.seconds,
            5,
            3,
        ),
        Measure(
            "verify_full_per_commit",
            "verify --full per commit, N vs N/10",
            ms * full.seconds / big_commits,
            "ms",
            f"same at {small_commits:,} commits",
            ms * small_full.seconds / small_commits,
            1.2,
        ),
        Measure(
            "ingest_one",
            f"one-session ingest at {n:,} vs {SMALL_STORE}",
            statistics.median(one_big),
            "s",
            f"same at {SMALL_STORE}",
            statistics.median(one_base),
            1.25,
        ),
        Measure(
            "verify_incremental",
            "verify after one new session",
            statistics.median(incremental),
            "s",
            "verify --full",
            full.seconds,
            0.05,
        ),
        Measure(
            "ls_json_first",
            "first ls --json after bulk ingest",
            first_ls,
            "s",
            "git ls-tree -r main",
            ls_tree_first,
            3,
            1,
        ),
        Measure(
            "which_blob_first",
            "first which BLOB after bulk ingest",
            first_which,
            "s",
            "git ls-tree -r main",
            ls_tree_first,
            3,
            1,
        ),
        Measure(
            "ls_json_no_index",
            "ls --json with no index (rebuilt)",
            rebuilt_ls,
            "s",
            "git ls-tree -r main",
            ls_tree_first,
        ),
        Measure("ls_json", "ls --json", ls, "s", "git ls-tree -r main", ls_tree, 3),
        Measure("which_blob", "which BLOB", which, "s", "git ls-tree -r main", ls_tree, 3),
        Measure(
            "rss_ingest_bulk",
            "peak memory, bulk ingest (all processes)",
            bulk.memory_mb,
            "MB",
            target=300,
        ),
        Measure("rss_verify_full", "peak RSS, verify --full", full.rss_mb, "MB", target=300),
        Measure(
            "site_full",
            f"site of {site_n:,} sessions ({built['pages']:,} pages), cards drawn before",
            built["full"].seconds,
            "s",
            "hugo, the same store's export" if built["hugo"] else None,
            built["hugo"].seconds if built["hugo"] else None,
            3,
            1,
        ),
        Measure(
            "site_full_drawing",
            f"the same, drawing the cards of {site_n - site_n // 2:,} new sessions",
            built["drawing"].seconds,
            "s",
            "hugo, the same store's export" if built["hugo"] else None,
            built["hugo"].seconds if built["hugo"] else None,
        ),
        Measure(
            "site_incremental",
            "site after one new session (the newest)",
            built["again"].seconds,
            "s",
            "the full build",
            built["full"].seconds,
            0.1,
            0.01,
        ),
        Measure(
            "site_backdated",
            "site after one session dated among the others",
            built["backdated"].seconds,
            "s",
            "the full build",
            built["full"].seconds,
        ),
        Measure(
            "site_memory",
            f"peak memory of site at {site_n:,} vs {site_n // 2:,} (all processes)",
            built["drawing"].memory_mb,
            "MB",
            f"at {site_n // 2:,}",
            built["half"].memory_mb,
            1.25,
            1,
        ),
        Measure(
            "writers_failed_syncs",
            f"{writers} writers, sync after each session: syncs that failed to land",
            contention["failed"],
            "",
            target=0,
        ),
        Measure(
            "writers_sync_median",
            f"sync among {writers} writers (median of {contention['syncs']})",
            contention["median_seconds"],
            "s",
            "one writer alone",
            contention["alone_median_seconds"],
        ),
    ]
    size = sum(p.stat().st_size for p in (big / "objects").rglob("*") if p.is_file())
    facts = {
        "store_mb": round(size / 1e6, 1),
        "ingest_ms_per_session": round(ms * bulk.seconds / n, 2),
        "fast_import_same_commits": same,
        "git_fsck_full_rss_mb": round(fsck.rss_mb, 1),
        "verify_full_runs_seconds": [round(r.seconds, 2) for r in fulls],
        "git_fsck_full_runs_seconds": [round(r.seconds, 2) for r in fscks],
        # CPU (all cores) besides the time: verify's two processes against fsck's one thread
        "verify_full_runs_cpu_seconds": [round(r.cpu_seconds, 2) for r in fulls],
        "git_fsck_full_runs_cpu_seconds": [round(r.cpu_seconds, 2) for r in fscks],
        "fast_import_rss_mb": round(fast_import.rss_mb, 1),
        "ingest_bulk_largest_process_rss_mb": round(bulk.rss_mb, 1),
        "ingest_bulk_all_processes_pss_mb": round(bulk.tree_mb, 1),
        "writers_max_attempts": contention["max_attempts"],
        "writers_max_sync_seconds": contention["max_seconds"],
        "writers_every_session_everywhere": contention["every_session_everywhere"],
    }
    return measures, facts


def signed_benchmark(n: int, seed: int, tmp: Path) -> tuple[list[Measure], dict[str, Any]]:
    """Bulk ingest signed, against git fast-import of the same commits unsigned and the
    same ingest unsigned."""
    runner = Runner(tmp)
    gfw = [sys.executable, "-m", "gitflywheel"]
    data = write_sessions(tmp / "sessions.jsonl", seed, range(n))
    key = tmp / "signing_key"
    runner.output(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key)])
    signed = tmp / "signed.git"
    runner.output(["git", "init", "-q", "--bare", "-b", "main", str(signed)])
    for name, value in (
        ("commit.gpgsign", "true"),
        ("gpg.format", "ssh"),
        ("user.signingkey", str(key)),
    ):
        runner.output(["git", "-C", str(signed), "config", name, value])
    note(f"ingesting {n:,} sessions, every commit signed")
    bulk = runner.run([*gfw, "ingest", "--repo", str(signed), str(data)], whole=True)
    stream = tmp / "export.stream"
    with stream.open("wb") as out:
        runner.run(["git", "-C", str(signed), "fast-export", "main"], stdout=out)
    copy = tmp / "fast-import.git"
    runner.run(["git", "init", "-q", "--bare", str(copy)])
    note("git fast-import of the same commits, unsigned")
    fast_import = runner.run(["git", "-C", str(copy), "fast-import", "--quiet"], stdin=stream)
    note(f"ingesting the same {n:,} sessions unsigned")
    plain = tmp / "plain.git"
    unsigned = runner.run([*gfw, "ingest", "--repo", str(plain), str(data)])

    def tree(store: Path) -> str:
        return runner.output(["git", "-C", str(store), "rev-parse", "main^{tree}"])

    allowed = tmp / "allowed_signers"
    allowed.write_text("bench " + (tmp / "signing_key.pub").read_text())
    marks = runner.output(
        [
            "git",
            "-C",
            str(signed),
            "-c",
            f"gpg.ssh.allowedSignersFile={allowed}",
            "log",
            "--format=%G?",
            "-n",
            "50",
            "main",
        ]
    ).split()
    commits = int(runner.output(["git", "-C", str(signed), "rev-list", "--count", "main"]))
    measures = [
        Measure(
            "ingest_bulk_signed",
            f"bulk ingest of {n:,} sessions, signed",
            bulk.seconds,
            "s",
            "git fast-import",
            fast_import.seconds,
            3,
            1.5,
        ),
        Measure(
            "ingest_bulk_signing_cost",
            "bulk ingest, signed vs unsigned",
            bulk.seconds,
            "s",
            "ingest unsigned",
            unsigned.seconds,
            1.25,
        ),
    ]
    facts = {
        "commits": commits,
        "same_trees": tree(signed) == tree(copy) == tree(plain),
        "newest_50_signed_good": marks == ["G"] * len(marks) and len(marks) > 0,
        "signing_ms_per_commit": round(1000 * (bulk.seconds - unsigned.seconds) / commits, 3),
    }
    return measures, facts


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    digits = 0 if unit in ("MB", "") else 3 if value < 10 else 1
    return f"{value:,.{digits}f} {unit}".rstrip()


def _runs(facts: dict[str, Any], name: str) -> str:
    """Each run's time, then its CPU: `T1 and T2 s (CPU C1 and C2 s)`."""
    seconds = " and ".join(map(str, facts[f"{name}_runs_seconds"]))
    cpu = " and ".join(map(str, facts[f"{name}_runs_cpu_seconds"]))
    return f"{seconds} s (CPU {cpu} s)"


def table(measures: list[Measure], quick: bool) -> str:
    """One line per measure: figure, baseline, ratio, target (aim), verdict."""
    rows = [("measure", "gitflywheel", "baseline", "", "ratio", "target (aim)", "")]
    for m in measures:
        ratio = m.ratio
        target = (
            ""
            if m.target is None
            else f"<= {m.target:g}" + (" MB" if m.unit == "MB" and ratio is None else "")
        )
        if m.aim is not None:
            target += f" ({m.aim:g})"
        verdict = "" if m.passes() is None else "PASS" if m.passes() else "over"
        rows.append(
            (
                m.what,
                _figure(m.value, m.unit),
                m.baseline_name or "",
                _figure(m.baseline, m.unit),
                "" if ratio is None else f"{ratio:.3g}",
                target,
                "(smoke)" if quick else verdict,
            )
        )
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    right = {1, 3, 4}
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[c]) if c in right else cell.ljust(widths[c])
            for c, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20000, help="N (default 20000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated sessions")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run of {QUICK_SESSIONS} sessions that proves the script works; judges nothing",
    )
    parser.add_argument(
        "--signed",
        action="store_true",
        help="measure signed bulk ingest against git fast-import of the same commits unsigned",
    )
    parser.add_argument("--repeats", type=int, help="runs of each small measure (median)")
    parser.add_argument(
        "--site-sessions", type=int, help="M, the sessions of the site measures (min(N, 5000))"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    n = QUICK_SESSIONS if args.quick else args.sessions
    if n < 10:
        parser.error("--sessions must be at least 10")
    repeats = args.repeats or (1 if args.quick else 5)

    info = machine()
    print(
        f"machine: {info['cores']} cores, {info['cpu']}, load {' '.join(map(str, info['load']))}\n"
        f"python {info['python']}, git {info['git']}, "
        + ", ".join(f"{package} {info[package]}" for package in _REPORTED)
        + f"; {info['date']}\n"
        f"sessions: {n:,} (seed {args.seed}){', quick smoke run: timings not judged' if args.quick else ''}",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="gfw-bench-"))
    try:
        started = time.perf_counter()
        if args.signed:
            measures, facts = signed_benchmark(n, args.seed, tmp)
        else:
            site_n = args.site_sessions or min(n, 5000)
            measures, facts = benchmark(n, args.seed, repeats, tmp, site_n)
        elapsed = time.perf_counter() - started
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(table(measures, args.quick))
    print()
    if args.signed:
        print(
            f"{facts['commits']:,} commits; signing cost {facts['signing_ms_per_commit']} ms a "
            f"commit; the same trees signed, unsigned and fast-imported: "
            f"{'yes' if facts['same_trees'] else 'NO'}; the newest 50 commits pass git's "
            f"check: {'yes' if facts['newest_50_signed_good'] else 'NO'}; the run took "
            f"{elapsed:.0f} s"
        )
    else:
        print(
            f"store {facts['store_mb']} MB, ingest {facts['ingest_ms_per_session']} ms/session; "
            f"fast-import wrote the same commits: {'yes' if facts['fast_import_same_commits'] else 'NO'}; "
            f"verify --full runs {_runs(facts, 'verify_full')}, "
            f"git fsck --full runs {_runs(facts, 'git_fsck_full')}; "
            f"peak RSS of git fsck --full {facts['git_fsck_full_rss_mb']:.0f} MB, "
            f"of git fast-import {facts['fast_import_rss_mb']:.0f} MB; writers: at most "
            f"{facts['writers_max_attempts']} attempts and {facts['writers_max_sync_seconds']} s "
            f"for a sync, every session on every writer and the hub: "
            f"{'yes' if facts['writers_every_session_everywhere'] else 'NO'}; the run took "
            f"{elapsed:.0f} s"
        )
    if args.keep:
        print(f"kept: {tmp}")
    if args.json:
        document = {
            "machine": info,
            "sessions": n,
            "seed": args.seed,
            "quick": args.quick,
            "repeats": repeats,
            "facts": facts,
            "measures": {
                m.name: asdict(m) | {"ratio": m.ratio, "pass": None if args.quick else m.passes()}
                for m in measures
            },
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
