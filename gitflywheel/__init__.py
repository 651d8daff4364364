"""gitflywheel: work sessions in, publishable artifacts out, each recorded once in git.

Every command is also a function of the package, taking the store as a path or an open
`Store`, returning values and raising the project's errors (see `gitflywheel.api`):

    from gitflywheel import ingest, verify, ls
    report = ingest("flywheel.git", ["sessions/"])
    assert verify("flywheel.git").ok

The functions load on first use, so `import gitflywheel` stays cheap.
"""

from __future__ import annotations

from .errors import (
    ConflictError,
    GitflywheelError,
    InputError,
    RemoteError,
    StoreError,
)
from .version import __version__

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    from typing import Any

    from .api import (
        capture,
        export,
        ingest,
        init,
        log,
        ls,
        maintain,
        publish,
        rerender,
        schema,
        show,
        site,
        sync,
        verify,
        which,
    )
    from .storage.store import Store


__all__ = [
    "__version__",
    "init",
    "ingest",
    "rerender",
    "verify",
    "ls",
    "show",
    "which",
    "log",
    "export",
    "maintain",
    "publish",
    "sync",
    "site",
    "capture",
    "schema",
    "Store",
    "GitflywheelError",
    "InputError",
    "ConflictError",
    "StoreError",
    "RemoteError",
]

# The functions (and Store) load on first use: the name, and the module that has it.
_LAZY = {**dict.fromkeys(__all__[1:-6], "api"), "Store": "storage.store"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
