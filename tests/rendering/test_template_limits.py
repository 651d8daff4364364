"""A template cannot run away: each render is bounded in time, output and the size of
every value, and whatever goes wrong is a RenderError naming the template and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, git

from gitflywheel.rendering.templates import Limits, Renderer, RenderError
from gitflywheel.session.artifacts import ArtifactSpec


def render(source: str, limits: Limits | None = None, **context: object) -> str:
    renderer = Renderer({"mine.md.j2": source.encode()}, limits)
    return renderer.render(ArtifactSpec("readme", "build", "S3", "mine.md.j2", context)).decode()


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("line one\n{{ 1/0 }}\n", "line 2: ZeroDivisionError: division by zero"),
        ("{{ story.nope }}", "line 1: 'story' is undefined"),
        ("{% for %}", "line 1: Expected an expression"),
        ("{% for i in range(10**8) %}{% endfor %}", "range of 100,000,000 items"),
        ("{{ range(10**9)|list|length }}", "range of 1,000,000,000 items"),
        ("{{ 'x' * 10**9 }}", "a repeated value over 1,048,576 items"),
        ("{{ [0] * 10**9 }}", "a repeated value over 1,048,576 items"),
        ("{{ 2 ** (10 ** 8) }}", "an integer power over 65,536 bits"),
        ("{{ 'x'|center(10**9) }}", "filter center: a size of 1,000,000,000"),
        ("{{ 'x'.ljust(10**9) }}", "str.ljust: a size of 1,000,000,000"),
        ("{{ '{:>1000000000}'.format(1) }}", "format field width"),
        ("{{ '%1000000000s' % 1 }}", "format field width"),
        ("{% set s = 'x' * 100000 %}{{ s|replace('x', s) }}", "replace would make"),
        ("{% set s = 'x' * 100000 %}{{ s.replace('x', s) }}", "replace would make"),
        ("{% set s = 'x' * 100000 %}{{ ([s] * 100)|join }}", "join would make"),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "the template made a value of 2,097,152 items",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "RecursionError"),
        ("{% set l = [1] %}{{ l.append(2) }}", "unsafe"),
        ("{{ lipsum(10**6) }}", "'lipsum' is undefined"),
        ("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", "1,048,576 bytes"),
        # built in one step by a method or filter: refused before it is built
        ('{{ "{0:{1}}".format("a", "1500000000") }}', "takes its width from its arguments"),
        ("{{ '%*d' % (1000000, 1) }}", "takes its width from its arguments"),
        ('{{ ("{0:999999}" * 1000).format("a") }}', "999,999,000 characters wide in all"),
        ('{{ ("%(a)999999s" * 1000)|format(a="x") }}', "999,999,000 characters wide in all"),
        ('{{ ("\t" * 1000).expandtabs(1000000) }}', "expandtabs would make"),
        ('{{ ("a" * 1000).join("b" * 1000000) }}', "join would make"),
        ('{{ ("b" * 1000000)|join("a" * 1000) }}', "join would make"),
        ('{{ ("a" * 1000000).translate({97: "x" * 1000}) }}', "translate would make"),
        ("{{ ([[]] * 1000)|tojson(indent=1000000) }}", "an indent of 1,000,000"),
        ('{{ ("\n" * 1000)|indent(1000000, blank=true) }}', "indent would make"),
        ('{{ ("a " * 500000)|wordwrap(1, wrapstring="x" * 2000) }}', "wordwrap would make"),
        # a block's text, collected before it is a value, is bounded as it grows
        (
            '{% set big = ("a" * 1000000)|safe %}{% set x %}{% for i in range(1000) %}'
            "{{ big }}{% endfor %}{% endset %}{{ x|length }}",
            "a block collected more than 1,048,576 characters",
        ),
        (
            '{% macro m() %}{% for i in range(1000) %}{{ ("a" * 1000000)|safe }}{% endfor %}'
            "{% endmacro %}{{ m()|length }}",
            "a block collected more than 1,048,576 characters",
        ),
        (
            '{% filter upper %}{% for i in range(1000) %}{{ ("a" * 1000000)|safe }}'
            "{% endfor %}{% endfilter %}",
            "a block collected more than 1,048,576 characters",
        ),
        ("line one\n{% filter length %}x{% endfilter %}", "a value that is not text"),
        ('{% include "../../../etc/passwd" %}', "no template '../../../etc/passwd' in the"),
        # an object's text is its address in memory: it would never render again alike
        ("{{ cycler(1) }}", "a Cycler has no text of its own to show"),
        ('{{ "".format_map }}', "has no text of its own to show"),
        ("{{ [1, {'a': cycler(1)}] }}", "a Cycler has no text of its own to show"),
    ],
)
def test_a_runaway_or_failing_template_is_a_render_error(source: str, reason: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(source)
    assert str(caught.value).startswith("template mine.md.j2")
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
        "{% for i in range(100000) recursive %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    ],
)
def test_a_template_that_would_run_for_hours_stops_at_its_time_limit(source: str) -> None:
    with pytest.raises(RenderError, match="longer than its 0.2 s time limit"):
        render(source, Limits(seconds=0.2))


# (18.11) Filters iterate in Python, out of the compiled template's own checks: each
# step they take checks the time limit, and what they pass along counts toward a budget
# for the whole render, so that values each under the size limit cannot add up to a
# run of hours or a MemoryError.
BIG = ["x" * 1_000_000] * 30_000  # 30,000 references to one string: 30 GB of text if copied
WORDS = ["x " * 500_000] * 1_000_000  # a million references: hours of counting words


@pytest.mark.parametrize(
    "source",
    [
        '{{ (["x"*1000000]*30000)|map("upper")|map("length")|sum }}',
        '{{ (["x"*1000000]*30000)|map("upper")|list|length }}',
    ],
)
def test_a_repeated_list_is_bounded_by_all_the_text_it_holds(source: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(source, Limits(seconds=0.5))
    message = str(caught.value)
    assert message.startswith("template mine.md.j2, line 1: ")
    assert "a repeated value of 30,000,030,000 items and characters" in message
    assert "the limit is 67,108,864" in message


@pytest.mark.parametrize(
    "source",
    [
        '{{ big|map("upper")|map("length")|sum }}',
        '{{ big|map("upper")|list|length }}',
        '{{ big|map("upper")|join|length }}',
        '{{ big|map("upper")|batch(10)|list|length }}',
    ],
)
def test_what_filters_pass_along_counts_toward_the_render_s_budget(source: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(source, Limits(seconds=0.5), big=BIG)
    message = str(caught.value)
    assert message.startswith("template mine.md.j2, line 1: ")
    assert "over the limit of 67,108,864 items and characters" in message
    assert "MemoryError" not in message


@pytest.mark.parametrize(
    "source",
    [
        '{{ words|map("wordcount")|sum }}',
        '{{ words|map("wordcount")|select(">", 10**9)|list }}',
        '{{ ys|select("in", words)|list }}',
    ],
)
def test_a_filter_that_would_run_for_hours_stops_at_the_time_limit(source: str) -> None:
    with pytest.raises(RenderError, match=r"template mine.md.j2, line 1: .*longer than its 0.2 s"):
        render(source, Limits(seconds=0.2), words=WORDS, ys=["y"] * 1_000_000)


def test_a_sum_of_lists_is_counted_at_every_step() -> None:
    """Python's `sum` of lists copies all it holds so far at every step, in one call that
    no time check sees: 30,000 lists of 64 took minutes. The budget stops it at once; a
    sum of numbers, strings or a few lists is as Jinja's."""
    with pytest.raises(RenderError) as caught:
        render("{{ ([[0] * 64] * 30000)|sum(start=[])|length }}")
    assert "passed over the limit of 67,108,864 items and characters" in str(caught.value)
    assert render("{{ [1, 2, 3]|sum }} {{ [[1], [2]]|sum(start=[]) }}") == "6 \\[1, 2\\]\n"
    assert render("{{ items|sum(attribute='n') }}", items=[{"n": 2}, {"n": 5}]) == "7\n"


def test_limits_leave_ordinary_templates_alone() -> None:
    source = (
        "{% for i in range(3) %}{{ i }}{% if not loop.last %}, {% endif %}{% endfor %} "
        "{{ ['a', 'b']|join('-') }} {{ 'x'|center(5) }} {{ 2 ** 10 }} {{ '%5.1f' % 2.25 }} "
        "{{ names|length }}"
    )
    assert render(source, names=["a", "b"]) == "0, 1, 2 a-b x 1024 2.2 2\n"


def test_output_after_many_empty_values_is_kept() -> None:
    # output is taken a few chunks at a time: a run of empty ones is not its end
    assert render("{% for i in range(100) %}{{ e }}{% endfor %}end", e="") == "end\n"


@pytest.mark.parametrize("name", ["title", "items", "keys", "get", "__class__", "nope", "_x"])
def test_a_dict_answers_dot_names_as_the_sandbox_does(name: str) -> None:
    from jinja2 import Undefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from gitflywheel.rendering.sandbox import TemplateEnvironment

    env = TemplateEnvironment({})
    for obj in ({"title": "T", "items": 1, "_x": 2}, {}):
        ours = env.getattr(obj, name)
        theirs = ImmutableSandboxedEnvironment.getattr(env, obj, name)
        assert type(ours) is type(theirs)
        if isinstance(theirs, Undefined):
            assert ours._undefined_obj is theirs._undefined_obj
            assert (ours._undefined_name, ours._undefined_hint) == (
                theirs._undefined_name,
                theirs._undefined_hint,
            )
        else:
            assert ours == theirs


def test_a_loop_answers_dot_names_as_the_sandbox_does() -> None:
    from jinja2 import Undefined
    from jinja2.runtime import LoopContext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from gitflywheel.rendering.sandbox import _LOOP_VALUES, TemplateEnvironment

    env = TemplateEnvironment({})
    for name in sorted(_LOOP_VALUES) + ["cycle", "changed", "_after", "__class__", "nope"]:
        for position in range(3):
            loop = LoopContext(iter(["a", "b", "c"]), env.undefined)
            for _ in range(position + 1):
                next(loop)
            ours = env.getattr(loop, name)
            theirs = ImmutableSandboxedEnvironment.getattr(env, loop, name)
            assert type(ours) is type(theirs), name
            if isinstance(theirs, Undefined):
                assert ours._undefined_hint == theirs._undefined_hint
            elif not callable(theirs):
                assert ours == theirs, name


def test_ingest_refuses_a_failing_user_template_and_stores_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    store = tmp_path / "s.git"
    assert cli("init", "--repo", store).exit_code == 0
    tip = git("-C", store, "rev-parse", "main")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "readme.md.j2").write_text("{% for i in range(10**9) %}{% endfor %}\n")
    result = cli("ingest", "--repo", store, EXAMPLES / "build_session.json", "--templates", mine)
    assert result.exit_code == 2
    assert "rendering: template readme.md.j2, line 1: range of 1,000,000,000 items" in result.stderr
    assert "Traceback" not in result.stderr
    assert git("-C", store, "rev-parse", "main") == tip


# -- site pages render in the same environment, within the same limits ------------------


def test_a_site_template_that_loops_forever_stops_at_its_time_limit(tmp_path: Path) -> None:
    from gitflywheel import ingest
    from gitflywheel.publishing.site import build_site
    from gitflywheel.rendering.templates import SITE_TEMPLATES, load_templates
    from gitflywheel.storage.store import Store

    store_path = tmp_path / "s.git"
    assert ingest(store_path, [EXAMPLES / "build_session.json"]).exit_code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "_card.html.j2").write_text(
        "<p>{{ post.title }}</p>\n"
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n"
    )
    templates = load_templates(mine, SITE_TEMPLATES)
    with Store.open(store_path) as store, pytest.raises(RenderError) as caught:
        build_site(store, base_url=None, feeds=False, templates=templates, limits=Limits(0.2))
    assert str(caught.value).startswith("site template _card.html.j2, line 2: ")
    assert "longer than its 0.2 s time limit" in str(caught.value)


def test_a_site_template_that_writes_too_much_is_stopped_and_nothing_written(
    cli: Cli, tmp_path: Path
) -> None:
    store, out, mine = tmp_path / "s.git", tmp_path / "out", tmp_path / "mine"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    mine.mkdir()
    (mine / "tags.html.j2").write_text("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}")
    result = cli("site", "--repo", store, out, "--no-feed", "--templates", mine)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "site template tags.html.j2: the output passed the limit of 1,048,576 bytes" in (
        result.stderr
    )
    assert not out.exists()
