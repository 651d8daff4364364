"""Rendering: the one sandboxed, bounded Jinja2 environment every template runs in
(`sandbox`: artifacts with Markdown escaping, site pages with HTML autoescape, each
render within its time and output limits), the released filter sets templates format
values with (`filtersets`), and the templates themselves: the folders they are loaded
from and the renderer that runs them (`templates`).

Nothing else builds a Jinja2 environment or reads a folder of templates. This folder may
import the standalone modules (`errors`, `escape`, `figures`, `localfiles`), `storage`
(for its layout's names only) and `session`; never pipelines or anything above them.
"""
