"""The one Jinja2 environment every template runs in, artifact and site page alike:
sandboxed, escaping by default, bounded.

Escaping, for an artifact (`MARKDOWN`): every `{{ }}` goes through `escape.finalize`, so
a value is Markdown-escaped unless a filter already escaped it for its context
(`md_text`, `md_code`, `yaml_string`, ...) or a template marked its own markup with
`|safe`. A template that forgets a filter still cannot let session text open HTML, a
link or a block: the safe choice is the default, most values need no filter at all
(which keeps templates short to read), and the few filters there are say which other
context a value is in. The default trims a value's ends (so `**{{ title }}**` stays bold
whatever spaces a title carries): white space a template means, such as a separator,
belongs in its text, not in `{{ }}`. For a site page (`HTML`): Jinja's HTML autoescape,
and Jinja's own filters only.

Bounds, per render: a time limit, checked at every loop iteration, call, intercepted
operator and every few output chunks, and at every step of a filter's own iteration
(each item `map`, `select` and the like pass along, each filter or test they call), so
that it works in any thread and in a library caller (a signal timer would need the main
thread and would take over the caller's SIGALRM); an output limit, counted while the text
streams out, a few chunks at a time (each chunk is one value, itself bounded); a size
limit on every value a template computes (ranges, repeated or joined strings, filter and
call results, integer powers), so that no single step can eat memory before a check sees
it; and a budget for the whole render (`MAX_WORK`) of the items and characters that
filters pass along and that repetition (`*`) builds, counting all a repeated list holds,
so that values each under the size limit cannot add up to gigabytes (`|list` of a
`map`) or hours of work. The templates cannot mutate lists or dicts (the immutable
sandbox), so nothing grows in place.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from itertools import islice
from string import Formatter
from typing import Any

from jinja2 import FunctionLoader, StrictUndefined, Template, nodes, pass_environment
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, LoopContext, new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .. import escape, figures
from ..escape import Escaped

__all__ = [
    "FILTERS",
    "FINALIZE",
    "HTML",
    "MARKDOWN",
    "MAX_RANGE",
    "MAX_VALUE",
    "MAX_WORK",
    "MAX_OUTPUT_BYTES",
    "TIME_LIMIT_SECONDS",
    "Escaping",
    "Limits",
    "TemplateEnvironment",
    "render_limited",
]

MAX_RANGE = 100_000
"""The most items `range()` may give a template."""
MAX_VALUE = 1 << 20
"""The longest string, list or other collection a template may compute, and the largest
integer it may pass as a size (`center`, `ljust`, `batch`...)."""
MAX_INT_BITS = 1 << 16
"""The largest integer a template may compute, in bits."""
MAX_OUTPUT_BYTES = 1 << 20
"""The most UTF-8 bytes one render may produce: 1 MiB."""
TIME_LIMIT_SECONDS = 10.0
"""The longest one render may run."""
MAX_WORK = 1 << 26
"""The most items and characters one render may pass through filters' iteration and build
by repetition, in all: an item counts one and its own size (a string's characters, a
list's items), a repeated list all it holds."""


@dataclass(frozen=True)
class Limits:
    """How long one render may run and how much it may write."""

    seconds: float = TIME_LIMIT_SECONDS
    output_bytes: int = MAX_OUTPUT_BYTES


class _Budget:
    """What one render may still do: its deadline, the work it has spent, and the most
    text it may write (which no text it collects on the way may pass either)."""

    __slots__ = ("deadline", "output", "seconds", "work")

    def __init__(self, seconds: float, output: int = MAX_OUTPUT_BYTES) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.output = output
        self.work = 0


_RENDER: ContextVar[_Budget | None] = ContextVar("render_budget", default=None)


def _check_time() -> None:
    current = _RENDER.get()
    if current is not None and time.monotonic() > current.deadline:
        raise SecurityError(f"the template ran longer than its {current.seconds:g} s time limit")


def _spend(work: int) -> None:
    """Count `work` items and characters toward the render's budget; past it, refuse."""
    current = _RENDER.get()
    if current is not None:
        current.work += work
        if current.work > MAX_WORK:
            raise SecurityError(
                f"filters and repetition passed over the limit of {MAX_WORK:,} items and characters"
            )


_SIZED = (str, bytes, list, tuple, dict, set, frozenset, range)


def _weight(value: Any) -> int:
    """What an item costs the budget: one, and its own size."""
    return 1 + len(value) if isinstance(value, _SIZED) else 1


def _guard_steps(items: Iterator[Any]) -> Iterator[Any]:
    """A filter's result, item by item, each step checking the time and spending the
    item's weight: what `|list`, `|sum` or `|join` takes from a `map` or `select`
    (whose own calls of a filter or test check the time as well)."""
    for item in items:
        _check_time()
        _spend(_weight(item))
        yield item


def _check_size(value: Any) -> Any:
    if isinstance(value, _SIZED):
        if len(value) > MAX_VALUE:
            raise SecurityError(
                f"the template made a value of {len(value):,} items; the limit is {MAX_VALUE:,}"
            )
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise SecurityError(f"the template made an integer larger than {MAX_INT_BITS:,} bits")
    return value


def _check_size_args(args: Iterable[Any], what: str) -> None:
    for arg in args:
        if isinstance(arg, int) and abs(arg) > MAX_VALUE:
            raise SecurityError(f"{what}: a size of {arg:,} is over the limit of {MAX_VALUE:,}")


_FORMAT_WIDTH = re.compile(r"\d{7,}")
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
_NUMBER = re.compile(r"\d+")


def _check_format(spec: Any) -> None:
    """A `%` or `str.format` pattern may not ask for a field a million characters wide,
    nor for fields whose widths and precisions come to more than the size limit in all,
    nor take a width from its arguments (`%*d`, `{0:{1}}`), which no check could see."""
    if not isinstance(spec, str):
        return
    if _FORMAT_WIDTH.search(spec):
        raise SecurityError("a format field width or precision over the size limit")
    asked = 0
    if "%" in spec:
        for field in _PERCENT_FIELD.finditer(spec):
            if "*" in field.group(0):
                raise SecurityError("a format field that takes its width from its arguments")
            asked += sum(int(n) for n in _NUMBER.findall(field.group(0)))
    if "{" in spec:
        try:
            fields = list(Formatter().parse(spec))
        except ValueError:
            fields = []  # str.format refuses it as it is
        for _, _, format_spec, _ in fields:
            if format_spec and "{" in format_spec:
                raise SecurityError("a format field that takes its width from its arguments")
            asked += sum(int(n) for n in _NUMBER.findall(format_spec or ""))
    if asked > MAX_VALUE:
        raise SecurityError(
            f"format fields {asked:,} characters wide in all; the limit is {MAX_VALUE:,}"
        )


def _check_string_op(
    name: str, text: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any] | None = None
) -> None:
    """`replace`, `join`, `expandtabs` and `translate` build their result in one step:
    refuse one that would be too large before it is built."""
    size = 0
    first = args[0] if args else None
    if name == "replace" and isinstance(text, str) and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
            found = text.count(old) if old else len(text) + 1
            size = len(text) + found * (len(new) - len(old))
    elif name == "join" and isinstance(first, list | tuple):
        size = sum(len(x) for x in first if isinstance(x, str)) + len(first) * len(str(text))
    elif name == "join" and isinstance(first, str):  # each character of it, `text` between
        size = len(first) + max(len(first) - 1, 0) * len(str(text))
    elif name == "expandtabs" and isinstance(text, str):
        tabsize = first if args else (kwargs or {}).get("tabsize", 8)
        if isinstance(tabsize, int):
            size = len(text) + text.count("\t") * max(tabsize, 0)
    elif name == "translate" and isinstance(text, str) and isinstance(first, Mapping):
        longest = max((len(v) for v in first.values() if isinstance(v, str)), default=1)
        size = len(text) * max(longest, 1)
    if size > MAX_VALUE:
        raise SecurityError(f"{name} would make {size:,} characters; the limit is {MAX_VALUE:,}")


def _spend_repeated(items: str | list[Any] | tuple[Any, ...], times: int) -> None:
    """Spend what `items * times` holds: its characters, or its items and, once for each
    time it repeats them, their own sizes (a list of one long string repeated is as much
    text as the string repeated, once `map("upper")` or `|string` copies it)."""
    held = len(items) if isinstance(items, str) else sum(_weight(x) for x in items)
    work = held * max(times, 0)
    if work > MAX_WORK:
        raise SecurityError(
            f"a repeated value of {work:,} items and characters; the limit is {MAX_WORK:,}"
        )
    _spend(work)


def _bounded_range(*args: int) -> range:
    """`range`, refused past MAX_RANGE items."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range of {len(numbers):,} items; the limit is {MAX_RANGE:,}")
    return numbers


def _sized_filter(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A built-in filter refused before it runs when its integer arguments (sizes) or
    the result it would build are too large."""
    skip = 2 if getattr(func, "jinja_pass_arg", None) is not None else 1  # context, value

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        value, rest = (args[skip - 1] if len(args) >= skip else None), args[skip:]
        _check_size_args([*rest, *kwargs.values()], f"filter {name}")
        if name == "format":
            _check_format(value)
        elif name == "replace":
            _check_string_op("replace", value, rest)
        elif name == "join" and isinstance(value, list | tuple | str):
            _check_string_op("join", rest[0] if rest else kwargs.get("d", ""), (value,))
        elif name in ("indent", "wordwrap", "tojson"):
            _check_spread(name, value, rest, kwargs)
        return func(*args, **kwargs)

    return guarded


def _check_spread(name: str, value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """`indent` and `wordwrap` put their text (`indent`'s width, `wordwrap`'s
    `wrapstring`) at every line they make, `tojson` its indent at every line of its
    output: refuse one that would make too much before it is made."""
    text = value if isinstance(value, str) else ""
    if name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        each = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        size = len(text) + (text.count("\n") + 1) * max(each, 0)
    elif name == "wordwrap":
        width = args[0] if args else kwargs.get("width", 79)
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring")
        lines = len(text) // max(width, 1) + 1 if isinstance(width, int) else len(text) + 1
        size = len(text) + lines * (len(wrap) if isinstance(wrap, str) else 1)
    else:
        indent = args[0] if args else kwargs.get("indent")
        size = indent if isinstance(indent, int) else 0
        if size > _MOST_JSON_INDENT:
            raise SecurityError(
                f"filter tojson: an indent of {size:,}; the most is {_MOST_JSON_INDENT}"
            )
        return
    if size > MAX_VALUE:
        raise SecurityError(f"{name} would make {size:,} characters; the limit is {MAX_VALUE:,}")


_MOST_JSON_INDENT = 16
"""The widest indent `tojson` may write at every line of its output."""


@pass_environment
def _bounded_sum(
    environment: Any, iterable: Iterable[Any], attribute: str | int | None = None, start: Any = 0
) -> Any:
    """Jinja's `sum`, a step at a time: each step checks the time, and a sum of lists or
    strings, which copies all it holds so far at every step, spends that much of the
    budget and is refused past the size limit, where Python's `sum` would run on in one
    call for hours."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    total = start
    for item in iterable:
        _check_time()
        total = total + item
        if isinstance(total, _SIZED):
            _spend(len(total))
        _check_size(total)
    return total


class _Buffer(list[str]):
    """What a block collects before it becomes one value (`{% set %}...{% endset %}`,
    `{% filter %}`, a macro's or `caller()`'s body): refused once it holds more text
    than the render may write, as it grows, never after."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def append(self, piece: str) -> None:
        self.size += len(piece)
        if self.size > _output_limit():
            raise SecurityError(f"a block collected more than {_output_limit():,} characters")
        super().append(piece)

    def extend(self, pieces: Iterable[str]) -> None:
        for piece in pieces:
            self.append(piece)


def _output_limit() -> int:
    current = _RENDER.get()
    return current.output if current is not None else MAX_OUTPUT_BYTES


def _bounded_concat(pieces: Iterable[str]) -> str:
    """Jinja's `concat` ("".join) of what a block wrote: a `_Buffer` was bounded as it
    grew; anything else (`self.block()`, a block's generator) is taken a piece at a
    time, and refused past the render's output limit."""
    if type(pieces) is _Buffer:
        return "".join(pieces)
    taken: list[str] = []
    size, limit = 0, _output_limit()
    for piece in pieces:
        size += len(piece)
        if size > limit:
            raise SecurityError(f"a block wrote more than {limit:,} characters")
        taken.append(piece)
    return "".join(taken)


_SIZED_FILTERS = (
    "center",
    "indent",
    "truncate",
    "wordwrap",
    "batch",
    "slice",
    "format",
    "replace",
    "join",
    "tojson",
)


class _GuardedCode(CodeGenerator):
    """Compiles templates so that each loop iteration checks the time, and each
    concatenation and filter result its size."""

    _loop_iterables: set[int]

    def visit_For(self, node: nodes.For, frame: Any) -> None:
        if not hasattr(self, "_loop_iterables"):
            self._loop_iterables = set()
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def buffer(self, frame: Any) -> None:
        """A block's text collects in a `_Buffer`, bounded as it grows."""
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.output_buffer()")

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) in getattr(self, "_loop_iterables", ()):
            guard = "environment.guard_loop("
        elif isinstance(node, nodes.Concat | nodes.Filter):
            guard = "environment.guard_size("
        else:
            return super().visit(node, *args, **kwargs)
        self.write(guard)
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None


# What formats values for templates: the filters they call by name, and the finalize
# every `{{ }}` goes through. `filtersets` numbers and freezes these: they are the set it
# releases as the current one.
FILTERS: Mapping[str, Callable[..., Any]] = {
    "safe": escape.safe,
    "md_inline": escape.md_inline,
    "md_heading": escape.md_heading,
    "md_cell": escape.md_cell,
    "md_link_text": escape.md_link_text,
    "md_text": escape.md_text,
    "md_code": escape.md_code,
    "md_url": escape.md_url,
    "yaml_string": escape.yaml_string,
    "xml_text": escape.xml_text,
    "money": figures.money,
    "signed_money": figures.signed_money,
    "percent": figures.percent,
    "fixed2": figures.fixed2,
    "quantity": figures.quantity,
}
FINALIZE: Callable[[Any], Any] = escape.finalize


@dataclass(frozen=True)
class Escaping:
    """What `{{ }}` does to a value, and the project's filters a template may call: the
    one setting in which an artifact's environment and a site page's differ."""

    filters: Mapping[str, Callable[..., Any]]
    finalize: Callable[[Any], Any] | None
    autoescape: bool = False


MARKDOWN = Escaping(FILTERS, FINALIZE)
"""Artifacts: Markdown escaping by default, the project's escapers and formatters."""
HTML = Escaping({}, None, autoescape=True)
"""Site pages: HTML autoescape, Jinja's own filters only (its `|safe` makes Markup)."""


_DICT_ATTRIBUTES = frozenset(dir(dict))
"""What `getattr` finds on a dict: for any other name, `x.name` is the item `x['name']`."""
_LOOP_VALUES = frozenset(
    ["index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0"]
    + ["previtem", "nextitem"]
)
"""The properties of a `for` loop's `loop` that are values (not methods, not internal)."""


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """The sandboxed environment with the bounds of the module doc and an `escaping`:
    Markdown (the default; a released filter set gives its own filters and finalize)
    or a site page's HTML."""

    code_generator_class = _GuardedCode
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    concat = staticmethod(_bounded_concat)  # what a block's text is joined with

    def __init__(
        self,
        templates: Mapping[str, str],
        escaping: Escaping = MARKDOWN,
    ) -> None:
        sources = dict(templates)
        super().__init__(
            # the file name is the template's name, so that errors can say where they are
            loader=FunctionLoader(
                lambda name: (sources[name], name, lambda: True) if name in sources else None
            ),
            auto_reload=False,  # the sources are fixed: a compiled template is never stale
            undefined=StrictUndefined,
            autoescape=escaping.autoescape,
            finalize=escaping.finalize,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.globals["range"] = _bounded_range
        self.globals.pop("lipsum", None)
        self.filters["sum"] = _bounded_sum
        for name in _SIZED_FILTERS:
            self.filters[name] = _sized_filter(self.filters[name], name)
        self.filters.update(escaping.filters)
        self._loaded: dict[str, tuple[Template, dict[str, Any]]] = {}

    @staticmethod
    def output_buffer() -> _Buffer:
        """Where a block's text collects (`_GuardedCode.buffer`)."""
        return _Buffer()

    def loaded(self, name: str) -> tuple[Template, dict[str, Any]]:
        """A template, compiled at its first use, and its globals in one dict. The sources
        and the globals are fixed once the environment is made, so a render needs neither
        the loader's cache nor the merge of the template's globals (a ChainMap) that
        `Template.new_context` makes, item by item in Python, at every render."""
        found = self._loaded.get(name)
        if found is None:
            template = self.get_template(name)
            found = self._loaded[name] = (template, dict(template.globals))
        return found

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`x.name` on a dict without the sandbox's attempt at an attribute a dict has
        not (an exception each time): the same answer, the item or undefined; and
        `loop.last` and the like without the sandbox's checks, which they always pass."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        if type(obj) is LoopContext and attribute in _LOOP_VALUES:
            return getattr(obj, attribute)  # a value the sandbox always lets through
        return super().getattr(obj, attribute)

    def guard_loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Each iteration of a template's `for` checks the time limit."""
        for item in iterable:
            _check_time()
            yield item

    def guard_size(self, value: Any) -> Any:
        """A concatenation's or filter's result, refused when it is too large; a filter's
        lazy result (`map`, `select`, `batch`...) checked at every step it takes."""
        _check_time()
        if type(value) is Escaped or type(value) is str:  # most are text: no Iterator
            if len(value) > MAX_VALUE:
                _check_size(value)  # refused, with the reason
            return value
        if isinstance(value, Iterator):
            return _guard_steps(value)
        return _check_size(value)

    def call_filter(
        self,
        name: str,
        value: Any,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        context: Context | None = None,
        eval_ctx: EvalContext | None = None,
    ) -> Any:
        """A filter called by name for each item (`map("upper")`): the time checked."""
        _check_time()
        return super().call_filter(name, value, args, kwargs, context, eval_ctx)

    def call_test(
        self,
        name: str,
        value: Any,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        context: Context | None = None,
        eval_ctx: EvalContext | None = None,
    ) -> Any:
        """A test called by name for each item (`select("in", ...)`): the time checked."""
        _check_time()
        return super().call_test(name, value, args, kwargs, context, eval_ctx)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and right * abs(left).bit_length() > MAX_INT_BITS:
                raise SecurityError(f"an integer power over {MAX_INT_BITS:,} bits")
        elif operator == "*":
            for items, times in ((left, right), (right, left)):
                if isinstance(items, str | list | tuple) and isinstance(times, int):
                    if len(items) * times > MAX_VALUE:
                        raise SecurityError(f"a repeated value over {MAX_VALUE:,} items")
                    _spend_repeated(items, times)
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
            _check_size_args(right if isinstance(right, tuple) else (right,), "%")
        return _check_size(super().call_binop(context, operator, left, right))

    def call(
        __self,  # noqa: N805 - the sandbox's own signature, names that no keyword can clash with
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _check_time()
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str | list | tuple):
            method = getattr(target, "__name__", "")
            _check_size_args([*args, *kwargs.values()], f"{type(owner).__name__}.{method}")
            if method in ("format", "format_map"):
                _check_format(owner)
            _check_string_op(method, owner, args, kwargs)
        return _check_size(super().call(__context, __obj, *args, **kwargs))


_CHUNKS_AT_ONCE = 16
"""Output chunks taken between two checks of the output and time limits: a chunk is a
piece of template text or one value, which the size limit bounds."""


def render_limited(
    env: TemplateEnvironment, name: str, context: Mapping[str, Any], limits: Limits
) -> str:
    """Render one template, streaming, within the limits; a breach raises SecurityError."""
    token = _RENDER.set(_Budget(limits.seconds, limits.output_bytes))
    try:
        template, known = env.loaded(name)
        # what Template.generate does, one generator fewer for every chunk
        start = new_context(env, template.name, template.blocks, dict(context), False, known)
        chunks = template.root_render_func(start)
        pieces: list[str] = []
        size = 0
        while True:
            try:
                batch = list(islice(chunks, _CHUNKS_AT_ONCE))
            except Exception:
                env.handle_exception()  # raises it again, its traceback at the template's lines
            if not batch:
                break
            try:
                piece = "".join(batch)
            except TypeError:  # a `{% filter length %}` block gives a number, say
                raise SecurityError(
                    "the template wrote a value that is not text (a filter block whose "
                    "filter gives a number or a list, say)"
                ) from None
            size += len(piece.encode("utf-8", "surrogatepass"))
            if size > limits.output_bytes:
                raise SecurityError(f"the output passed the limit of {limits.output_bytes:,} bytes")
            _check_time()
            pieces.append(piece)
        return "".join(pieces)
    finally:
        _RENDER.reset(token)
