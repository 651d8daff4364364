"""Display names (19): the store's `names.repo` and `names.agent`, an input of the
pipelines like the record, name the repository and the agent wherever the artifacts do;
the facts record the names that applied, and only those."""

from __future__ import annotations

import json
from typing import Any

from conftest import session

from gitflywheel.pipelines import names_used, run_pipeline
from gitflywheel.session.facts import Names, facts_bytes
from gitflywheel.session.models import BuildSession, LifeAriaSession, TradeSession
from gitflywheel.session.records import make_record

PRIVATE = "AgentCellphoneV2Repository"
REPO_PATH = "D:\\work\\" + PRIVATE


def build_session(repo_path: str = REPO_PATH) -> BuildSession:
    data = session(
        "names-1",
        source_data={
            "repo_path": repo_path,
            "git_commits": [
                {
                    "hash": "a" * 40,
                    "message": "feat: route calls",
                    "timestamp": "2025-12-02T03:00:00Z",
                },
                {
                    "hash": "b" * 40,
                    "message": "fix: drop calls",
                    "timestamp": "2025-12-02T03:20:00Z",
                },
            ],
        },
        metadata={"duration_minutes": 30},
    )
    built = make_record("s.json", data).session
    assert isinstance(built, BuildSession)
    return built


def everything(specs: list[Any]) -> str:
    return json.dumps([spec.context for spec in specs], ensure_ascii=False)


def posts(specs: list[Any]) -> list[str]:
    return next(s.context["posts"] for s in specs if s.kind == "social_post")


def test_a_repository_is_shown_under_its_display_name_and_never_its_own() -> None:
    built = build_session()
    plain = run_pipeline(built)
    assert PRIVATE in everything(plain)
    # the project's tag: the repository's name less `V2Repository`
    assert "#AgentCellphone" in " ".join(posts(plain))

    names = Names.of({PRIVATE: "Agent Cellphone"})
    specs = run_pipeline(built, (), names)
    text = everything(specs)
    assert PRIVATE not in text
    facts = next(s.context["facts"] for s in specs if s.kind == "readme")
    assert facts["repo"] == "Agent Cellphone"
    assert "Agent-1 worked in Agent Cellphone" in text
    assert "#AgentCellphone" in posts(specs)[-1]
    blog = next(s for s in specs if s.kind == "blog_post")
    assert "agentcellphone" in blog.context["front"]["tags"]


def test_a_repository_shown_as_nothing_is_not_named() -> None:
    specs = run_pipeline(build_session(), (), Names.of({PRIVATE: ""}))
    text = everything(specs)
    assert PRIVATE not in text
    facts = next(s.context["facts"] for s in specs if s.kind == "readme")
    assert facts["repo"] is None
    assert "Agent-1 worked for 30 min" in text and " in None" not in text
    assert [t for t in posts(specs)[-1].split() if t.startswith("#")] == ["#BuildInPublic"]
    tagged = run_pipeline(build_session(), (), Names.of({PRIVATE: ""}, agent_tags=True))
    assert [t for t in posts(tagged)[-1].split() if t.startswith("#")] == [
        "#Agent1",
        "#BuildInPublic",
    ]


def test_a_repository_named_otherwise_links_no_commit() -> None:
    url = "https://github.com/me/secret-repo"
    built = build_session(url)
    linked = run_pipeline(built)
    assert "secret-repo" in everything(linked)
    specs = run_pipeline(built, (), Names.of({"me/secret-repo": "a client project"}))
    assert "secret-repo" not in everything(specs)


def test_an_agent_is_shown_under_its_display_name() -> None:
    names = Names.of(agent={"Agent-1": "Ada"}, agent_tags=True)
    specs = run_pipeline(build_session(), (), names)
    readme = next(s for s in specs if s.kind == "readme")
    assert readme.context["session"]["agent"] == "Ada"
    assert readme.context["front"]["author"] == "Ada"
    assert "ada" in readme.context["front"]["tags"]
    assert "Ada worked in " + PRIVATE in everything(specs)
    assert "#Ada" in posts(specs)[-1] and "#Agent1" not in posts(specs)[-1]


def test_every_pipeline_shows_the_agent_by_its_display_name() -> None:
    names = Names.of(agent={"Agent-1": "Ada"}, agent_tags=True)
    trade = make_record(
        "t.json",
        session(
            "names-t",
            session_type="trade",
            source_data={
                "trades": [
                    {
                        "symbol": "AAPL",
                        "action": "buy",
                        "quantity": 1,
                        "price": 10,
                        "timestamp": "2025-12-02T03:00:00Z",
                        "pnl": 5,
                    }
                ]
            },
        ),
    ).session
    aria = make_record(
        "a.json",
        session(
            "names-a",
            session_type="life_aria",
            source_data={"conversations": [{"source": "user", "content": "Hello there"}]},
        ),
    ).session
    assert isinstance(trade, TradeSession) and isinstance(aria, LifeAriaSession)
    for one in (trade, aria):
        specs = run_pipeline(one, (), names)
        for spec in specs:
            assert spec.context["session"]["agent"] == "Ada"
            if "front" in spec.context:
                assert spec.context["front"]["author"] == "Ada"
    aria_specs = run_pipeline(aria, (), names)
    assert '"Agent-1"' not in everything(aria_specs)
    assert "#Ada" in posts(aria_specs)[-1]


def test_only_the_names_that_apply_are_used() -> None:
    built = build_session()
    names = Names.of(
        {PRIVATE: "Agent Cellphone", "other/repo": "Other"}, {"Agent-1": "Ada", "bot": "Bot"}
    )
    assert names_used(built, names) == Names.of({PRIVATE: "Agent Cellphone"}, {"Agent-1": "Ada"})
    assert not names_used(built, Names.of({"other/repo": "Other"}, {"bot": "Bot"}))


def test_facts_record_the_names_used_and_leave_them_out_when_none_applied() -> None:
    specs = run_pipeline(build_session())
    plain = facts_bytes("build/5", "names-1", specs)
    assert plain == facts_bytes("build/5", "names-1", specs, Names())
    assert b'"names"' not in plain
    named = facts_bytes("build/5", "names-1", specs, Names.of(agent={"Agent-1": "Ada"}))
    assert json.loads(named)["names"] == {"agent": {"Agent-1": "Ada"}}
    tagged = facts_bytes("build/5", "names-1", specs, Names.of(agent_tags=True))
    assert json.loads(tagged)["names"] == {"agent_tags": True}


def test_agents_are_tags_only_when_the_settings_ask() -> None:
    """Corpus sessions carry one agent each (`Agent-5` in 0c0a7fef_agent5_guardrail_...):
    who worked is no topic, so no tag or hashtag names the agent unless
    `names.agent_tags` is true; then every kind of session is tagged with it."""
    from pipeline_checks import CORPUS

    path = CORPUS / "0c0a7fef_agent5_guardrail_implementation_2025-12-02.json"
    built = make_record(path.name, json.loads(path.read_text())).session
    aria = make_record(
        "a.json",
        session(
            "names-a",
            session_type="life_aria",
            overview="A game.",
            source_data={"conversations": [{"source": "aria", "content": "Hi"}]},
        ),
    ).session
    for one, agent in ((built, "agent5"), (aria, "agent1")):
        plain, tagged = run_pipeline(one), run_pipeline(one, (), Names.of(agent_tags=True))
        front = next(s.context["front"] for s in plain if s.kind == "blog_post")
        assert agent not in front["tags"]
        assert not any(agent in p.lower() for p in posts(plain))
        front = next(s.context["front"] for s in tagged if s.kind == "blog_post")
        assert agent in front["tags"]
        assert f"#{agent}" in posts(tagged)[-1].lower()
