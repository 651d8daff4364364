"""gitflywheel: work sessions in, publishable artifacts out, each recorded once in git.

Every command is also a function of the package, taking the store as a path or an open
`Store`, returning values and raising the project's errors (see `gitflywheel.api`):

    from gitflywheel import ingest, verify, ls
    report = ingest("flywheel.git", ["sessions/"])
    assert verify("flywheel.git").ok

The functions load on first use, so `import gitflywheel` stays cheap.
"""

from __future__ import annotations

import sys
import types

from .errors import (
    ConflictError,
    GitflywheelError,
    InputError,
    RemoteError,
    StoreError,
)

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
    from .store import Store

__version__ = "0.4.0"

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
_LAZY = {**dict.fromkeys(__all__[1:-6], "api"), "Store": "store"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """`gitflywheel.ingest` stays the function: importing the module of the same name
    (`gitflywheel/ingest.py`, likewise init, verify, capture) would otherwise set it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
