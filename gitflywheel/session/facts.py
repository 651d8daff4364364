"""A session's facts: everything its templates show, derived once by its pipeline.

Rendering has two stages. The pipeline (versioned: `build/2`) derives the facts from the
record; the templates turn the facts into artifacts. The store keeps the facts between
the two as `facts.json` (canonical JSON), so an artifact renders again from the history
alone, by any later gitflywheel, and users' own templates read the same facts
(`gitflywheel schema facts`, `gitflywheel show ID facts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import GitflywheelError
from ..jsontext import JSONTextError, decode_utf8, dumps_pretty, dumps_pretty_read_back, loads
from .artifacts import SLUG_PATTERN, ArtifactKind, ArtifactSpec
from .versions import PIPELINE_ID_PATTERN, split_pipeline_id

__all__ = [
    "CONTEXT_KEYS",
    "FactsError",
    "ArtifactFacts",
    "Names",
    "Address",
    "SLUG_PATTERN",
    "Facts",
    "facts_bytes",
    "write_facts",
    "facts_json_schema",
]

# The variables each template gets, by pipeline step: what users' templates can rely on.
# Every artifact but a chart starts with the same four; a build's Markdown adds its story.
_PAGE = ("session", "when", "front", "draft_reasons")
_STORY = (*_PAGE, "facts", "story")
_TRADES = ("trades", "summary", "review", "market", "chart")
_CHART = ("session", "when", "chart")
CONTEXT_KEYS: dict[str, tuple[str, ...]] = {
    "build S3 readme": (*_STORY, "recent_commits"),
    "build S4 build_log": (*_STORY, "chart"),
    "build S5 blog_post": (*_STORY, "tags", "chart"),
    "build S6 social_post": (*_STORY, "posts", "fence", "mastodon"),
    "trade T4 trade_journal": (*_PAGE, *_TRADES),
    "trade T5 social_post": (*_PAGE, "posts", "fence", "mastodon"),
    "trade T6 blog_post": (*_PAGE, "title", *_TRADES),
    "build S7 activity_chart": _CHART,
    "trade T7 equity_curve": _CHART,
    "life_aria L1 blog_post": (
        *_PAGE,
        "title",
        "overview",
        "problem",
        "solution",
        "highlights",
        "speakers",
        "gallery",
        "cover",
        "grid",
        "links",
        "missing",
        "lessons",
        "made",
        "next_steps",
        "tags",
    ),
    "life_aria L2 social_post": (*_PAGE, "posts", "fence", "mastodon"),
}

_CONTEXT_HELP = (
    "The variables the template renders with, as plain JSON (numbers exact, keys sorted). "
    "By pipeline, step and kind: "
    + "; ".join(f"{where}: {', '.join(keys)}" for where, keys in CONTEXT_KEYS.items())
    + ". `session` holds id, short_id and agent; `when` the session's moment as iso, date, "
    "time, stamp and human (UTC); `posts` the thread's posts, each at most 280 characters "
    "of plain text as X weighs them (its last post links the session's page when the store "
    "knows its site's address); `mastodon` the same thread for Mastodon (500 code points a "
    "post), or an empty list when it would be the same posts; `fence` the backticks that open and close each post's code block in "
    "Markdown, longer than any run of backticks in the posts (so no post closes its block); "
    "`chart` in a Markdown artifact links the session's SVG chart (file, alt) or is null, "
    "in a chart artifact (activity_chart, equity_curve) it is the chart's geometry: "
    "coordinates rounded to a tenth, labels already formatted."
)


class FactsError(GitflywheelError):
    """facts.json that cannot be read back: not JSON, or not shaped as facts."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArtifactFacts(_Strict):
    """What one artifact is rendered from: the template's name and its variables."""

    step: str = Field(description="the pipeline step that made it, e.g. S3")
    template: str = Field(
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]*\.j2$",
        description="the template's file name in the store's templates/, e.g. readme.md.j2",
    )
    context: dict[str, Any] = Field(description=_CONTEXT_HELP)


class Names(_Strict):
    """The store's display names (`names.repo`, `names.agent`: FROM -> TO), and whether
    an agent is a tag (`names.agent_tags`), as a pipeline takes them: an input like the
    record, so that the pipeline stays pure. A repository shown as "" is not named at
    all. Facts keep the names their pipeline used."""

    repo: dict[str, str] = Field(
        default_factory=dict,
        description="a repository's public name -> the name shown ('' : not named)",
    )
    agent: dict[str, str] = Field(
        default_factory=dict, description="an agent id -> the name shown (the record keeps the id)"
    )
    agent_tags: bool = Field(
        default=False,
        description="the agent is a tag of the artifacts and a hashtag of the thread "
        "(`names.agent_tags`); absent: it is not",
    )

    @classmethod
    def of(
        cls,
        repo: Mapping[str, str] = {},  # noqa: B006
        agent: Mapping[str, str] = {},  # noqa: B006
        agent_tags: bool = False,
    ) -> Names:
        return cls(repo=dict(repo), agent=dict(agent), agent_tags=agent_tags)

    def __bool__(self) -> bool:
        return bool(self.repo or self.agent or self.agent_tags)

    def repo_name(self, public: str | None) -> str | None:
        """The name a repository is shown under: its display name (None for ''), else
        its public name as given."""
        if public is None or public not in self.repo:
            return public
        return self.repo[public] or None

    def agent_name(self, agent_id: str) -> str:
        """The name an agent is shown under: its display name, else its id."""
        return self.agent.get(agent_id, agent_id)

    def applying(self, repo: str | None, agent_id: str) -> Names:
        """Only the entries that name this repository or this agent: what a session's
        facts record, so that adding a name for another changes nothing of it."""
        return Names(
            repo={repo: self.repo[repo]} if repo is not None and repo in self.repo else {},
            agent={agent_id: self.agent[agent_id]} if agent_id in self.agent else {},
            agent_tags=self.agent_tags,
        )

    def value(self) -> dict[str, Any]:
        """As facts.json holds them: only the kinds that name something, and
        `agent_tags` only when it is true."""
        named: dict[str, Any] = {
            k: dict(v) for k, v in (("agent", self.agent), ("repo", self.repo)) if v
        }
        return {**named, "agent_tags": True} if self.agent_tags else named


class Address(_Strict):
    """Where a session's post lives on the store's site: `sessions/<slug>/` under the
    site's address. An input of the pipeline like the names: the slug is fixed when the
    session is first recorded (a later title changes the page, not its address), and
    `moved_from` lists the addresses the page had before (made by an older gitflywheel),
    where the site keeps a redirect. Without a slug, the pipeline makes one of the title."""

    slug: str | None = Field(
        default=None,
        pattern=SLUG_PATTERN,
        max_length=100,
        description="the post's folder on the site, sessions/<slug>/, fixed at first record",
    )
    base_url: str | None = Field(
        default=None,
        description="the site's address (the store's site.base_url) when the facts were "
        "derived; null when the store had none (then no thread links its post)",
    )
    moved_from: list[str] = Field(
        default_factory=list,
        description="earlier slugs of the post, which keep a redirect to this one",
    )

    def with_slug(self, slug: str) -> Address:
        return self.model_copy(update={"slug": slug})

    @property
    def url(self) -> str | None:
        """The absolute URL of the post on the site, when its address and slug are known."""
        if self.base_url is None or self.slug is None:
            return None
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return f"{base}sessions/{self.slug}/"

    def value(self) -> dict[str, Any]:
        """As facts.json holds it: unset parts left out."""
        return self.model_dump(exclude_defaults=True)


class Facts(_Strict):
    """facts.json: the pipeline and version that derived them, the display names it
    used (left out when none applied), the post's address on the site (left out by
    versions before addresses were fixed), and each artifact's facts."""

    pipeline: str = Field(
        pattern=PIPELINE_ID_PATTERN, description="pipeline and version, e.g. build/2"
    )
    session_id: str
    names: Names = Field(
        default_factory=Names,
        description="the store's display names the pipeline applied to this session "
        "(`names.repo`, `names.agent`); absent when none did",
    )
    address: Address | None = Field(
        default=None,
        description="where the session's post lives on the site: its slug, fixed when the "
        "session was first recorded, the site's address, and earlier slugs",
    )
    artifacts: dict[ArtifactKind, ArtifactFacts]

    @classmethod
    def from_bytes(cls, data: bytes, origin: str = "facts.json") -> Facts:
        """Facts as parsed back from their stored bytes: what every artifact renders from."""
        try:
            value = loads(decode_utf8(data))
        except JSONTextError as exc:
            raise FactsError(f"{origin}: not valid JSON: {exc}") from exc
        return cls._validated(value, origin)

    @staticmethod
    def recorded_inputs(data: bytes) -> tuple[Names, Address | None] | None:
        """The display names and the address stored facts recorded, read lightly (orjson,
        the two fields validated, nothing else): the pipeline's inputs when verify derives
        the facts again. Not a check of the facts: of facts that `from_bytes` accepts it
        gives the same two values, and None when it cannot tell (the caller then reads
        them with `from_bytes`)."""
        try:
            found = _pretty_members(data, (b"names", b"address"))
            if found is None:
                value = orjson.loads(data)
                if type(value) is not dict:
                    return None
            else:
                value = {k: orjson.loads(v) for k, v in found.items()}
            names = value.get("names")
            address = value.get("address")
            return (
                Names() if names is None else Names.model_validate(names),
                None if address is None else Address.model_validate(address),
            )
        except (orjson.JSONDecodeError, ValidationError):
            return None

    @classmethod
    def _validated(cls, value: Any, origin: str) -> Facts:
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(facts)"
            raise FactsError(f"{origin}: {where}: {first['msg']}") from None

    def specs(self) -> list[ArtifactSpec]:
        """One spec per artifact, in kind order, ready for the templates."""
        name, _ = split_pipeline_id(self.pipeline)
        return [
            ArtifactSpec(kind, name, item.step, item.template, item.context)
            for kind, item in sorted(self.artifacts.items())
        ]


_PRETTY_KEY = b'\n  "'  # what opens a top-level member in `dumps_pretty`'s text, and nothing else


def _pretty_members(data: bytes, keys: tuple[bytes, ...]) -> dict[str, bytes] | None:
    """The text of these top-level members (those present) of an object as `dumps_pretty`
    writes it, found by their indentation without reading the rest (in JSON text a string
    holds no line break, and a nested member is indented further); None for text not
    laid out so."""
    if not (data.startswith(b'{\n  "') and data.endswith(b"\n}\n")):
        return None
    found: dict[str, bytes] = {}
    for key in keys:
        opening = _PRETTY_KEY + key + b'": '
        start = data.find(opening)
        if start < 0:
            continue
        start += len(opening)
        end = data.find(_PRETTY_KEY, start)
        found[key.decode()] = data[start : len(data) - 3 if end < 0 else end].removesuffix(b",")
    return found


def _facts_value(
    pipeline: str,
    session_id: str,
    specs: Sequence[ArtifactSpec],
    names: Names | None = None,
    address: Address | None = None,
) -> dict[str, Any]:
    used = {"names": names.value()} if names else {}
    if address is not None:
        used["address"] = address.value()
    return {
        "pipeline": pipeline,
        "session_id": session_id,
        **used,
        "artifacts": {
            spec.kind: {"step": spec.step, "template": spec.template, "context": dict(spec.context)}
            for spec in specs
        },
    }


def facts_bytes(
    pipeline: str,
    session_id: str,
    specs: Sequence[ArtifactSpec],
    names: Names | None = None,
    address: Address | None = None,
) -> bytes:
    """The facts.json of a pipeline's output, canonical JSON indented for people."""
    value = _facts_value(pipeline, session_id, specs, names, address)
    return dumps_pretty(value).encode("utf-8")


def write_facts(
    pipeline: str,
    session_id: str,
    specs: Sequence[ArtifactSpec],
    origin: str = "facts.json",
    names: Names | None = None,
    address: Address | None = None,
) -> tuple[bytes, Facts]:
    """`facts_bytes` and the Facts they parse back as, which is what the artifacts render
    from. Raises FactsError when the output does not survive its own JSON."""
    try:
        text, value = dumps_pretty_read_back(
            _facts_value(pipeline, session_id, specs, names, address)
        )
    except JSONTextError as exc:
        raise FactsError(f"{origin}: not valid JSON: {exc}") from exc
    return text.encode("utf-8"), Facts._validated(value, origin)


def facts_json_schema() -> dict[str, Any]:
    """The JSON Schema of facts.json, generated from the model."""
    schema = Facts.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gitflywheel session facts"
    return schema
