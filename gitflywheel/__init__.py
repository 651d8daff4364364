"""gitflywheel: work sessions in, publishable artifacts out, each recorded once in git.

Every command is also a function of the package, taking the store as a path or an open
`Store`, returning values and raising the project's errors (see `gitflywheel.api`):

    from gitflywheel import ingest, verify, ls
    report = ingest("flywheel.git", ["sessions/"])
    assert verify("flywheel.git").ok

The package exports `__version__` and what `gitflywheel.api.__all__` names. Those load on
first use (the errors, which cost nothing, at once), so `import gitflywheel` stays cheap.
"""

from __future__ import annotations

# The errors cost nothing: here at once, so that catching one loads nothing more.
from .errors import ConflictError as ConflictError
from .errors import GitflywheelError as GitflywheelError
from .errors import InputError as InputError
from .errors import RemoteError as RemoteError
from .errors import StoreError as StoreError
from .version import __version__ as __version__

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    from typing import Any

    from . import api
    from .api import *  # noqa: F403

    __all__ = ["__version__"]
    __all__ += api.__all__


def _api_names() -> list[str]:
    from importlib import import_module

    names: list[str] = import_module(".api", __name__).__all__
    return names


def __getattr__(name: str) -> Any:
    """`__all__`, and a name of `gitflywheel.api.__all__` on its first use."""
    if name == "__all__":
        value: Any = ["__version__", *_api_names()]
    elif name.startswith("__") or name not in _api_names():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    else:
        from importlib import import_module

        value = getattr(import_module(".api", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_api_names()})
