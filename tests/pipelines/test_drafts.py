"""The publish gate (19): test placeholders, bare counters and empty build logs are
drafts, real work is published, and twins are found by what they carry."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from conftest import session
from pipeline_checks import corpus_files, front_matter, render_all

from gitflywheel.jsontext import loads
from gitflywheel.pipelines.drafts import (
    draft_reasons,
    is_placeholder_agent,
    is_placeholder_id,
    is_test_title,
    twin_keys,
)
from gitflywheel.session.records import make_record


def reasons_of(data: dict[str, Any]) -> list[str]:
    return draft_reasons(make_record("test", data).session)


def published(data: dict[str, Any]) -> bool:
    return not front_matter(render_all(data)["blog_post"])["draft"]


# -- test placeholders -------------------------------------------------------------------


@pytest.mark.parametrize(
    "agent",
    ["TestAgent", "Test Agent", "test-agent", "test_agent", "test", "TEST", "dummy", "Dummy Bot"]
    + ["mock-agent", "agent_test", "fake_user", "placeholder", "test-agent-2", "Test.Agent"],
)
def test_placeholder_agents(agent: str) -> None:
    assert is_placeholder_agent(agent)
    data = session(agent_id=agent)  # one commit: real work but for its agent
    assert reasons_of(data) == [f"a test placeholder: agent “{agent}”"]
    assert not published(data)


@pytest.mark.parametrize(
    "agent",
    ["Agent-1", "Agent-5", "kay", "trader-q", "a", "0", "Tester", "Testa", "contest", "attest"]
    + ["latest", "pytest-bot-maintainer", "Agent Smith", "sampler", "examples-team"],
)
def test_real_agents_are_no_placeholders(agent: str) -> None:
    assert not is_placeholder_agent(agent)
    assert reasons_of(session(agent_id=agent)) == []


def test_every_agent_of_the_corpus_but_test_agent_is_real() -> None:
    agents: Counter[str] = Counter()
    for path in corpus_files():
        data = loads(path.read_text(encoding="utf-8"))
        agents[data["agent_id"]] += 1
        named = data.get("metadata", {}).get("agent_name")
        if isinstance(named, str):
            agents[named] += 1
    placeholders = {a for a in agents if is_placeholder_agent(a)}
    assert placeholders == {"TestAgent", "Test Agent"}
    assert {"Agent-1", "Agent-2", "Agent-3", "Agent-5"} <= set(agents) - placeholders


def test_an_agent_name_in_the_metadata_counts() -> None:
    data = session(metadata={"agent_name": "Test Agent"})
    assert reasons_of(data) == ["a test placeholder: agent “Test Agent”"]


@pytest.mark.parametrize("title", ["Test Task", "Test Mission", "test", "Testing session 2"])
def test_test_titles(title: str) -> None:
    assert is_test_title(title)
    assert reasons_of(session(title=title)) == [f"a test placeholder: title “{title}”"]
    assert reasons_of(session(metadata={"task_title": title})) == [
        f"a test placeholder: title “{title}”"
    ]


@pytest.mark.parametrize("title", ["Untitled", "Test the parser on real logs", "Attestation"])
def test_other_titles_are_no_sign_of_a_test(title: str) -> None:
    assert not is_test_title(title)
    assert reasons_of(session(title=title)) == []


@pytest.mark.parametrize(
    "session_id",
    ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000000"]
    + ["00000000-0000-0000-0000-00000000ABCD", "00000000000000000000000000000002"],
)
def test_all_zero_ids(session_id: str) -> None:
    assert is_placeholder_id(session_id)
    assert reasons_of(session(session_id)) == [f"a test placeholder: id {session_id}"]


@pytest.mark.parametrize(
    "session_id",
    ["00000000-0000-0000-0000-000000010000", "000ec76e-6db3-476a-9c1e-fd3a7a3fade7"]
    + ["10000000-0000-0000-0000-000000000001", "0", "00000000", "s-0000"],
)
def test_ids_that_are_not_all_zero(session_id: str) -> None:
    assert not is_placeholder_id(session_id)
    assert reasons_of(session(session_id)) == []


def test_a_trade_under_an_all_zero_id_is_a_draft() -> None:
    data = {
        "session_id": "00000000-0000-0000-0000-000000000002",
        "session_type": "trade",
        "timestamp": "2025-12-02T03:30:00Z",
        "agent_id": "trader",
        "source_data": {
            "trades": [
                {
                    "symbol": "AAPL",
                    "action": "buy",
                    "quantity": 10,
                    "price": 175.5,
                    "timestamp": "2025-12-02T03:15:00Z",
                }
            ]
        },
    }
    artifacts = render_all(data)
    assert all(front_matter(text)["draft"] for text in artifacts.values())


# -- bare counters and empty build logs --------------------------------------------------


def test_bare_counters_for_a_named_repository_are_a_draft() -> None:
    data = session(
        "s-2",
        metadata={"commits": 2, "files_changed": 5, "duration_minutes": 45},
        source_data={"repo_path": "D:/Agent_Cellphone_V2_Repository"},
    )
    assert reasons_of(data) == [
        "no commits, trades, conversation or screenshots",
        "no story",
        "no title",
        "counters only, nothing to read",
    ]
    artifacts = render_all(data)
    assert (
        front_matter(artifacts["blog_post"])["title"]
        == "2 commits in Agent_Cellphone_V2_Repository"
    )
    assert all(front_matter(text)["draft"] for text in artifacts.values())


def test_counters_with_a_story_are_published() -> None:
    data = session(
        "s-3",
        metadata={"commits": 2, "session_summary": "Hardened the SFTP deployment"},
        source_data={"repo_path": "D:/Agent_Cellphone_V2_Repository"},
    )
    assert reasons_of(data) == []
    assert published(data)


def test_a_session_the_work_repository_marks_a_draft_is_one() -> None:
    real = {
        "overview": "Taught the parser comments.",
        "source_data": {
            "repo_path": "example/repo",
            "git_commits": [{"hash": "a" * 40, "message": "Teach the parser comments"}],
        },
    }
    assert reasons_of(session("s-9", **real)) == []
    marked = session(
        "s-9",
        metadata={"draft": True, "draft_reason": "feature is not the remote's default branch"},
        **real,
    )
    assert reasons_of(marked) == [
        "the work repository marks this push a draft: feature is not the remote's default branch"
    ]
    assert not published(marked)
    assert reasons_of(session("s-9", metadata={"draft": "yes"}, **real)) == []


def test_a_build_log_without_commits_is_a_draft_of_its_own() -> None:
    data = session(
        "s-4",
        overview="Designed the pipeline interfaces.",
        source_data={"repo_path": "example/repo", "git_commits": []},
    )
    artifacts = render_all(data)
    assert "No commits were recorded in this session." in artifacts["build_log"]
    assert front_matter(artifacts["build_log"])["draft"] is True
    assert not any(front_matter(t)["draft"] for k, t in artifacts.items() if k != "build_log")
    assert not front_matter(render_all(session("s-5"))["build_log"])["draft"]


# -- the corpus --------------------------------------------------------------------------

# The corpus files that were published before the gate and are drafts now, and why.
NEWLY_DRAFTS = {
    "2169fb0f_example_build_session.json": "id",
    "8589226e_00000000-0000-0000-0000-000000000001_build.json": "id",
    "72fe669c_example_trade_session.json": "id",
    "81710fb4_00000000-0000-0000-0000-000000000002_trade.json": "id",
    "6aa92a85_a57c6a6e-efc2-4822-bbbb-971bb9a05b7a_build.json": "agent",
    "dfd4700e_21f90784-6764-4c30-99db-7f631a525695_build.json": "title",
}
PUBLISHED = {  # real work: a story, deliverables, a conversation
    "0c0a7fef_agent5_guardrail_implementation_2025-12-02.json",
    "b4c13fc6_agent5_guardrail_implementation_2025-12-02.json",
    "c204b49d_agent5_guardrail_implementation_2025-12-02.json",
    "639f75d3_12c9458e-892f-49a9-889d-74538fa37234_build.json",
    "b788aacc_12c9458e-892f-49a9-889d-74538fa37234_build.json",
    "ea8ab8dc_12c9458e-892f-49a9-889d-74538fa37234_build.json",
    "7df07646_7670d1d3-bf6e-40c1-b382-43e13f968ff6_build.json",
    "be8443c5_a2-phase2-arch-2025-12-02_build.json",
    "fcb44a82_agent2_phase2_architecture_2025-12-02.json",
}


def test_the_corpus_gate_pinned() -> None:
    """Each of the 61 files: 46 test runs in a temporary folder (drafts before the gate),
    6 test placeholders with commits, trades or counters (drafts now), 9 real sessions."""
    reasons: Counter[str] = Counter()
    drafts, kept = set(), set()
    for path in corpus_files():
        found = reasons_of(loads(path.read_text(encoding="utf-8")))
        (drafts if found else kept).add(path.name)
        reasons.update({re.sub(r"“.*”|id \S+$", "…", r) for r in found})
    assert len(drafts) + len(kept) == 61
    assert kept == PUBLISHED
    assert len(drafts) == 52
    assert reasons == {
        "the repository is a temporary folder": 46,  # the test runs of before
        "placeholder title …": 46,
        "no commits, trades, conversation or screenshots": 48,
        "no story": 48,
        "no title": 2,
        "counters only, nothing to read": 2,  # `2 commits in Agent_Cellphone_V2_Repository`
        "a test placeholder: agent …": 47,  # TestAgent, and the test runs' `Test Agent`
        "a test placeholder: title …": 47,  # Test Task, and the test runs' `Test Mission`
        "a test placeholder: …": 4,  # 00000000-0000-0000-0000-00000000000{1,2}
    }
    for name, why in NEWLY_DRAFTS.items():
        found = reasons_of(loads((corpus_files()[0].parent / name).read_text(encoding="utf-8")))
        assert any(r.startswith(f"a test placeholder: {why}") for r in found), (name, found)


# -- twins -------------------------------------------------------------------------------


def record_data(data: dict[str, Any]) -> dict[str, Any]:
    return make_record("test", data).data


def test_twins_share_their_commit_set_whatever_the_order() -> None:
    commits = [{"hash": f"{i:040x}", "message": f"c{i}"} for i in range(10)]
    one = session("s-1", source_data={"repo_path": "r", "git_commits": commits})
    two = session("s-2", source_data={"repo_path": "r", "git_commits": commits[::-1]})
    keys = twin_keys(record_data(one))
    assert keys == twin_keys(record_data(two))
    assert [what for _, what in keys] == ["the same 10 commits"]
    other = session("s-3", source_data={"repo_path": "r", "git_commits": commits[:9]})
    assert twin_keys(record_data(other))[0][0] != keys[0][0]


def test_no_hash_no_deliverables_no_twin() -> None:
    assert twin_keys(record_data(session())) == []  # a commit without a hash


def test_the_same_deliverables_at_the_same_time() -> None:
    one = session(deliverables=["docs/a.md", {"file": "b.py", "status": "done"}])
    two = session("s-2", deliverables=[{"file": "b.py", "status": "done"}, "docs/a.md"])
    later = session("s-3", timestamp="2025-12-03T03:30:00Z", deliverables=["docs/a.md", "b.py"])
    keys = twin_keys(record_data(one))
    assert [what for _, what in keys] == ["the same 2 deliverables at the same time"]
    assert keys == twin_keys(record_data(two))
    assert twin_keys(record_data(later))[0][0] != keys[0][0]


def test_the_corpus_twins() -> None:
    by_key: dict[str, set[str]] = {}
    for path in corpus_files():
        data = record_data(loads(path.read_text(encoding="utf-8")))
        for key, _ in twin_keys(data):
            by_key.setdefault(key, set()).add(data["session_id"])
    twins = [ids for ids in by_key.values() if len(ids) > 1]
    assert twins == [
        {"a57c6a6e-efc2-4822-bbbb-971bb9a05b7a", "21f90784-6764-4c30-99db-7f631a525695"}
    ]
