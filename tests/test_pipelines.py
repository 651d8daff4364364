"""The pipelines and templates: figures computed independently, Markdown that parses,
front matter that YAML reads, posts within 280 characters, session text kept literal."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gitflywheel.artifacts import Screenshot
from gitflywheel.jsontext import loads
from gitflywheel.pipelines import run_pipeline
from gitflywheel.pipelines.social import LIMIT, thread
from gitflywheel.records import make_record
from gitflywheel.rendering import Renderer, load_templates

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dreamos"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RENDERER = Renderer(load_templates())
MD = MarkdownIt("commonmark").enable("table")


def render_all(data: dict[str, Any], screenshots: tuple[Screenshot, ...] = ()) -> dict[str, str]:
    record = make_record("test", data)
    return {
        spec.kind: RENDERER.render(spec).decode("utf-8")
        for spec in run_pipeline(record.session, screenshots)
    }


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


def posts_of(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*---\s*\n", text) if p.strip()]


def front_matter(text: str) -> dict[str, Any]:
    assert text.startswith("---\n")
    head = text.split("---\n", 2)[1]
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def check_artifacts(artifacts: dict[str, str]) -> None:
    for kind, text in artifacts.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), kind
        tokens = MD.parse(text)
        assert tokens, kind
        if kind == "blog_post":
            meta = front_matter(text)
            assert {"title", "date", "tags", "author"} <= set(meta)
            assert isinstance(meta["tags"], list)
        if kind == "social_post":
            for post in posts_of(text):
                assert len(post) <= LIMIT, post


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[:30])
def test_every_corpus_session_renders_valid_artifacts(path: Path) -> None:
    artifacts = render_all(loads(path.read_text(encoding="utf-8")))
    expected = {
        "build": {"readme", "build_log", "blog_post", "social_post"},
        "trade": {"trade_journal", "social_post"},
    }
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(artifacts) == expected[data["session_type"]]
    check_artifacts(artifacts)


def test_rendering_is_deterministic() -> None:
    data = loads((EXAMPLES / "build_session.json").read_text())
    assert render_all(data) == render_all(data)


# -- trade figures, computed here without the pipeline's helpers ---------------------------


def test_original_example_trade_session() -> None:
    journal = render_all(loads((CORPUS / "72fe669c_example_trade_session.json").read_text()))[
        "trade_journal"
    ]
    assert "| total P&L | +125.50 |" in journal
    assert "| win rate | 66.67% |" in journal
    assert "| best trade | GOOGL +111.00 |" in journal
    assert "| worst trade | MSFT -10.50 |" in journal


def _independent_trade_figures(trades: list[dict[str, Any]]) -> dict[str, str]:
    pnl = []
    for t in trades:
        if "profit_loss" in t:
            pnl.append(Decimal(str(t["profit_loss"])))
        else:
            sign = 1 if t["action"] == "buy" else -1
            pnl.append(
                (Decimal(str(t["exit_price"])) - Decimal(str(t["price"])))
                * Decimal(str(t["quantity"]))
                * sign
            )
    order = sorted(range(len(trades)), key=lambda i: (trades[i]["timestamp"], i))
    ordered = [pnl[i] for i in order]
    total = sum(pnl)
    wins = [p for p in pnl if p > 0]
    losses = [p for p in pnl if p < 0]
    peak = run = worst_dd = Decimal(0)
    for p in ordered:
        run += p
        peak = max(peak, run)
        worst_dd = max(worst_dd, peak - run)
    fees = sum(Decimal(str(t.get("fees", 0))) for t in trades)

    def m(x: Decimal, sign: bool = True) -> str:
        text = f"{x.quantize(Decimal('0.01')):,.2f}"
        return "+" + text if sign and not text.startswith("-") else text

    figures = {
        "total P&L": m(total),
        "win rate": f"{(Decimal(len(wins)) / len(pnl) * 100).quantize(Decimal('0.01'))}%",
        "wins / losses": f"{len(wins)} / {len(losses)}",
        "max drawdown": m(worst_dd, sign=False),
        "fees": m(fees, sign=False),
        "net P&L": m(total - fees),
    }
    if wins:
        figures["average win"] = m(sum(wins) / len(wins))
    if losses:
        figures["average loss"] = m(sum(losses) / len(losses))
        figures["profit factor"] = str(
            (sum(wins, Decimal(0)) / -sum(losses)).quantize(Decimal("0.01"))
        )
    return figures


def test_trade_journal_figures_equal_independent_ones() -> None:
    data = loads((EXAMPLES / "trade_session.json").read_text())
    journal = render_all(data)["trade_journal"]
    raw = json.loads((EXAMPLES / "trade_session.json").read_text())
    for name, value in _independent_trade_figures(raw["source_data"]["trades"]).items():
        assert f"| {name} | {value} |" in journal, name
    # T1: symbols upper-case, money with two decimals, sorted by time
    rows = [line for line in journal.splitlines() if re.match(r"\| \d+ \| 2025", line)]
    assert [r.split("|")[3].strip() for r in rows] == ["AAPL", "MSFT", "NVDA", "AAPL"]
    assert "| 175.50 |" in rows[0] and "| 177.90 |" in rows[3]


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


@st.composite
def trade_sessions(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=1, max_value=12))
    trades = []
    for i in range(count):
        price = draw(money)
        trade: dict[str, Any] = {
            "symbol": draw(st.sampled_from(["aapl", "MSFT", "nvda", "BRK.B"])),
            "action": draw(st.sampled_from(["buy", "sell"])),
            "quantity": draw(st.integers(min_value=1, max_value=500)),
            "price": price,
            "timestamp": f"2025-12-0{1 + i % 9}T{draw(st.integers(0, 23)):02d}:{i:02d}:00Z",
            "fees": draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("9.99"), places=2)),
        }
        if draw(st.booleans()):
            trade["profit_loss"] = draw(
                st.decimals(min_value=Decimal("-900"), max_value=Decimal("900"), places=2)
            )
        else:
            trade["exit_price"] = draw(money)
        trades.append(trade)
    return {
        "session_id": f"t-{draw(st.integers(0, 10**9))}",
        "session_type": "trade",
        "timestamp": "2025-12-09T20:00:00Z",
        "agent_id": "trader",
        "source_data": {"trades": trades},
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trade_sessions())
def test_generated_trade_figures_equal_independent_ones(data: dict[str, Any]) -> None:
    artifacts = render_all(data)
    journal = artifacts["trade_journal"]
    for name, value in _independent_trade_figures(data["source_data"]["trades"]).items():
        assert f"| {name} | {value} |" in journal, (name, value)
    check_artifacts(artifacts)


# -- build figures ---------------------------------------------------------------------------


def test_build_log_lists_every_commit_and_true_totals() -> None:
    raw = json.loads(
        (CORPUS / "6aa92a85_a57c6a6e-efc2-4822-bbbb-971bb9a05b7a_build.json").read_text()
    )
    log = render_all(loads(json.dumps(raw)))["build_log"]
    commits = raw["source_data"]["git_commits"]
    headings = re.findall(r"^### \d+\. (.*)$", log, flags=re.M)
    assert sorted(headings) == sorted(c["message"].splitlines()[0] for c in commits)
    for c in commits:
        assert f"`{c['hash'][:7]}`" in log
    assert re.search(rf"^\| {len(commits)} \|", log, flags=re.M)


def test_build_figures_reconciled_and_disagreement_noted() -> None:
    data = loads((EXAMPLES / "build_session.json").read_text())
    data["metadata"]["commits"] = 5
    data["metadata"]["files_changed"] = 4
    artifacts = render_all(data)
    readme = artifacts["readme"]
    assert "| commits | 3 |" in readme
    assert "metadata says 5 commits; the session lists 3" in readme
    assert "| files changed | 4 |" in readme  # the commits name 4 files: no note
    assert "files changed; the commits" not in readme


def test_negative_duration_is_unknown_not_printed() -> None:
    data = loads((CORPUS / "729cbc27_646956dd-afa2-4ebd-9ba2-5df901282b7b_build.json").read_text())
    artifacts = render_all(data)
    assert "-307" not in artifacts["blog_post"]
    assert "metadata.duration_minutes is negative (-307)" in artifacts["readme"]
    assert "| time spent | unknown |" in artifacts["readme"]


def test_story_derived_from_data_when_absent() -> None:
    data = loads((EXAMPLES / "build_session.json").read_text())
    for key in ("title", "overview", "problem", "solution", "lessons", "next_steps"):
        data.pop(key)
    blog = render_all(data)["blog_post"]
    assert front_matter(blog)["title"].startswith("agent-cellphone: 3 commits")
    assert (
        "Agent-5 worked in agent-cellphone for 1 h 35 min: 3 commits, 4 files touched, +412/−37 lines."
        in blog
    )
    assert "“Document the guardrail protocol”" in blog


# -- life/Aria -----------------------------------------------------------------------------


def test_devlog_gallery_and_missing_screenshots() -> None:
    data = loads((EXAMPLES / "life_aria_session.json").read_text())
    data["source_data"]["screenshots"].append("screens/gone.png")
    shots = (
        Screenshot("screens/title.png", "01-title.png"),
        Screenshot("screens/level1.png", "02-level1.png"),
        Screenshot("screens/gone.png", None),
    )
    artifacts = render_all(data, shots)
    devlog = artifacts["blog_post"]
    assert "![title.png](screenshots/01-title.png)" in devlog
    assert "missing: `screens/gone.png`" in devlog
    assert "> **Aria** (19:40 UTC): Done: positions now wrap modulo the canvas size." in devlog
    check_artifacts(artifacts)


# -- social posts and template safety ---------------------------------------------------------


words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=40
)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.lists(words, max_size=60).map(" ".join), min_size=1, max_size=6),
    st.lists(words, max_size=5),
)
def test_threads_keep_to_280_and_never_cut_a_word(paragraphs: list[str], tags: list[str]) -> None:
    posts = thread(paragraphs, " ".join(tags))
    original = " ".join(" ".join(paragraphs + tags).split()).split(" ")
    assert all(len(p) <= LIMIT for p in posts)
    rebuilt: list[str] = []
    for post in posts:
        body = re.sub(r" \d+/\d+$", "", post) if len(posts) > 1 else post
        rebuilt += body.split(" ") if body else []
    assert [w for w in rebuilt if w] == [w for w in original if w and len(w) <= LIMIT] or any(
        len(w) > LIMIT - 8 for w in original
    )


@st.composite
def build_sessions(draw: st.DrawFn) -> dict[str, Any]:
    text = st.text(min_size=1, max_size=300)
    commits = [
        {
            "message": draw(text),
            "hash": f"{i:040x}",
            "author": draw(st.text(max_size=30)),
            "files": draw(st.lists(st.text(min_size=1, max_size=50), max_size=4)),
        }
        for i in range(draw(st.integers(0, 6)))
    ]
    return {
        "session_id": f"b-{draw(st.integers(0, 10**9))}",
        "session_type": "build",
        "timestamp": "2025-12-02T03:30:00Z",
        "agent_id": draw(
            st.text(
                alphabet=st.characters(
                    min_codepoint=0x20, max_codepoint=0x2FF, exclude_categories=("Cc",)
                ),
                min_size=1,
                max_size=40,
            )
        ),
        "title": draw(st.none() | text),
        "overview": draw(st.none() | st.text(max_size=1000)),
        "key_achievements": draw(st.lists(text, max_size=4)),
        "lessons": [
            {"title": draw(text), "description": draw(st.text(max_size=400))}
            for _ in range(draw(st.integers(0, 3)))
        ],
        "next_steps": draw(st.lists(text, max_size=3)),
        "source_data": {"repo_path": draw(st.text(max_size=80)), "git_commits": commits},
    }


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(build_sessions())
def test_generated_build_sessions_render_within_limits(data: dict[str, Any]) -> None:
    check_artifacts(render_all(data))


def test_session_text_that_looks_like_a_template_stays_literal() -> None:
    data = loads((EXAMPLES / "build_session.json").read_text())
    data["title"] = "{{ 7*7 }} and {% raw %}"
    data["overview"] = "{{ config }} {% for x in range(3) %}x{% endfor %}"
    data["source_data"]["git_commits"][0]["message"] = "{{ 7*7 }}"
    for kind, text in render_all(data).items():
        if kind != "social_post":
            assert "{{ 7*7 }}" in text, kind
        assert "49" not in text.replace("2025", ""), kind
