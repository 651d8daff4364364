"""Templates and rendering: the one sandboxed Jinja2 environment.

Session data is only ever passed as context, never compiled as template source, so text
such as `{{ 7*7 }}` in a session stays literal in every artifact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import DictLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from .artifacts import ArtifactSpec
from .errors import GitflywheelError
from .localfiles import read_beneath

__all__ = [
    "TEMPLATE_SUFFIX",
    "FILTERS",
    "RenderError",
    "shipped_templates_dir",
    "load_templates",
    "Renderer",
]

TEMPLATE_SUFFIX = ".j2"
MAX_TEMPLATE_BYTES = 1024 * 1024


class RenderError(GitflywheelError):
    """A template that does not render (a user template with an error, say)."""


def shipped_templates_dir() -> Path:
    """The templates that ship inside the wheel, or beside the package in a source tree."""
    packaged = Path(str(resources.files("gitflywheel"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def load_templates(override_dir: Path | None = None) -> dict[str, bytes]:
    """Template name -> bytes: the shipped set, with a user's files overriding by name.

    Each template is a regular file inside its folder (symlinks resolved and contained),
    UTF-8 text of at most MAX_TEMPLATE_BYTES: a folder's files become blobs in the store."""
    found: dict[str, bytes] = {}
    for folder in (shipped_templates_dir(), override_dir):
        if folder is None:
            continue
        if not folder.is_dir():
            raise GitflywheelError(f"{folder}: templates folder not found")
        for path in sorted(folder.glob(f"*{TEMPLATE_SUFFIX}")):
            data = read_beneath(path, [folder], MAX_TEMPLATE_BYTES)
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise GitflywheelError(
                    f"{path}: a template must be UTF-8 text; byte {exc.start} is not"
                ) from None
            found[path.name] = data
    return found


def money(value: Any) -> str:
    """Two decimals, exact: 175.5 -> 175.50, -10.5 -> -10.50; never -0.00."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{amount.copy_abs() if amount.is_zero() else amount:,.2f}"


def signed_money(value: Any) -> str:
    """Money with its sign always shown: +25.00, -10.50."""
    text = money(value)
    return text if text.startswith("-") else f"+{text}"


def percent(value: Any) -> str:
    """A rate (0..1) as a percentage with two decimals: 0.6667 -> 66.67%."""
    amount = (Decimal(str(value)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{amount}%"


def fixed2(value: Any) -> str:
    """Two decimals, no grouping: a ratio such as a profit factor."""
    return str(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def quantity(value: Any) -> str:
    """A quantity as given, without trailing zeros: 10 -> 10, 0.50 -> 0.5."""
    amount = Decimal(str(value))
    return (
        str(amount.to_integral_value())
        if amount == amount.to_integral_value()
        else format(amount.normalize(), "f")
    )


def _yaml_printable(ch: str) -> bool:
    code = ord(ch)
    return (
        0x20 <= code <= 0x7E
        or code == 0x85
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )


def yaml_string(value: Any) -> str:
    """A double-quoted YAML scalar that Jekyll and Hugo both read: quotes, backslashes
    and every character YAML does not allow as is are escaped."""
    out = []
    for ch in str(value):
        if ch in '"\\':
            out.append("\\" + ch)
        elif _yaml_printable(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


# The filters templates format values with. `filtersets` numbers and freezes them: this is
# the set it releases as the current one.
FILTERS: Mapping[str, Callable[..., str]] = {
    "money": money,
    "signed_money": signed_money,
    "percent": percent,
    "yaml_string": yaml_string,
    "md_cell": md_cell,
    "fixed2": fixed2,
    "quantity": quantity,
}


def _environment(
    templates: Mapping[str, bytes], filters: Mapping[str, Callable[..., str]]
) -> SandboxedEnvironment:
    try:
        sources = {name: data.decode("utf-8") for name, data in templates.items()}
    except UnicodeDecodeError as exc:
        raise RenderError(f"a template is not UTF-8: {exc}") from exc
    env = SandboxedEnvironment(
        loader=DictLoader(sources),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters)
    return env


class Renderer:
    """Renders artifacts with one fixed set of templates and filters; compiled templates
    are reused."""

    def __init__(
        self, templates: Mapping[str, bytes], filters: Mapping[str, Callable[..., str]] = FILTERS
    ) -> None:
        self.templates = dict(templates)
        self._env = _environment(self.templates, filters)

    def render(self, spec: ArtifactSpec) -> bytes:
        """Render one artifact to UTF-8 bytes ending in exactly one newline."""
        if spec.template not in self.templates:
            raise RenderError(f"template {spec.template!r} not found")
        try:
            text = self._env.get_template(spec.template).render(**spec.context)
        except TemplateError as exc:
            raise RenderError(f"template {spec.template}: {exc}") from exc
        return (text.rstrip("\n") + "\n").encode("utf-8")
