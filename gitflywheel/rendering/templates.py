"""Templates and rendering: the folders templates are loaded from, and the renderer that
runs them in the one sandboxed Jinja2 environment (`sandbox`), artifacts and site pages
alike, each render within its limits.

Session data is only ever passed as context, never compiled as template source, so text
such as `{{ 7*7 }}` in a session stays literal in every artifact and page; every value a
template prints is escaped for its output, Markdown or HTML, unless a filter escaped it
for another context (see `sandbox` and `escape`).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

from ..errors import GitflywheelError
from ..localfiles import read_beneath
from ..session.artifacts import ArtifactSpec
from ..storage.layout import TEMPLATE_SUFFIX
from .sandbox import MARKDOWN, Escaping, Limits, TemplateEnvironment, render_limited

if TYPE_CHECKING:
    from .filtersets import FilterSet

__all__ = [
    "TEMPLATE_SUFFIX",
    "SITE_TEMPLATES",
    "RenderError",
    "shipped_templates_dir",
    "load_templates",
    "MAX_TEMPLATE_BYTES",
    "Limits",
    "Renderer",
]

MAX_TEMPLATE_BYTES = 1024 * 1024
SITE_TEMPLATES = "site"
"""The shipped site page templates: `templates/site/*.j2`."""


class RenderError(GitflywheelError):
    """A template that does not render (a user template with an error, say)."""


def shipped_templates_dir() -> Path:
    """The templates that ship inside the wheel, or beside the package in a source tree."""
    packaged = Path(str(resources.files("gitflywheel"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def load_templates(override_dir: Path | None = None, shipped: str = "") -> dict[str, bytes]:
    """Template name -> bytes: a shipped set (the artifacts', or a subfolder of the
    shipped templates such as SITE_TEMPLATES), with a user's files overriding by name.

    Each template is a regular file inside its folder (symlinks resolved and contained),
    UTF-8 text of at most MAX_TEMPLATE_BYTES: a folder's files become blobs in the store."""
    found: dict[str, bytes] = {}
    for folder in (shipped_templates_dir() / shipped, override_dir):
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


class Renderer:
    """Renders with one fixed set of templates, in one escaping (an artifact's Markdown
    with a released filter set, else the current functions; or a site page's HTML);
    compiled templates are reused.

    Each render is bounded in time and output (`limits`); a template that fails or passes
    a bound raises RenderError naming the template (`label` says which kind), the line
    when known, and the reason.
    """

    def __init__(
        self,
        templates: Mapping[str, bytes],
        limits: Limits | None = None,
        filters: FilterSet | None = None,
        *,
        escaping: Escaping | None = None,
        label: str = "template",
    ) -> None:
        self.templates = dict(templates)
        self.limits = limits or Limits()
        self.label = label
        try:
            sources = {name: data.decode("utf-8") for name, data in self.templates.items()}
        except UnicodeDecodeError as exc:
            raise RenderError(f"a {label} is not UTF-8: {exc}") from exc
        if escaping is None:
            escaping = MARKDOWN if filters is None else Escaping(filters.filters, filters.finalize)
        self._env = TemplateEnvironment(sources, escaping)

    def render(self, spec: ArtifactSpec) -> bytes:
        """Render one artifact to UTF-8 bytes ending in exactly one newline."""
        return self.render_template(spec.template, spec.context)

    def render_template(self, name: str, context: Mapping[str, Any]) -> bytes:
        """Render the template `name` with `context` to UTF-8 bytes ending in exactly one
        newline."""
        if name not in self.templates:
            raise RenderError(f"{self.label} {name!r} not found")
        try:
            text = render_limited(self._env, name, context, self.limits)
            return (text.rstrip("\n") + "\n").encode("utf-8")
        except TemplateSyntaxError as exc:
            raise RenderError(
                f"{self.label} {exc.name or name}, line {exc.lineno}: {exc.message}"
            ) from exc
        except Exception as exc:  # a user template can fail in any way; none may escape
            raise RenderError(f"{self._where(name, exc)}: {_reason(exc)}") from exc

    def _where(self, name: str, exc: BaseException) -> str:
        """`template NAME, line N`: the deepest frame of one of the templates in the
        traceback (an included or base template's own line), else the one rendered."""
        where, line = name, None
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename in self.templates:
                where, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
        return f"{self.label} {where}" + (f", line {line}" if line else "")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TemplateNotFound):  # its text is the name alone
        return f"no template {exc.name!r} in the template set"
    if isinstance(exc, TemplateError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
